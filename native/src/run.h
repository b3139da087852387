/* Running one action under a plan, from clone to the last status record. */
#ifndef PADDOCK_RUN_H
#define PADDOCK_RUN_H

#include <sched.h>
#include <stdbool.h>

#include "child.h"
#include "plan.h"
#include "supervise.h"

/* Runs the action the plan describes and supervises it to the end; returns
 * the GNU-convention exit code. Call supervise_prepare() first. With
 * plan->return_at_start, returns HANDED_OVER once a sandbox's init (which
 * supervises and reports the action itself) has started it. */
int run_action(struct plan *plan);

#define HANDED_OVER (-2)

/* Whether the plan's action runs under paddock's init: a sandbox with a pid
 * namespace, which supervises the action from inside. */
static inline bool runs_under_init(const struct plan *plan) {
    return plan->clone_flags != 0 && plan->landlock_abi == 0 && (plan->clone_flags & CLONE_NEWPID) && !plan->as_pid_1;
}

/* The record that says the action runs (one-shot mode). */
void emit_spawned(int status_fd, pid_t pid, pid_t launcher_pid);

/* The action's end: its exited record (and, without records, a line on
 * stderr for a timeout). Returns the GNU-convention exit code. */
int finish_action(const struct plan *plan, const struct outcome *out);

/* The exited record for an action whose sandbox init was killed before it
 * wrote one: the init's own wait status stands for the action's. */
void emit_init_lost(int status_fd, int init_status, int64_t start_us);

/* A failure of the launcher itself, before anything was started: a
 * setup-failed record (and a line on stderr); returns 125. */
int launcher_failed(int status_fd, const char *step, const char *syscall_name, int err, const char *path,
                    const char *message);

/* An "overlay" or "degraded" record for a note from the sandbox's setup. */
void emit_note(int status_fd, const struct child_report *note);

#endif
