/* Status records: one JSON object per line on the status fd. */
#ifndef PADDOCK_STATUS_H
#define PADDOCK_STATUS_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

/* A record under construction. Fields are appended in order; the record is
 * written with one write(2) so that lines never interleave. */
struct record {
    char buf[8192];
    size_t len;
    bool overflow;
};

void record_begin(struct record *r, const char *type);
/* From now on every record carries "request": id (a spawn server's keeper). */
void record_tag_request(uint64_t id);
/* The request records are tagged with, or 0 (one-shot mode). */
uint64_t record_request_tag(void);
void record_str(struct record *r, const char *key, const char *value); /* NULL -> null */
void record_int(struct record *r, const char *key, int64_t value);
void record_bool(struct record *r, const char *key, bool value);
void record_raw(struct record *r, const char *key, const char *json); /* nested object */
/* Closes the record and writes it to fd (ignored when fd < 0). */
void record_emit(struct record *r, int fd);

/* "ENOENT" for ENOENT; "E<number>" for errnos outside the table. */
const char *errno_name(int err);
/* "SIGKILL" for 9; "SIG<number>" for signals outside the table. */
const char *signal_name(int sig);

#endif
