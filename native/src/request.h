/* Reading a spawn request into a plan (keeper.c, spare.c). */
#ifndef PADDOCK_REQUEST_H
#define PADDOCK_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"
#include "protocol.h"

/* A request that cannot run: its one record, a setup failure, tagged with id. */
void request_refuse(int status_fd, uint64_t id, const char *message);

/* Why the message receive_request() left in request_buffer (len bytes,
 * fd_count fds) is no spawn request to run, or NULL when it is one. */
const char *request_unreadable(size_t len, int fd_count, bool truncated);

/* The request's plan, as a keeper (or its spare) runs it: with the action's
 * stdio (fds, closed here) on fds 0-2, its environment as ours, and records
 * to status_fd (the keeper's socket), tagged with the request id. argv and
 * envp hold the strings the plan points into; the caller frees them. Returns
 * false after writing the failure record. */
bool request_plan(const struct request_header *h, size_t len, int fds[SPAWN_FDS], int status_fd, struct plan *plan,
                  char ***argv, char ***envp);

/* request_plan's parse alone, writing no record: NULL, or the step that
 * failed ("request" or "options") with why in err. */
const char *request_parse(const struct request_header *h, size_t len, int status_fd, struct plan *plan,
                          char ***argv, char ***envp, char *err, size_t err_len);

/* The action's stdio (fds, closed here) on fds 0-2. */
void request_stdio(int fds[SPAWN_FDS], int status_fd);

#endif
