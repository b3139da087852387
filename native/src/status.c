#define _GNU_SOURCE
#include "status.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void append(struct record *r, const char *text, size_t n) {
    if (r->len + n + 2 > sizeof r->buf) { /* keep room for "}\n" */
        r->overflow = true;
        return;
    }
    memcpy(r->buf + r->len, text, n);
    r->len += n;
}

static void append_cstr(struct record *r, const char *text) { append(r, text, strlen(text)); }

static void append_json_string(struct record *r, const char *value) {
    append(r, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"': append(r, "\\\"", 2); break;
        case '\\': append(r, "\\\\", 2); break;
        case '\n': append(r, "\\n", 2); break;
        case '\t': append(r, "\\t", 2); break;
        case '\r': append(r, "\\r", 2); break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                append_cstr(r, esc);
            } else {
                append(r, (const char *)p, 1);
            }
        }
    }
    append(r, "\"", 1);
}

static void append_key(struct record *r, const char *key) {
    append(r, ",", 1);
    append_json_string(r, key);
    append(r, ":", 1);
}

static bool tagged;
static uint64_t request_id;

void record_tag_request(uint64_t id) {
    tagged = true;
    request_id = id;
}

uint64_t record_request_tag(void) { return tagged ? request_id : 0; }

void record_begin(struct record *r, const char *type) {
    r->len = 0;
    r->overflow = false;
    append_cstr(r, "{\"type\":");
    append_json_string(r, type);
    if (tagged) {
        char num[32];
        snprintf(num, sizeof num, ",\"request\":%" PRIu64, request_id);
        append_cstr(r, num);
    }
}

void record_str(struct record *r, const char *key, const char *value) {
    append_key(r, key);
    if (value == NULL) append_cstr(r, "null");
    else append_json_string(r, value);
}

void record_int(struct record *r, const char *key, int64_t value) {
    char num[32];
    snprintf(num, sizeof num, "%" PRId64, value);
    append_key(r, key);
    append_cstr(r, num);
}

void record_bool(struct record *r, const char *key, bool value) {
    append_key(r, key);
    append_cstr(r, value ? "true" : "false");
}

void record_raw(struct record *r, const char *key, const char *json) {
    append_key(r, key);
    append_cstr(r, json);
}

void record_emit(struct record *r, int fd) {
    if (fd < 0) return;
    if (r->overflow) { /* a truncated record would not parse; say so instead */
        record_begin(r, "record-overflow");
    }
    r->buf[r->len++] = '}';
    r->buf[r->len++] = '\n';
    size_t off = 0;
    while (off < r->len) {
        ssize_t n = write(fd, r->buf + off, r->len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return; /* the reader is gone; nothing more to tell */
        off += (size_t)n;
    }
}

#define E(x) {x, #x}
static const struct {
    int number;
    const char *name;
} errnos[] = {
    E(EPERM),   E(ENOENT),  E(ESRCH),   E(EINTR),   E(EIO),     E(ENXIO),   E(E2BIG),
    E(ENOEXEC), E(EBADF),   E(ECHILD),  E(EAGAIN),  E(ENOMEM),  E(EACCES),  E(EFAULT),
    E(EBUSY),   E(EEXIST),  E(EXDEV),   E(ENODEV),  E(ENOTDIR), E(EISDIR),  E(EINVAL),
    E(ENFILE),  E(EMFILE),  E(ENOTTY),  E(ETXTBSY), E(EFBIG),   E(ENOSPC),  E(ESPIPE),
    E(EROFS),   E(EMLINK),  E(EPIPE),   E(ERANGE),  E(ENAMETOOLONG),        E(ENOSYS),
    E(ELOOP),   E(EUSERS),  E(EOPNOTSUPP),          E(ENOTEMPTY),           E(EOVERFLOW),
    E(ELIBBAD), E(ECONNREFUSED),
};
#undef E

const char *errno_name(int err) {
    for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
        if (errnos[i].number == err) return errnos[i].name;
    static char other[16];
    snprintf(other, sizeof other, "E%d", err);
    return other;
}

#define S(x) {x, #x}
static const struct {
    int number;
    const char *name;
} signals[] = {
    S(SIGHUP),  S(SIGINT),  S(SIGQUIT), S(SIGILL),  S(SIGTRAP), S(SIGABRT), S(SIGBUS),
    S(SIGFPE),  S(SIGKILL), S(SIGUSR1), S(SIGSEGV), S(SIGUSR2), S(SIGPIPE), S(SIGALRM),
    S(SIGTERM), S(SIGCHLD), S(SIGCONT), S(SIGSTOP), S(SIGTSTP), S(SIGTTIN), S(SIGTTOU),
    S(SIGURG),  S(SIGXCPU), S(SIGXFSZ), S(SIGVTALRM), S(SIGPROF), S(SIGWINCH), S(SIGIO),
    S(SIGSYS),
};
#undef S

const char *signal_name(int sig) {
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (signals[i].number == sig) return signals[i].name;
    static char other[16];
    snprintf(other, sizeof other, "SIG%d", sig);
    return other;
}
