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

#include "child.h"
#include "explain.h"
#include "landlock.h"
#include "msg.h"
#include "sandbox.h"
#include "status.h"
#include "supervise.h"

static void usage_record(struct record *r, const struct rusage *ru) {
    char json[512];
    snprintf(json, sizeof json,
             "{\"user_us\":%lld,\"sys_us\":%lld,\"max_rss_kb\":%ld,\"minor_faults\":%ld,"
             "\"major_faults\":%ld,\"voluntary_switches\":%ld,\"involuntary_switches\":%ld,"
             "\"in_blocks\":%ld,\"out_blocks\":%ld}",
             (long long)ru->ru_utime.tv_sec * 1000000 + ru->ru_utime.tv_usec,
             (long long)ru->ru_stime.tv_sec * 1000000 + ru->ru_stime.tv_usec, ru->ru_maxrss, ru->ru_minflt,
             ru->ru_majflt, ru->ru_nvcsw, ru->ru_nivcsw, ru->ru_inblock, ru->ru_oublock);
    record_raw(r, "rusage", json);
}

/* A setup failure found by the launcher itself, with its explanation. */
static int setup_failed(int status_fd, const char *step, const char *syscall_name, int err, const char *path,
                        const char *message, const struct explanation *why) {
    struct record r;
    record_begin(&r, "setup-failed");
    record_str(&r, "step", step);
    record_str(&r, "path", path);
    record_str(&r, "syscall", syscall_name);
    record_str(&r, "errno", err ? errno_name(err) : NULL);
    record_int(&r, "errno_code", err);
    record_str(&r, "message", message);
    record_str(&r, "cause", why->cause[0] ? why->cause : NULL);
    record_str(&r, "remedy", why->remedy[0] ? why->remedy : NULL);
    record_int(&r, "exit_code", 125);
    record_emit(&r, status_fd);
    /* With a status fd, the record is the report (paddock prints it); bad
     * options are a caller's bug, said on stderr too. */
    if (status_fd < 0 || strcmp(step, "options") == 0) msg(MSG_ERROR, "%s", message);
    if (status_fd < 0 && why->cause[0]) msg(MSG_ERROR, "cause: %s", why->cause);
    if (status_fd < 0 && why->remedy[0]) msg(MSG_ERROR, "remedy: %s", why->remedy);
    return 125;
}

/* A failure of the launcher itself (or of creating the sandbox) before
 * there is a child to report one. */
int launcher_failed(int status_fd, const char *step, const char *syscall_name, int err,
                           const char *path, const char *message) {
    struct explanation why;
    explain(step, syscall_name, err, &why);
    return setup_failed(status_fd, step, syscall_name, err, path, message, &why);
}

static void emit_exited(int status_fd, int exit_code, const struct outcome *out) {
    struct record r;
    record_begin(&r, "exited");
    record_int(&r, "exit_code", exit_code);
    if (WIFEXITED(out->wait_status)) {
        record_int(&r, "status", WEXITSTATUS(out->wait_status));
        record_str(&r, "signal", NULL);
    } else {
        record_str(&r, "status", NULL);
        record_str(&r, "signal", signal_name(WTERMSIG(out->wait_status)));
        record_int(&r, "signal_number", WTERMSIG(out->wait_status));
        record_bool(&r, "core_dumped", WCOREDUMP(out->wait_status));
    }
    record_bool(&r, "timed_out", out->timed_out);
    record_str(&r, "cancelled_by", out->cancelled_by ? signal_name(out->cancelled_by) : NULL);
    record_bool(&r, "owner_lost", out->owner_lost);
    record_bool(&r, "killed_after_grace", out->escalated);
    record_int(&r, "wall_us", out->wall_us);
    usage_record(&r, &out->usage);
    record_emit(&r, status_fd);
}

/* A setup step that fell back to something weaker: once in the records and,
 * for standalone use, once on stderr. */
