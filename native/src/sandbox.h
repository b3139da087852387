/* The rootless sandbox (namespaces, mounts). */
#ifndef PADDOCK_SANDBOX_H
#define PADDOCK_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "plan.h"

/* Records the caller's ids; call before clone() (inside, they are unmapped). */
void sandbox_prepare(void);
/* The launcher's working directory, as sandbox_prepare() found it ("" if unknown). */
const char *sandbox_outer_cwd(void);
/* In the cloned child, before the plan is known (a spare sandbox): the id
 * maps when clone_flags has a new user namespace (sandbox_uid and sandbox_gid
 * as in a plan: -1 for the caller's; with userns_block_fd >= 0 the caller
 * writes them, and says so on that fd), then a
 * scratch tmpfs as the root, the host's at /oldroot, an empty one at /newroot. */
void sandbox_enter_base(int clone_flags, int sandbox_uid, int sandbox_gid, int userns_block_fd, int report_fd);
/* In a spare, after sandbox_enter_base(): a fresh /proc (proc) and a /dev
 * for an action without a terminal, with a /dev/shm of shm_size bytes (dev),
 * made ahead in the scratch root for sandbox_enter() to move into place
 * when the request wants the same, and lo up in its network namespace
 * (loopback: the spare is then only for a request that wants lo up).
 * Quietly makes none that fails. */
void sandbox_prepare_ahead(bool proc, bool dev, unsigned long long shm_size, bool loopback);
/* In the cloned child: sandbox_enter_base() unless done, then the setup
 * operations, the assembled tree as the root, loopback, hostname. */
void sandbox_enter(const struct plan *plan, int report_fd);
/* In a spare: the bounding set cut to caps ahead, for a request whose plan
 * keeps exactly those and runs no program in its setup (a new user
 * namespace made later starts with a full set again, and
 * sandbox_drop_privileges() then cuts it). */
void sandbox_cut_bounding_set_ahead(uint64_t caps);
/* Right before exec: no_new_privs, and only the plan's capabilities (bwrap's rules). */
void sandbox_drop_privileges(const struct plan *plan, int report_fd);
/* Drops every capability of this process. */
void sandbox_drop_all_caps(void);
/* One-line maps in a new user namespace: the ids sandbox_prepare() recorded
 * outside to inner_uid and inner_gid inside (setgroups denied first, as an
 * unprivileged gid_map needs). Returns NULL, or the failed step with errno set. */
const char *sandbox_map_ids(uid_t inner_uid, gid_t inner_gid);
/* Brings lo up in the current network namespace; returns NULL, or the
 * failed call with errno set. */
const char *loopback_up(void);

#endif
