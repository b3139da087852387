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
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#define OPEN_TREE_CLOEXEC 02000000
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
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
/* --refuse-symlinks. The directory that will hold path's last component,
 * opened (O_PATH) without following any symbolic link; missing directories
 * are made with parent_mode on the way. path is relative to the directory
 * base (left open), or absolute when base is -1. The last component goes to
 * name. -1 with errno: ELOOP when a link is in the way. */
int open_parent_nofollow(int base, const char *path, mode_t parent_mode, char *name, size_t name_size);
/* openat2(dirfd, name, flags) with RESOLVE_NO_SYMLINKS, close-on-exec. */
int open_nofollow(int dirfd, const char *name, int flags);
/* The first component of path that is a symbolic link, into link; false when
 * none is (or path cannot be examined). */
bool first_symlink(const char *path, char *link, size_t link_size);
/* mount_setattr(2) of attrs on path and every mount below it. */
int set_attrs_recursive(const char *path, unsigned long long attrs);

#endif
