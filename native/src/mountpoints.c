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

#ifndef RESOLVE_NO_SYMLINKS
#define RESOLVE_NO_SYMLINKS 0x04
#endif
struct paddock_open_how {
    unsigned long long flags, mode, resolve;
};

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

int open_nofollow(int dirfd, const char *name, int flags) {
    struct paddock_open_how how = {.flags = (unsigned long long)(flags | O_CLOEXEC), .resolve = RESOLVE_NO_SYMLINKS};
    return (int)syscall(SYS_openat2, dirfd, name, &how, sizeof how);
}

/* Walks from base (or /) one component at a time, so that each step is
 * checked (and a missing directory made) on a descriptor no link can redirect. */
int open_parent_nofollow(int base, const char *path, mode_t parent_mode, char *name, size_t name_size) {
    char buf[PATH_MAX];
    size_t n = (size_t)snprintf(buf, sizeof buf, "%s", path);
    if (n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    while (n > 1 && buf[n - 1] == '/') buf[--n] = '\0';
    char *last = strrchr(buf, '/');
    if (last == NULL || last[1] == '\0' || strlen(last + 1) >= name_size) {
        errno = EINVAL;
        return -1;
    }
    snprintf(name, name_size, "%s", last + 1);
    *last = '\0';
    int dir = base >= 0 ? fcntl(base, F_DUPFD_CLOEXEC, 0) : open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    for (char *part = strtok(buf, "/"); part != NULL && dir >= 0; part = strtok(NULL, "/")) {
        if (strcmp(part, ".") == 0) continue;
        if (strcmp(part, "..") == 0) { /* a plan's paths are normalised; ".." would leave the walk */
            close(dir);
            errno = EINVAL;
            return -1;
        }
        int next = open_nofollow(dir, part, O_PATH | O_DIRECTORY);
        if (next < 0 && errno == ENOENT) {
            if (mkdirat(dir, part, parent_mode) < 0 && errno != EEXIST) next = -1;
            else next = open_nofollow(dir, part, O_PATH | O_DIRECTORY);
        }
        int err = errno;
        close(dir);
        errno = err;
        dir = next;
    }
    return dir;
}

bool first_symlink(const char *path, char *link, size_t link_size) {
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return false;
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char end = *p;
        *p = '\0';
        struct stat st;
        if (lstat(buf, &st) < 0) return false;
        if (S_ISLNK(st.st_mode)) {
            snprintf(link, link_size, "%s", buf);
            return true;
        }
        if (end == '\0') return false;
        *p = '/';
    }
}

int set_attrs_recursive(const char *path, unsigned long long attrs) {
    struct mount_attr attr = {.attr_set = attrs};
    return (int)syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof attr);
}
