/* Supervising a running action: signals, lifeline, timeout, tree kill. */
#ifndef PADDOCK_SUPERVISE_H
#define PADDOCK_SUPERVISE_H

#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/signalfd.h>
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

/* Reads what the signalfd holds, up to SIGNAL_BATCH signals in one call;
 * returns how many (fewer than SIGNAL_BATCH: it is empty now). */
#define SIGNAL_BATCH 8
size_t read_signals(struct signalfd_siginfo infos[SIGNAL_BATCH]);

/* Supervises the action whose main process is pid (leader of its own process
 * group) until it and every descendant are gone. */
/* The spawn server signals a keeper with these real-time signals (TERM, INT,
 * HUP, in that order), each carrying the request id in its value: a signal
 * for an action that has already ended cannot reach the keeper's next one. */
#define KEEPER_SIGNAL_BASE (SIGRTMIN + 0)

/* What a keeper signal stands for (SIGTERM, SIGINT or SIGHUP); 0 for any
 * other signal. */
int keeper_signal_meaning(int sig);

/* In a keeper: from now on only keeper signals tagged with tag count. */
void supervise_accept_tag(uint32_t tag);

void supervise(const struct plan *plan, pid_t pid, int64_t start_us, struct outcome *out);

/* In a sandbox's init (pid 1 of the action's pid namespace): the tree is
 * everything in the namespace, signalled with kill(-1) and reaped by us. */
void supervise_as_init(void);

/* The sandbox's init with this pid now supervises the action of request
 * (0 in one-shot mode) and writes its records; this process only passes
 * signals on to it and reaps it. Its reaping counts for no action's usage. */
void supervise_hand_over(pid_t init, uint64_t request, int64_t start_us);

/* Tells every init handed over to that the owner is gone: each kills its
 * tree and reports owner_lost (one that is done already just exits). */
void supervise_end_inits(void);

/* How many inits handed over to are still to be reaped. */
size_t supervise_handed_over(void);

/* Passes a signal read from the signalfd on to the init it is meant for: a
 * tagged keeper signal to its request's init, TERM, INT, HUP and QUIT to the only
 * init (one-shot mode), the owner-death signal to every init. Returns whether
 * it went to one. */
bool supervise_pass_on(const struct signalfd_siginfo *info);

struct reaped_init {
    int status;       /* its wait status: exited with the action's exit code, or killed */
    uint64_t request; /* its request */
    int64_t start_us; /* when its action was spawned */
};

/* Reaps one init handed over to (waitpid flags; other children are reaped
 * and skipped). Returns its pid, or 0 or -1 as waitpid does. */
pid_t supervise_reap_init(int flags, struct reaped_init *reaped);

/* One-shot mode: passes signals on to init until it exits; its wait status. */
int supervise_await_init(pid_t init);

/* The GNU-convention exit code for an outcome. */
int outcome_exit_code(const struct outcome *out);

int64_t monotonic_us(void);

#endif
