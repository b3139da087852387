/* A keeper of the spawn server: a subreaper that runs one action at a time
 * exactly as one-shot mode does (run.c), for requests the owner sends it on
 * its own socket. */
#define _GNU_SOURCE
#include "keeper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netns.h"
#include "protocol.h"
#include "records.h"
#include "request.h"
#include "run.h"
#include "spare.h"
#include "status.h"
#include "supervise.h"

/* In a keeper: runs one request's action as one-shot mode would, writing its
 * status records to status_fd (the keeper's socket), to the last one; or, when
 * took names the spare that read the request, supervises it as that action's
 * child (its stdio went to the spare, not to us). Returns whether the
 * action's sandbox started under paddock's init: then *next holds its
 * namespaces and ids, for a spare. */
static bool keeper_serve(const struct request_header *h, size_t len, int fds[SPAWN_FDS], int status_fd,
                         const struct prestarted *took, struct spare *next) {
    static bool joined; /* this keeper lives in the shared namespaces now */
    struct plan plan;
    char **argv = NULL, **envp = NULL;
    bool handed_over = false, planned;
    if (took->pid > 0) {
        /* The spare parsed the same request before it took it. */
        char err[1024];
        record_tag_request(h->id);
        planned = request_parse(h, len, status_fd, &plan, &argv, &envp, err, sizeof err) == NULL;
        if (!planned) { /* out of memory: the action runs unsupervised, so end it */
            kill(took->pid, SIGKILL);
            close(took->report_fd);
            supervise_hand_over(took->pid, h->id, took->spawn_us);
        }
    } else {
        planned = request_plan(h, len, fds, status_fd, &plan, &argv, &envp);
    }
    if (planned) {
        if (plan.shared_netns && (plan.clone_flags & CLONE_NEWNET)) {
            if (joined) plan.clone_flags &= ~CLONE_NEWNET;
            else joined = netns_join_shared(&plan);
        }
        plan.prestarted = *took;
        *next = spare_like(&plan, joined);
        handed_over = run_action(&plan) == HANDED_OVER && runs_under_init(&plan);
    }
    free(envp);
    free(argv);
    return handed_over;
}

/* /dev/null, which takes the place of an action's stdio once it runs. */
static int dev_null = -1;

/* Keeper signals that came before their request was read (the owner sends
 * the request, then asks the server to signal): kept for that request. */
struct early_signal {
    int signo;
    uint32_t tag;
};
static struct early_signal early[8];
static size_t early_count;

/* Queues the early signals for request id to ourselves again, now that its
 * supervisor exists; the others were for requests that have ended. */
static void replay_early_signals(uint64_t id) {
    for (size_t i = 0; i < early_count; i++)
        if (early[i].tag == (uint32_t)id) sigqueue(getpid(), early[i].signo, (union sigval){.sival_int = (int)early[i].tag});
    early_count = 0;
}

/* An init that ended without writing its exited record (it was killed): one
 * for it, tagged with its request. */
static void init_ended(const struct reaped_init *reaped, int sock, uint64_t serving) {
    if (WIFEXITED(reaped->status)) return;
    record_tag_request(reaped->request);
    emit_init_lost(sock, reaped->status, reaped->start_us);
    record_tag_request(serving);
}

/* Signals while no action of this keeper's own is supervised here: sandbox
 * inits get theirs passed on, finished inits are reaped. Returns false when
 * the owner is gone (the server died or shut down). */
static bool idle_signals(int sock, uint64_t serving) {
    struct signalfd_siginfo infos[SIGNAL_BATCH];
    size_t count;
    bool owner_gone = false;
    do {
        count = read_signals(infos);
        for (size_t k = 0; k < count; k++) {
            int sig = (int)infos[k].ssi_signo;
            if (sig == SIGCHLD) {
                struct reaped_init reaped;
                while (supervise_reap_init(WNOHANG, &reaped) > 0) init_ended(&reaped, sock, serving);
            } else if (sig == OWNER_DEATH_SIGNAL) {
                supervise_pass_on(&infos[k]);
                owner_gone = true;
            } else if (keeper_signal_meaning(sig) != 0 && !supervise_pass_on(&infos[k]) &&
                       early_count < sizeof early / sizeof early[0]) {
                early[early_count++] = (struct early_signal){sig, (uint32_t)infos[k].ssi_int};
            } /* anything else was not meant for an idle keeper */
        }
    } while (count == SIGNAL_BATCH);
    return !owner_gone;
}

