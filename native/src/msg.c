#define _GNU_SOURCE
#include "msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *name = "paddock-launch";
static bool level_prefix;

void msg_init(const char *argv0) {
    if (argv0 == NULL || *argv0 == '\0') return;
    const char *slash = strrchr(argv0, '/');
    name = slash != NULL && slash[1] != '\0' ? slash + 1 : argv0;
}

void msg_set_level_prefix(bool on) { level_prefix = on; }

const char *msg_name(void) { return name; }

void msg(int level, const char *fmt, ...) {
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    /* One write per line, so that lines from init and launcher never mix. */
    if (level_prefix) fprintf(stderr, "<%d>%s: %s\n", level, name, text);
    else fprintf(stderr, "%s: %s\n", name, text);
    fflush(stderr);
}
