/* Reporting from the action's child to the launcher: what the child sends
 * back over its report pipe (close-on-exec, so in the plain case exec
 * success shows as end of file with nothing sent), or, for a vforked child,
 * leaves in the launcher's memory. */
#ifndef PADDOCK_REPORT_H
#define PADDOCK_REPORT_H

#include <limits.h>

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

/* From now on notes go to sink(status_fd, note) instead of the report pipe:
 * under a sandbox's init, which writes the action's records itself. */
void report_notes_to(void (*sink)(int status_fd, const struct child_report *note), int status_fd);

#endif
