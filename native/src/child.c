#define _GNU_SOURCE
#include "child.h"
#include "landlock.h"
#include "records.h"
#include "report.h"
#include "sandbox.h"
#include "seccomp_default.h"
#include "signals.h"
#include "supervise.h"

#include <dirent.h>
#include <sched.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

/* glibc's execvp uses this PATH when none is set; so do we. */
#define DEFAULT_PATH "/bin:/usr/bin"

static void reset_signals(int report_fd) {
    if (reset_inherited_signals() < 0) report_failure(report_fd, "reset-signals", errno, "sigprocmask", NULL, NULL);
}

/* Leaves the action exactly fds 0, 1 and 2 (the report pipe closes on exec). */
static void close_inherited_fds(int report_fd) {
    if (syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) == 0) return;
    /* Kernels before 5.11: close everything but the report pipe. */
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) report_failure(report_fd, "close-fds", errno, "opendir", "/proc/self/fd", NULL);
    int dir_fd = dirfd(dir);
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        int fd = atoi(entry->d_name);
        if (fd > 2 && fd != report_fd && fd != dir_fd) close(fd);
    }
    closedir(dir);
}

static void apply_env(const struct plan *plan, int report_fd) {
    for (int i = 0; i < plan->env_op_count; i++) {
        const struct env_op *op = &plan->env_ops[i];
        int rc = 0;
        switch (op->kind) {
        case ENV_SET: rc = setenv(op->name, op->value, 1); break;
        case ENV_UNSET: rc = unsetenv(op->name); break;
        case ENV_CLEAR: rc = clearenv(); break;
        }
        if (rc != 0) report_failure(report_fd, "environment", errno, "setenv", op->name, NULL);
    }
}

/* Like execve, but runs a file without a #! line through /bin/sh the way
 * execvp does. Returns only on failure, with errno set. */
static void exec_file(const char *path, char **argv) {
    execve(path, argv, environ);
    if (errno != ENOEXEC) return;
    int argc = 0;
    while (argv[argc] != NULL) argc++;
    char **sh_argv = calloc((size_t)argc + 2, sizeof(char *));
    if (sh_argv == NULL) return;
    sh_argv[0] = "sh";
    sh_argv[1] = (char *)path;
    for (int i = 1; i < argc; i++) sh_argv[i + 1] = argv[i];
    execve("/bin/sh", sh_argv, environ);
    errno = ENOEXEC;
}

static _Noreturn void exec_action(const char *file, char **argv, int report_fd) {
    if (*file == '\0') report_failure(report_fd, "exec", ENOENT, "execve", file, NULL);
    if (strchr(file, '/') != NULL) {
        exec_file(file, argv);
        report_failure(report_fd, "exec", errno, "execve", file, NULL);
    }
    const char *search = getenv("PATH");
    if (search == NULL) search = DEFAULT_PATH;
    /* Search PATH the way execvp does: EACCES on a found file wins over a later
     * ENOENT, so the user hears "not executable" rather than "not found". */
    char candidate[PATH_MAX];
    int found_err = 0;
    char found_path[PATH_MAX] = "";
    const char *dir = search;
    for (;;) {
        const char *end = strchrnul(dir, ':');
        size_t dir_len = (size_t)(end - dir);
        int n = dir_len == 0 ? snprintf(candidate, sizeof candidate, "%s", file)
                             : snprintf(candidate, sizeof candidate, "%.*s/%s", (int)dir_len, dir, file);
        if (n > 0 && (size_t)n < sizeof candidate) {
            exec_file(candidate, argv);
            int err = errno;
            if (err != ENOENT && err != ENOTDIR && err != ENAMETOOLONG) {
                if (err != EACCES) report_failure(report_fd, "exec", err, "execve", candidate, search);
                /* EACCES also comes from a PATH directory we may not search
                 * (root's ~/.cargo/bin in a PATH inherited by another user):
                 * that is "not found", not "found but not executable". */
                if (found_err == 0 && faccessat(AT_FDCWD, candidate, F_OK, AT_EACCESS) == 0) {
                    found_err = err;
                    snprintf(found_path, sizeof found_path, "%s", candidate);
                }
            }
        }
        if (*end == '\0') break;
        dir = end + 1;
    }
    if (found_err != 0) report_failure(report_fd, "exec", found_err, "execve", found_path, search);
    report_failure(report_fd, "exec", ENOENT, "execve", file, search);
}