/* The keeper ends, because the owner let it go or is gone: nobody waits for
 * an outcome any more, so its sandbox inits end their trees (those already
 * done just exit), and it waits for them. */
static _Noreturn void keeper_exit(int sock, uint64_t serving) {
    spare_discard();
    supervise_end_inits();
    struct reaped_init reaped;
    while (supervise_handed_over() > 0 && supervise_reap_init(0, &reaped) > 0) init_ended(&reaped, sock, serving);
    _exit(0);
}

/* Serves one request read from the owner's socket, by us or by the spare
 * (took: the spare runs it). */
static void keeper_request(int sock, pid_t server_pid, ssize_t n, int fds[SPAWN_FDS], int fd_count, bool truncated,
                           const struct prestarted *took, uint64_t *serving) {
    const struct request_header *h = (const struct request_header *)request_buffer;
    if (took->pid == 0) { /* the spare checked the request it took */
        if (getppid() != server_pid) { /* the server died: the action would have no supervisor's parent */
            for (int i = 0; i < fd_count; i++) close(fds[i]);
            keeper_exit(sock, *serving);
        }
        const char *unreadable = request_unreadable((size_t)n, fd_count, truncated);
        if (unreadable != NULL) {
            request_refuse(sock, (size_t)n < sizeof *h ? 0 : h->id, unreadable);
            for (int i = 0; i < fd_count; i++) close(fds[i]);
            return;
        }
    }
    *serving = h->id;
    supervise_accept_tag((uint32_t)h->id);
    replay_early_signals(h->id);
    bool ready_spare = (h->type & REQUEST_READY_SPARE) != 0;
    struct spare next;
    bool sandboxed = keeper_serve(h, (size_t)n, fds, sock, took, &next);
    /* Hold nothing of the action's: its pipes must reach end of file. */
    for (int target = 0; target < 3; target++) dup2(dev_null, target);
    if (sandboxed && ready_spare) spare_start(&next, sock);
}

/* A keeper's life: take requests from the owner until it closes the socket,
 * or the server goes (OWNER_DEATH_SIGNAL, from PR_SET_PDEATHSIG or the
 * server's shutdown: a running action's tree is killed, here or by its
 * sandbox's init). A sandboxed action's init supervises it and writes its
 * records: the keeper serves on, passing signals on to that init. While a
 * spare waits, it reads the owner's socket instead of us: its report pipe
 * wakes us when it took a request (at the action's exec or setup failure),
 * handed one back, or ended. That pipe goes first: the spare's exit must not
 * be reaped as an unknown child before its action is known. */
_Noreturn void keeper_main(int sock, pid_t server_pid) {
    prctl(PR_SET_PDEATHSIG, OWNER_DEATH_SIGNAL);
    if (getppid() != server_pid) _exit(0);
    dev_null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (dev_null < 0) _exit(125);
    int signal_fd = supervise_signal_fd();
    uint64_t serving = 0;
    for (;;) {
        int report = spare_report_fd();
        struct pollfd polled[2] = {{.fd = report >= 0 ? report : sock, .events = POLLIN},
                                   {.fd = signal_fd, .events = POLLIN}};
        if (poll(polled, 2, -1) < 0) {
            if (errno == EINTR) continue;
            _exit(125);
        }
        /* Requests first: a cancel may already wait for the request read here. */
        if (polled[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            int fds[SPAWN_FDS];
            int fd_count;
            bool truncated = false;
            struct prestarted took = {.pid = 0, .report_fd = -1, .spawn_us = 0};
            ssize_t n;
            if (report >= 0) {
                n = spare_collect(fds, &fd_count, &truncated, &took);
                if (n == 0) continue; /* the spare ended without a request: read the socket ourselves */
            } else {
                n = receive_request(sock, MSG_DONTWAIT, NULL, 0, fds, &fd_count, &truncated);
                if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
                if (n <= 0) keeper_exit(sock, serving); /* the owner let this keeper go, or died */
            }
            keeper_request(sock, server_pid, n, fds, fd_count, truncated, &took, &serving);
            continue;
        }
        if ((polled[1].revents & POLLIN) && !idle_signals(sock, serving)) keeper_exit(sock, serving);
    }
}
