/* Benchmark baseline for `paddock bench pty`: N times from C threads at
 * concurrency C, open a fresh pty, posix_spawn the command in a new session
 * with the slave as fds 0-2, read the master until EIO (every slave closed),
 * waitpid, and check that the output holds TOKEN. Prints one latency in
 * nanoseconds per line, then "wall_ns W" and "failures F". */
#define _GNU_SOURCE
#include <errno.h>
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
static const char *token;
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

static void *worker(void *unused) {
    (void)unused;
    for (;;) {
        pthread_mutex_lock(&lock);
        long i = next_index < total ? next_index++ : -1;
        pthread_mutex_unlock(&lock);
        if (i < 0) break;
        long long start = now_ns();
        int ok = spawn_once();
        latencies[i] = now_ns() - start;
        if (!ok) __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: c-pty N CONCURRENCY TOKEN COMMAND [ARGS...]\n");
        return 2;
    }
    total = atol(argv[1]);
    int concurrency = atoi(argv[2]);
    token = argv[3];
    command = argv + 4;
    if (total <= 0 || concurrency <= 0) {
        fprintf(stderr, "c-pty: N and CONCURRENCY must be positive\n");
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