/* The pty slave on fd 0 becomes the controlling terminal of the action's
 * session, and the action its foreground process group: only now, in the
 * process that execs, after setsid and with the slave already on fds 0-2
 * (done earlier, or on another fd, TIOCSCTTY fails with EPERM). */
static void take_terminal(int report_fd) {
    if (ioctl(0, TIOCSCTTY, 0) < 0) report_failure(report_fd, "controlling-terminal", errno, "ioctl", "TIOCSCTTY", NULL);
    if (tcsetpgrp(0, getpid()) < 0) report_failure(report_fd, "controlling-terminal", errno, "tcsetpgrp", NULL, NULL);
}

/* --seccomp, --add-seccomp-fd: each fd holds a compiled BPF program (struct
 * sock_filter entries of 8 bytes), installed in order; the last thing before
 * exec, so that the filters need not allow the launcher's own calls. */
struct sock_filter_entry {
    uint16_t code;
    uint8_t jt, jf;
    uint32_t k;
};
struct sock_fprog_spelled {
    unsigned short len;
    struct sock_filter_entry *filter;
};

static void apply_seccomp(const struct plan *plan, int report_fd) {
    for (int i = 0; i < plan->seccomp_fd_count; i++) {
        int fd = plan->seccomp_fds[i];
        size_t cap = 4096, len = 0;
        char *buf = malloc(cap);
        for (;;) {
            if (buf == NULL) report_failure(report_fd, "seccomp", ENOMEM, "malloc", NULL, NULL);
            if (len == cap) {
                cap *= 2;
                buf = realloc(buf, cap);
                continue;
            }
            ssize_t n = read(fd, buf + len, cap - len);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) report_failure_message(report_fd, "seccomp", errno, "read", NULL, "Can't read seccomp data: %s",
                                              strerror(errno));
            if (n == 0) break;
            len += (size_t)n;
        }
        close(fd);
        if (len == 0 || len % 8 != 0 || len / 8 > 0xffff)
            report_failure_message(report_fd, "seccomp", EINVAL, "read", NULL,
                                   "Invalid seccomp data, must be multiple of 8");
        struct sock_fprog_spelled prog = {(unsigned short)(len / 8), (struct sock_filter_entry *)buf};
        if (prctl(PR_SET_SECCOMP, 2 /* SECCOMP_MODE_FILTER */, &prog, 0, 0) < 0)
            report_failure(report_fd, "seccomp", errno, "prctl", NULL, NULL);
    }
}

/* --exec-label: the SELinux context the action is exec'd into. */
static void set_exec_label(const char *label, int report_fd) {
    int fd = open("/proc/thread-self/attr/exec", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, label, strlen(label)) < 0)
        report_failure(report_fd, "exec-label", errno, "write", "/proc/thread-self/attr/exec", NULL);
    close(fd);
}

/* --rlimit: soft and hard. RLIMIT_NPROC counts the processes of the real uid in
 * the user namespace: in the sandbox's own namespace, only the action's; in the
 * host's, every process of the user (the caller's threads too), so it is left
 * out there (the Landlock fallback's effect says so). */
static void apply_rlimits(const struct plan *plan, int report_fd) {
    bool own_user_ns = (plan->clone_flags & CLONE_NEWUSER) && plan->landlock_abi == 0;
    for (int i = 0; i < plan->rlimit_count; i++) {
        const struct rlimit_op *op = &plan->rlimits[i];
        if (op->resource == RLIMIT_NPROC && !own_user_ns) continue;
        struct rlimit limit = {(rlim_t)op->value, (rlim_t)op->value};
        /* CPU time: SIGXCPU at the limit, SIGKILL a second later (at once if both were equal). */
        if (op->resource == RLIMIT_CPU && op->value != RLIM_INFINITY) limit.rlim_max = limit.rlim_cur + 1;
        if (setrlimit(op->resource, &limit) < 0) report_failure(report_fd, "rlimit", errno, "setrlimit", op->name, NULL);
    }
}

