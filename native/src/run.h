/* Running one action under a plan, from clone to the last status record. */
#ifndef PADDOCK_RUN_H
#define PADDOCK_RUN_H

#include <sched.h>
#include <stdbool.h>

#include "plan.h"
#include "records.h" /* launcher_failed, for main.c */

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

#endif
