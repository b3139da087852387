/* Spare sandboxes (docs/launcher.md): after a sandboxed action started, its
 * keeper clones the next one's child ahead, into the same namespaces. */
#ifndef PADDOCK_SPARE_H
#define PADDOCK_SPARE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#include "plan.h"
#include "protocol.h"

struct spare {
    pid_t pid;   /* 0: none */
    int pidfd;   /* kills and reaps it without racing pid reuse */
    int sock;    /* the keeper's end of a pair: the spare's word and request come here */
    int report;  /* read end of its report pipe */
    int clone_flags, uid, gid; /* the namespaces it has and the ids it maps (as in a plan) */
    bool proc, dev;            /* a fresh /proc, and a /dev with shm_size, made ahead (sandbox_prepare_ahead) */
    bool loopback;             /* lo is up in its new network namespace */
    bool netns_joined;         /* its keeper lives in the shared network namespace */
    unsigned long long shm_size;
    bool bounding_cut;         /* its bounding set is cut to caps ahead */
    uint64_t caps;             /* the capabilities its action keeps */
};

/* What a spare for the next request like plan makes ahead: its namespaces
 * and ids, and the /proc and /dev that plan asks for; netns_joined says
 * whether the keeper lives in the shared network namespace. */
struct spare spare_like(const struct plan *plan, bool netns_joined);

/* After a sandboxed action started: a spare with wanted's namespaces and
 * ids, if the kernel allows (none otherwise; the next request clones its
 * own). It reads the next request from sock, the owner's socket, which the
 * keeper must leave alone while spare_report_fd() is not -1. */
void spare_start(const struct spare *wanted, int sock);

/* The spare's report pipe, to poll while it waits for a request; -1 when
 * there is no spare. */
int spare_report_fd(void);

/* Once spare_report_fd() is readable: the request the spare read, in
 * request_buffer (its length returned), or 0 when the spare is gone without
 * one. If the spare runs it, *took names it (the plan's prestarted child);
 * if it handed it back, fds and *truncated are as receive_request leaves
 * them, and the spare is gone. */
ssize_t spare_collect(int fds[SPAWN_FDS], int *fd_count, bool *truncated, struct prestarted *took);

/* Ends the spare, if there is one, and reaps it. */
void spare_discard(void);

#endif
