#define _GNU_SOURCE
#include "supervise.h"

#include "signals.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int signal_fd = -1;
static uint32_t signal_tag; /* the request a keeper serves now: its tagged signals count */
static bool as_init;        /* supervising as pid 1 of the action's pid namespace */

/* Sandbox inits this process handed actions over to (supervise_hand_over):
 * its children, but no action's own, so reaping one counts for no outcome. */
struct handed_over {
    pid_t pid;
    uint64_t request;
    int64_t start_us;
};
static struct handed_over inits[8];
static size_t init_count;

int64_t monotonic_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int supervise_prepare(void) {
    if (signal_fd >= 0) return 0; /* a keeper inherits the spawn server's */
    sigset_t mask;
    supervised_signals(&mask);
    sigaddset(&mask, SIGQUIT);
    sigaddset(&mask, OWNER_DEATH_SIGNAL);
    for (int i = 0; i < 3; i++) sigaddset(&mask, KEEPER_SIGNAL_BASE + i);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) return -1;
    note_inherited_ignored_signals();
    signal(SIGPIPE, SIG_IGN); /* a vanished status reader must not kill us */
    signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    return signal_fd < 0 ? -1 : 0;
}

int supervise_signal_fd(void) { return signal_fd; }

size_t read_signals(struct signalfd_siginfo infos[SIGNAL_BATCH]) {
    ssize_t got = read(signal_fd, infos, SIGNAL_BATCH * sizeof infos[0]);
    return got > 0 ? (size_t)got / sizeof infos[0] : 0;
}

void supervise_accept_tag(uint32_t tag) { signal_tag = tag; }

/* The signal a delivery asks for: a standard one as is, a keeper signal only
 * when it is tagged with the request being served (else 0: it was meant for
 * an earlier action). Keeper signals are real-time ones, so they queue with
 * their tags instead of merging into one pending signal. */
static int requested_signal(const struct signalfd_siginfo *info) {
    int meaning = keeper_signal_meaning((int)info->ssi_signo);
    if (meaning == 0) return (int)info->ssi_signo;
    return (uint32_t)info->ssi_int == signal_tag ? meaning : 0;
}

int keeper_signal_meaning(int sig) {
    static const int meaning[] = {SIGTERM, SIGINT, SIGHUP};
    return sig >= KEEPER_SIGNAL_BASE && sig <= KEEPER_SIGNAL_BASE + 2 ? meaning[sig - KEEPER_SIGNAL_BASE] : 0;
}

void supervise_as_init(void) {
    as_init = true;
    init_count = 0; /* the launcher's inits are not ours, and our pids are another namespace's */
}

/* ---- actions supervised by their sandbox's init ---- */

void supervise_hand_over(pid_t init, uint64_t request, int64_t start_us) {
    if (init_count == sizeof inits / sizeof inits[0]) { /* only finished inits linger: wait for one */
        struct reaped_init ignored;
        supervise_reap_init(0, &ignored);
    }
    inits[init_count++] = (struct handed_over){init, request, start_us};
}

size_t supervise_handed_over(void) { return init_count; }

/* Forgets init if it is one (its entry into *forgotten, when not NULL);
 * whether it was. */
static bool forget_init(pid_t pid, struct handed_over *forgotten) {
    for (size_t i = 0; i < init_count; i++)
        if (inits[i].pid == pid) {
            if (forgotten != NULL) *forgotten = inits[i];
            inits[i] = inits[--init_count];
            return true;
        }
    return false;
}

/* The init that supervises the request a keeper signal is tagged with, or 0. */
static pid_t init_for(uint32_t tag) {
    for (size_t i = 0; i < init_count; i++)
        if ((uint32_t)inits[i].request == tag) return inits[i].pid;
    return 0;
}

void supervise_end_inits(void) {
    for (size_t i = 0; i < init_count; i++) kill(inits[i].pid, OWNER_DEATH_SIGNAL);
}

