/* The sandbox without namespaces: when this host will not let the user
 * create a user namespace, --sandbox-mode auto runs the action contained
 * (own session, subreaper, tree kill) under no_new_privs and a Landlock
 * ruleset derived from the same setup operations: read where the plan binds
 * read-only, write where it binds writable, a private directory as TMPDIR for
 * the /tmp tmpfs, and nothing else. */
#ifndef PADDOCK_LANDLOCK_H
#define PADDOCK_LANDLOCK_H

#include <stddef.h>

#include "plan.h"

/* The kernel's Landlock ABI version, or 0 (errno set) when it has none. */
int landlock_abi(void);

/* NULL when the plan can be honoured with Landlock alone; otherwise why not
 * (it needs a mount namespace: an overlay, a bind to another path, ...). */
const char *landlock_unsupported(const struct plan *plan, char *why, size_t size);

/* What the action gives up, in a sentence, for the degradation record. */
void landlock_effect(const struct plan *plan, char *out, size_t size);

/* In the child, right before exec: TMPDIR, no_new_privs and the ruleset.
 * Reports a failure (step "landlock") and exits on error. */
void landlock_enter(const struct plan *plan, int report_fd);

/* A fresh private directory standing in for the plan's /tmp tmpfs, or NULL
 * (errno set); remove it with remove_tree() when the action is over. */
char *landlock_private_tmp(void);
void remove_tree(const char *path);

#endif
