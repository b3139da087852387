/* The signals the launcher supervises, and what the action's child resets. */
#ifndef PADDOCK_SIGNALS_H
#define PADDOCK_SIGNALS_H

#include <signal.h>

/* SIGCHLD plus the signals a supervisor passes on (TERM, INT, HUP). */
void supervised_signals(sigset_t *mask);

/* Notes which signals this process inherited as ignored, before it ignores any
 * itself. exec resets handled signals but keeps ignored ones, so the child
 * restores exactly these (and SIGPIPE) to the default. */
void note_inherited_ignored_signals(void);

/* In the child: the signals noted above and SIGPIPE back to the default, and
 * an empty signal mask. Returns -1 with errno set if the mask cannot be set. */
int reset_inherited_signals(void);

#endif