/* Everything between the sandbox (if any) and exec, in the process that execs. */
static _Noreturn void exec_prepared(const struct plan *plan, int report_fd) {
    if (plan->pty) take_terminal(report_fd);
    reset_signals(report_fd);
    /* No core dumps unless asked: a core of a build action can hold secrets and fill the disk, and
     * with the hard limit at 0 too the action cannot turn them back on. */
    static const struct rlimit no_core = {0, 0};
    if (!plan->allow_core_dumps && setrlimit(RLIMIT_CORE, &no_core) < 0)
        report_failure(report_fd, "rlimit", errno, "setrlimit", "RLIMIT_CORE", NULL);
    apply_rlimits(plan, report_fd);
    apply_env(plan, report_fd);
    bool mount_sandbox = plan->clone_flags != 0 && plan->landlock_abi == 0;
    const char *cwd = plan->chdir_path;
    if (cwd != NULL) {
        if (chdir(cwd) < 0) report_failure(report_fd, "chdir", errno, "chdir", cwd, NULL);
    } else if (mount_sandbox) {
        /* As bwrap: the launcher's directory if the sandbox has it, else $HOME, else /. */
        const char *home = getenv("HOME");
        cwd = sandbox_outer_cwd();
        if (cwd[0] == '\0' || chdir(cwd) < 0) cwd = home != NULL && chdir(home) == 0 ? home : "/";
    }
    if (mount_sandbox && !plan->pwd_unset && setenv("PWD", cwd, 1) < 0)
        report_failure(report_fd, "environment", errno, "setenv", "PWD", NULL);
    if (plan->landlock_abi != 0) landlock_enter(plan, report_fd);
    else if (plan->clone_flags != 0) sandbox_drop_privileges(plan, report_fd);
    else if ((plan->seccomp_fd_count > 0 || plan->default_seccomp) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        report_failure(report_fd, "seccomp", errno, "prctl", NULL, NULL);
    if (plan->block_fd >= 0) {
        char byte;
        while (read(plan->block_fd, &byte, 1) < 0 && errno == EINTR) {}
        close(plan->block_fd);
    }
    if (plan->exec_label != NULL) set_exec_label(plan->exec_label, report_fd);
    close_inherited_fds(report_fd);
    /* paddock's filter before the caller's: theirs may refuse seccomp itself. */
    if (plan->default_seccomp && seccomp_default_install() < 0)
        report_failure(report_fd, "default-seccomp", errno, "seccomp", NULL, NULL);
    apply_seccomp(plan, report_fd);
    exec_action(plan->exec_path, plan->argv, report_fd);
}

/* Every fd but the ones in keep (-1 entries ignored) is closed. */
static void close_all_but(int keep[], int count) {
    for (int i = 1; i < count; i++) /* ascending; a handful of entries */
        for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
            int t = keep[j];
            keep[j] = keep[j - 1];
            keep[j - 1] = t;
        }
    unsigned next = 0;
    for (int i = 0; i < count; i++) {
        if (keep[i] < 0 || (unsigned)keep[i] < next) continue;
        if ((unsigned)keep[i] > next && syscall(SYS_close_range, next, (unsigned)keep[i] - 1, 0U) < 0)
            for (unsigned fd = next; fd < (unsigned)keep[i]; fd++) close((int)fd); /* kernels before 5.9 */
        next = (unsigned)keep[i] + 1;
    }
    if (syscall(SYS_close_range, next, ~0U, 0U) < 0)
        for (unsigned fd = next; fd < 1024; fd++) close((int)fd);
}

/* This process's pid outside its new pid namespace, from the host's /proc,
 * which is still mounted: for the spawned record. */
static pid_t outer_pid(void) {
    char link[32];
    ssize_t n = readlink("/proc/self", link, sizeof link - 1);
    if (n <= 0) return 0;
    link[n] = '\0';
    return (pid_t)atoi(link);
}