static void emit_degraded(int status_fd, const char *step, const char *path, const char *from, const char *to,
                          const char *syscall_name, int err, const char *effect) {
    struct record r;
    record_begin(&r, "degraded");
    record_str(&r, "step", step);
    record_str(&r, "path", path);
    record_str(&r, "from", from);
    record_str(&r, "to", to);
    record_str(&r, "syscall", syscall_name);
    record_str(&r, "errno", errno_name(err));
    record_int(&r, "errno_code", err);
    record_str(&r, "message", strerror(err));
    record_str(&r, "effect", effect);
    record_emit(&r, status_fd);
    if (status_fd < 0)
        msg(MSG_WARNING, "%s%s%s: %s failed (%s: %s); using %s%s%s", step, path ? " " : "",
                path ? path : "", from, syscall_name, strerror(err), to, effect ? ": " : "", effect ? effect : "");
}

/* What the bind fallback gives up, for the record that says it was used. */
#define BIND_OVERLAY_EFFECT                                                                                 \
    "no overlay filesystem: the layers' entries are bound read-only on a private tmpfs, so only new "    \
    "top-level entries can be written, and they are discarded"
#define HOST_PROC_EFFECT "the action sees the host's processes in /proc"

/* An overlay that is up ("overlay"), or a setup step that fell back ("degraded"). */
void emit_note(int status_fd, const struct child_report *note) {
    if (note->kind == REPORT_MOUNTED) {
        struct record r;
        record_begin(&r, "overlay");
        record_str(&r, "path", note->path);
        record_str(&r, "impl", note->detail);
        if (strcmp(note->detail, "bind") == 0) record_str(&r, "effect", BIND_OVERLAY_EFFECT);
        record_emit(&r, status_fd);
        return;
    }
    /* detail is "from->to" */
    const char *arrow = strstr(note->detail, "->");
    char from[sizeof note->detail];
    snprintf(from, sizeof from, "%.*s", arrow ? (int)(arrow - note->detail) : 0, note->detail);
    const char *to = arrow ? arrow + 2 : "";
    emit_degraded(status_fd, note->step, note->path, from, to, note->syscall, note->err,
                  strcmp(note->step, "proc") == 0 ? HOST_PROC_EFFECT : NULL);
}

/* The child failed before or at exec: report it as such, never as the
 * action's own exit status. This record is the last one of the run. */
static int report_child_failure(int status_fd, const struct child_report *f, const struct outcome *out) {
    bool is_exec = strcmp(f->step, "exec") == 0;
    int exit_code = !is_exec ? 125 : (f->err == ENOENT || f->err == ENOTDIR) ? 127 : 126;
    struct explanation why;
    explain(f->step, f->syscall, f->err, &why);
    struct record r;
    record_begin(&r, is_exec ? "exec-failed" : "setup-failed");
    record_str(&r, "step", f->step);
    record_str(&r, "path", f->path[0] ? f->path : NULL);
    record_str(&r, "syscall", f->syscall);
    record_str(&r, "errno", errno_name(f->err));
    record_int(&r, "errno_code", f->err);
    record_str(&r, "message", strerror(f->err));
    if (is_exec) record_str(&r, "search_path", f->search_path[0] ? f->search_path : NULL);
    record_str(&r, "cause", why.cause[0] ? why.cause : NULL);
    record_str(&r, "remedy", why.remedy[0] ? why.remedy : NULL);
    record_int(&r, "exit_code", exit_code);
    record_int(&r, "wall_us", out->wall_us);
    record_emit(&r, status_fd);
    if (status_fd < 0) { /* standalone use: the caller reads stderr, as with bwrap */
        bool bind = strcmp(f->step, "bind") == 0 || strcmp(f->step, "ro-bind") == 0 || strcmp(f->step, "dev-bind") == 0;
        if (f->message[0])
            msg(MSG_ERROR, "%s", f->message);
        else if (is_exec && f->err == ENOENT && f->search_path[0])
            msg(MSG_ERROR, "%s: command not found in PATH=%s", f->path, f->search_path);
        else if (bind && strcmp(f->syscall, "stat") == 0) /* bwrap's words, which scripts look for */
            msg(MSG_ERROR, "Can't find source path %s: %s (%s)", f->path, strerror(f->err), f->step);
        else
            msg(MSG_ERROR, "%s %s: %s [%s]", f->step, f->path, strerror(f->err), f->syscall);
        if (why.cause[0]) msg(MSG_ERROR, "cause: %s", why.cause);
        if (why.remedy[0]) msg(MSG_ERROR, "remedy: %s", why.remedy);
    }
    return exit_code;
}

