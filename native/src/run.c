/* Running one action under a plan: clone or fork it, pass on what its setup
 * reports, supervise it, and write the status records. One-shot mode does
 * this once per process; the spawn server once per keeper process. */
#define _GNU_SOURCE
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bwrap_status.h"
#include "child.h"
#include "explain.h"
#include "landlock.h"
#include "records.h"
#include "report.h"
#include "sandbox.h"
#include "status.h"
#include "supervise.h"

/* Reads one report from the child; returns 1 if one arrived, 0 at EOF
 * (in the plain case: exec succeeded, the pipe closed on exec). */
static int read_child_report(int fd, struct child_report *f) {
    size_t got = 0;
    while (got < sizeof *f) {
        ssize_t n = read(fd, (char *)f + got, sizeof *f - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    return got == sizeof *f;
}


/* --lock-file: read locks on host paths, held by the launcher (so released
 * when it exits, with the sandbox). Returns -1 with errno set. */
static int take_locks(const struct plan *plan, const char **failed) {
    for (int i = 0; i < plan->lock_file_count; i++) {
        *failed = plan->lock_files[i];
        int fd = open(plan->lock_files[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0) return -1;
        struct flock lock = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
        if (fcntl(fd, F_SETLK, &lock) < 0) return -1;
    }
    return 0;
}

/* Why an attempt did not run the action, when --sandbox-mode auto may
 * still run it without namespaces. */
struct refusal {
    char step[32];
    char syscall[16];
    int err;
};

#define REFUSED (-1)

/* Whether the last attempt's action started (bwrap then reports its exit code). */
static bool action_started;

static bool uses_namespaces(const struct plan *plan) { return plan->clone_flags != 0 && plan->landlock_abi == 0; }

/* One attempt at starting and supervising the action. With refused set, a
 * host refusal of the namespaces ends the attempt quietly (REFUSED, and the
 * refusal filled in) instead of as a failure record. */
static int run_attempt(struct plan *plan, struct refusal *refused) {
    /* A sandbox's child reports over a pipe (notes, then a failure or EOF at
     * exec); a vforked child only ever reports a failure, in our memory. */
    int report[2] = {-1, -1};
    pid_t launcher = getpid();
    int64_t spawn_us = monotonic_us();
    struct child_report failure;
    failure.kind = 0;
    action_started = false;
    pid_t pid;
    if (uses_namespaces(plan) && plan->prestarted.pid > 0) {
        /* A spare sandbox has the request: it is the child, already cloned. */
        pid = plan->prestarted.pid;
        report[0] = plan->prestarted.report_fd;
        spawn_us = plan->prestarted.spawn_us;
        plan->prestarted.pid = 0;
    } else if (uses_namespaces(plan)) {
        if (pipe2(report, O_CLOEXEC) < 0)
            return launcher_failed(plan->status_fd, "report-pipe", "pipe2", errno, NULL, "cannot create a pipe");
        sandbox_prepare();
        /* --userns, --pidns: the namespaces the child starts in (its own new ones below them). */
        if (plan->userns_fd >= 0 && setns(plan->userns_fd, CLONE_NEWUSER) < 0) {
            int err = errno;
            close(report[0]);
            close(report[1]);
            return launcher_failed(plan->status_fd, "userns", "setns", err, NULL,
                                   err == EINVAL ? "Joining the specified user namespace failed, it might not be a "
                                                   "descendant of the current user namespace."
                                                 : "Joining specified user namespace failed");
        }
        if (plan->pidns_fd >= 0 && setns(plan->pidns_fd, CLONE_NEWPID) < 0) {
            int err = errno;
            close(report[0]);
            close(report[1]);
            return launcher_failed(plan->status_fd, "pidns", "setns", err, NULL, "Setting pidns failed");
        }
        /* Like fork, but the child starts in its new namespaces (and is pid 1 of a new pid namespace). */
        pid = (pid_t)syscall(SYS_clone, SIGCHLD | plan->clone_flags, NULL, NULL, NULL, NULL);
        if (pid < 0) {
            int err = errno;
            close(report[0]);
            close(report[1]);
            if (refused != NULL && namespaces_refused("clone", "clone", err)) {
                *refused = (struct refusal){.step = "clone", .syscall = "clone", .err = err};
                return REFUSED;
            }
            char message[256];
            snprintf(message, sizeof message, "cannot create the sandbox's namespaces: %s", strerror(err));
            return launcher_failed(plan->status_fd, "clone", "clone", err, NULL, message);
        }
    } else {
        /* vfork: no copy of our page tables to make and tear down again at
         * exec. We are single-threaded and wait while the child runs; the
         * child only touches its own fds, signals and environment (whose
         * allocations we never use) before it execs or _exits. */
        vfork_report = &failure;
        pid = vfork();
        if (pid != 0) vfork_report = NULL; /* the child has exec'd or exited */
        if (pid < 0)
            return launcher_failed(plan->status_fd, "fork", "fork", errno, NULL, "cannot fork the action");
    }
    if (pid == 0) {
        if (report[0] >= 0) close(report[0]);
        child_run(plan, report[1], runs_under_init(plan), spawn_us, launcher);
    }
    bwrap_status_started(plan, pid);
    if (report[0] >= 0) {
        /* Notes about the sandbox's setup come first (init writes them as
         * records itself), then a failure, or EOF: the action runs. */
        if (report[1] >= 0) close(report[1]);
        for (;;) {
            if (!read_child_report(report[0], &failure)) {
                failure.kind = 0;
                break;
            }
            if (failure.kind != REPORT_MOUNTED && failure.kind != REPORT_DEGRADED) break;
            emit_note(plan->status_fd, &failure);
        }
        close(report[0]);
    }
    bool failed = failure.kind == REPORT_FAILED;
    if (failed) {
        struct outcome out;
        supervise(plan, pid, spawn_us, &out);
        if (refused != NULL && namespaces_refused(failure.step, failure.syscall, failure.err)) {
            *refused = (struct refusal){.err = failure.err};
            snprintf(refused->step, sizeof refused->step, "%s", failure.step);
            snprintf(refused->syscall, sizeof refused->syscall, "%s", failure.syscall);
            return REFUSED;
        }
        return report_child_failure(plan->status_fd, &failure, &out);
    }
    action_started = true;
    if (runs_under_init(plan)) {
        supervise_hand_over(pid, record_request_tag(), spawn_us);
        if (plan->return_at_start) return HANDED_OVER;
        /* One-shot mode: init's exit status is the outcome's exit code. */
        int status = supervise_await_init(pid);
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        emit_init_lost(plan->status_fd, status, spawn_us); /* killed before it could say */
        return 128 + WTERMSIG(status);
    }
    if (!plan->omit_spawned) emit_spawned(plan->status_fd, pid, launcher);
    struct outcome out;
    supervise(plan, pid, spawn_us, &out);
    return finish_action(plan, &out);
}

/* The host refused the namespaces and auto mode may degrade: the same plan
 * without namespaces, under Landlock, if the kernel has it and the plan needs
 * nothing only a mount namespace can give. */
static int run_under_landlock(struct plan *plan, const struct refusal *refused) {
    char why_not[512];
    const char *unsupported = landlock_unsupported(plan, why_not, sizeof why_not);
    int abi = landlock_abi();
    if (abi == 0 || unsupported != NULL) {
        char message[1536];
        snprintf(message, sizeof message,
                 "the host refuses the sandbox's namespaces (%s: %s: %s), and the Landlock fallback is not possible: "
                 "%s", refused->step, refused->syscall, strerror(refused->err),
                 unsupported != NULL ? unsupported : "the kernel offers no Landlock");
        struct explanation why;
        explain(refused->step, refused->syscall, refused->err, &why);
        snprintf(why.remedy, sizeof why.remedy, "%s",
                 unsupported != NULL ? "make namespaces available (see the cause), or drop what needs a mount "
                                       "namespace from the sandbox"
                                     : "make namespaces available (see the cause), or run without a sandbox "
                                       "(--sandbox=off)");
        return setup_failed(plan->status_fd, refused->step, refused->syscall, refused->err, NULL, message, &why);
    }
    plan->landlock_abi = abi;
    for (int i = 0; i < plan->op_count; i++)
        if (plan->ops[i].kind == OP_TMPFS && strcmp(plan->ops[i].dest, "/tmp") == 0 && plan->private_tmp == NULL &&
            (plan->private_tmp = landlock_private_tmp()) == NULL)
            return launcher_failed(plan->status_fd, "landlock", "mkdtemp", errno, "/tmp",
                                   "cannot create a private directory to stand in for /tmp");
    char effect[1024];
    landlock_effect(plan, effect, sizeof effect);
    emit_degraded(plan->status_fd, "sandbox", NULL, "namespaces", "landlock", refused->syscall, refused->err, effect);
    int rc = run_attempt(plan, NULL);
    if (plan->private_tmp != NULL) {
        remove_tree(plan->private_tmp);
        free(plan->private_tmp);
        plan->private_tmp = NULL;
    }
    plan->landlock_abi = 0;
    return rc;
}

int run_action(struct plan *plan) {
    /* Orphaned descendants (double forks, setsid daemons) come back to us. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        return launcher_failed(plan->status_fd, "subreaper", "prctl", errno, NULL,
                               "cannot become a child subreaper (prctl PR_SET_CHILD_SUBREAPER)");
    if (plan->die_with_parent) {
        pid_t parent = getppid();
        prctl(PR_SET_PDEATHSIG, OWNER_DEATH_SIGNAL);
        if (getppid() != parent) raise(OWNER_DEATH_SIGNAL); /* it died before prctl took effect */
    }
    const char *lock_file = NULL;
    if (take_locks(plan, &lock_file) < 0) {
        char message[PATH_MAX + 64];
        snprintf(message, sizeof message, "Unable to lock file %s: %s", lock_file, strerror(errno));
        return launcher_failed(plan->status_fd, "lock-file", "fcntl", errno, lock_file, message);
    }
    bool may_degrade = plan->clone_flags != 0 && plan->sandbox_mode == SANDBOX_AUTO && plan->userns_fd < 0 &&
                       (plan->clone_flags & CLONE_NEWUSER);
    struct refusal refused;
    int rc = run_attempt(plan, may_degrade ? &refused : NULL);
    if (rc == REFUSED) rc = run_under_landlock(plan, &refused);
    if (rc != HANDED_OVER && action_started) bwrap_status_exited(plan, rc);
    return rc;
}
