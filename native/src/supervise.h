/* Supervising a running action: signals, lifeline, timeout, tree kill. */
#ifndef PADDOCK_SUPERVISE_H
#define PADDOCK_SUPERVISE_H

#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "plan.h"

/* Tells a supervisor its owner is gone (--die-with-parent, or the spawn
 * server died): kill the tree at once. */
#define OWNER_DEATH_SIGNAL SIGUSR2

struct outcome {
    int wait_status;       /* as from waitpid, for the action's main process */
    bool timed_out;
    int cancelled_by;      /* the signal that asked the launcher to stop, or 0 */
    bool owner_lost;       /* lifeline EOF or the parent died (--die-with-parent) */
    bool escalated;        /* the grace period ran out and SIGKILL was sent */
    int64_t wall_us;
    struct rusage usage;   /* the whole tree, every process reaped */
};

/* Sets up signal handling for supervision. Must run before the child is
 * forked so that no signal is lost in between. Returns -1 with errno set. */
int supervise_prepare(void);

/* The signalfd supervise_prepare() set up (the spawn server polls it too). */
int supervise_signal_fd(void);

/* Supervises the action whose main process is pid (leader of its own process
 * group) until it and every descendant are gone. */
/* The spawn server signals a keeper with these real-time signals (TERM, INT,
 * HUP, in that order), each carrying the request id in its value: a signal
 * for an action that has already ended cannot reach the keeper's next one. */
#define KEEPER_SIGNAL_BASE (SIGRTMIN + 0)

/* In a keeper: from now on only keeper signals tagged with tag count. */
void supervise_accept_tag(uint32_t tag);

void supervise(const struct plan *plan, pid_t pid, int64_t start_us, struct outcome *out);

/* The GNU-convention exit code for an outcome. */
int outcome_exit_code(const struct outcome *out);

int64_t monotonic_us(void);

#endif
