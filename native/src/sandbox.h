/* The rootless sandbox (namespaces, mounts). */
#ifndef PADDOCK_SANDBOX_H
#define PADDOCK_SANDBOX_H

#include <sys/types.h>

#include "plan.h"

/* Records the caller's ids; call before clone() (inside, they are unmapped). */
void sandbox_prepare(void);
/* In the cloned child, before the plan is known (a spare sandbox): the id
 * maps (sandbox_uid and sandbox_gid as in a plan: -1 for the caller's), then a
 * scratch tmpfs as the root, the host's at /oldroot, an empty one at /newroot. */
void sandbox_enter_base(int sandbox_uid, int sandbox_gid, int report_fd);
/* In the cloned child: sandbox_enter_base() unless done, then the setup
 * operations, the assembled tree as the root, loopback, hostname. */
void sandbox_enter(const struct plan *plan, int report_fd);
/* Right before exec: no capabilities, no_new_privs. */
void sandbox_drop_privileges(int report_fd);
/* One-line maps in a new user namespace: the ids sandbox_prepare() recorded
 * outside to inner_uid and inner_gid inside (setgroups denied first, as an
 * unprivileged gid_map needs). Returns NULL, or the failed step with errno set. */
const char *sandbox_map_ids(uid_t inner_uid, gid_t inner_gid);
/* Brings lo up in the current network namespace; returns NULL, or the
 * failed call with errno set. */
const char *loopback_up(void);

#endif
