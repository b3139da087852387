/* Overlays (--overlay, --tmp-overlay, --ro-overlay) and their fallback
 * chain: kernel overlayfs, fuse-overlayfs, read-only binds on a tmpfs. */
#define _GNU_SOURCE
#include "overlay.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "mountpoints.h"
#include "report.h"

/* ---- Overlays ----
 * Between the two pivots the root is the staging tmpfs: the host is below
 * OLD_ROOT, the sandbox below NEW_ROOT, and anything else we create there
 * (overlay upper and work directories, the fuse helper's view of the host)
 * disappears when the staging root is detached, while mounts that use it
 * keep it alive. */

static const char *const overlay_impl_names[] = {"auto", "kernel", "fuse", "bind"};

/* Why an overlay implementation failed: errno and the call that gave it. */
struct attempt {
    int err;
    const char *syscall;
};

static int attempt_failed(struct attempt *a, int err, const char *syscall_name) {
    a->err = err;
    a->syscall = syscall_name;
    return -1;
}

/* path with overlayfs's separators (',' and ':') and '\' escaped by a '\',
 * as its option parser takes them. Returns the length written, or -1. */
static int escape_overlay_path(char *out, size_t size, const char *prefix, const char *path) {
    size_t len = 0;
    for (int part = 0; part < 2; part++)
        for (const char *p = part == 0 ? prefix : path; *p; p++) {
            bool special = *p == ',' || *p == ':' || *p == '\\';
            if (len + (special ? 2 : 1) >= size) return -1;
            if (special) out[len++] = '\\';
            out[len++] = *p;
        }
    out[len] = '\0';
    return (int)len;
}

/* fuse-overlayfs takes no escapes: paths with separators are for the kernel only. */
static bool overlay_paths_special(const struct setup_op *op) {
    for (int i = 0; i < op->layer_count; i++)
        if (strpbrk(op->layers[i], ",:\\") != NULL) return true;
    return (op->source != NULL && strpbrk(op->source, ",:\\") != NULL) ||
           (op->workdir != NULL && strpbrk(op->workdir, ",:\\") != NULL);
}

/* The layers as overlayfs wants them, top first, joined by ':', escaped.
 * (--ro-overlay has two at least: overlayfs needs two lowers without an upper.) */
static int lower_dirs(const struct setup_op *op, char *out, size_t size) {
    size_t len = 0;
    out[0] = '\0';
    for (int i = op->layer_count - 1; i >= 0; i--) {
        if (len > 0) {
            if (len + 1 >= size) return -1;
            out[len++] = ':';
        }
        int n = escape_overlay_path(out + len, size - len, OLD_ROOT, op->layers[i]);
        if (n < 0) return -1;
        len += (size_t)n;
    }
    return 0;
}

/* Upper and work directories: the host's for --overlay, fresh ones on the
 * staging tmpfs for --tmp-overlay, none for --ro-overlay. Each attempt gets
 * its own, so a failed one leaves nothing behind for the next. */
static int overlay_dirs(const struct setup_op *op, const char *scratch, char *upper, char *work, size_t size) {
    upper[0] = work[0] = '\0';
    if (op->kind == OP_OVERLAY) {
        if (escape_overlay_path(upper, size, OLD_ROOT, op->source) < 0 ||
            escape_overlay_path(work, size, OLD_ROOT, op->workdir) < 0) {
            errno = ENAMETOOLONG;
            return -1;
        }
    } else if (op->kind == OP_TMP_OVERLAY) {
        snprintf(upper, size, "%s/upper", scratch);
        snprintf(work, size, "%s/work", scratch);
        if (make_dirs(upper) < 0 || make_dirs(work) < 0) return -1;
    }
    return 0;
}

static int overlay_kernel(const struct setup_op *op, const char *dest, const char *lowers, const char *upper,
                          const char *work, struct attempt *a) {
    char data[4096];
    int n = upper[0] ? snprintf(data, sizeof data, "lowerdir=%s,upperdir=%s,workdir=%s,userxattr", lowers, upper, work)
                     : snprintf(data, sizeof data, "lowerdir=%s,userxattr", lowers);
    if (n < 0 || (size_t)n >= sizeof data) return attempt_failed(a, E2BIG, "mount");
    unsigned long flags = MS_NODEV | (op->kind == OP_RO_OVERLAY ? MS_RDONLY : 0);
    if (mount("overlay", dest, "overlay", flags, data) < 0) return attempt_failed(a, errno, "mount");
    return 0;
}

/* The fuse helper runs between the pivots, so it needs the host's programs
 * and libraries, /dev/fuse and /proc in the staging root. Done once. */
