/* paddock-launch --server FD: the spawn server (protocol.h describes its
 * messages, docs/launcher.md the whole design). */
#ifndef PADDOCK_SERVER_H
#define PADDOCK_SERVER_H

/* Serves the owner on the socket argv[2] until it is gone; the exit status. */
int server_main(int argc, char **argv);

#endif
