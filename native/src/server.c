/* The spawn server (server.h): a single-threaded loop that forks keepers. A
 * keeper is a subreaper that runs one action at a time exactly as one-shot
 * mode does (run.c): orphans of its action come back to it and no other
 * action's, so a tree kill stays exact. Each keeper has its own socket pair,
 * whose other end goes to the owner: the owner hands spawn requests straight
 * to an idle keeper, so a spawn wakes no process but the keeper and costs no
 * fork and no exec but the action's own. The owner retires a keeper after a
 * number of actions by closing its socket (what parsing requests allocated is
 * then freed with the process). A keeper that joined the shared network
 * namespace cannot leave it: the owner sends it only requests for that
 * namespace. */
#define _GNU_SOURCE
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "plan.h"
#include "run.h"
#include "sandbox.h"
#include "status.h"
#include "supervise.h"

#define SPAWN_FDS 3 /* stdin, stdout, stderr */

extern char **environ;

static unsigned char request[MAX_REQUEST];

/* The live keepers: the server's children, so a pid here is never another
 * process's (it is removed when reaped). */
struct keeper {
    pid_t pid;
    bool shared; /* made for the shared network namespace */
};
static struct keeper *keepers;
static size_t keeper_count, keeper_cap;

/* The empty network namespace actions with --shared-netns join, and the user
 * namespace that owns it (a keeper must enter that one to join). Created on
 * first use; if that fails, the reason, and actions get fresh ones. */
static int shared_user_fd = -1, shared_net_fd = -1;
static bool shared_tried;
static int shared_err;
static char shared_step[16], shared_call[16];

static pid_t server_pid;

static int server_failed(const char *message) {
    fprintf(stderr, "paddock-launch --server: %s: %s\n", message, strerror(errno));
    return 125;
}

static void remove_keeper(pid_t pid) {
    for (size_t i = 0; i < keeper_count; i++)
        if (keepers[i].pid == pid) {
            keepers[i] = keepers[--keeper_count];
            return;
        }
}

/* ---- the shared network namespace ---- */

struct helper_report {
    int err;
    char step[16];
    char call[16];
};

/* In a throwaway child: a new user namespace with our own ids mapped and a
 * network namespace in it with lo up. The server keeps both open by fd. */
static _Noreturn void shared_netns_helper(int report_fd, uid_t uid, gid_t gid) {
    struct helper_report r = {0};
    const char *failed = NULL;
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
        snprintf(r.step, sizeof r.step, "unshare");
        failed = "unshare";
    } else if ((failed = sandbox_map_ids(uid, gid)) != NULL) {
        snprintf(r.step, sizeof r.step, "%s", failed);
        failed = "write";
    } else if ((failed = loopback_up()) != NULL) {
        snprintf(r.step, sizeof r.step, "loopback");
    }
    if (failed != NULL) {
        r.err = errno;
        snprintf(r.call, sizeof r.call, "%s", failed);
    }
    ssize_t ignored = write(report_fd, &r, sizeof r);
    (void)ignored;
    for (;;) pause(); /* until the server has opened our namespaces and kills us */
}

static void open_ns(pid_t pid, const char *name, int *fd) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, name);
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0 && shared_err == 0) {
        shared_err = errno;
        snprintf(shared_step, sizeof shared_step, "open-ns");
        snprintf(shared_call, sizeof shared_call, "open");
    }
}