static int stage_host_view(struct attempt *a) {
    static bool staged;
    if (staged) return 0;
    static const char *const dirs[] = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "proc"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char source[PATH_BUF], target[PATH_BUF], link[PATH_MAX];
        snprintf(source, sizeof source, OLD_ROOT "/%s", dirs[i]);
        snprintf(target, sizeof target, "/%s", dirs[i]);
        struct stat st;
        if (lstat(source, &st) < 0) continue;
        if (S_ISLNK(st.st_mode)) { /* merged-/usr hosts: /lib -> usr/lib */
            ssize_t n = readlink(source, link, sizeof link - 1);
            if (n < 0) return attempt_failed(a, errno, "readlink");
            link[n] = '\0';
            if (symlink(link, target) < 0) return attempt_failed(a, errno, "symlink");
        } else if (S_ISDIR(st.st_mode)) {
            if (mkdir(target, 0755) < 0 || mount(source, target, NULL, MS_BIND | MS_REC, NULL) < 0)
                return attempt_failed(a, errno, "mount");
        }
    }
    static const char *const devices[] = {"null", "fuse"};
    if (mkdir("/dev", 0755) < 0) return attempt_failed(a, errno, "mkdir");
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) {
        char source[PATH_BUF], target[PATH_BUF];
        snprintf(source, sizeof source, OLD_ROOT "/dev/%s", devices[i]);
        snprintf(target, sizeof target, "/dev/%s", devices[i]);
        if (make_mount_point(target, false) < 0) return attempt_failed(a, errno, "open");
        if (mount(source, target, NULL, MS_BIND, NULL) < 0) return attempt_failed(a, errno, "mount");
    }
    staged = true;
    return 0;
}

/* Inside the user namespace we may mount, but exec as a non-zero uid clears
 * the capabilities; an ambient CAP_SYS_ADMIN lets the fuse helper mount too. */
static void keep_mount_capability_across_exec(void) {
    struct cap_header header = {CAP_VERSION_3, 0};
    struct cap_data data[2];
    if (syscall(SYS_capget, &header, data) < 0) return;
    data[0].inheritable |= 1U << CAP_SYS_ADMIN_BIT;
    if (syscall(SYS_capset, &header, data) < 0) return;
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN_BIT, 0, 0);
}

/* fuse-overlayfs in the foreground, as our child: it dies with the sandbox
 * (PDEATHSIG, and the pid namespace's end) rather than lingering as a
 * daemon. The mount is up when dest's device changes. */
static int overlay_fuse(const char *dest, const char *lowers, const char *upper, const char *work,
                        struct attempt *a) {
    if (access(OLD_ROOT "/dev/fuse", R_OK | W_OK) < 0) return attempt_failed(a, errno, "open");
    if (stage_host_view(a) < 0) return -1;
    char options[4096];
    int n = upper[0] ? snprintf(options, sizeof options, "lowerdir=%s,upperdir=%s,workdir=%s", lowers, upper, work)
                     : snprintf(options, sizeof options, "lowerdir=%s", lowers);
    if (n < 0 || (size_t)n >= sizeof options) return attempt_failed(a, E2BIG, "fuse-overlayfs");
    struct stat before;
    if (stat(dest, &before) < 0) return attempt_failed(a, errno, "stat");
    pid_t helper = fork();
    if (helper < 0) return attempt_failed(a, errno, "fork");
    if (helper == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        keep_mount_capability_across_exec();
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
        }
        syscall(SYS_close_range, 3U, ~0U, 0U);
        char *argv[] = {"fuse-overlayfs", "-f", "-o", options, (char *)dest, NULL};
        char *envp[] = {"PATH=/usr/bin:/bin", NULL};
        static const char *const candidates[] = {"/usr/bin/fuse-overlayfs", "/usr/local/bin/fuse-overlayfs",
                                                 "/bin/fuse-overlayfs"};
        for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) execve(candidates[i], argv, envp);
        _exit(127);
    }
    /* Bounded wait: 10 s in 100 µs steps, ending early if the helper exits. */
    for (int tries = 0; tries < 100000; tries++) {
        int status;
        if (waitpid(helper, &status, WNOHANG) == helper) {
            if (WIFEXITED(status) && WEXITSTATUS(status) == 127) return attempt_failed(a, ENOENT, "execve");
            return attempt_failed(a, EIO, "fuse-overlayfs");
        }
        struct stat now;
        if (stat(dest, &now) == 0 && now.st_dev != before.st_dev) return 0;
        struct timespec pause = {0, 100000};
        nanosleep(&pause, NULL);
    }
    kill(helper, SIGKILL);
    waitpid(helper, NULL, 0);
    return attempt_failed(a, ETIMEDOUT, "fuse-overlayfs");
}

/* No overlay filesystem at all: a tmpfs at dest with every top-level entry
 * of the layers bound read-only into it (higher layers win). New top-level
 * entries can be written and vanish with the sandbox; the layers' own files
 * stay read-only. */