void emit_spawned(int status_fd, pid_t pid, pid_t launcher_pid) {
    struct record r;
    record_begin(&r, "spawned");
    record_int(&r, "pid", pid);
    record_int(&r, "pgid", pid);
    record_int(&r, "sid", pid);
    record_int(&r, "launcher_pid", launcher_pid);
    record_emit(&r, status_fd);
}

int finish_action(const struct plan *plan, const struct outcome *out) {
    int exit_code = outcome_exit_code(out);
    if (plan->status_fd < 0 && out->timed_out)
        msg(MSG_ERROR, "timed out after %lld ms; the process tree was %s",
                (long long)plan->timeout_ms, out->escalated ? "killed (SIGKILL after the grace period)" : "terminated");
    emit_exited(plan->status_fd, exit_code, out);
    return exit_code;
}

void emit_init_lost(int status_fd, int init_status, int64_t start_us) {
    struct outcome out;
    memset(&out, 0, sizeof out);
    out.wait_status = init_status;
    out.wall_us = monotonic_us() - start_us;
    emit_exited(status_fd, outcome_exit_code(&out), &out);
}

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


/* ---- bubblewrap's --info-fd and --json-status-fd ---- */

static void write_all(int fd, const char *text, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        text += n;
        len -= (size_t)n;
    }
}

/* bwrap's info object: the child's pid and the ids of the namespaces it
 * created (the user namespace's is left out, as bwrap does). */
static void write_bwrap_info(const struct plan *plan, pid_t pid) {
    if (plan->info_fd < 0 && plan->json_status_fd < 0) return;
    static const struct {
        const char *name;
        int flag;
    } namespaces[] = {{"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"mnt", CLONE_NEWNS},
                      {"net", CLONE_NEWNET},       {"pid", CLONE_NEWPID}, {"uts", CLONE_NEWUTS}};
    char info[1024], json[1024];
    int info_len = snprintf(info, sizeof info, "{\n    \"child-pid\": %d", (int)pid);
    int json_len = snprintf(json, sizeof json, "{ \"child-pid\": %d", (int)pid);
    for (size_t k = 0; k < sizeof namespaces / sizeof namespaces[0]; k++) {
        if (!(plan->clone_flags & namespaces[k].flag) || plan->landlock_abi != 0) continue;
        char path[64];
        struct stat st;
        snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, namespaces[k].name);
        if (stat(path, &st) < 0) continue;
        info_len += snprintf(info + info_len, sizeof info - (size_t)info_len, ",\n    \"%s-namespace\": %ju",
                             namespaces[k].name, (uintmax_t)st.st_ino);
        json_len += snprintf(json + json_len, sizeof json - (size_t)json_len, ", \"%s-namespace\": %ju",
                             namespaces[k].name, (uintmax_t)st.st_ino);
    }
    info_len += snprintf(info + info_len, sizeof info - (size_t)info_len, "\n}\n");
    json_len += snprintf(json + json_len, sizeof json - (size_t)json_len, " }\n");
    if (plan->info_fd >= 0) {
        write_all(plan->info_fd, info, (size_t)info_len);
        close(plan->info_fd);
    }
    if (plan->json_status_fd >= 0) write_all(plan->json_status_fd, json, (size_t)json_len);
}

/* Whether the last attempt's action started (bwrap then reports its exit code). */
static bool action_started;

static void write_bwrap_exit(const struct plan *plan, int exit_code) {
    if (plan->json_status_fd < 0 || !action_started) return;
    char json[64];
    int len = snprintf(json, sizeof json, "{ \"exit-code\": %d }\n", exit_code);
    write_all(plan->json_status_fd, json, (size_t)len);
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
    write_bwrap_info(plan, pid);
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
    if (rc != HANDED_OVER) write_bwrap_exit(plan, rc);
    return rc;
}
