/* Paths and mount points while a sandbox's root is assembled. */
#define _GNU_SOURCE
#include "mountpoints.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* mkdir -p: missing parents get parent_mode, path itself mode (the umask is
 * 0 during setup). Most paths have their parent already: one call then. */
int make_dirs_mode(const char *path, mode_t mode, mode_t parent_mode) {
    if (mkdir(path, mode) == 0 || errno == EEXIST) return 0;
    if (errno != ENOENT) return -1;
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, parent_mode) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST) return -1;
    return 0;
}

int make_dirs(const char *path) { return make_dirs_mode(path, 0755, 0755); }

/* The parents of path (not path itself), as make_dirs_mode makes them. */
int make_parents(const char *path, mode_t parent_mode) {
    char parent[PATH_MAX];
    if (snprintf(parent, sizeof parent, "%s", path) >= (int)sizeof parent) {
        errno = ENAMETOOLONG;
        return -1;
    }
    char *slash = strrchr(parent, '/');
    if (slash == NULL || slash == parent) return 0;
    *slash = '\0';
    return make_dirs_mode(parent, parent_mode, parent_mode);
}

/* A mount point of the right kind for source: a directory or an empty file. */
int make_mount_point(const char *dest, bool directory) {
    if (directory) return make_dirs(dest);
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dest);
    char *slash = strrchr(parent, '/');
    if (slash != NULL && slash != parent) {
        *slash = '\0';
        if (make_dirs(parent) < 0) return -1;
    }
    /* As bwrap: a file made as a mount point is 0444, a directory 0755;
     * anything already there (a socket, say) is used as it is. */
    struct stat st;
    if (stat(dest, &st) == 0) return 0;
    int fd = open(dest, O_RDONLY | O_CREAT | O_CLOEXEC, 0444);
    if (fd < 0 && errno != EISDIR && errno != EEXIST) return -1;
    if (fd >= 0) close(fd);
    return 0;
}

int set_attrs_recursive(const char *path, unsigned long long attrs) {
    struct mount_attr attr = {.attr_set = attrs};
    return (int)syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof attr);
}
