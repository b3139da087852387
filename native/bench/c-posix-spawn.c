/* Benchmark baseline: posix_spawn + waitpid of a command, N times from C
 * threads at concurrency C. Prints one latency in nanoseconds per line,
 * then "wall_ns W" and "failures F", for `paddock bench spawn` to summarise next to paddock. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char **command;
static long total;
static long next_index;
static long failures;
static long long *latencies;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *worker(void *unused) {
    (void)unused;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    for (;;) {
        pthread_mutex_lock(&lock);
        long i = next_index < total ? next_index++ : -1;
        pthread_mutex_unlock(&lock);
        if (i < 0) break;
        long long start = now_ns();
        pid_t pid;
        int status = 0;
        int ok = posix_spawn(&pid, command[0], &actions, NULL, command, environ) == 0 &&
                 waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        latencies[i] = now_ns() - start;
        if (!ok) __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
    }
    posix_spawn_file_actions_destroy(&actions);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: c-posix-spawn N CONCURRENCY COMMAND [ARGS...]\n");
        return 2;
    }
    total = atol(argv[1]);
    int concurrency = atoi(argv[2]);
    command = argv + 3;
    if (total <= 0 || concurrency <= 0) {
        fprintf(stderr, "c-posix-spawn: N and CONCURRENCY must be positive\n");
        return 2;
    }
    latencies = calloc((size_t)total, sizeof *latencies);
    pthread_t *threads = calloc((size_t)concurrency, sizeof *threads);
    if (latencies == NULL || threads == NULL) return 1;
    long long start = now_ns();
    for (int t = 0; t < concurrency; t++) pthread_create(&threads[t], NULL, worker, NULL);
    for (int t = 0; t < concurrency; t++) pthread_join(threads[t], NULL);
    long long wall = now_ns() - start;
    for (long i = 0; i < total; i++) printf("%lld\n", latencies[i]);
    printf("wall_ns %lld\n", wall);
    printf("failures %ld\n", failures);
    return 0;
}
