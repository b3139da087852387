/* A keeper of the spawn server. */
#ifndef PADDOCK_KEEPER_H
#define PADDOCK_KEEPER_H

#include <sys/types.h>

/* A keeper's life (in the child the server forked): take requests from the
 * owner on sock until it closes it, or the server (server_pid) goes. */
_Noreturn void keeper_main(int sock, pid_t server_pid);

#endif