bool supervise_pass_on(const struct signalfd_siginfo *info) {
    int sig = (int)info->ssi_signo;
    if (sig == OWNER_DEATH_SIGNAL) {
        supervise_end_inits();
        return true;
    }
    pid_t init = 0;
    int meaning = keeper_signal_meaning(sig);
    if (meaning != 0) {
        init = init_for((uint32_t)info->ssi_int);
        sig = meaning;
    } else if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT) {
        init = init_count == 1 ? inits[0].pid : 0; /* one-shot mode: the launcher was signalled */
    }
    if (init == 0) return false;
    kill(init, sig);
    return true;
}

pid_t supervise_reap_init(int flags, struct reaped_init *reaped) {
    for (;;) {
        pid_t pid = waitpid(-1, &reaped->status, flags);
        if (pid <= 0) return pid;
        struct handed_over entry;
        if (forget_init(pid, &entry)) {
            reaped->request = entry.request;
            reaped->start_us = entry.start_us;
            return pid;
        }
    }
}

int supervise_await_init(pid_t init) {
    for (;;) {
        struct pollfd polled = {.fd = signal_fd, .events = POLLIN};
        if (poll(&polled, 1, -1) < 0 && errno != EINTR) {
            struct reaped_init reaped; /* cannot wait for signals: wait for init alone */
            while (supervise_reap_init(0, &reaped) != init) {}
            return reaped.status;
        }
        struct signalfd_siginfo infos[SIGNAL_BATCH];
        size_t count;
        do {
            count = read_signals(infos);
            for (size_t k = 0; k < count; k++) {
                if (infos[k].ssi_signo != SIGCHLD) {
                    supervise_pass_on(&infos[k]);
                    continue;
                }
                struct reaped_init reaped;
                pid_t pid;
                while ((pid = supervise_reap_init(WNOHANG, &reaped)) > 0)
                    if (pid == init) return reaped.status;
            }
        } while (count == SIGNAL_BATCH);
    }
}

/* ---- the process tree ---- */

struct pids {
    pid_t *items;
    size_t count, cap;
};

static void pids_add(struct pids *p, pid_t pid) {
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        pid_t *grown = realloc(p->items, cap * sizeof(pid_t));
        if (grown == NULL) return; /* best effort; the next round tries again */
        p->items = grown;
        p->cap = cap;
    }
    p->items[p->count++] = pid;
}

/* Every live descendant of the launcher, found by scanning /proc once for
 * parent links. Works without CONFIG_PROC_CHILDREN and sees processes that
 * left the action's session or process group. */
