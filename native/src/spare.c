/* A keeper's spare sandbox: the next sandboxed action's child, cloned ahead. */
#define _GNU_SOURCE
#include "spare.h"

#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "report.h"
#include "request.h"
#include "run.h"
#include "sandbox.h"
#include "supervise.h"

/*
 * After a sandboxed action has started, its keeper clones the next one's
 * child ahead, into the same namespaces: the spare. Creating a user, mount,
 * pid, ipc, uts and cgroup namespace costs about a tenth of a sandboxed spawn
 * (a network namespace five times that again), and this way it is paid while
 * the previous action runs, not after the next request has come. The spare
 * waits on its own socket; when the next request wants the same namespaces,
 * the keeper passes it on there with the action's stdio, and the spare sets up
 * the sandbox and becomes the action's init as a freshly cloned child would.
 * When the request wants anything else, the spare is killed first.
 *
 * The owner asks for a spare (REQUEST_READY_SPARE) only while its spawns
 * leave a core idle: with every core busy, readying a spare costs more CPU
 * than it saves (a tenth of the throughput of two sandboxed spawns at a time
 * on two cores), and takes it from the action running beside it. */

static struct spare spare = {.pid = 0, .pidfd = -1, .sock = -1, .report = -1};

/* The namespaces a spare is cloned into; it makes the others itself. A new
 * network namespace above all costs a few hundred microseconds of system
 * time, which clone() spends in the caller. The keeper runs where the action
 * that woke it by its exec runs, so a busy host (another core taken) kept the
 * action waiting that long; a new process goes to the least busy core. The
 * user namespace owns the others, and a new pid namespace's first process is
 * its init: those two come with the clone. */
#define CLONED_BY_KEEPER (CLONE_NEWUSER | CLONE_NEWPID)

/* A spare's first word to its keeper, once it has made its namespaces or
 * failed to. */
#define SPARE_READY 'r'
#define SPARE_REFUSED 'n'

/* The clone flags of a spare that could not make its namespaces: none again. */
static int refused_flags = -1;

/* In the spare: make its other namespaces, map the ids and make the scratch
 * root, wait for the request, then be its sandbox's child. The request
 * arrives after the keeper parsed it and found the namespaces and ids to be
 * ours. A failure after the namespaces is reported to the request that comes;
 * if the spare died, the keeper clones afresh. */
static _Noreturn void spare_main(int sock, int report_fd, int status_fd, pid_t keeper, const struct spare *self) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int clone_flags = self->clone_flags;
    /* The namespaces the clone left to us. On a host that refuses them, the
     * keeper clones the next action's child itself, which reports the refusal
     * or works around it. */
    int ours = clone_flags & ~CLONED_BY_KEEPER;
    char word = ours == 0 || unshare(ours) == 0 ? SPARE_READY : SPARE_REFUSED;
    if (write(sock, &word, 1) != 1 || word == SPARE_REFUSED) _exit(0);
    sandbox_enter_base(clone_flags, self->uid, self->gid, -1, report_fd);
    sandbox_prepare_ahead(self->proc, self->dev, self->shm_size, self->loopback);
    int64_t spawn_us;
    int fds[SPAWN_FDS];
    int fd_count;
    bool truncated;
    ssize_t n;
    do n = receive_request(sock, 0, &spawn_us, sizeof spawn_us, fds, &fd_count, &truncated);
    while (n < 0 && errno == EINTR);
    if (n <= (ssize_t)sizeof spawn_us) _exit(0); /* let go: the keeper ended, or wants other namespaces */
    close(sock);
    /* The keeper sent three fds and a request it parsed itself: neither check
     * fails but for a lack of fds or memory. */
    if (fd_count != SPAWN_FDS) report_failure(report_fd, "request", EMFILE, "recvmsg", NULL, NULL);
    const struct request_header *h = (const struct request_header *)request_buffer;
    struct plan plan;
    char **argv, **envp;
    /* Its failure record is written: exit as an init whose record is out. */
    if (!request_plan(h, (size_t)n - sizeof spawn_us, fds, status_fd, &plan, &argv, &envp)) _exit(125);
    plan.clone_flags = clone_flags; /* the keeper's, after it joined the shared network namespace */
    supervise_accept_tag((uint32_t)h->id);
    child_run(&plan, report_fd, true, spawn_us, keeper);
}

static bool wants_loopback(const struct plan *plan) {
    return (plan->clone_flags & CLONE_NEWNET) && !plan->no_loopback;
}

