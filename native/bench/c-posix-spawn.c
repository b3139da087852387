/* Benchmark baseline for `paddock bench spawn`: posix_spawn + waitpid of a
 * command, N times from C threads at concurrency C. Output as harness.h says. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

extern char **environ;

static char **command;
static posix_spawn_file_actions_t actions; /* stdout to /dev/null; read-only once set up */

static int spawn_once(void) {
    pid_t pid;
    int status = 0;
    return posix_spawn(&pid, command[0], &actions, NULL, command, environ) == 0 && waitpid(pid, &status, 0) == pid &&
           WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv) {
    struct bench b;
    bench_parse(&b, argc, argv, "c-posix-spawn", "COMMAND [ARGS...]", 1);
    command = b.args;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    return bench_run(&b, spawn_once);
}
