/* Applying a plan inside the action's child process. */
#ifndef PADDOCK_CHILD_H
#define PADDOCK_CHILD_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "plan.h"

/* What the child sends back over the report pipe (close-on-exec, so in the
 * plain case exec success shows as EOF with nothing sent). */
enum report_kind {
    REPORT_FAILED = 1,  /* setup or exec failed; the action never ran */
    REPORT_MOUNTED,     /* an overlay is up: path, and detail names the implementation */
    REPORT_DEGRADED,    /* a setup step fell back: step, path, the failed call, detail "from->to" */
};

struct child_report {
    int kind;
    int err;
    char step[32];           /* "chdir", "exec", "bind", "uid-map", ... */
    char syscall[16];
    char path[PATH_MAX];     /* the path the failing call was given */
    char search_path[4096];  /* PATH as the action saw it, for exec failures */
    char detail[64];         /* REPORT_MOUNTED and REPORT_DEGRADED */
    char message[512];       /* REPORT_FAILED: the line for stderr, when not the usual one */
};

/* Where a vforked child (no namespaces) leaves its failure report: the
 * launcher's own memory, which the child shares until it execs or exits, so
 * the plain spawn needs no report pipe. NULL when the child has a pipe. */
extern struct child_report *vfork_report;

/* Notes which signals this process inherited as ignored, before it ignores any
 * itself. exec resets handled signals but keeps ignored ones, so the child
 * restores exactly these (and SIGPIPE) to the default. */
void note_inherited_ignored_signals(void);

/* SIGCHLD plus the signals a supervisor passes on (TERM, INT, HUP). */
void supervised_signals(sigset_t *mask);

/* Sends a failure report (to vfork_report when set, else to fd) and exits 125. */
_Noreturn void report_failure(int fd, const char *step, int err, const char *syscall_name, const char *path,
                              const char *search_path);

/* report_failure with the line stderr shows (printf-style), as bwrap words it. */
_Noreturn void report_failure_message(int fd, const char *step, int err, const char *syscall_name, const char *path,
                                      const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Sends a REPORT_MOUNTED or REPORT_DEGRADED note; returns. err and
 * syscall_name describe the failed call (0 and NULL for REPORT_MOUNTED). */
void report_note(int fd, int kind, const char *step, const char *path, const char *detail, int err,
                 const char *syscall_name);

/* Runs in the freshly forked (or cloned) child; never returns. report_fd is
 * the close-on-exec write end of the report pipe; with under_init, the child
 * is pid 1 of a new pid namespace and supervises the action as its init,
 * timing it from spawn_us; launcher_pid is the parent. */
_Noreturn void child_run(const struct plan *plan, int report_fd, bool under_init, int64_t spawn_us,
                         pid_t launcher_pid);

#endif
