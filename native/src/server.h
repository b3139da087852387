/* paddock-launch --server FD: the spawn server.
 *
 * One long-lived launcher per library instance. FD is one end of a unix
 * SOCK_SEQPACKET socket pair whose other end only the owner holds: requests
 * arrive on it, and its end of file means the owner is gone.
 *
 * Every message starts with struct request_header (native byte order).
 *
 * REQUEST_SPAWN: argc then envc NUL-terminated strings follow the header.
 *   argv is a one-shot command line (argv[0], options, "--", command); envp
 *   the action's environment. SCM_RIGHTS carries exactly four fds: the write
 *   end of the action's status pipe, then its stdin, stdout and stderr. The
 *   server forks a keeper that runs the action as one-shot mode would and
 *   writes the status records, each tagged "request": id and without the
 *   "spawned" one, to that pipe; the
 *   pipe reaches end of file when the keeper is done. A request the server
 *   cannot read gets one setup-failed record.
 * REQUEST_SIGNAL: arg is SIGTERM, SIGINT or SIGHUP, passed to the keeper of
 *   request id as a real-time signal tagged with the id (supervise.h); the
 *   keeper terminates the tree as one-shot mode does.
 *
 * The server sends one message, SERVER_READY, when it is up. */
#ifndef PADDOCK_SERVER_H
#define PADDOCK_SERVER_H

#include <stdint.h>

#define REQUEST_MAGIC 0x314b4450u /* "PDK1" */
#define SERVER_READY 0x59444552u  /* "REDY" */

enum request_type { REQUEST_SPAWN = 1, REQUEST_SIGNAL = 2 };

struct request_header {
    uint32_t magic;
    uint32_t type;
    uint64_t id;
    uint32_t argc; /* REQUEST_SPAWN; REQUEST_SIGNAL: the signal */
    uint32_t envc; /* REQUEST_SPAWN */
};

/* Largest request (header and strings); a bigger one is refused. */
#define MAX_REQUEST (256 * 1024)

int server_main(int argc, char **argv);

#endif
