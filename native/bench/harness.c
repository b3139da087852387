#define _GNU_SOURCE
#include "harness.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long total;
static long next_index;
static long failures;
static long long *latencies;
static int (*spawn)(void);
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void bench_parse(struct bench *b, int argc, char **argv, const char *name, const char *args_usage, int min_args) {
    if (argc < 3 + min_args) {
        fprintf(stderr, "usage: %s N CONCURRENCY %s\n", name, args_usage);
        exit(2);
    }
    b->total = atol(argv[1]);
    b->concurrency = atoi(argv[2]);
    b->args = argv + 3;
    if (b->total <= 0 || b->concurrency <= 0) {
        fprintf(stderr, "%s: N and CONCURRENCY must be positive\n", name);
        exit(2);
    }
}

static void *worker(void *unused) {
    (void)unused;
    for (;;) {
        pthread_mutex_lock(&lock);
        long i = next_index < total ? next_index++ : -1;
        pthread_mutex_unlock(&lock);
        if (i < 0) break;
        long long start = now_ns();
        int ok = spawn();
        latencies[i] = now_ns() - start;
        if (!ok) __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

int bench_run(const struct bench *b, int (*spawn_once)(void)) {
    total = b->total;
    spawn = spawn_once;
    latencies = calloc((size_t)total, sizeof *latencies);
    pthread_t *threads = calloc((size_t)b->concurrency, sizeof *threads);
    if (latencies == NULL || threads == NULL) return 1;
    long long start = now_ns();
    for (int t = 0; t < b->concurrency; t++) pthread_create(&threads[t], NULL, worker, NULL);
    for (int t = 0; t < b->concurrency; t++) pthread_join(threads[t], NULL);
    long long wall = now_ns() - start;
    for (long i = 0; i < total; i++) printf("%lld\n", latencies[i]);
    printf("wall_ns %lld\n", wall);
    printf("failures %ld\n", failures);
    return 0;
}
