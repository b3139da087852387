#define _GNU_SOURCE
#include "child.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

/* glibc's execvp uses this PATH when none is set; so do we. */
#define DEFAULT_PATH "/bin:/usr/bin"

const char *child_step_name(int step) {
    switch (step) {
    case STEP_SESSION: return "new-session";
    case STEP_PARENT: return "die-with-parent";
    case STEP_SIGNALS: return "reset-signals";
    case STEP_CHDIR: return "chdir";
    case STEP_ENV: return "environment";
    case STEP_FDS: return "close-fds";
    case STEP_EXEC: return "exec";
    default: return "unknown";
    }
}

static _Noreturn void report(int fd, int step, int err, const char *syscall_name, const char *path,
                             const char *search_path) {
    struct child_failure f;
    memset(&f, 0, sizeof f);
    f.step = step;
    f.err = err;
    snprintf(f.syscall, sizeof f.syscall, "%s", syscall_name);
    if (path != NULL) snprintf(f.path, sizeof f.path, "%s", path);
    if (search_path != NULL) snprintf(f.search_path, sizeof f.search_path, "%s", search_path);
    ssize_t ignored = write(fd, &f, sizeof f); /* one write below PIPE_BUF*2; the parent reads it whole */
    (void)ignored;
    _exit(125);
}

static void reset_signals(int report_fd) {
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
        report(report_fd, STEP_SIGNALS, errno, "sigprocmask", NULL, NULL);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        sigaction(sig, &dfl, NULL); /* EINVAL for the libc-reserved ones is expected */
    }
}

/* Leaves the action exactly fds 0, 1 and 2 (the report pipe closes on exec). */
static void close_inherited_fds(int report_fd) {
    if (syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) == 0) return;
    /* Kernels before 5.11: close everything but the report pipe. */
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) report(report_fd, STEP_FDS, errno, "opendir", "/proc/self/fd", NULL);
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
        if (rc != 0) report(report_fd, STEP_ENV, errno, "setenv", op->name, NULL);
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

static _Noreturn void exec_action(char **argv, int report_fd) {
    const char *file = argv[0];
    if (*file == '\0') report(report_fd, STEP_EXEC, ENOENT, "execve", file, NULL);
    if (strchr(file, '/') != NULL) {
        exec_file(file, argv);
        report(report_fd, STEP_EXEC, errno, "execve", file, NULL);
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
                if (err != EACCES) report(report_fd, STEP_EXEC, err, "execve", candidate, search);
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
    if (found_err != 0) report(report_fd, STEP_EXEC, found_err, "execve", found_path, search);
    report(report_fd, STEP_EXEC, ENOENT, "execve", file, search);
}

_Noreturn void child_run(const struct plan *plan, int report_fd, pid_t launcher_pid) {
    /* Own session and process group first: nothing may refer to another
     * action's group (a stale group is the classic EPERM on the next spawn). */
    if (setsid() < 0) report(report_fd, STEP_SESSION, errno, "setsid", NULL, NULL);
    /* Backstop only: if the launcher itself is killed, its direct child dies.
     * The launcher is single-threaded, so "parent thread" is the launcher. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) report(report_fd, STEP_PARENT, errno, "prctl", NULL, NULL);
    if (getppid() != launcher_pid) _exit(125); /* the launcher died before prctl took effect */
    reset_signals(report_fd);
    if (plan->chdir_path != NULL && chdir(plan->chdir_path) < 0)
        report(report_fd, STEP_CHDIR, errno, "chdir", plan->chdir_path, NULL);
    apply_env(plan, report_fd);
    close_inherited_fds(report_fd);
    exec_action(plan->argv, report_fd);
}
