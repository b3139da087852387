/* bubblewrap's status objects, for --info-fd and --json-status-fd. */
#ifndef PADDOCK_BWRAP_STATUS_H
#define PADDOCK_BWRAP_STATUS_H

#include <sys/types.h>

#include "plan.h"

/* Once the child is cloned (or forked): {"child-pid": N, "<ns>-namespace":
 * ID, ...} for the namespaces it created, on the info fd (then closed) and
 * the JSON status fd. */
void bwrap_status_started(const struct plan *plan, pid_t pid);

/* When an action that started has ended: {"exit-code": N} on the JSON status fd. */
void bwrap_status_exited(const struct plan *plan, int exit_code);

#endif
