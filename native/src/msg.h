/* Messages on stderr, prefixed with the name the launcher was run as (the
 * basename of argv[0]: "paddock-launch", or "bwrap" when installed or linked
 * under that name), and with a syslog level ("<3>", "<4>") under
 * --level-prefix, as bubblewrap does. */
#ifndef PADDOCK_MSG_H
#define PADDOCK_MSG_H

#include <stdbool.h>

#define MSG_ERROR 3
#define MSG_WARNING 4

/* Remembers argv[0]'s basename for the prefix. */
void msg_init(const char *argv0);
void msg_set_level_prefix(bool on);
/* "paddock-launch", "bwrap", ...: the prefix without ": ". */
const char *msg_name(void);
/* One line on stderr: [<level>]NAME: TEXT. */
void msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
