/* A keeper's spare sandbox: the next sandboxed action's child, cloned ahead. */
#define _GNU_SOURCE
#include "spare.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "records.h"
#include "report.h"
#include "request.h"
#include "run.h"
#include "sandbox.h"
#include "status.h"
#include "supervise.h"

/*
 * After a sandboxed action has started, its keeper clones the next one's
 * child ahead, into the same namespaces: the spare. Creating a user, mount,
 * pid, ipc, uts and cgroup namespace costs about a tenth of a sandboxed spawn
 * (a network namespace five times that again), and this way it is paid while
 * the previous action runs, not after the next request has come. The spare
 * reads the next request from the owner's socket itself, while the keeper
 * leaves that socket alone: a spawn wakes the spare alone, not the keeper and
 * then the spare. When the request wants the same namespaces, the spare sets
 * up the sandbox and becomes the action's init as a freshly cloned child
 * would, and the keeper, woken by the action's exec, learns of it then. When
 * the request wants anything else, the spare hands it back to the keeper and
 * exits.
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

/* What a spare tells its keeper of the request it read, before the request
 * itself (and, handed back, its fds). */
struct spare_word {
    int64_t spawn_us; /* when the request arrived */
    bool took;        /* it runs the request; else it handed it back */
    bool truncated;   /* the request or its fds did not fit */
};

/* Whether lo is up in the new network namespace of plan with clone_flags. */
static bool wants_loopback(int clone_flags, const struct plan *plan) {
    return (clone_flags & CLONE_NEWNET) && !plan->no_loopback;
}

/* Whether plan's setup runs a program: fuse-overlayfs, for an overlay the
 * kernel refuses. That program needs the bounding set whole, so a spare
 * cuts it ahead only for a plan without overlays. */
static bool setup_runs_a_program(const struct plan *plan) {
    for (int i = 0; i < plan->op_count; i++) {
        enum op_kind kind = plan->ops[i].kind;
        if (kind == OP_OVERLAY || kind == OP_TMP_OVERLAY || kind == OP_RO_OVERLAY) return true;
    }
    return false;
}

/* Whether a spare can run plan as a freshly cloned child would: the plan
 * runs under init in the spare's namespaces, with its ids (and, when the
 * spare cut its bounding set ahead, keeps the capabilities it was cut to and
 * runs no program in its setup), and joins no
 * namespace given by fd. A plan for the shared network namespace fits only
 * a spare of a keeper that lives in it. */
static bool spare_fits(const struct spare *self, const struct plan *plan) {
    int flags = plan->clone_flags;
    if (plan->shared_netns && (flags & CLONE_NEWNET)) {
        if (!self->netns_joined) return false;
        flags &= ~CLONE_NEWNET;
    }
    return runs_under_init(plan) && flags == self->clone_flags && plan->sandbox_uid == self->uid &&
           plan->sandbox_gid == self->gid && wants_loopback(flags, plan) == self->loopback &&
           (!self->bounding_cut || (plan->caps == self->caps && !setup_runs_a_program(plan))) &&
           plan->userns_fd < 0 && plan->pidns_fd < 0 && plan->userns_block_fd < 0;
}

/* Notes of the setup made ahead (a degraded /proc, say): held until the
 * request they belong to has come, as a note on the report pipe would wake
 * the keeper before there is one. */
static struct child_report held_notes[4];
static size_t held_count;

static void hold_note(int status_fd, const struct child_report *note) {
    (void)status_fd;
    if (held_count < sizeof held_notes / sizeof held_notes[0]) held_notes[held_count++] = *note;
}

/* In the spare: make its other namespaces, map the ids, make the scratch
 * root, the ready /proc and /dev, its session and its bounding set, then
 * read the next request from the owner's socket itself (the keeper leaves
 * it to us meanwhile). A request we can run is ours: the keeper gets a
 * copy, and we become its sandbox's child, as a freshly cloned one would.
 * Any other goes back to the keeper with its fds. The keeper reads either
 * when our report pipe wakes it: at the action's exec, a setup failure or our
 * exit. A failure after the namespaces is reported to the request that comes. */
