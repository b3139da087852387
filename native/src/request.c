/* A spawn request as a keeper (or its spare) reads it: the plan, or the
 * one record that says why it cannot run. */
#define _GNU_SOURCE
#include "request.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "records.h"
#include "status.h"

extern char **environ;

/* A request that cannot run: its one record, a setup failure. */
void request_refuse(int status_fd, uint64_t id, const char *message) {
    record_tag_request(id);
    launcher_failed(status_fd, "request", NULL, EINVAL, NULL, message);
}

/* The request's plan, as a keeper (or its spare) runs it: with the action's
 * stdio on fds 0-2 and records to status_fd (the keeper's socket). argv and
 * envp hold the strings the plan points into; the caller frees them. Returns
 * false after writing the failure record. */
bool request_plan(const struct request_header *h, size_t len, int fds[SPAWN_FDS], int status_fd,
                         struct plan *plan, char ***argv, char ***envp) {
    record_tag_request(h->id);
    for (int target = 0; target < 3; target++) {
        if (dup2(fds[target], target) < 0)
            launcher_failed(status_fd, "request", "dup2", errno, NULL, "cannot install the action's stdio");
        close(fds[target]);
    }
    char *p = (char *)(h + 1);
    const char *end = (const char *)h + len;
    *argv = split_strings(&p, end, h->argc);
    *envp = *argv == NULL ? NULL : split_strings(&p, end, h->envc);
    if (*argv == NULL || *envp == NULL || h->argc < 1) {
        launcher_failed(status_fd, "request", NULL, EINVAL, NULL, "malformed spawn request");
        return false;
    }
    environ = *envp;
    char err[1024];
    if (plan_parse((int)h->argc, *argv, plan, err, sizeof err) < 0) {
        launcher_failed(status_fd, "options", NULL, 0, NULL, err);
        return false;
    }
    plan->status_fd = status_fd;
    plan->lifeline_fd = -1; /* the server's death is the keeper's lifeline */
    plan->die_with_parent = false;
    plan->omit_spawned = true;
    plan->return_at_start = true; /* a sandbox's init reports; this keeper serves on */
    return true;
}
