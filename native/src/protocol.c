/* The spawn server's messages (protocol.h): one receive and one send with fds. */
#define _GNU_SOURCE
#include "protocol.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

unsigned char request_buffer[MAX_REQUEST];

/* Splits count NUL-terminated strings from *p (bounded by end) into a new
 * NULL-terminated array; NULL if they do not fit. */
char **split_strings(char **p, const char *end, uint32_t count) {
    char **items = calloc((size_t)count + 1, sizeof(char *));
    if (items == NULL) return NULL;
    for (uint32_t i = 0; i < count; i++) {
        char *nul = *p < end ? memchr(*p, '\0', (size_t)(end - *p)) : NULL;
        if (nul == NULL) {
            free(items);
            return NULL;
        }
        items[i] = *p;
        *p = nul + 1;
    }
    return items;
}

/* Receives one request into request_buffer (after prefix_len bytes into prefix,
 * when given), with at most SPAWN_FDS fds (any more are closed). Returns
 * recvmsg's result; *truncated says whether the message or its fds did not fit. */
ssize_t receive_request(int sock, int flags, void *prefix, size_t prefix_len, int fds[SPAWN_FDS],
                               int *fd_count, bool *truncated) {
    struct iovec iov[2] = {{prefix, prefix_len}, {request_buffer, sizeof request_buffer}};
    union {
        char buf[CMSG_SPACE(sizeof(int) * SPAWN_FDS)];
        struct cmsghdr align;
    } control;
    struct msghdr msg = {.msg_iov = prefix != NULL ? iov : iov + 1, .msg_iovlen = prefix != NULL ? 2 : 1,
                         .msg_control = control.buf, .msg_controllen = sizeof control.buf};
    *fd_count = 0;
    ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);
    if (n <= 0) return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (*fd_count < SPAWN_FDS) fds[(*fd_count)++] = fd;
            else close(fd);
        }
    }
    *truncated = (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
    return n;
}

/* Sends iov with fds (count of them, none for 0) by SCM_RIGHTS; sendmsg's result. */
ssize_t send_with_fds(int sock, const struct iovec *iov, size_t iov_count, const int *fds, size_t count) {
    union {
        char buf[CMSG_SPACE(sizeof(int) * SPAWN_FDS)];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = iov_count};
    if (count > 0) {
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * count);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * count);
    }
    return sendmsg(sock, &msg, MSG_NOSIGNAL);
}
