/* Paths and mount points while a sandbox's root is assembled (sandbox.c,
 * overlay.c). */
#ifndef PADDOCK_MOUNTPOINTS_H
#define PADDOCK_MOUNTPOINTS_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

/* Where the new root is assembled; the host root is reachable below OLD_ROOT
 * until it is detached. /tmp exists on every host we run on, and the tmpfs
 * mounted over it is visible only in our mount namespace. */
/* Room for a sandbox path plus a short suffix ("/pts", "/sysrq-trigger"). */
#define PATH_BUF (PATH_MAX + 64)

#define BASE "/tmp"
#define NEW_ROOT "/newroot"
#define OLD_ROOT "/oldroot"

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NODEV 0x00000004
struct mount_attr {
    unsigned long long attr_set, attr_clr, propagation, userns_fd;
};
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/* mkdir -p: missing parents get parent_mode, path itself mode. -1 with errno set. */
int make_dirs_mode(const char *path, mode_t mode, mode_t parent_mode);
/* mkdir -p, everything 0755. */
int make_dirs(const char *path);
/* The parents of path (not path itself), with parent_mode. */
int make_parents(const char *path, mode_t parent_mode);
/* A mount point of the right kind: a directory (0755) or an empty file
 * (0444); anything already there is used as it is. */
int make_mount_point(const char *dest, bool directory);
/* mount_setattr(2) of attrs on path and every mount below it. */
int set_attrs_recursive(const char *path, unsigned long long attrs);

#endif