/* As pid 1 of a new pid namespace: start the action, then be its init and
 * its supervisor. Init reaps every orphan, passes signals on, kills what is
 * left in the namespace when the action ends, and writes the action's
 * records itself, so the outcome is out before the namespace is torn down
 * and the launcher's part ends once the action runs. The launcher hears of a
 * failure to start over the report pipe, like any setup failure; end of file
 * means the action runs. */
static _Noreturn void run_under_init(const struct plan *plan, int report_fd, int64_t spawn_us, pid_t outer,
                                     pid_t launcher_pid) {
    /* vfork, as in the plain case: init waits anyway until the action has
     * exec'd, and a copy of the address space (and its copy-on-write faults
     * on both sides) would cost more than the rest of init. The action only
     * touches its own fds, signals, credentials and environment, and leaves
     * a failure report in our memory. */
    struct child_report failure;
    failure.kind = 0;
    vfork_report = &failure;
    pid_t action = vfork();
    if (action == 0) {
        if (setsid() < 0) report_failure(report_fd, "new-session", errno, "setsid", NULL, NULL);
        exec_prepared(plan, report_fd);
    }
    vfork_report = NULL;
    if (action < 0) report_failure(report_fd, "init", errno, "vfork", NULL, NULL);
    if (failure.kind == REPORT_FAILED) {
        waitpid(action, NULL, 0);
        ssize_t ignored = write(report_fd, &failure, sizeof failure);
        (void)ignored;
        _exit(125);
    }
    sandbox_drop_all_caps(); /* as bwrap's init: the action runs; init needs none */
    if (!plan->omit_spawned) emit_spawned(plan->status_fd, outer, launcher_pid);
    /* Keep only what supervising takes, and stdio: the report pipe's end of
     * file tells the launcher the action runs. Stdio goes when init exits,
     * right after the outcome: releasing a pty slave here, while the action
     * runs, made the owner's master see end of output early and hang the
     * action up (one spawn in six under the spawn server). */
    int keep[] = {plan->status_fd, plan->lifeline_fd, supervise_signal_fd(), 0, 1, 2};
    close_all_but(keep, (int)(sizeof keep / sizeof keep[0]));
    supervise_as_init();
    struct outcome out;
    supervise(plan, action, spawn_us, &out);
    _exit(finish_action(plan, &out));
}

/* The session made ahead by a spare (child_new_session_ahead). */
static bool session_made;

void child_new_session_ahead(void) { session_made = setsid() >= 0; }

_Noreturn void child_run(const struct plan *plan, int report_fd, bool under_init, int64_t spawn_us,
                         pid_t launcher_pid) {
    /* Own session and process group first: nothing may refer to another
     * action's group (a stale group is the classic EPERM on the next spawn). */
    if (!session_made && setsid() < 0) report_failure(report_fd, "new-session", errno, "setsid", NULL, NULL);
    /* Backstop only: if the launcher itself is killed, its direct child dies.
     * The launcher is single-threaded, so "parent thread" is the launcher. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) report_failure(report_fd, "die-with-parent", errno, "prctl", NULL, NULL);
    /* bwrap's --info-fd and --json-status-fd are the launcher's to write and close. */
    if (plan->info_fd >= 0) close(plan->info_fd);
    if (plan->json_status_fd >= 0 && plan->json_status_fd != plan->status_fd) close(plan->json_status_fd);
    pid_t parent = getppid(); /* 0 in a new pid namespace: the launcher is outside it */
    if (parent != launcher_pid && parent != 0) _exit(125); /* the launcher died before prctl took effect */
    if (plan->clone_flags != 0 && plan->landlock_abi == 0) {
        pid_t outer = under_init && !plan->omit_spawned ? outer_pid() : 0;
        if (under_init) report_notes_to(emit_note, plan->status_fd);
        sandbox_enter(plan, report_fd);
        if (under_init) run_under_init(plan, report_fd, spawn_us, outer, launcher_pid);
    }
    exec_prepared(plan, report_fd);
}