static int overlay_bind(const struct setup_op *op, const char *dest, struct attempt *a) {
    if (mount("tmpfs", dest, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) return attempt_failed(a, errno, "mount");
    for (int i = 0; i < op->layer_count; i++) {
        char layer[PATH_BUF];
        snprintf(layer, sizeof layer, OLD_ROOT "%s", op->layers[i]);
        DIR *dir = opendir(layer);
        if (dir == NULL) return attempt_failed(a, errno, "opendir");
        struct dirent *entry;
        while ((entry = readdir(dir)) != NULL) {
            if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
            char source[PATH_BUF], target[PATH_BUF], link[PATH_MAX];
            if (snprintf(source, sizeof source, "%s/%s", layer, entry->d_name) >= (int)sizeof source ||
                snprintf(target, sizeof target, "%s/%s", dest, entry->d_name) >= (int)sizeof target) {
                closedir(dir);
                return attempt_failed(a, ENAMETOOLONG, "snprintf");
            }
            /* A lower layer's entry of the same name is replaced, not stacked. */
            while (umount2(target, MNT_DETACH) == 0) {}
            if (unlink(target) < 0 && errno == EISDIR) rmdir(target);
            struct stat st;
            if (lstat(source, &st) < 0) continue; /* vanished meanwhile */
            int rc = -1;
            if (S_ISLNK(st.st_mode)) {
                ssize_t n = readlink(source, link, sizeof link - 1);
                if (n >= 0) {
                    link[n] = '\0';
                    rc = symlink(link, target);
                }
            } else {
                rc = make_mount_point(target, S_ISDIR(st.st_mode));
                if (rc == 0) rc = mount(source, target, NULL, MS_BIND | MS_REC, NULL);
                if (rc == 0) rc = set_attrs_recursive(target, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV);
            }
            if (rc < 0) {
                int err = errno;
                closedir(dir);
                return attempt_failed(a, err, S_ISLNK(st.st_mode) ? "symlink" : "mount");
            }
        }
        closedir(dir);
    }
    if (op->kind == OP_RO_OVERLAY) {
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
        if (syscall(SYS_mount_setattr, AT_FDCWD, dest, 0, &attr, sizeof attr) < 0)
            return attempt_failed(a, errno, "mount_setattr");
    }
    return 0;
}

void mount_overlay(const struct setup_op *op, const char *dest, enum overlay_impl forced, enum sandbox_mode mode,
                          int report_fd) {
    static int sequence;
    char scratch[64], lowers[4096];
    snprintf(scratch, sizeof scratch, "/overlay-%d", sequence++);
    if (make_dirs(scratch) < 0) report_failure(report_fd, "overlay", errno, "mkdir", op->dest, NULL);
    if (lower_dirs(op, lowers, sizeof lowers) < 0)
        report_failure(report_fd, "overlay", E2BIG, "mount", op->dest, NULL);
    if (make_dirs(dest) < 0) report_failure(report_fd, "overlay", errno, "mkdir", op->dest, NULL);
    enum overlay_impl first = forced == OVERLAY_AUTO ? OVERLAY_KERNEL : forced;
    /* Each fallback is a degradation: required mode tries the first only. */
    enum overlay_impl last = forced != OVERLAY_AUTO ? forced : mode == SANDBOX_AUTO ? OVERLAY_BIND : OVERLAY_KERNEL;
    for (enum overlay_impl impl = first; impl <= last; impl++) {
        char attempt_dir[128], upper[PATH_BUF], work[PATH_BUF];
        snprintf(attempt_dir, sizeof attempt_dir, "%s/%s", scratch, overlay_impl_names[impl]);
        struct attempt a = {0, NULL};
        int rc = overlay_dirs(op, attempt_dir, upper, work, sizeof upper) < 0 ? attempt_failed(&a, errno, "mkdir")
                 : impl == OVERLAY_KERNEL ? overlay_kernel(op, dest, lowers, upper, work, &a)
                 : impl == OVERLAY_FUSE   ? (overlay_paths_special(op) ? attempt_failed(&a, EINVAL, "fuse-overlayfs")
                                                                       : overlay_fuse(dest, lowers, upper, work, &a))
                                          : overlay_bind(op, dest, &a);
        if (rc == 0) {
            report_note(report_fd, REPORT_MOUNTED, "overlay", op->dest, overlay_impl_names[impl], 0, NULL);
            return;
        }
        if (impl == last) {
            char step[32];
            snprintf(step, sizeof step, "overlay-%s", overlay_impl_names[impl]);
            report_failure(report_fd, step, a.err, a.syscall, op->dest, NULL);
        }
        char detail[64];
        snprintf(detail, sizeof detail, "%s->%s", overlay_impl_names[impl], overlay_impl_names[impl + 1]);
        report_note(report_fd, REPORT_DEGRADED, "overlay", op->dest, detail, a.err, a.syscall);
    }
}
