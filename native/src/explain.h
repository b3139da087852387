/* Why a setup step failed and what to do about it, worked out when it fails
 * from what the host says about itself (the user-namespace sysctls, the
 * process's seccomp mode, the mounts over /proc, the kernel release): the
 * same facts `paddock doctor` reports. docs/diagnostics.md lists each cause. */
#ifndef PADDOCK_EXPLAIN_H
#define PADDOCK_EXPLAIN_H

#include <stdbool.h>

struct explanation {
    char cause[768];  /* the most likely cause, in a sentence; empty when unknown */
    char remedy[512]; /* what to do; empty when unknown */
};

/* Fills out for a failure of step (the launcher's step name), syscall_name
 * (may be NULL) and errno err. */
void explain(const char *step, const char *syscall_name, int err, struct explanation *out);

/* True when a failure of this step and call means the host will not let this
 * user build a namespace sandbox at all (as opposed to a mistake in the
 * plan): the cue for --sandbox-mode auto to fall back to Landlock. */
bool namespaces_refused(const char *step, const char *syscall_name, int err);

#endif