static void collect_descendants(struct pids *out) {
    out->count = 0;
    struct pids all_pid = {0}, all_ppid = {0};
    DIR *proc = opendir("/proc");
    if (proc == NULL) return;
    struct dirent *entry;
    while ((entry = readdir(proc)) != NULL) {
        if (!isdigit((unsigned char)entry->d_name[0])) continue;
        char path[300], stat[512];
        snprintf(path, sizeof path, "/proc/%s/stat", entry->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t n = read(fd, stat, sizeof stat - 1);
        close(fd);
        if (n <= 0) continue;
        stat[n] = '\0';
        /* "pid (comm) state ppid ...": comm may hold spaces and parentheses. */
        char *close_paren = strrchr(stat, ')');
        if (close_paren == NULL) continue;
        char state;
        int ppid;
        if (sscanf(close_paren + 1, " %c %d", &state, &ppid) != 2) continue;
        pids_add(&all_pid, (pid_t)atoi(entry->d_name));
        pids_add(&all_ppid, (pid_t)ppid);
    }
    closedir(proc);
    pids_add(out, getpid());
    for (size_t i = 0; i < out->count; i++) /* out grows while we walk it: breadth first */
        for (size_t j = 0; j < all_pid.count; j++)
            if (all_ppid.items[j] == out->items[i]) pids_add(out, all_pid.items[j]);
    free(all_pid.items);
    free(all_ppid.items);
}

/* Sends sig to the action's process group and to every descendant. A stopped
 * process acts on anything but SIGKILL only once continued, so SIGCONT follows
 * (as GNU timeout does); otherwise a stopped action never sees the SIGTERM and
 * always waits out the grace period. */
static void signal_tree(pid_t group, int sig) {
    if (as_init) { /* everything in the namespace but ourselves */
        kill(-1, sig);
        if (sig != SIGKILL) kill(-1, SIGCONT);
        return;
    }
    kill(-group, sig);
    if (sig != SIGKILL) kill(-group, SIGCONT);
    struct pids tree = {0};
    collect_descendants(&tree);
    for (size_t i = 1; i < tree.count; i++) { /* [0] is the launcher */
        kill(tree.items[i], sig);
        if (sig != SIGKILL) kill(tree.items[i], SIGCONT);
    }
    free(tree.items);
}

/* Adds one reaped process's usage to the tree's: times and counts add up,
 * the peak RSS is the largest. (Not RUSAGE_CHILDREN: a spawn server's keeper
 * runs many actions, and each outcome must count its own tree only.) */
static void add_usage(struct rusage *sum, const struct rusage *one) {
    timeradd(&sum->ru_utime, &one->ru_utime, &sum->ru_utime);
    timeradd(&sum->ru_stime, &one->ru_stime, &sum->ru_stime);
    if (one->ru_maxrss > sum->ru_maxrss) sum->ru_maxrss = one->ru_maxrss;
    sum->ru_minflt += one->ru_minflt;
    sum->ru_majflt += one->ru_majflt;
    sum->ru_nvcsw += one->ru_nvcsw;
    sum->ru_nivcsw += one->ru_nivcsw;
    sum->ru_inblock += one->ru_inblock;
    sum->ru_oublock += one->ru_oublock;
}

/* waitpid that also counts the reaped process's usage into the outcome. */
static pid_t reap(pid_t which, int *status, int flags, struct outcome *out) {
    struct rusage usage;
    pid_t pid = wait4(which, status, flags, &usage);
    if (pid > 0 && !forget_init(pid, NULL)) add_usage(&out->usage, &usage);
    return pid;
}

/* Reaps every child that has ended. Returns whether none is left at all. */
static bool reap_available(pid_t main_pid, bool *main_done, struct outcome *out) {
    for (;;) {
        int status;
        pid_t pid = reap(-1, &status, WNOHANG, out);
        if (pid <= 0) return pid < 0 && errno == ECHILD;
        if (pid == main_pid) {
            out->wait_status = status;
            *main_done = true;
        }
    }
}

/* After the main process is gone: SIGKILL whatever is left, round after round,
 * until nothing remains to reap. Each round catches the processes that were
 * re-parented to us when their parents died in the previous one. */
static void kill_remaining(pid_t group, struct outcome *out) {
    while (as_init) { /* orphans come to us: kill and reap until none is left */
        kill(-1, SIGKILL);
        int status;
        if (reap(-1, &status, 0, out) < 0 && errno == ECHILD) return;
    }
    for (;;) {
        kill(-group, SIGKILL);
        int status;
        pid_t pid = reap(-1, &status, WNOHANG, out);
        if (pid < 0 && errno == ECHILD) return;
        if (pid > 0) continue; /* reaped one; look again before scanning /proc */
        signal_tree(group, SIGKILL);
        pid = reap(-1, &status, 0, out);
        if (pid < 0 && errno == ECHILD) return;
    }
}

static void arm_timer(int timer_fd, int64_t ms) {
    struct itimerspec spec = {0};
    if (ms <= 0) ms = 1; /* 0 would disarm the timer */
    spec.it_value.tv_sec = ms / 1000;
    spec.it_value.tv_nsec = (ms % 1000) * 1000000;
    timerfd_settime(timer_fd, 0, &spec, NULL);
}

enum phase { RUNNING, GRACE, KILLED };

void supervise(const struct plan *plan, pid_t pid, int64_t start_us, struct outcome *out) {
    memset(out, 0, sizeof *out);
    int timer_fd = -1;
    if (plan->timeout_ms > 0) {
        timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (timer_fd >= 0) arm_timer(timer_fd, plan->timeout_ms - (monotonic_us() - start_us) / 1000);
    }
    enum phase phase = RUNNING;
    bool main_done = false;
    /* No child left: no descendant either (orphans come to us), so nothing to kill. */
    bool none_left = false;
    bool watch_lifeline = plan->lifeline_fd >= 0;

    /* Begins SIGTERM -> grace -> SIGKILL, or goes straight to SIGKILL. */
#define TERMINATE(sig)                                                                   \
    do {                                                                                 \
        if (phase == RUNNING) {                                                          \
            signal_tree(pid, (sig));                                                     \
            phase = GRACE;                                                               \
            if (timer_fd < 0) timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK); \
            if (timer_fd >= 0) arm_timer(timer_fd, plan->kill_grace_ms);                 \
            else { signal_tree(pid, SIGKILL); phase = KILLED; out->escalated = true; }   \
        }                                                                                \
    } while (0)

    while (!main_done) {
        struct pollfd fds[3];
        int n = 0;
        fds[n++] = (struct pollfd){.fd = signal_fd, .events = POLLIN};
        int timer_index = -1, lifeline_index = -1;
        if (timer_fd >= 0 && phase != KILLED) {
            timer_index = n;
            fds[n++] = (struct pollfd){.fd = timer_fd, .events = POLLIN};
        }
        if (watch_lifeline) {
            lifeline_index = n;
            fds[n++] = (struct pollfd){.fd = plan->lifeline_fd, .events = POLLIN};
        }
        if (poll(fds, (nfds_t)n, -1) < 0) {
            if (errno == EINTR) continue;
            break; /* cannot supervise any more: fall through to the kill below */
        }
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo infos[SIGNAL_BATCH];
            size_t count;
            do {
                count = read_signals(infos);
                for (size_t k = 0; k < count; k++) {
                    int sig = requested_signal(&infos[k]);
                    if (sig == 0) {
                        continue;
                    } else if (sig == SIGCHLD) {
                        none_left = reap_available(pid, &main_done, out);
                    } else if (sig == OWNER_DEATH_SIGNAL) {
                        out->owner_lost = true;
                        signal_tree(pid, SIGKILL);
                        phase = KILLED;
                    } else {
                        if (out->cancelled_by == 0 && !out->timed_out) out->cancelled_by = sig;
                        if (phase == RUNNING) TERMINATE(sig);
                        else if (phase == GRACE) signal_tree(pid, sig); /* pass repeated ^C along */
                    }
                }
            } while (count == SIGNAL_BATCH);
        }
        if (timer_index >= 0 && (fds[timer_index].revents & POLLIN)) {
            uint64_t expirations;
            if (read(timer_fd, &expirations, sizeof expirations) == sizeof expirations) {
                if (phase == RUNNING) {
                    out->timed_out = true;
                    TERMINATE(SIGTERM);
                } else if (phase == GRACE) {
                    out->escalated = true;
                    signal_tree(pid, SIGKILL);
                    phase = KILLED;
                }
            }
        }
        if (lifeline_index >= 0 && (fds[lifeline_index].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))) {
            char buf[64];
            ssize_t got = read(plan->lifeline_fd, buf, sizeof buf);
            if (got <= 0 && !(got < 0 && (errno == EINTR || errno == EAGAIN))) {
                /* The owner is gone: nobody will read the outcome. Kill at once. */
                out->owner_lost = true;
                watch_lifeline = false;
                signal_tree(pid, SIGKILL);
                phase = KILLED;
            }
        }
    }
#undef TERMINATE
    out->wall_us = monotonic_us() - start_us;
    if (!main_done) { /* poll failed: make sure the action is gone, then collect it */
        signal_tree(pid, SIGKILL);
        reap(pid, &out->wait_status, 0, out);
    }
    if (!none_left) kill_remaining(pid, out);
    if (timer_fd >= 0) close(timer_fd);
}

int outcome_exit_code(const struct outcome *out) {
    if (out->timed_out) return 124;
    if (WIFEXITED(out->wait_status)) return WEXITSTATUS(out->wait_status);
    if (WIFSIGNALED(out->wait_status)) return 128 + WTERMSIG(out->wait_status);
    return 125;
}
