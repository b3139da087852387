/* Benchmark baseline for `paddock bench pty`: N times from C threads at
 * concurrency C, open a fresh pty, posix_spawn the command in a new session
 * with the slave as fds 0-2, read the master until EIO (every slave closed),
 * waitpid, and check that the output holds TOKEN. Output as harness.h says. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

extern char **environ;

static char **command;
static const char *token;

/* One spawn under a fresh pty; 1 if it exited 0 and printed the token. */
static int spawn_once(void) {
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) return 0;
    char name[64];
    int slave = -1, ok = 0;
    if (ptsname_r(master, name, sizeof name) == 0) slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave >= 0) {
        posix_spawn_file_actions_t actions;
        posix_spawnattr_t attr;
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attr);
        for (int fd = 0; fd <= 2; fd++) posix_spawn_file_actions_adddup2(&actions, slave, fd);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
        pid_t pid;
        int spawned = posix_spawn(&pid, command[0], &actions, &attr, command, environ) == 0;
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
        close(slave);
        char out[4096];
        size_t len = 0;
        for (;;) {
            ssize_t n = read(master, out + len, sizeof out - 1 - len);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break; /* EIO: the last slave is closed */
            len += (size_t)n;
            if (len == sizeof out - 1) len = 0; /* keep reading; a token this long is not expected */
        }
        out[len] = '\0';
        int status = 0;
        ok = spawned && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
             strstr(out, token) != NULL;
    }
    close(master);
    return ok;
}

int main(int argc, char **argv) {
    struct bench b;
    bench_parse(&b, argc, argv, "c-pty", "TOKEN COMMAND [ARGS...]", 2);
    token = b.args[0];
    command = b.args + 1;
    return bench_run(&b, spawn_once);
}
