/* capget(2)/capset(2) structures, spelled out: musl ships no kernel headers. */
#ifndef PADDOCK_CAPS_H
#define PADDOCK_CAPS_H

#include <stdint.h>

struct cap_header {
    uint32_t version;
    int pid;
};
struct cap_data {
    uint32_t effective, permitted, inheritable;
};
#define CAP_VERSION_3 0x20080522
#define CAP_SYS_ADMIN_BIT 21

#endif
