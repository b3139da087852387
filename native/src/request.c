/* A spawn request as a keeper (or its spare) reads it: the plan, or the
 * one record that says why it cannot run. */
#define _GNU_SOURCE
#include "request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "records.h"
#include "status.h"

extern char **environ;

/* A request that cannot run: its one record, a setup failure. */
void request_refuse(int status_fd, uint64_t id, const char *message) {
    record_tag_request(id);
    launcher_failed(status_fd, "request", NULL, EINVAL, NULL, message);
}

const char *request_unreadable(size_t len, int fd_count, bool truncated) {
    const struct request_header *h = (const struct request_header *)request_buffer;
    if (len < sizeof *h || h->magic != REQUEST_MAGIC || (h->type & ~REQUEST_READY_SPARE) != REQUEST_SPAWN)
        return "not a paddock spawn request";
    if (truncated) return "the spawn request is too large for the spawn server";
    if (fd_count != SPAWN_FDS) return "a spawn request carries exactly three fds (stdin, stdout, stderr)";
    return NULL;
}

const char *request_parse(const struct request_header *h, size_t len, int status_fd, struct plan *plan,
                          char ***argv, char ***envp, char *err, size_t err_len) {
    char *p = (char *)(h + 1);
    const char *end = (const char *)h + len;
    *argv = split_strings(&p, end, h->argc);
    *envp = *argv == NULL ? NULL : split_strings(&p, end, h->envc);
    if (*argv == NULL || *envp == NULL || h->argc < 1) {
        snprintf(err, err_len, "malformed spawn request");
        return "request";
    }
    environ = *envp;
    if (plan_parse((int)h->argc, *argv, plan, err, err_len) < 0) return "options";
    plan->status_fd = status_fd;
    plan->lifeline_fd = -1; /* the server's death is the keeper's lifeline */
    plan->die_with_parent = false;
    plan->omit_spawned = true;
    plan->return_at_start = true; /* a sandbox's init reports; this keeper serves on */
    return NULL;
}

bool request_plan(const struct request_header *h, size_t len, int fds[SPAWN_FDS], int status_fd,
                         struct plan *plan, char ***argv, char ***envp) {
    record_tag_request(h->id);
    request_stdio(fds, status_fd);
    char err[1024];
    const char *step = request_parse(h, len, status_fd, plan, argv, envp, err, sizeof err);
    if (step != NULL) launcher_failed(status_fd, step, NULL, strcmp(step, "request") == 0 ? EINVAL : 0, NULL, err);
    return step == NULL;
}

void request_stdio(int fds[SPAWN_FDS], int status_fd) {
    for (int target = 0; target < 3; target++) {
        if (dup2(fds[target], target) < 0)
            launcher_failed(status_fd, "request", "dup2", errno, NULL, "cannot install the action's stdio");
        close(fds[target]);
    }
}
