/* The spawn server (server.h, protocol.h): a single-threaded loop that forks keepers. A
 * keeper is a subreaper that runs one action at a time exactly as one-shot
 * mode does (run.c): orphans of its action come back to it and no other
 * action's, so a tree kill stays exact. Each keeper has its own socket pair,
 * whose other end goes to the owner: the owner hands spawn requests straight
 * to an idle keeper, so a spawn wakes one process (the keeper, or the spare
 * sandbox reading its socket in its place: spare.c) and costs no fork and no
 * exec but the action's own. The owner retires a keeper after a
 * number of actions by closing its socket (what parsing requests allocated is
 * then freed with the process). A keeper that joined the shared network
 * namespace cannot leave it: the owner sends it only requests for that
 * namespace. */
#define _GNU_SOURCE
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keeper.h"
#include "msg.h"
#include "netns.h"
#include "protocol.h"
#include "supervise.h"

/* The live keepers: the server's children, so a pid here is never another
 * process's (it is removed when reaped). */
struct keeper {
    pid_t pid;
    bool shared; /* made for the shared network namespace */
};
static struct keeper *keepers;
static size_t keeper_count, keeper_cap;

static pid_t server_pid;

static int server_failed(const char *message) {
    msg(MSG_ERROR, "--server: %s: %s", message, strerror(errno));
    return 125;
}

static void remove_keeper(pid_t pid) {
    for (size_t i = 0; i < keeper_count; i++)
        if (keepers[i].pid == pid) {
            keepers[i] = keepers[--keeper_count];
            return;
        }
}

/* Forks a keeper on a new socket pair and returns the owner's end, or -1 with
 * errno set. */
static int start_keeper(int owner_sock, bool shared) {
    if (keeper_count == keeper_cap) {
        size_t cap = keeper_cap ? keeper_cap * 2 : 16;
        struct keeper *grown = realloc(keepers, cap * sizeof *grown);
        if (grown == NULL) return -1;
        keepers = grown;
        keeper_cap = cap;
    }
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        /* Nothing of the server's but the signalfd and the shared namespaces. */
        close(owner_sock);
        close(pair[0]);
        keeper_main(pair[1], server_pid);
    }
    int err = errno;
    close(pair[1]);
    if (pid < 0) {
        close(pair[0]);
        errno = err;
        return -1;
    }
    keepers[keeper_count++] = (struct keeper){.pid = pid, .shared = shared};
    return pair[0];
}

/* REQUEST_KEEPER: a new keeper, and its socket to the owner; or the errno. */
static void new_keeper(const struct request_header *h, int sock) {
    bool shared = h->argc != 0;
    if (shared) netns_create_shared();
    int keeper_sock = start_keeper(sock, shared);
    struct request_header reply = {.magic = REQUEST_MAGIC, .type = REQUEST_KEEPER};
    if (keeper_sock >= 0) {
        reply.id = (uint64_t)keepers[keeper_count - 1].pid;
        reply.argc = shared;
    } else {
        reply.envc = (uint32_t)errno;
    }
    struct iovec iov = {&reply, sizeof reply};
    /* if the owner is gone, so is the keeper soon */
    ssize_t ignored = send_with_fds(sock, &iov, 1, &keeper_sock, keeper_sock >= 0 ? 1 : 0);
    (void)ignored;
    if (keeper_sock >= 0) close(keeper_sock);
}

/* REQUEST_SIGNAL: a tagged keeper signal to the keeper running request id,
 * if that keeper is still ours. */
static void signal_keeper(const struct request_header *h) {
    int sig = (int)h->argc;
    int keeper_sig = sig == SIGTERM ? KEEPER_SIGNAL_BASE : sig == SIGINT ? KEEPER_SIGNAL_BASE + 1
                   : sig == SIGHUP ? KEEPER_SIGNAL_BASE + 2 : 0;
    if (keeper_sig == 0) return;
    union sigval tag = {.sival_int = (int)(uint32_t)h->id};
    for (size_t i = 0; i < keeper_count; i++)
        if (keepers[i].pid == (pid_t)h->envc) sigqueue(keepers[i].pid, keeper_sig, tag);
}

/* Reads every waiting request; false once the owner is gone. */
static bool serve_requests(int sock) {
    for (;;) {
        int fds[SPAWN_FDS];
        int fd_count;
        bool truncated = false;
        ssize_t n = receive_request(sock, MSG_DONTWAIT, NULL, 0, fds, &fd_count, &truncated);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return true;
        if (n <= 0) return false; /* end of file: the owner closed its end or died */
        for (int i = 0; i < fd_count; i++) close(fds[i]); /* no server request carries fds */
        const struct request_header *h = (const struct request_header *)request_buffer;
        if ((size_t)n < sizeof *h || h->magic != REQUEST_MAGIC || truncated) continue;
        if (h->type == REQUEST_KEEPER) new_keeper(h, sock);
        else if (h->type == REQUEST_SIGNAL) signal_keeper(h);
    }
}

static void reap_keepers(void) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) remove_keeper(pid);
}

/* The owner is gone, or the server was asked to stop: every busy keeper kills
 * its tree, every idle one exits; wait for all of them. */
static int shut_down(int sock) {
    close(sock);
    for (size_t i = 0; i < keeper_count; i++) kill(keepers[i].pid, OWNER_DEATH_SIGNAL);
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {}
    return 0;
}

int server_main(int argc, char **argv) {
    int sock;
    char *end = NULL;
    long value = argc == 3 ? strtol(argv[2], &end, 10) : -1;
    if (argc != 3 || end == argv[2] || *end != '\0' || value < 0 || value > 65535) {
        msg(MSG_ERROR, "usage: %s --server FD (FD: a unix SOCK_SEQPACKET socket)", msg_name());
        return 125;
    }
    sock = (int)value;
    struct stat st;
    if (fstat(sock, &st) < 0) return server_failed("FD is not open");
    if (!S_ISSOCK(st.st_mode)) {
        errno = ENOTSOCK;
        return server_failed("FD is not a socket");
    }
    if (fcntl(sock, F_SETFD, FD_CLOEXEC) < 0) return server_failed("fcntl");
    server_pid = getpid();
    if (supervise_prepare() < 0) return server_failed("cannot set up signal handling");
    uint32_t ready = SERVER_READY;
    if (send(sock, &ready, sizeof ready, MSG_NOSIGNAL) != sizeof ready) return server_failed("cannot say it is ready");
    int signal_fd = supervise_signal_fd();
    for (;;) {
        struct pollfd polled[2] = {{.fd = sock, .events = POLLIN}, {.fd = signal_fd, .events = POLLIN}};
        if (poll(polled, 2, -1) < 0) {
            if (errno == EINTR) continue;
            server_failed("poll");
            return shut_down(sock);
        }
        if (polled[1].revents & POLLIN) {
            struct signalfd_siginfo infos[SIGNAL_BATCH];
            size_t count;
            bool stop = false;
            do {
                count = read_signals(infos);
                for (size_t k = 0; k < count; k++) {
                    if (infos[k].ssi_signo == SIGCHLD) reap_keepers();
                    else if (infos[k].ssi_signo != OWNER_DEATH_SIGNAL) stop = true; /* TERM, INT, HUP, QUIT */
                }
            } while (count == SIGNAL_BATCH);
            if (stop) return shut_down(sock);
        }
        if (polled[0].revents & (POLLIN | POLLHUP | POLLERR) && !serve_requests(sock)) return shut_down(sock);
    }
}
