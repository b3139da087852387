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
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
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

int launcher_failed(int status_fd, const char *step, const char *syscall_name, int err,
                           const char *path, const char *message) {
    struct record r;
    record_begin(&r, "setup-failed");
    record_str(&r, "step", step);
    record_str(&r, "path", path);
    record_str(&r, "syscall", syscall_name);
    record_str(&r, "errno", err ? errno_name(err) : NULL);
    record_int(&r, "errno_code", err);
    record_str(&r, "message", message);
    record_int(&r, "exit_code", 125);
    record_emit(&r, status_fd);
    fprintf(stderr, "paddock-launch: %s\n", message);
    return 125;
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

/* What the bind fallback gives up, for the record that says it was used. */
#define BIND_OVERLAY_EFFECT                                                                                 \
    "no overlay filesystem: the layers' entries are bound read-only on a private tmpfs, so only new "    \
    "top-level entries can be written, and they are discarded"

/* An overlay that is up ("overlay"), or a setup step that fell back ("degraded"). */
void emit_note(int status_fd, const struct child_report *note) {
    struct record r;
    if (note->kind == REPORT_MOUNTED) {
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
    record_begin(&r, "degraded");
    record_str(&r, "step", note->step);
    record_str(&r, "path", note->path);
    record_str(&r, "from", from);
    record_str(&r, "to", to);
    record_str(&r, "syscall", note->syscall);
    record_str(&r, "errno", errno_name(note->err));
    record_int(&r, "errno_code", note->err);
    record_str(&r, "message", strerror(note->err));
    record_emit(&r, status_fd);
    if (status_fd < 0) /* standalone use: say it once on stderr */
        fprintf(stderr, "paddock-launch: %s %s: %s failed (%s: %s); using %s\n", note->step, note->path, from,
                note->syscall, strerror(note->err), to);
}

static const char *exec_hint(int err) {
    switch (err) {
    case ENOENT: return "check the command's spelling and PATH, or give an absolute path";
    case EACCES: return "the file exists but may not be executed: check its mode (chmod +x) and that its filesystem is not mounted noexec";
    case ENOEXEC: return "the file is not in an executable format for this machine";
    case ETXTBSY: return "the file is still open for writing by another process";
    case E2BIG: return "the arguments and environment are too large; pass arguments through a file";
    default: return NULL;
    }
}

static const char *setup_hint(const char *step, int err) {
    bool chdir_step = strcmp(step, "chdir") == 0;
    if (chdir_step && err == ENOENT) return "the working directory does not exist";
    if (chdir_step && err == EACCES) return "the working directory is not searchable by this user";
    if (chdir_step && err == ENOTDIR) return "the working directory is not a directory";
    if (strcmp(step, "controlling-terminal") == 0 && err == EPERM)
        return "fd 0 is already another session's controlling terminal: --pty needs a fresh pty, its slave on fds 0-2";
    if (strcmp(step, "controlling-terminal") == 0 && err == ENOTTY)
        return "--pty needs a pty slave on fds 0-2, and fd 0 is not a terminal";
    return sandbox_hint(step, err);
}

/* The child failed before or at exec: report it as such, never as the
 * action's own exit status. This record is the last one of the run. */
static int report_child_failure(int status_fd, const struct child_report *f, const struct outcome *out) {
    bool is_exec = strcmp(f->step, "exec") == 0;
    int exit_code = !is_exec ? 125 : (f->err == ENOENT || f->err == ENOTDIR) ? 127 : 126;
    const char *hint = is_exec ? exec_hint(f->err) : setup_hint(f->step, f->err);
    struct record r;
    record_begin(&r, is_exec ? "exec-failed" : "setup-failed");
    record_str(&r, "step", f->step);
    record_str(&r, "path", f->path[0] ? f->path : NULL);
    record_str(&r, "syscall", f->syscall);
    record_str(&r, "errno", errno_name(f->err));
    record_int(&r, "errno_code", f->err);
    record_str(&r, "message", strerror(f->err));
    if (is_exec) record_str(&r, "search_path", f->search_path[0] ? f->search_path : NULL);
    record_str(&r, "hint", hint);
    record_int(&r, "exit_code", exit_code);
    record_int(&r, "wall_us", out->wall_us);
    record_emit(&r, status_fd);
    if (status_fd < 0) { /* standalone use: the caller reads stderr, as with bwrap */
        if (is_exec && f->err == ENOENT && f->search_path[0])
            fprintf(stderr, "paddock-launch: %s: command not found in PATH=%s\n", f->path, f->search_path);
        else
            fprintf(stderr, "paddock-launch: %s %s: %s%s%s%s\n", f->step, f->path,
                    strerror(f->err), hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
    }
    return exit_code;
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

    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0)
        return launcher_failed(plan->status_fd, "report-pipe", "pipe2", errno, NULL, "cannot create a pipe");
    /* With a pid namespace, paddock's init reports the action's real end here. */
    int exits[2] = {-1, -1};
    if ((plan->clone_flags & CLONE_NEWPID) && !plan->as_pid_1 && pipe2(exits, O_CLOEXEC) < 0)
        return launcher_failed(plan->status_fd, "report-pipe", "pipe2", errno, NULL, "cannot create a pipe");
    pid_t launcher = getpid();
    int64_t spawn_us = monotonic_us();
    pid_t pid;
    if (plan->clone_flags != 0) {
        sandbox_prepare();
        /* Like fork, but the child starts in its new namespaces (and is pid 1 of a new pid namespace). */
        pid = (pid_t)syscall(SYS_clone, SIGCHLD | plan->clone_flags, NULL, NULL, NULL, NULL);
        if (pid < 0) {
            int err = errno;
            char message[1024];
            snprintf(message, sizeof message, "cannot create the sandbox's namespaces: %s (%s)", strerror(err),
                     sandbox_hint("clone", err) ? sandbox_hint("clone", err) : "clone failed");
            return launcher_failed(plan->status_fd, "clone", "clone", err, NULL, message);
        }
    } else {
        /* vfork: no copy of our page tables to make and tear down again at
         * exec. We are single-threaded and wait while the child runs; the
         * child only touches its own fds, signals and environment (whose
         * allocations we never use) before it execs or _exits. */
        pid = vfork();
        if (pid < 0)
            return launcher_failed(plan->status_fd, "fork", "fork", errno, NULL, "cannot fork the action");
    }
    if (pid == 0) {
        close(report[0]);
        if (exits[0] >= 0) close(exits[0]);
        child_run(plan, report[1], exits[1], launcher);
    }
    close(report[1]);
    if (exits[1] >= 0) close(exits[1]);
    /* Notes about the sandbox's setup come first, then a failure, or EOF:
     * exec closed the pipe. */
    struct child_report failure;
    bool failed = false;
    while (read_child_report(report[0], &failure)) {
        if (failure.kind == REPORT_MOUNTED || failure.kind == REPORT_DEGRADED) {
            emit_note(plan->status_fd, &failure);
            continue;
        }
        failed = failure.kind == REPORT_FAILED;
        break;
    }
    close(report[0]);
    if (failed) {
        if (exits[0] >= 0) close(exits[0]);
        struct outcome out;
        supervise(plan, pid, spawn_us, &out);
        return report_child_failure(plan->status_fd, &failure, &out);
    }
    struct record r;
    record_begin(&r, "spawned");
    record_int(&r, "pid", pid);
    record_int(&r, "pgid", pid);
    record_int(&r, "sid", pid);
    record_int(&r, "launcher_pid", launcher);
    record_emit(&r, plan->status_fd);

    struct outcome out;
    supervise(plan, pid, spawn_us, &out);
    /* Under the sandbox's init, the action's real status comes from init. */
    struct child_report last;
    if (exits[0] >= 0) {
        if (read_child_report(exits[0], &last) && last.kind == REPORT_EXITED) out.wait_status = last.wait_status;
        close(exits[0]);
    }
    int exit_code = outcome_exit_code(&out);
    if (plan->status_fd < 0 && out.timed_out)
        fprintf(stderr, "paddock-launch: timed out after %lld ms; the process tree was %s\n",
                (long long)plan->timeout_ms, out.escalated ? "killed (SIGKILL after the grace period)" : "terminated");
    emit_exited(plan->status_fd, exit_code, &out);
    return exit_code;
}
