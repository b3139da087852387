/* Applying a plan inside the action's child process. */
#ifndef PADDOCK_CHILD_H
#define PADDOCK_CHILD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "plan.h"

/* Runs in the freshly forked (or cloned) child; never returns. report_fd is
 * the close-on-exec write end of the report pipe; with under_init, the child
 * is pid 1 of a new pid namespace and supervises the action as its init,
 * timing it from spawn_us; launcher_pid is the parent. */
_Noreturn void child_run(const struct plan *plan, int report_fd, bool under_init, int64_t spawn_us,
                         pid_t launcher_pid);
/* In a spare: its own session, made ahead for child_run(). */
void child_new_session_ahead(void);

#endif
