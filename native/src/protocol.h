/* paddock-launch --server FD: the spawn server's protocol.
 *
 * One long-lived launcher per library instance. FD is one end of a unix
 * SOCK_SEQPACKET socket pair whose other end only the owner holds: requests
 * arrive on it, and its end of file means the owner is gone. The server sends
 * one message, SERVER_READY, when it is up.
 *
 * Every message starts with struct request_header (native byte order).
 *
 * To the server:
 * REQUEST_KEEPER: argc is 1 for a keeper of the shared network namespace (the
 *   server creates it first if it has not), else 0. The server forks a keeper
 *   and answers with a REQUEST_KEEPER header: id the keeper's pid, and by
 *   SCM_RIGHTS the owner's end of the keeper's own socket pair; or, when it
 *   cannot, no fd and envc the errno.
 * REQUEST_SIGNAL: argc is SIGTERM, SIGINT or SIGHUP, envc the pid of the
 *   keeper running request id. The server passes it on as a real-time signal
 *   tagged with the id (supervise.h), if that keeper is still its child; the
 *   keeper terminates the tree as one-shot mode does.
 *
 * To a keeper, on its own socket, one at a time (the next only after the
 * last record of the one before):
 * REQUEST_SPAWN: argc then envc NUL-terminated strings follow the header.
 *   argv is a one-shot command line (argv[0], options, "--", command); envp
 *   the action's environment. SCM_RIGHTS carries exactly three fds: the
 *   action's stdin, stdout and stderr. The keeper runs the action as one-shot
 *   mode would and sends its status records back on the same socket, one
 *   message each, tagged "request": id and without the "spawned" one; the last
 *   is "exited", "setup-failed" or "exec-failed". A sandbox with a pid
 *   namespace writes its records from its init (child.c), on the same socket:
 *   the keeper serves on once the action runs, passes cancels on to that init
 *   and reaps it. A request the keeper cannot read gets one setup-failed
 *   record. End of file before the last record means the keeper died.
 *   With REQUEST_READY_SPARE set in type, the owner has a core to spare:
 *   after a sandboxed action has started, the keeper readies a spare sandbox
 *   child for the next request (server.c); the owner sees no difference.
 * The owner closes a keeper's socket to let it go; the keeper then exits.
 * When the server ends, so does every keeper, killing its action's tree. */
#ifndef PADDOCK_PROTOCOL_H
#define PADDOCK_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <stdint.h>

#define REQUEST_MAGIC 0x314b4450u /* "PDK1" */
#define SERVER_READY 0x59444552u  /* "REDY" */

enum request_type { REQUEST_SPAWN = 1, REQUEST_SIGNAL = 2, REQUEST_KEEPER = 3 };
/* A flag in a REQUEST_SPAWN's type: ready a spare after this action. */
#define REQUEST_READY_SPARE 0x10000u

struct request_header {
    uint32_t magic;
    uint32_t type;
    uint64_t id;
    uint32_t argc; /* REQUEST_SPAWN; REQUEST_SIGNAL: the signal; REQUEST_KEEPER: shared */
    uint32_t envc; /* REQUEST_SPAWN; REQUEST_SIGNAL: the keeper's pid; a REQUEST_KEEPER answer: errno */
};

/* Largest request (header and strings); a bigger one is refused. */
#define MAX_REQUEST (256 * 1024)

#define SPAWN_FDS 3 /* stdin, stdout, stderr */

/* Where receive_request() leaves a message: a request header and its strings. */
extern unsigned char request_buffer[MAX_REQUEST];

/* Splits count NUL-terminated strings from *p (bounded by end) into a new
 * NULL-terminated array; NULL if they do not fit. */
char **split_strings(char **p, const char *end, uint32_t count);

/* Receives one message into request_buffer (after prefix_len bytes into
 * prefix, when given), with at most SPAWN_FDS fds (any more are closed).
 * Returns recvmsg's result; *truncated says whether the message or its fds
 * did not fit. */
ssize_t receive_request(int sock, int flags, void *prefix, size_t prefix_len, int fds[SPAWN_FDS], int *fd_count,
                        bool *truncated);

/* Sends iov with fds (count of them, none for 0) by SCM_RIGHTS; sendmsg's result. */
ssize_t send_with_fds(int sock, const struct iovec *iov, size_t iov_count, const int *fds, size_t count);

#endif
