/* What the C benchmark baselines share: N spawns from C threads at
 * concurrency C, each timed, then one latency in nanoseconds per line,
 * "wall_ns W" and "failures F" on stdout for `paddock bench` to read. */
#ifndef PADDOCK_BENCH_HARNESS_H
#define PADDOCK_BENCH_HARNESS_H

struct bench {
    long total;
    int concurrency;
    char **args; /* what follows N and CONCURRENCY, NULL-terminated */
};

/* Parses "N CONCURRENCY ARGS..." with at least min_args ARGS, or prints the
 * usage and exits 2. */
void bench_parse(struct bench *b, int argc, char **argv, const char *name, const char *args_usage, int min_args);

/* Calls spawn_once (1: it did all it should) total times from the threads and
 * prints the results. Returns main's exit status. */
int bench_run(const struct bench *b, int (*spawn_once)(void));

#endif
