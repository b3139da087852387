/* The child's side of the report pipe (report.h). */
#define _GNU_SOURCE
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct child_report *vfork_report;

/* Under the sandbox's init, notes become records at once; else they go to the launcher. */
static void (*note_sink)(int status_fd, const struct child_report *note);
static int note_sink_fd;

static _Noreturn void send_failure(int fd, const struct child_report *failure) {
    if (vfork_report != NULL) {
        *vfork_report = *failure;
    } else {
        ssize_t ignored = write(fd, failure, sizeof *failure); /* one writer; the parent reads it whole */
        (void)ignored;
    }
    _exit(125);
}

static void fill(struct child_report *r, int kind, const char *step, int err, const char *syscall_name,
                 const char *path) {
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->err = err;
    snprintf(r->step, sizeof r->step, "%s", step);
    if (syscall_name != NULL) snprintf(r->syscall, sizeof r->syscall, "%s", syscall_name);
    if (path != NULL) snprintf(r->path, sizeof r->path, "%s", path);
}

_Noreturn void report_failure_message(int fd, const char *step, int err, const char *syscall_name, const char *path,
                                      const char *fmt, ...) {
    struct child_report f;
    fill(&f, REPORT_FAILED, step, err, syscall_name, path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f.message, sizeof f.message, fmt, ap);
    va_end(ap);
    send_failure(fd, &f);
}

_Noreturn void report_failure(int fd, const char *step, int err, const char *syscall_name, const char *path,
                              const char *search_path) {
    struct child_report f;
    fill(&f, REPORT_FAILED, step, err, syscall_name, path);
    if (search_path != NULL) snprintf(f.search_path, sizeof f.search_path, "%s", search_path);
    send_failure(fd, &f);
}

void report_note(int fd, int kind, const char *step, const char *path, const char *detail, int err,
                 const char *syscall_name) {
    struct child_report r;
    fill(&r, kind, step, err, syscall_name, path);
    snprintf(r.detail, sizeof r.detail, "%s", detail);
    if (note_sink != NULL) {
        note_sink(note_sink_fd, &r);
        return;
    }
    ssize_t ignored = write(fd, &r, sizeof r);
    (void)ignored;
}

void report_notes_to(void (*sink)(int status_fd, const struct child_report *note), int status_fd) {
    note_sink = sink;
    note_sink_fd = status_fd;
}
