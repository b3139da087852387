/* The spawn server's shared network namespace (--shared-netns). */
#ifndef PADDOCK_NETNS_H
#define PADDOCK_NETNS_H

#include <stdbool.h>

#include "plan.h"

/* In the server, before it forks a keeper for the shared namespace: creates
 * the namespace unless it tried already (a failure is kept, for the records). */
void netns_create_shared(void);

/* In a keeper: enters the shared namespaces, so that the action's own user
 * namespace is created inside the one owning the network namespace, and
 * drops CLONE_NEWNET from the plan. When that is not possible the action gets
 * a fresh network namespace, and a "degraded" record says so. Returns whether
 * it joined (the keeper then lives in them). */
bool netns_join_shared(struct plan *plan);

#endif