static void create_shared_netns(void) {
    shared_tried = true;
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) < 0) {
        shared_err = errno;
        snprintf(shared_step, sizeof shared_step, "report-pipe");
        snprintf(shared_call, sizeof shared_call, "pipe2");
        return;
    }
    sandbox_prepare();
    uid_t uid = getuid();
    gid_t gid = getgid();
    pid_t helper = fork();
    if (helper == 0) {
        close(pipe_fds[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        shared_netns_helper(pipe_fds[1], uid, gid);
    }
    close(pipe_fds[1]);
    struct helper_report r = {.err = EIO};
    snprintf(r.step, sizeof r.step, "fork");
    snprintf(r.call, sizeof r.call, "fork");
    if (helper < 0) r.err = errno;
    else if (read(pipe_fds[0], &r, sizeof r) != sizeof r) r.err = EIO;
    close(pipe_fds[0]);
    if (r.err == 0) {
        open_ns(helper, "user", &shared_user_fd);
        open_ns(helper, "net", &shared_net_fd);
    } else {
        shared_err = r.err;
        snprintf(shared_step, sizeof shared_step, "%s", r.step);
        snprintf(shared_call, sizeof shared_call, "%s", r.call);
    }
    if (helper > 0) {
        kill(helper, SIGKILL);
        while (waitpid(helper, NULL, 0) < 0 && errno == EINTR) {}
    }
    if (shared_err != 0) {
        if (shared_user_fd >= 0) close(shared_user_fd);
        if (shared_net_fd >= 0) close(shared_net_fd);
        shared_user_fd = shared_net_fd = -1;
    }
}

/* In a keeper: enter the shared namespaces so that the action's own user
 * namespace is created inside the one owning the network namespace. When that
 * is not possible the action gets a fresh network namespace, and the record
 * says so. */
static bool join_shared_netns(struct plan *plan) {
    int err = shared_err;
    const char *step = shared_step, *call = shared_call;
    if (err == 0) {
        if (setns(shared_user_fd, CLONE_NEWUSER) < 0) {
            err = errno;
            step = "setns-user";
            call = "setns";
        } else if (setns(shared_net_fd, CLONE_NEWNET) < 0) {
            err = errno;
            step = "setns-net";
            call = "setns";
        } else {
            plan->clone_flags &= ~CLONE_NEWNET;
        }
    }
    if (err == 0) return true;
    struct child_report note;
    memset(&note, 0, sizeof note);
    note.kind = REPORT_DEGRADED;
    note.err = err;
    snprintf(note.step, sizeof note.step, "shared-netns");
    snprintf(note.syscall, sizeof note.syscall, "%s", call);
    snprintf(note.path, sizeof note.path, "%s", step);
    snprintf(note.detail, sizeof note.detail, "shared->fresh");
    emit_note(plan->status_fd, &note);
    return false;
}

/* ---- requests ---- */

/* Splits count NUL-terminated strings from *p (bounded by end) into a new
 * NULL-terminated array; NULL if they do not fit. */
static char **split_strings(char **p, const char *end, uint32_t count) {
    char **items = calloc((size_t)count + 1, sizeof(char *));
    if (items == NULL) return NULL;
    for (uint32_t i = 0; i < count; i++) {
        char *nul = *p < end ? memchr(*p, '\0', (size_t)(end - *p)) : NULL;
        if (nul == NULL) {
            free(items);
            return NULL;
        }
        items[i] = *p;
        *p = nul + 1;
    }
    return items;
}

/* Receives one request into `request` (after prefix_len bytes into prefix,
 * when given), with at most SPAWN_FDS fds (any more are closed). Returns
 * recvmsg's result; *truncated says whether the message or its fds did not fit. */
static ssize_t receive_request(int sock, int flags, void *prefix, size_t prefix_len, int fds[SPAWN_FDS],
                               int *fd_count, bool *truncated) {
    struct iovec iov[2] = {{prefix, prefix_len}, {request, sizeof request}};
    union {
        char buf[CMSG_SPACE(sizeof(int) * SPAWN_FDS)];
        struct cmsghdr align;
    } control;
    struct msghdr msg = {.msg_iov = prefix != NULL ? iov : iov + 1, .msg_iovlen = prefix != NULL ? 2 : 1,
                         .msg_control = control.buf, .msg_controllen = sizeof control.buf};
    *fd_count = 0;
    ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);
    if (n <= 0) return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (*fd_count < SPAWN_FDS) fds[(*fd_count)++] = fd;
            else close(fd);
        }
    }
    *truncated = (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
    return n;
}

/* Sends iov with fds (count of them, none for 0) by SCM_RIGHTS; sendmsg's result. */
static ssize_t send_with_fds(int sock, const struct iovec *iov, size_t iov_count, const int *fds, size_t count) {
    union {
        char buf[CMSG_SPACE(sizeof(int) * SPAWN_FDS)];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = iov_count};
    if (count > 0) {
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * count);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * count);
    }
    return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

/* A request that cannot run: its one record, a setup failure. */
static void refuse(int status_fd, uint64_t id, const char *message) {
    record_tag_request(id);
    launcher_failed(status_fd, "request", NULL, EINVAL, NULL, message);
}