static _Noreturn void spare_main(int pair, int report_fd, int sock, pid_t keeper, const struct spare *self) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int clone_flags = self->clone_flags;
    /* The namespaces the clone left to us. On a host that refuses them, the
     * keeper clones the next action's child itself, which reports the refusal
     * or works around it. */
    int ours = clone_flags & ~CLONED_BY_KEEPER;
    char ready = ours == 0 || unshare(ours) == 0 ? SPARE_READY : SPARE_REFUSED;
    if (write(pair, &ready, 1) != 1 || ready == SPARE_REFUSED) _exit(0);
    report_notes_to(hold_note, -1);
    sandbox_enter_base(clone_flags, self->uid, self->gid, -1, report_fd);
    sandbox_prepare_ahead(self->proc, self->dev, self->shm_size, self->loopback);
    if (self->bounding_cut) sandbox_cut_bounding_set_ahead(self->caps);
    child_new_session_ahead();
    int fds[SPAWN_FDS];
    int fd_count;
    bool truncated;
    ssize_t n;
    for (;;) {
        /* Anything from the keeper (end of file above all) lets us go. */
        struct pollfd polled[2] = {{.fd = sock, .events = POLLIN}, {.fd = pair, .events = POLLIN}};
        if (poll(polled, 2, -1) < 0) {
            if (errno == EINTR) continue;
            _exit(0);
        }
        if (polled[1].revents != 0) _exit(0);
        n = receive_request(sock, MSG_DONTWAIT, NULL, 0, fds, &fd_count, &truncated);
        if (n >= 0 || (errno != EINTR && errno != EAGAIN)) break;
    }
    if (n <= 0) _exit(0); /* the owner let the keeper go, or is gone: the keeper sees it too */
    struct spare_word word = {.spawn_us = monotonic_us(), .took = false, .truncated = truncated};
    const struct request_header *h = (const struct request_header *)request_buffer;
    struct plan plan;
    char **argv = NULL, **envp = NULL;
    char err[1024];
    word.took = request_unreadable((size_t)n, fd_count, truncated) == NULL &&
                request_parse(h, (size_t)n, sock, &plan, &argv, &envp, err, sizeof err) == NULL &&
                spare_fits(self, &plan);
    struct iovec iov[2] = {{&word, sizeof word}, {request_buffer, (size_t)n}};
    if (!word.took) { /* the keeper reads it as if from the owner */
        send_with_fds(pair, iov, 2, fds, (size_t)fd_count);
        _exit(0);
    }
    if (send_with_fds(pair, iov, 2, NULL, 0) < 0) {
        /* The keeper would not know the action it supervises: refuse it. */
        request_refuse(sock, h->id, "the spare sandbox cannot pass the request on to its keeper");
        _exit(0);
    }
    close(pair);
    record_tag_request(h->id);
    for (size_t i = 0; i < held_count; i++) emit_note(sock, &held_notes[i]);
    request_stdio(fds, sock);
    plan.clone_flags = clone_flags; /* the keeper's, after it joined the shared network namespace */
    supervise_accept_tag((uint32_t)h->id);
    child_run(&plan, report_fd, true, word.spawn_us, keeper);
}

struct spare spare_like(const struct plan *plan, bool netns_joined) {
    bool proc = false, dev = false;
    for (int i = 0; i < plan->op_count; i++) {
        proc |= plan->ops[i].kind == OP_PROC && (plan->clone_flags & CLONE_NEWPID);
        dev |= plan->ops[i].kind == OP_DEV && !plan->pty && plan->file_label == NULL;
    }
    return (struct spare){.pid = 0, .pidfd = -1, .sock = -1, .report = -1, .clone_flags = plan->clone_flags,
                          .uid = plan->sandbox_uid, .gid = plan->sandbox_gid, .proc = proc, .dev = dev,
                          .shm_size = plan->shm_size, .loopback = wants_loopback(plan->clone_flags, plan),
                          .bounding_cut = (plan->clone_flags & CLONE_NEWUSER) && !setup_runs_a_program(plan),
                          .caps = plan->caps,
                          .netns_joined = netns_joined};
}

void spare_start(const struct spare *wanted, int sock) {
    if (wanted->clone_flags == refused_flags) return;
    int pair[2], report[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) return;
    /* Room for a copy of the largest request (the kernel doubles this, up to
     * twice its wmem_max). */
    int room = MAX_REQUEST;
    setsockopt(pair[1], SOL_SOCKET, SO_SNDBUF, &room, sizeof room);
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
        spare_main(pair[1], report[1], sock, keeper, &ready);
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

int spare_report_fd(void) { return spare.pid != 0 ? spare.report : -1; }

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

/* The spare wrote its first word and, if it read a request, what it did
 * with it before its report pipe could wake us: the pair holds both by then. */
ssize_t spare_collect(int fds[SPAWN_FDS], int *fd_count, bool *truncated, struct prestarted *took) {
    *fd_count = 0;
    *took = (struct prestarted){.pid = 0, .report_fd = -1, .spawn_us = 0};
    char ready;
    ssize_t got;
    do got = recv(spare.sock, &ready, 1, MSG_DONTWAIT);
    while (got < 0 && errno == EINTR);
    if (got != 1 || ready != SPARE_READY) {
        if (got == 1 && ready == SPARE_REFUSED) refused_flags = spare.clone_flags;
        spare_discard();
        return 0;
    }
    struct spare_word word;
    bool cut;
    ssize_t n;
    do n = receive_request(spare.sock, MSG_DONTWAIT, &word, sizeof word, fds, fd_count, &cut);
    while (n < 0 && errno == EINTR);
    if (n <= (ssize_t)sizeof word) { /* it died before it read a request */
        for (int i = 0; i < *fd_count; i++) close(fds[i]);
        *fd_count = 0;
        spare_discard();
        return 0;
    }
    *truncated = word.truncated || cut;
    if (!word.took) {
        spare_discard();
        return n - (ssize_t)sizeof word;
    }
    *took = (struct prestarted){.pid = spare.pid, .report_fd = spare.report, .spawn_us = word.spawn_us};
    spare_forget(); /* from now on it is the action's init, reaped as one */
    return n - (ssize_t)sizeof word;
}
