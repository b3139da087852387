/* Running one action under a plan, from clone to the last status record. */
#ifndef PADDOCK_RUN_H
#define PADDOCK_RUN_H

#include "child.h"
#include "plan.h"

/* Runs the action the plan describes and supervises it to the end; returns
 * the GNU-convention exit code. Call supervise_prepare() first. */
int run_action(struct plan *plan);

/* A failure of the launcher itself, before anything was started: a
 * setup-failed record (and a line on stderr); returns 125. */
int launcher_failed(int status_fd, const char *step, const char *syscall_name, int err, const char *path,
                    const char *message);

/* An "overlay" or "degraded" record for a note from the sandbox's setup. */
void emit_note(int status_fd, const struct child_report *note);

#endif