/* The request's plan, as a keeper (or its spare) runs it: with the action's
 * stdio on fds 0-2 and records to status_fd (the keeper's socket). argv and
 * envp hold the strings the plan points into; the caller frees them. Returns
 * false after writing the failure record. */
static bool request_plan(const struct request_header *h, size_t len, int fds[SPAWN_FDS], int status_fd,
                         struct plan *plan, char ***argv, char ***envp) {
    record_tag_request(h->id);
    for (int target = 0; target < 3; target++) {
        if (dup2(fds[target], target) < 0)
            launcher_failed(status_fd, "request", "dup2", errno, NULL, "cannot install the action's stdio");
        close(fds[target]);
    }
    char *p = (char *)(h + 1);
    const char *end = (const char *)h + len;
    *argv = split_strings(&p, end, h->argc);
    *envp = *argv == NULL ? NULL : split_strings(&p, end, h->envc);
    if (*argv == NULL || *envp == NULL || h->argc < 1) {
        launcher_failed(status_fd, "request", NULL, EINVAL, NULL, "malformed spawn request");
        return false;
    }
    environ = *envp;
    char err[1024];
    if (plan_parse((int)h->argc, *argv, plan, err, sizeof err) < 0) {
        launcher_failed(status_fd, "options", NULL, 0, NULL, err);
        return false;
    }
    plan->status_fd = status_fd;
    plan->lifeline_fd = -1; /* the server's death is the keeper's lifeline */
    plan->die_with_parent = false;
    plan->omit_spawned = true;
    plan->return_at_start = true; /* a sandbox's init reports; this keeper serves on */
    return true;
}

/* ---- spare sandboxes ----
 *
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

struct spare {
    pid_t pid;   /* 0: none */
    int pidfd;   /* kills and reaps it without racing pid reuse */
    int sock;    /* the keeper's end: the request goes here */
    int report;  /* read end of its report pipe */
    int clone_flags, uid, gid; /* the namespaces it has and the ids it maps (as in a plan) */
};
static struct spare spare = {.pid = 0, .pidfd = -1, .sock = -1, .report = -1};

/* In the spare: map the ids and make the scratch root, wait for the request,
 * then be its sandbox's child. The request arrives after the keeper parsed it
 * and found the namespaces and ids to be ours. A failure here is reported to
 * the request that comes; if the spare died, the keeper clones afresh. */
static _Noreturn void spare_main(int sock, int report_fd, int status_fd, pid_t keeper, const struct spare *self) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int clone_flags = self->clone_flags;
    sandbox_enter_base(clone_flags, self->uid, self->gid, -1, report_fd);
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
    const struct request_header *h = (const struct request_header *)request;
    struct plan plan;
    char **argv, **envp;
    /* Its failure record is written: exit as an init whose record is out. */
    if (!request_plan(h, (size_t)n - sizeof spawn_us, fds, status_fd, &plan, &argv, &envp)) _exit(125);
    plan.clone_flags = clone_flags; /* the keeper's, after it joined the shared network namespace */
    supervise_accept_tag((uint32_t)h->id);
    child_run(&plan, report_fd, true, spawn_us, keeper);
}

/* After a sandboxed action started: a spare with its namespaces and ids, if
 * the kernel allows (no spare otherwise; the next request clones its own). */
