/* Spare sandboxes (docs/launcher.md): after a sandboxed action started, its
 * keeper clones the next one's child ahead, into the same namespaces. */
#ifndef PADDOCK_SPARE_H
#define PADDOCK_SPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "plan.h"
#include "protocol.h"

struct spare {
    pid_t pid;   /* 0: none */
    int pidfd;   /* kills and reaps it without racing pid reuse */
    int sock;    /* the keeper's end: the request goes here */
    int report;  /* read end of its report pipe */
    int clone_flags, uid, gid; /* the namespaces it has and the ids it maps (as in a plan) */
    bool proc, dev;            /* a fresh /proc, and a /dev with shm_size, made ahead (sandbox_prepare_ahead) */
    bool loopback;             /* lo is up in its new network namespace */
    unsigned long long shm_size;
};

/* What a spare for the next request like plan makes ahead: its namespaces
 * and ids, and the /proc and /dev that plan asks for. */
struct spare spare_like(const struct plan *plan);

/* After a sandboxed action started: a spare with wanted's namespaces and
 * ids, if the kernel allows (none otherwise; the next request clones its own). */
void spare_start(const struct spare *wanted, int status_fd);

/* Passes the request h (with the action's stdio, now on fds 0-2) to the
 * spare if it has the plan's namespaces and ids, and points the plan at it;
 * any other spare is discarded. */
void spare_take(const struct request_header *h, size_t len, struct plan *plan);

/* Ends the spare, if there is one, and reaps it. */
void spare_discard(void);

#endif
