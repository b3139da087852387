/* paddock's status records: one JSON object per line on the status fd
 * (--status-fd; a keeper's socket under the spawn server), and a line on
 * stderr where there is none. docs/launcher.md describes every field. */
#ifndef PADDOCK_RECORDS_H
#define PADDOCK_RECORDS_H

#include <stdint.h>
#include <sys/types.h>

#include "explain.h"
#include "plan.h"
#include "report.h"
#include "supervise.h"

/* "spawned": the action runs (one-shot mode). */
void emit_spawned(int status_fd, pid_t pid, pid_t launcher_pid);

/* "exited" for the action's end (and, without records, a line on stderr for
 * a timeout). Returns the GNU-convention exit code. */
int finish_action(const struct plan *plan, const struct outcome *out);

/* "exited" for an action whose sandbox init was killed before it wrote one:
 * the init's own wait status stands for the action's. */
void emit_init_lost(int status_fd, int init_status, int64_t start_us);

/* "setup-failed" for a failure of the launcher itself, before anything was
 * started (and a line on stderr); returns 125. */
int launcher_failed(int status_fd, const char *step, const char *syscall_name, int err, const char *path,
                    const char *message);

/* "setup-failed" with an explanation worked out by the caller; returns 125. */
int setup_failed(int status_fd, const char *step, const char *syscall_name, int err, const char *path,
                 const char *message, const struct explanation *why);

/* "setup-failed" or "exec-failed" for the child's failure report, the last
 * record of the run; returns the exit code (125, 126 or 127). */
int report_child_failure(int status_fd, const struct child_report *f, const struct outcome *out);

/* "degraded": a setup step fell back to something weaker (and, without
 * records, a line on stderr). */
void emit_degraded(int status_fd, const char *step, const char *path, const char *from, const char *to,
                   const char *syscall_name, int err, const char *effect);

/* "overlay" or "degraded" for a note from the sandbox's setup. */
void emit_note(int status_fd, const struct child_report *note);

#endif
