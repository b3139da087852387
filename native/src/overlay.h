/* Overlays and their fallback chain (docs/launcher.md). */
#ifndef PADDOCK_OVERLAY_H
#define PADDOCK_OVERLAY_H

#include "plan.h"

/* Mounts the overlay op describes at dest (a path below the new root, the
 * host's below OLD_ROOT), between the two pivots: with the implementation
 * forced, or, for OVERLAY_AUTO, each in turn (the first only under
 * SANDBOX_REQUIRED), noting every fallback and the one that worked on
 * report_fd; a failure of the last is reported as the setup's failure. */
void mount_overlay(const struct setup_op *op, const char *dest, enum overlay_impl forced, enum sandbox_mode mode,
                   int report_fd);

#endif
