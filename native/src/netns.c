/* The spawn server's shared network namespace (--shared-netns): one empty
 * network namespace with lo up, in a user namespace of its own, created by
 * the server on first use and joined by the keepers that serve it. */
#define _GNU_SOURCE
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "records.h"
#include "report.h"
#include "sandbox.h"

/* The empty network namespace actions with --shared-netns join, and the user
 * namespace that owns it (a keeper must enter that one to join). Created on
 * first use; if that fails, the reason, and actions get fresh ones. */
static int shared_user_fd = -1, shared_net_fd = -1;
static bool shared_tried;
static int shared_err;
static char shared_step[16], shared_call[16];

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
bool netns_join_shared(struct plan *plan) {
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

void netns_create_shared(void) {
    if (!shared_tried) create_shared_netns();
}