static void spare_start(const struct spare *wanted, int status_fd) {
    int pair[2], report[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) return;
    if (pipe2(report, O_CLOEXEC) < 0) {
        close(pair[0]);
        close(pair[1]);
        return;
    }
    pid_t keeper = getpid();
    struct spare ready = {.pidfd = -1, .sock = pair[0], .report = report[0], .clone_flags = wanted->clone_flags,
                          .uid = wanted->uid, .gid = wanted->gid};
    sandbox_prepare();
    ready.pid = (pid_t)syscall(SYS_clone, SIGCHLD | CLONE_PIDFD | ready.clone_flags, NULL, &ready.pidfd, NULL, NULL);
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
static void spare_discard(void) {
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
static void spare_take(const struct request_header *h, size_t len, struct plan *plan) {
    if (spare.pid == 0) return;
    if (!runs_under_init(plan) || plan->clone_flags != spare.clone_flags || plan->sandbox_uid != spare.uid ||
        plan->sandbox_gid != spare.gid || plan->userns_fd >= 0 || plan->pidns_fd >= 0 || plan->userns_block_fd >= 0) {
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

/* In a keeper: runs one request's action as one-shot mode would, writing its
 * status records to status_fd (the keeper's socket), to the last one. Returns
 * whether the action's sandbox started under paddock's init: then *next holds
 * its namespaces and ids, for a spare. */
static bool keeper_serve(const struct request_header *h, size_t len, int fds[SPAWN_FDS], int status_fd,
                         struct spare *next) {
    static bool joined; /* this keeper lives in the shared namespaces now */
    struct plan plan;
    char **argv = NULL, **envp = NULL;
    bool handed_over = false;
    if (request_plan(h, len, fds, status_fd, &plan, &argv, &envp)) {
        if (plan.shared_netns && (plan.clone_flags & CLONE_NEWNET)) {
            if (joined) plan.clone_flags &= ~CLONE_NEWNET;
            else joined = join_shared_netns(&plan);
        }
        spare_take(h, len, &plan);
        *next = (struct spare){.clone_flags = plan.clone_flags, .uid = plan.sandbox_uid, .gid = plan.sandbox_gid};
        handed_over = run_action(&plan) == HANDED_OVER && runs_under_init(&plan);
    }
    free(envp);
    free(argv);
    return handed_over;
}

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

/* A keeper's life: take requests from the owner until it closes the socket,
 * or the server goes (OWNER_DEATH_SIGNAL, from PR_SET_PDEATHSIG or the
 * server's shutdown: a running action's tree is killed, here or by its
 * sandbox's init). A sandboxed action's init supervises it and writes its
 * records: the keeper serves on, passing signals on to that init. */
static _Noreturn void keeper_main(int sock) {
    prctl(PR_SET_PDEATHSIG, OWNER_DEATH_SIGNAL);
    if (getppid() != server_pid) _exit(0);
    int dev_null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (dev_null < 0) _exit(125);
    int signal_fd = supervise_signal_fd();
    uint64_t serving = 0;
    for (;;) {
        struct pollfd polled[2] = {{.fd = sock, .events = POLLIN}, {.fd = signal_fd, .events = POLLIN}};
        if (poll(polled, 2, -1) < 0) {
            if (errno == EINTR) continue;
            _exit(125);
        }
        /* Requests first: a cancel may already wait for the request read here. */
        if (polled[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            int fds[SPAWN_FDS];
            int fd_count;
            bool truncated = false;
            ssize_t n = receive_request(sock, MSG_DONTWAIT, NULL, 0, fds, &fd_count, &truncated);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n <= 0) keeper_exit(sock, serving); /* the owner let this keeper go, or died */
            if (getppid() != server_pid) { /* the server died: the action would have no supervisor's parent */
                for (int i = 0; i < fd_count; i++) close(fds[i]);
                keeper_exit(sock, serving);
            }
            const struct request_header *h = (const struct request_header *)request;
            if ((size_t)n < sizeof *h || h->magic != REQUEST_MAGIC ||
                (h->type & ~REQUEST_READY_SPARE) != REQUEST_SPAWN)
                refuse(sock, (size_t)n < sizeof *h ? 0 : h->id, "not a paddock spawn request");
            else if (truncated)
                refuse(sock, h->id, "the spawn request is too large for the spawn server");
            else if (fd_count != SPAWN_FDS)
                refuse(sock, h->id, "a spawn request carries exactly three fds (stdin, stdout, stderr)");
            else {
                serving = h->id;
                supervise_accept_tag((uint32_t)h->id);
                replay_early_signals(h->id);
                bool ready_spare = (h->type & REQUEST_READY_SPARE) != 0;
                struct spare next;
                bool sandboxed = keeper_serve(h, (size_t)n, fds, sock, &next);
                /* Hold nothing of the action's: its pipes must reach end of file. */
                for (int target = 0; target < 3; target++) dup2(dev_null, target);
                if (sandboxed && ready_spare) spare_start(&next, sock);
                continue;
            }
            for (int i = 0; i < fd_count; i++) close(fds[i]);
            continue;
        }
        if ((polled[1].revents & POLLIN) && !idle_signals(sock, serving)) keeper_exit(sock, serving);
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
        keeper_main(pair[1]);
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
    if (shared && !shared_tried) create_shared_netns();
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
        const struct request_header *h = (const struct request_header *)request;
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
        fprintf(stderr, "usage: paddock-launch --server FD (FD: a unix SOCK_SEQPACKET socket)\n");
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
