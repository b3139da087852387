/* paddock's status records (JSON lines on --status-fd, and their stderr
 * equivalents without one): which record is written when, and what it holds.
 * The JSON itself is built by status.c. */
#define _GNU_SOURCE
#include "records.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "explain.h"
#include "msg.h"
#include "status.h"

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
int setup_failed(int status_fd, const char *step, const char *syscall_name, int err, const char *path,
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
void emit_degraded(int status_fd, const char *step, const char *path, const char *from, const char *to,
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
int report_child_failure(int status_fd, const struct child_report *f, const struct outcome *out) {
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
    record_str(&r, "message", f->message[0] ? f->message : strerror(f->err));
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