struct spare spare_like(const struct plan *plan) {
    bool proc = false, dev = false;
    for (int i = 0; i < plan->op_count; i++) {
        proc |= plan->ops[i].kind == OP_PROC && (plan->clone_flags & CLONE_NEWPID);
        dev |= plan->ops[i].kind == OP_DEV && !plan->pty && plan->file_label == NULL;
    }
    return (struct spare){.pid = 0, .pidfd = -1, .sock = -1, .report = -1, .clone_flags = plan->clone_flags,
                          .uid = plan->sandbox_uid, .gid = plan->sandbox_gid, .proc = proc, .dev = dev,
                          .shm_size = plan->shm_size, .loopback = wants_loopback(plan)};
}

/* After a sandboxed action started: a spare with its namespaces and ids, if
 * the kernel allows (no spare otherwise; the next request clones its own). */
void spare_start(const struct spare *wanted, int status_fd) {
    if (wanted->clone_flags == refused_flags) return;
    int pair[2], report[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) return;
    if (pipe2(report, O_CLOEXEC) < 0) {
        close(pair[0]);
        close(pair[1]);
        return;
    }
    pid_t keeper = getpid();
    struct spare ready = *wanted;
    ready.pidfd = -1;
    ready.sock = pair[0];
    ready.report = report[0];
    sandbox_prepare();
    ready.pid = (pid_t)syscall(SYS_clone, SIGCHLD | CLONE_PIDFD | (ready.clone_flags & CLONED_BY_KEEPER), NULL,
                               &ready.pidfd, NULL, NULL);
    if (ready.pid == 0) {
        close(pair[0]);
        close(report[0]);
        spare_main(pair[1], report[1], status_fd, keeper, &ready);
    }
    close(pair[1]);
    close(report[1]);
    if (ready.pid < 0) {
        close(pair[0]);
        close(report[0]);
        return;
    }
    spare = ready;
}

/* Lets go of the spare's fds but its report pipe (the one taking the request
 * reads that). */
static void spare_forget(void) {
    close(spare.pidfd);
    close(spare.sock);
    spare = (struct spare){.pid = 0, .pidfd = -1, .sock = -1, .report = -1};
}

/* Ends the spare and reaps it, so that no supervision of another action
 * counts it as one of its own. End of file on its socket makes it exit by
 * itself, even where signals by pidfd are refused; SIGKILL only hurries it.
 * It may have been reaped already (it died, and a keeper reaps any child):
 * the pidfd then refers to nothing. */
void spare_discard(void) {
    if (spare.pid == 0) return;
    close(spare.sock);
    spare.sock = -1;
    syscall(SYS_pidfd_send_signal, spare.pidfd, SIGKILL, NULL, 0);
    siginfo_t info;
    while (waitid(P_PIDFD, (id_t)spare.pidfd, &info, WEXITED) < 0 && errno == EINTR) {}
    close(spare.report);
    spare_forget();
}

/* Passes the request (with the action's stdio, now on fds 0-2) to a spare
 * that has the plan's namespaces, and points the plan at it; any other spare
 * is discarded. */
void spare_take(const struct request_header *h, size_t len, struct plan *plan) {
    if (spare.pid == 0) return;
    if (!runs_under_init(plan) || plan->clone_flags != spare.clone_flags || plan->sandbox_uid != spare.uid ||
        plan->sandbox_gid != spare.gid || wants_loopback(plan) != spare.loopback || plan->userns_fd >= 0 ||
        plan->pidns_fd >= 0 || plan->userns_block_fd >= 0) {
        spare_discard();
        return;
    }
    /* Its first word: whether it has its namespaces (end of file: it died). */
    char word;
    ssize_t got;
    do got = recv(spare.sock, &word, 1, 0);
    while (got < 0 && errno == EINTR);
    if (got != 1 || word != SPARE_READY) {
        if (got == 1 && word == SPARE_REFUSED) refused_flags = spare.clone_flags;
        spare_discard();
        return;
    }
    int64_t spawn_us = monotonic_us();
    struct iovec iov[2] = {{&spawn_us, sizeof spawn_us}, {(void *)h, len}};
    const int stdio[SPAWN_FDS] = {0, 1, 2};
    if (send_with_fds(spare.sock, iov, 2, stdio, SPAWN_FDS) < 0) { /* it died: clone afresh */
        spare_discard();
        return;
    }
    plan->prestarted = (struct prestarted){.pid = spare.pid, .report_fd = spare.report, .spawn_us = spawn_us};
    spare_forget(); /* from now on it is the action's init, reaped as one */
}
