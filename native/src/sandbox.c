/* The rootless sandbox: identity maps, a fresh root on tmpfs, the setup
 * operations in order, pivot_root, loopback, hostname, and a reaping init.
 * Runs in the child after clone() put it into its new namespaces. */
#define _GNU_SOURCE
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "mountpoints.h"
#include "overlay.h"
#include "report.h"

static uid_t outer_uid;
static gid_t outer_gid;
/* The launcher's working directory: as under bwrap, the action starts there
 * when the sandbox has it and no --chdir says otherwise. */
static char outer_cwd[PATH_MAX];

void sandbox_prepare(void) {
    outer_uid = getuid();
    outer_gid = getgid();
    if (getcwd(outer_cwd, sizeof outer_cwd) == NULL) outer_cwd[0] = '\0';
}

const char *sandbox_outer_cwd(void) { return outer_cwd; }

/* dir + "/" + name into out, or a failure report naming dir. */
static void join(char *out, size_t size, const char *dir, const char *name, int report_fd) {
    if (snprintf(out, size, "%s/%s", dir, name) >= (int)size)
        report_failure(report_fd, "path", ENAMETOOLONG, "snprintf", dir, NULL);
}

/* The call that failed in the last write_file(), for the failure report. */
static const char *write_file_call = "write";

static int write_file(const char *path, const char *content) {
    write_file_call = "open";
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    write_file_call = "write";
    size_t len = strlen(content);
    ssize_t n = write(fd, content, len);
    int err = errno;
    close(fd);
    if (n != (ssize_t)len) {
        errno = n < 0 ? err : EIO;
        return -1;
    }
    return 0;
}

const char *sandbox_map_ids(uid_t inner_uid, gid_t inner_gid) {
    char map[64];
    snprintf(map, sizeof map, "%u %u 1\n", inner_uid, outer_uid);
    if (write_file("/proc/self/uid_map", map) < 0) return "uid-map";
    if (write_file("/proc/self/setgroups", "deny\n") < 0 && errno != ENOENT) return "setgroups";
    snprintf(map, sizeof map, "%u %u 1\n", inner_gid, outer_gid);
    if (write_file("/proc/self/gid_map", map) < 0) return "gid-map";
    return NULL;
}

static void bind_path(const char *source, const char *dest, unsigned long long attrs, const char *step,
                 bool try_only, int report_fd) {
    struct stat st;
    if (stat(source, &st) < 0) {
        if (try_only && errno == ENOENT) return;
        report_failure(report_fd, step, errno, "stat", source + strlen(OLD_ROOT), NULL);
    }
    if (make_mount_point(dest, S_ISDIR(st.st_mode)) < 0)
        report_failure(report_fd, step, errno, "mkdir", dest + strlen(NEW_ROOT), NULL);
    if (mount(source, dest, NULL, MS_BIND | MS_REC, NULL) < 0)
        report_failure(report_fd, step, errno, "mount", source + strlen(OLD_ROOT), NULL);
    if (attrs != 0 && set_attrs_recursive(dest, attrs) < 0)
        report_failure(report_fd, step, errno, "mount_setattr", dest + strlen(NEW_ROOT), NULL);
}

/* The setup step an operation's failures name. */
static const char *op_step(enum op_kind kind) {
    switch (kind) {
    case OP_BIND: return "bind";
    case OP_RO_BIND: return "ro-bind";
    case OP_DEV_BIND: return "dev-bind";
    case OP_TMPFS: return "tmpfs";
    case OP_PROC: return "proc";
    case OP_DEV: return "dev";
    case OP_DIR: return "dir";
    case OP_SYMLINK: return "symlink";
    case OP_REMOUNT_RO: return "remount-ro";
    case OP_OVERLAY: return "overlay";
    case OP_TMP_OVERLAY: return "tmp-overlay";
    case OP_RO_OVERLAY: return "ro-overlay";
    case OP_CHMOD: return "chmod";
    case OP_FILE: return "file";
    case OP_BIND_DATA: return "bind-data";
    case OP_RO_BIND_DATA: return "ro-bind-data";
    }
    return "setup";
}

/* --refuse-symlinks: a link on the way to a bind's source or to any
 * destination ends the setup, naming the link. */
_Noreturn static void refuse_link(int report_fd, const char *step, const char *path, size_t prefix_len,
                                  const char *role) {
    char link[PATH_BUF];
    const char *shown = first_symlink(path, link, sizeof link) ? link + prefix_len : "a component";
    report_failure_message(report_fd, step, ELOOP, "openat2", path + prefix_len,
                           "%s %s: %s is a symbolic link, in the %s (--refuse-symlinks)", step,
                           path + prefix_len, shown, role);
}

/* A bind under --refuse-symlinks: the source opened without following links,
 * cloned, and moved onto a mount point opened the same way below parent_fd,
 * so no link can redirect either end, also not one swapped in meanwhile. */
static void bind_nofollow(const char *source, int parent_fd, const char *name, const char *dest,
                          unsigned long long attrs, const char *step, bool try_only, int report_fd) {
    int src = open_nofollow(AT_FDCWD, source, O_PATH);
    if (src < 0 && try_only && errno == ENOENT) return;
    if (src < 0 && errno == ELOOP) refuse_link(report_fd, step, source, strlen(OLD_ROOT), "source");
    if (src < 0) report_failure(report_fd, step, errno, "open", source + strlen(OLD_ROOT), NULL);
    struct stat st;
    if (fstat(src, &st) < 0) report_failure(report_fd, step, errno, "stat", source + strlen(OLD_ROOT), NULL);
    if (S_ISDIR(st.st_mode)) {
        if (mkdirat(parent_fd, name, 0755) < 0 && errno != EEXIST)
            report_failure(report_fd, step, errno, "mkdir", dest + strlen(NEW_ROOT), NULL);
    } else {
        int made = openat(parent_fd, name, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0444);
        if (made >= 0) close(made);
        else if (errno != EISDIR && errno != ELOOP)
            report_failure(report_fd, step, errno, "open", dest + strlen(NEW_ROOT), NULL);
    }
    int target = open_nofollow(parent_fd, name, O_PATH);
    if (target < 0 && errno == ELOOP) refuse_link(report_fd, step, dest, strlen(NEW_ROOT), "destination");
    if (target < 0) report_failure(report_fd, step, errno, "open", dest + strlen(NEW_ROOT), NULL);
    int tree = (int)syscall(SYS_open_tree, src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
    if (tree < 0) report_failure(report_fd, step, errno, "open_tree", source + strlen(OLD_ROOT), NULL);
    struct mount_attr attr = {.attr_set = attrs};
    if (attrs != 0 &&
        syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
        report_failure(report_fd, step, errno, "mount_setattr", dest + strlen(NEW_ROOT), NULL);
    if (syscall(SYS_move_mount, tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        report_failure(report_fd, step, errno, "move_mount", dest + strlen(NEW_ROOT), NULL);
    close(tree);
    close(target);
    close(src);
}

static const char *file_label;
/* --rlimit nproc, 0 if none: also the pid namespace's pid_max (see limit_pids). */
static unsigned long long nproc_limit;

/* The kernel exempts real root from RLIMIT_NPROC, so a root caller's action
 * could fork without bound. Since Linux 6.14 each pid namespace has its own
 * kernel.pid_max (at least 301), which bounds how many processes it can hold
 * whoever the caller is. On older kernels the file is read-only here: the
 * rlimit alone then applies. */
static void limit_pids_through(int fd) {
    if (nproc_limit == 0 || nproc_limit == RLIM_INFINITY || fd < 0) return;
    char value[32];
    snprintf(value, sizeof value, "%llu", nproc_limit + 1 < 301 ? 301 : nproc_limit + 1);
    if (write(fd, value, strlen(value)) < 0) { /* an older kernel: the rlimit alone */ }
}

static void limit_pids(const char *proc, int report_fd) {
    if (nproc_limit == 0 || nproc_limit == RLIM_INFINITY) return;
    char path[PATH_BUF];
    join(path, sizeof path, proc, "sys/kernel/pid_max", report_fd);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    limit_pids_through(fd);
    if (fd >= 0) close(fd);
}

static void mount_tmpfs_sized(const char *dest, const char *step, int mode, unsigned long long size, int report_fd) {
    if (make_dirs(dest) < 0) report_failure(report_fd, step, errno, "mkdir", dest + strlen(NEW_ROOT), NULL);
    char options[512];
    int n = snprintf(options, sizeof options, "mode=%#o", (unsigned)mode);
    if (size != 0) n += snprintf(options + n, sizeof options - (size_t)n, ",size=%llu", size);
    if (file_label != NULL) snprintf(options + n, sizeof options - (size_t)n, ",context=\"%s\"", file_label);
    if (mount("tmpfs", dest, "tmpfs", MS_NOSUID | MS_NODEV, options) < 0)
        report_failure(report_fd, step, errno, "mount", dest + strlen(NEW_ROOT), NULL);
}

static void mount_tmpfs(const char *dest, const char *step, int report_fd) {
    mount_tmpfs_sized(dest, step, 0755, 0, report_fd);
}

/* The parts of a fresh procfs at proc that can reconfigure the host, bound
 * again read-only. Returns 0, or -1 with errno set and the path in failed. */
static int protect_proc(const char *proc, char failed[PATH_BUF]) {
    static const char *const read_only[] = {"sys", "sysrq-trigger", "irq", "bus"};
    for (size_t i = 0; i < sizeof read_only / sizeof read_only[0]; i++) {
        if (snprintf(failed, PATH_BUF, "%s/%s", proc, read_only[i]) >= PATH_BUF) {
            errno = ENAMETOOLONG;
            return -1;
        }
        if (access(failed, F_OK) < 0) continue;
        if (mount(failed, failed, NULL, MS_BIND | MS_REC, NULL) < 0 || set_attrs_recursive(failed, MOUNT_ATTR_RDONLY) < 0)
            return -1;
    }
    return 0;
}

/* A fresh procfs for the new pid namespace, with the parts that can
 * reconfigure the host re-bound read-only. Where the kernel refuses one (a
 * container masked parts of the host's /proc), auto mode binds the host's
 * /proc instead: the action then sees the host's processes. */
static void mount_proc(const char *dest, enum sandbox_mode mode, bool own_pid_ns, int report_fd) {
    if (make_dirs(dest) < 0) report_failure(report_fd, "proc", errno, "mkdir", dest + strlen(NEW_ROOT), NULL);
    if (!own_pid_ns) { /* as bwrap: the host's pid namespace, so the host's /proc */
        if (mount(OLD_ROOT "/proc", dest, NULL, MS_BIND | MS_REC, NULL) < 0)
            report_failure(report_fd, "proc", errno, "mount", dest + strlen(NEW_ROOT), NULL);
        return;
    }
    if (mount("proc", dest, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
        int err = errno;
        if (mode != SANDBOX_AUTO || err != EPERM) report_failure(report_fd, "proc", err, "mount", dest + strlen(NEW_ROOT), NULL);
        /* The host's /proc keeps its masks: binding it recursively reveals nothing new. */
        if (mount(OLD_ROOT "/proc", dest, NULL, MS_BIND | MS_REC, NULL) < 0)
            report_failure(report_fd, "proc", err, "mount", dest + strlen(NEW_ROOT), NULL);
        report_note(report_fd, REPORT_DEGRADED, "proc", dest + strlen(NEW_ROOT), "fresh->host-bind", err, "mount");
        return;
    }
    limit_pids(dest, report_fd);
    char failed[PATH_BUF];
    if (protect_proc(dest, failed) < 0) report_failure(report_fd, "proc", errno, "mount", failed + strlen(NEW_ROOT), NULL);
}

/* The action's terminal as the host names it ("/dev/pts/3"), when --pty
 * gave it one; read from the host's /proc under /oldroot. That names it from
 * our root, the scratch tmpfs ("/oldroot/dev/pts/3"), when the terminal's
 * mount is our copy of the host's, and as the host does when it is the host's
 * own (fds received after clone: a spare sandbox's). */
static char pty_slave[PATH_MAX];

static void remember_pty_slave(const struct plan *plan) {
    if (!plan->pty) return;
    char link[PATH_MAX];
    ssize_t n = readlink(OLD_ROOT "/proc/self/fd/0", link, sizeof link - 1);
    link[n > 0 ? n : 0] = '\0';
    const char *host = strncmp(link, OLD_ROOT "/", strlen(OLD_ROOT "/")) == 0 ? link + strlen(OLD_ROOT) : link;
    bool pts = strncmp(host, "/dev/pts/", 9) == 0 && strchr(host + 9, '/') == NULL;
    snprintf(pty_slave, sizeof pty_slave, "%s", pts ? host : "");
}

/* A devpts instance of our own at dir, and the ptmx link at link to target;
 * -1 with errno set and the call in *call on failure. */
static int mount_devpts(const char *dir, const char *link, const char *target, const char **call) {
    *call = "mount";
    if (make_dirs(dir) < 0 ||
        mount("devpts", dir, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620") < 0)
        return -1;
    *call = "symlink";
    return symlink(target, link);
}

/* /dev/pts: a devpts instance of our own, so the action's new ptys are
 * private. With --pty, the action's own terminal must also be found under
 * its host name (ttyname(3) and `tty` look there), and a devpts instance
 * cannot hold it: then /dev/pts is a tmpfs with just that terminal bound in,
 * and the private instance sits at /dev/.devpts behind /dev/ptmx. */
static void mount_pts(const char *dest, int report_fd) {
    char pts[PATH_BUF], devpts[PATH_BUF], link[PATH_BUF];
    join(pts, sizeof pts, dest, "pts", report_fd);
    join(devpts, sizeof devpts, dest, pty_slave[0] ? ".devpts" : "pts", report_fd);
    join(link, sizeof link, dest, "ptmx", report_fd);
    const char *call;
    if (mount_devpts(devpts, link, pty_slave[0] ? ".devpts/ptmx" : "pts/ptmx", &call) < 0)
        report_failure(report_fd, "dev", errno, call, (strcmp(call, "mount") == 0 ? devpts : link) + strlen(NEW_ROOT),
                       NULL);
    if (!pty_slave[0]) return;
    mount_tmpfs(pts, "dev", report_fd);
    char source[PATH_BUF], target[PATH_BUF];
    snprintf(source, sizeof source, OLD_ROOT "%s", pty_slave);
    join(target, sizeof target, pts, pty_slave + 9, report_fd);
    bind_path(source, target, 0, "dev", false, report_fd);
}

/* What is the same in every sandbox's /dev at dest, made in a tmpfs there:
 * the usual character devices bound from the host, /dev/shm (shm_size bytes,
 * 0: the kernel's default) and the fd links; not /dev/pts and /dev/ptmx
 * (mount_pts). label: --file-label, or NULL. Returns 0, or -1 with errno set,
 * the call in *call and the path in failed (a device's, under OLD_ROOT). */
static int build_dev(const char *dest, unsigned long long shm_size, const char *label, const char **call,
                     char failed[PATH_BUF]) {
    static const char *const devices[] = {"null", "zero", "full", "random", "urandom", "tty"};
    static const char *const links[][2] = {
        {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"}, {"/proc/kcore", "core"},
    };
    char options[512], source[PATH_BUF];
    snprintf(failed, PATH_BUF, "%s", dest);
    *call = "mkdir";
    if (make_dirs(dest) < 0) return -1;
    /* nodev on this tmpfs is harmless: a bind mount keeps the flags of the
     * host's /dev, so the bound devices work. */
    int n = snprintf(options, sizeof options, "mode=0755");
    if (label != NULL) snprintf(options + n, sizeof options - (size_t)n, ",context=\"%s\"", label);
    *call = "mount";
    if (mount("tmpfs", dest, "tmpfs", MS_NOSUID | MS_NODEV, options) < 0) return -1;
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) {
        snprintf(source, sizeof source, OLD_ROOT "/dev/%s", devices[i]);
        if (snprintf(failed, PATH_BUF, "%s/%s", dest, devices[i]) >= PATH_BUF) return errno = ENAMETOOLONG, -1;
        /* Files in a directory we just made: no stat of the source or mkdir of the parent needed. */
        *call = "open";
        int fd = open(failed, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) return -1;
        close(fd);
        *call = "mount";
        if (mount(source, failed, NULL, MS_BIND, NULL) < 0) {
            snprintf(failed, PATH_BUF, "%s", source); /* a device is named as the host has it */
            return -1;
        }
    }
    if (snprintf(failed, PATH_BUF, "%s/shm", dest) >= PATH_BUF) return errno = ENAMETOOLONG, -1;
    *call = "mkdir";
    if (mkdir(failed, 0755) < 0) return -1;
    n = snprintf(options, sizeof options, "mode=0755");
    if (shm_size != 0) n += snprintf(options + n, sizeof options - (size_t)n, ",size=%llu", shm_size);
    if (label != NULL) snprintf(options + n, sizeof options - (size_t)n, ",context=\"%s\"", label);
    *call = "mount";
    if (mount("tmpfs", failed, "tmpfs", MS_NOSUID | MS_NODEV, options) < 0) return -1;
    *call = "symlink";
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        if (snprintf(failed, PATH_BUF, "%s/%s", dest, links[i][1]) >= PATH_BUF) return errno = ENAMETOOLONG, -1;
        if (symlink(links[i][0], failed) < 0) return -1;
    }
    return 0;
}

/* A minimal /dev: build_dev's, and a devpts instance of our own. */
static void mount_dev(const char *dest, unsigned long long shm_size, int report_fd) {
    const char *call;
    char failed[PATH_BUF];
    if (build_dev(dest, shm_size, file_label, &call, failed) < 0) {
        bool host = strncmp(failed, OLD_ROOT "/", strlen(OLD_ROOT "/")) == 0;
        report_failure(report_fd, "dev", errno, call, failed + strlen(host ? OLD_ROOT : NEW_ROOT), NULL);
    }
    mount_pts(dest, report_fd);
}

/* A spare's /proc and /dev (spare.c), made ahead in the scratch root while
 * the action before runs (and its lo brought up): a request that asks for them (a fresh /proc; a
 * /dev with the same /dev/shm size, no terminal and no file label) gets them
 * moved into place instead of made after it came. Each is made in full or
 * not at all: a failure here is left for the request, which then makes its
 * own and reports it. */
#define READY_PROC "/ready/proc"
#define READY_DEV "/ready/dev"
static bool proc_ready, dev_ready, loopback_ready;
static unsigned long long dev_ready_shm_size;
static int ready_pid_max_fd = -1; /* opened before /proc/sys became read-only */

static void prepare_proc_and_dev(bool proc, bool dev, unsigned long long shm_size) {
    char failed[PATH_BUF];
    const char *call;
    if (mkdir("/ready", 0755) < 0) return;
    if (proc && mkdir(READY_PROC, 0755) == 0 &&
        mount("proc", READY_PROC, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0) {
        ready_pid_max_fd = open(READY_PROC "/sys/kernel/pid_max", O_WRONLY | O_CLOEXEC);
        proc_ready = protect_proc(READY_PROC, failed) == 0;
        if (!proc_ready && ready_pid_max_fd >= 0) {
            close(ready_pid_max_fd);
            ready_pid_max_fd = -1;
        }
    }
    if (dev && build_dev(READY_DEV, shm_size, NULL, &call, failed) == 0 &&
        mount_devpts(READY_DEV "/pts", READY_DEV "/ptmx", "pts/ptmx", &call) == 0) {
        dev_ready = true;
        dev_ready_shm_size = shm_size;
    }
}

void sandbox_prepare_ahead(bool proc, bool dev, unsigned long long shm_size, bool loopback) {
    loopback_ready = loopback && loopback_up() == NULL;
    mode_t old_umask = umask(0); /* as sandbox_enter() makes them */
    prepare_proc_and_dev(proc, dev, shm_size);
    umask(old_umask);
}

/* Moves the prepared tree at ready to dest; false if there is none to move. */
static bool move_ready(bool *ready, const char *ready_path, const char *dest) {
    if (!*ready) return false;
    *ready = false; /* one use, also when the move fails: the request then makes its own */
    return make_dirs(dest) == 0 && mount(ready_path, dest, NULL, MS_MOVE, NULL) == 0;
}

/* Copies everything readable from fd into out; -1 with errno set on failure. */
static int copy_fd(int fd, int out) {
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) return 0;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) return -1;
            off += w;
        }
    }
}

/* --symlink: made, or already there with the same target (bwrap's rule). */
static void make_symlink(const struct setup_op *op, const char *dest, int report_fd) {
    if (symlink(op->source, dest) == 0) return;
    if (errno != EEXIST) report_failure(report_fd, "symlink", errno, "symlink", op->dest, NULL);
    char existing[PATH_MAX];
    ssize_t n = readlink(dest, existing, sizeof existing - 1);
    if (n < 0 && errno == EINVAL)
        report_failure_message(report_fd, "symlink", EEXIST, "symlink", op->dest,
                               "Can't make symlink at %s: destination exists and is not a symlink", op->dest);
    if (n < 0) report_failure(report_fd, "symlink", errno, "readlink", op->dest, NULL);
    existing[n] = '\0';
    if (strcmp(existing, op->source) == 0) return;
    report_failure_message(report_fd, "symlink", EEXIST, "symlink", op->dest,
                           "Can't make symlink at %s: existing destination is %s", op->dest, existing);
}

/* --bind-data, --ro-bind-data: fd's data in a private file on the staging
 * root (gone with it), bound at dest. */
static void bind_data(const struct setup_op *op, const char *dest, int report_fd) {
    const char *step = op->kind == OP_BIND_DATA ? "bind-data" : "ro-bind-data";
    char temp[] = "/bindfileXXXXXX";
    int out = mkstemp(temp);
    if (out < 0) report_failure(report_fd, step, errno, "mkstemp", op->dest, NULL);
    if (fchmod(out, (mode_t)op->perms) < 0) report_failure(report_fd, step, errno, "fchmod", op->dest, NULL);
    if (copy_fd(op->fd, out) < 0) report_failure(report_fd, step, errno, "read", op->dest, NULL);
    close(out);
    close(op->fd);
    if (make_mount_point(dest, false) < 0) report_failure(report_fd, step, errno, "open", op->dest, NULL);
    if (mount(temp, dest, NULL, MS_BIND, NULL) < 0) report_failure(report_fd, step, errno, "mount", op->dest, NULL);
    unsigned long long attrs = MOUNT_ATTR_NODEV | (op->kind == OP_RO_BIND_DATA ? MOUNT_ATTR_RDONLY : 0);
    if (set_attrs_recursive(dest, attrs) < 0)
        report_failure(report_fd, step, errno, "mount_setattr", op->dest, NULL);
    unlink(temp);
}

/* --bind-fd, --ro-bind-fd, once source names what the fd refers to. */
static void bind_fd(const struct setup_op *op, const char *source, const char *dest, int report_fd) {
    bind_path(source, dest, MOUNT_ATTR_NODEV | (op->kind == OP_RO_BIND ? MOUNT_ATTR_RDONLY : 0), "bind-fd", false,
              report_fd);
    struct stat by_fd, bound;
    if (fstat(op->fd, &by_fd) < 0 || stat(dest, &bound) < 0 || by_fd.st_dev != bound.st_dev ||
        by_fd.st_ino != bound.st_ino)
        report_failure_message(report_fd, "bind-fd", EXDEV, "stat", op->dest, "Race condition binding dirfd");
    close(op->fd);
}

/* The assembled root, opened without following links, where the parent
 * walks of --refuse-symlinks start (sparing each a walk from / to it); reopened
 * after an operation mounts on / itself, since an fd opened before a mount
 * refers to what the mount covers. */
static int new_root_fd = -1;

/* Whether an operation's destination is the root itself ("/", "//", "/."). */
static bool is_root(const char *dest) {
    for (const char *p = dest; *p != '\0';) {
        while (*p == '/') p++;
        const char *end = p;
        while (*end != '\0' && *end != '/') end++;
        if (end > p && !(end - p == 1 && *p == '.')) return false;
        p = end;
    }
    return true;
}

/* What --refuse-symlinks adds to an operation's path checks: the parents
 * made and opened without following links, and no link as the last
 * component (a --symlink's own is checked by make_symlink). The directory
 * holding the last component, or -1 when links are followed. */
static int parent_without_links(const struct setup_op *op, const char *dest, mode_t parent_mode, char *name,
                                 size_t name_size, int report_fd) {
    bool whole_root = is_root(op->dest);
    if (!whole_root && new_root_fd < 0) new_root_fd = open_nofollow(AT_FDCWD, NEW_ROOT, O_PATH | O_DIRECTORY);
    int parent = whole_root || new_root_fd < 0 ? open_parent_nofollow(-1, dest, parent_mode, name, name_size)
                                               : open_parent_nofollow(new_root_fd, op->dest, parent_mode, name, name_size);
    if (parent < 0 && errno == ELOOP) refuse_link(report_fd, op_step(op->kind), dest, strlen(NEW_ROOT), "destination");
    if (parent < 0) report_failure(report_fd, "mkdir", errno, "mkdir", op->dest, NULL);
    struct stat st;
    if (op->kind != OP_SYMLINK && fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        refuse_link(report_fd, op_step(op->kind), dest, strlen(NEW_ROOT), "destination");
    return parent;
}

/* --chmod and --remount-ro under --refuse-symlinks: on the path opened
 * without following links (chmod by the host /proc's view of that fd). */
static void change_nofollow(const struct setup_op *op, const char *dest, int report_fd) {
    const char *step = op_step(op->kind);
    int fd = open_nofollow(AT_FDCWD, dest, O_PATH);
    if (fd < 0 && errno == ELOOP) refuse_link(report_fd, step, dest, strlen(NEW_ROOT), "destination");
    if (fd < 0) report_failure(report_fd, step, errno, "open", op->dest, NULL);
    if (op->kind == OP_CHMOD) {
        char by_fd[64];
        snprintf(by_fd, sizeof by_fd, OLD_ROOT "/proc/self/fd/%d", fd);
        if (chmod(by_fd, (mode_t)op->perms) < 0) report_failure(report_fd, step, errno, "chmod", op->dest, NULL);
    } else {
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
        if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
            report_failure(report_fd, step, errno, "mount_setattr", op->dest, NULL);
    }
    close(fd);
}

static void apply_op(const struct setup_op *op, const struct plan *plan, int report_fd) {
    char dest[PATH_BUF], source[PATH_BUF];
    snprintf(dest, sizeof dest, NEW_ROOT "%s", strcmp(op->dest, "/") == 0 ? "" : op->dest);
    if (op->source != NULL) snprintf(source, sizeof source, OLD_ROOT "%s", op->source);
    if (op->fd >= 0 && (op->kind == OP_BIND || op->kind == OP_RO_BIND)) {
        /* --bind-fd: what the fd refers to, by its path in our copy of the
         * host's mounts (a mount of the host's own namespace cannot be bound
         * here); checked against the fd once bound. */
        char link[PATH_MAX];
        ssize_t n = readlink(source, link, sizeof link - 1);
        if (n <= 0 || link[0] != '/')
            report_failure(report_fd, "bind-fd", n < 0 ? errno : EINVAL, "readlink", op->source, NULL);
        link[n] = '\0';
        snprintf(source, sizeof source, OLD_ROOT "%s", link);
    }
    int parent = -1; /* under --refuse-symlinks: the directory holding dest's last component */
    char name[NAME_MAX + 1];
    if (op->kind == OP_CHMOD || op->kind == OP_REMOUNT_RO) {
        if (plan->refuse_symlinks) {
            change_nofollow(op, dest, report_fd);
            return;
        }
    } else {
        /* As bwrap: parents of something made with --perms that hides it from
         * the group (or others) hide it too. */
        mode_t parent_mode = 0755;
        if (op->perms >= 0 && (op->perms & 0070) == 0) parent_mode &= ~0050U;
        if (op->perms >= 0 && (op->perms & 0007) == 0) parent_mode &= ~0005U;
        if (plan->refuse_symlinks) parent = parent_without_links(op, dest, parent_mode, name, sizeof name, report_fd);
        else if (make_parents(dest, parent_mode) < 0)
            report_failure(report_fd, "mkdir", errno, "mkdir", op->dest, NULL);
    }
    unsigned long long bind_attrs = op->kind == OP_DEV_BIND ? 0
                                    : op->kind == OP_RO_BIND ? MOUNT_ATTR_NODEV | MOUNT_ATTR_RDONLY
                                                             : MOUNT_ATTR_NODEV;
    switch (op->kind) {
    case OP_BIND:
    case OP_RO_BIND:
    case OP_DEV_BIND:
        if (op->fd >= 0) bind_fd(op, source, dest, report_fd);
        else if (parent >= 0)
            bind_nofollow(source, parent, name, dest, bind_attrs, op_step(op->kind), op->try_only, report_fd);
        else bind_path(source, dest, bind_attrs, op_step(op->kind), op->try_only, report_fd);
        break;
    case OP_TMPFS: mount_tmpfs_sized(dest, "tmpfs", op->perms >= 0 ? op->perms : 0755, op->size, report_fd); break;
    case OP_PROC:
        if ((plan->clone_flags & CLONE_NEWPID) && move_ready(&proc_ready, READY_PROC, dest)) {
            limit_pids_through(ready_pid_max_fd);
            close(ready_pid_max_fd);
            ready_pid_max_fd = -1;
        } else {
            mount_proc(dest, plan->sandbox_mode, (plan->clone_flags & CLONE_NEWPID) != 0, report_fd);
        }
        break;
    case OP_DEV:
        if (pty_slave[0] || file_label != NULL || plan->shm_size != dev_ready_shm_size ||
            !move_ready(&dev_ready, READY_DEV, dest))
            mount_dev(dest, plan->shm_size, report_fd);
        break;
    case OP_DIR:
        if (make_dirs_mode(dest, (mode_t)(op->perms >= 0 ? op->perms : 0755), 0755) < 0)
            report_failure(report_fd, "dir", errno, "mkdir", op->dest, NULL);
        break;
    case OP_SYMLINK: make_symlink(op, dest, report_fd); break;
    case OP_REMOUNT_RO:
        if (set_attrs_recursive(dest, MOUNT_ATTR_RDONLY) < 0)
            report_failure(report_fd, "remount-ro", errno, "mount_setattr", op->dest, NULL);
        break;
    case OP_CHMOD:
        if (chmod(dest, (mode_t)op->perms) < 0) report_failure(report_fd, "chmod", errno, "chmod", op->dest, NULL);
        break;
    case OP_FILE: {
        int out = parent >= 0 ? openat(parent, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, (mode_t)op->perms)
                              : open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)op->perms);
        if (out < 0) report_failure(report_fd, "file", errno, "open", op->dest, NULL);
        if (copy_fd(op->fd, out) < 0) report_failure(report_fd, "file", errno, "read", op->dest, NULL);
        close(out);
        close(op->fd);
        break;
    }
    case OP_BIND_DATA:
    case OP_RO_BIND_DATA: bind_data(op, dest, report_fd); break;
    case OP_OVERLAY:
    case OP_TMP_OVERLAY:
    case OP_RO_OVERLAY: mount_overlay(op, dest, plan->overlay_impl, plan->sandbox_mode, report_fd); break;
    }
    if (parent >= 0) close(parent);
    if (new_root_fd >= 0 && is_root(op->dest)) {
        close(new_root_fd);
        new_root_fd = -1;
    }
}

const char *loopback_up(void) {
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return "socket";
    struct ifreq req;
    memset(&req, 0, sizeof req);
    snprintf(req.ifr_name, sizeof req.ifr_name, "lo");
    const char *failed = NULL;
    if (ioctl(sock, SIOCGIFFLAGS, &req) < 0) failed = "ioctl";
    req.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (failed == NULL && ioctl(sock, SIOCSIFFLAGS, &req) < 0) failed = "ioctl";
    int err = errno;
    close(sock);
    errno = err;
    return failed;
}

static void bring_up_loopback(int report_fd) {
    const char *failed = loopback_up();
    if (failed != NULL) report_failure(report_fd, "loopback", errno, failed, "lo", NULL);
}

/* The bounding set, cut ahead by a spare (sandbox_cut_bounding_set_ahead),
 * and the capabilities the kernel knows. */
static bool bounding_cut;
static uint64_t bounding_known;

/* Cuts the bounding set to caps (with cut; else only reads it) and sets
 * *known to the capabilities the kernel knows; -1 with errno set on failure.
 * Capabilities are numbered from 0 up: the first EINVAL is past the
 * kernel's last. Dropping one that is not in the set succeeds, so one call
 * a capability does (about 40 in all). */
static int cut_bounding_set(bool cut, uint64_t caps, uint64_t *known) {
    *known = 0;
    for (int cap = 0; cap <= 63; cap++) {
        bool drop = cut && !(caps & ((uint64_t)1 << cap));
        if ((drop ? prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) : prctl(PR_CAPBSET_READ, cap, 0, 0, 0)) < 0) {
            if (errno == EINVAL) break;
            return -1;
        }
        *known |= (uint64_t)1 << cap;
    }
    return 0;
}

void sandbox_cut_bounding_set_ahead(uint64_t caps) {
    bounding_cut = cut_bounding_set(true, caps, &bounding_known) == 0;
}

/* Whether sandbox_enter_base() ran already: a spare sandbox does it ahead. */
static bool base_entered;
/* The host's /proc, kept across the last pivot (--disable-userns needs it). */
static int host_proc_fd = -1;

void sandbox_enter_base(int clone_flags, int sandbox_uid, int sandbox_gid, int userns_block_fd, int report_fd) {
    uid_t inner_uid = sandbox_uid >= 0 ? (uid_t)sandbox_uid : outer_uid;
    gid_t inner_gid = sandbox_gid >= 0 ? (gid_t)sandbox_gid : outer_gid;
    if ((clone_flags & CLONE_NEWUSER) && userns_block_fd >= 0) {
        /* The caller writes our id maps, and says so on the fd. */
        char byte;
        while (read(userns_block_fd, &byte, 1) < 0 && errno == EINTR) {}
        close(userns_block_fd);
    } else if (clone_flags & CLONE_NEWUSER) {
        const char *failed = sandbox_map_ids(inner_uid, inner_gid);
        if (failed != NULL) {
            char path[32];
            snprintf(path, sizeof path, "/proc/self/%s", strcmp(failed, "setgroups") == 0 ? "setgroups"
                                                         : strcmp(failed, "uid-map") == 0   ? "uid_map"
                                                                                            : "gid_map");
            report_failure(report_fd, failed, errno, write_file_call, path, NULL);
        }
    } else if (getuid() != inner_uid || getgid() != inner_gid) {
        /* A user namespace we joined (--userns) may map other ids. */
        if (getgid() != inner_gid && setgid(inner_gid) < 0)
            report_failure(report_fd, "setgid", errno, "setgid", NULL, NULL);
        if (getuid() != inner_uid && setuid(inner_uid) < 0)
            report_failure(report_fd, "setuid", errno, "setuid", NULL, NULL);
    }
    /* Nothing we mount may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        report_failure(report_fd, "make-private", errno, "mount", "/", NULL);
    if (mount("tmpfs", BASE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
        report_failure(report_fd, "new-root", errno, "mount", BASE, NULL);
    if (chdir(BASE) < 0) report_failure(report_fd, "new-root", errno, "chdir", BASE, NULL);
    if (mkdir("newroot", 0755) < 0 || mkdir("oldroot", 0755) < 0)
        report_failure(report_fd, "new-root", errno, "mkdir", BASE, NULL);
    if (mount("tmpfs", "newroot", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
        report_failure(report_fd, "new-root", errno, "mount", BASE "/newroot", NULL);
    if (syscall(SYS_pivot_root, BASE, BASE "/oldroot") < 0)
        report_failure(report_fd, "pivot-root", errno, "pivot_root", BASE, NULL);
    if (chdir("/") < 0) report_failure(report_fd, "pivot-root", errno, "chdir", "/", NULL);
    base_entered = true;
}

/* --disable-userns: the action's user namespace is a child of ours in which
 * no more may be created (max_user_namespaces is 1 here, and used by it). */
static void disable_user_namespaces(const struct plan *plan, int report_fd) {
    int fd = openat(host_proc_fd, "sys/user/max_user_namespaces", O_WRONLY | O_CLOEXEC);
    if (fd < 0) report_failure(report_fd, "disable-userns", errno, "open", "/proc/sys/user/max_user_namespaces", NULL);
    if (write(fd, "1", 1) != 1)
        report_failure(report_fd, "disable-userns", errno, "write", "/proc/sys/user/max_user_namespaces", NULL);
    close(fd);
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (unshare(CLONE_NEWUSER) < 0) report_failure(report_fd, "disable-userns", errno, "unshare", NULL, NULL);
    bounding_cut = false; /* a new user namespace starts with a full bounding set */
    char map[64];
    const char *files[] = {"self/uid_map", "self/gid_map"};
    for (int k = 0; k < 2; k++) {
        snprintf(map, sizeof map, "%u %u 1\n", k == 0 ? uid : gid, k == 0 ? uid : gid);
        fd = openat(host_proc_fd, files[k], O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, map, strlen(map)) != (ssize_t)strlen(map))
            report_failure(report_fd, "disable-userns", errno, "write", files[k], NULL);
        close(fd);
    }
    (void)plan;
}

void sandbox_enter(const struct plan *plan, int report_fd) {
    if (!base_entered)
        sandbox_enter_base(plan->clone_flags, plan->sandbox_uid, plan->sandbox_gid, plan->userns_block_fd, report_fd);
    remember_pty_slave(plan);
    file_label = plan->file_label;
    nproc_limit = 0;
    for (int i = 0; i < plan->rlimit_count; i++)
        if (plan->rlimits[i].resource == RLIMIT_NPROC) nproc_limit = plan->rlimits[i].value;

    /* As bwrap: what the setup makes gets exactly the modes asked for. */
    mode_t old_umask = umask(0);
    for (int i = 0; i < plan->op_count; i++) apply_op(&plan->ops[i], plan, report_fd);
    umask(old_umask);
    if (new_root_fd >= 0) close(new_root_fd);
    new_root_fd = -1;

    if (plan->disable_userns) {
        host_proc_fd = open(OLD_ROOT "/proc", O_PATH | O_CLOEXEC);
        if (host_proc_fd < 0) report_failure(report_fd, "disable-userns", errno, "open", "/proc", NULL);
    }
    /* Make the assembled tree the root, then detach the scratch root stacked
     * on it, and with it the host root beneath: one detach, since each makes
     * the kernel wait for an RCU grace period (about 30 us). */
    if (chdir(NEW_ROOT) < 0) report_failure(report_fd, "pivot-root", errno, "chdir", NEW_ROOT, NULL);
    if (syscall(SYS_pivot_root, ".", ".") < 0) report_failure(report_fd, "pivot-root", errno, "pivot_root", NEW_ROOT, NULL);
    if (umount2(".", MNT_DETACH) < 0) report_failure(report_fd, "pivot-root", errno, "umount2", "/", NULL);
    if (chdir("/") < 0) report_failure(report_fd, "pivot-root", errno, "chdir", "/", NULL);

    if ((plan->clone_flags & CLONE_NEWNET) && !plan->no_loopback && !loopback_ready) bring_up_loopback(report_fd);
    if (plan->hostname != NULL && sethostname(plan->hostname, strlen(plan->hostname)) < 0)
        report_failure(report_fd, "hostname", errno, "sethostname", plan->hostname, NULL);
    if (plan->disable_userns) {
        disable_user_namespaces(plan, report_fd);
        close(host_proc_fd);
        host_proc_fd = -1;
    }
    if ((plan->disable_userns || plan->assert_userns_disabled) && unshare(CLONE_NEWUSER) == 0)
        report_failure_message(report_fd, "assert-userns-disabled", EEXIST, "unshare", NULL,
                               "creation of new user namespaces was not disabled as requested");
}

/* Right before exec, as bwrap does: no_new_privs; the bounding set cut to the
 * capabilities the action keeps (in a new user namespace, or when the
 * command line edited them; root on the host otherwise keeps its own); those
 * as its effective, permitted, inheritable and ambient sets. A caller other
 * than root keeps none unless --cap-add gives them. */
void sandbox_drop_privileges(const struct plan *plan, int report_fd) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        report_failure(report_fd, "drop-privileges", errno, "prctl", NULL, NULL);
    bool own_userns = (plan->clone_flags & CLONE_NEWUSER) || plan->userns_fd >= 0;
    uint64_t known = bounding_known;
    if (!bounding_cut && cut_bounding_set(own_userns || plan->caps_edited, plan->caps, &known) < 0)
        report_failure(report_fd, "drop-privileges", errno, "prctl", NULL, NULL);
    struct cap_header header = {CAP_VERSION_3, 0};
    struct cap_data data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &header, data) < 0) report_failure(report_fd, "drop-privileges", errno, "capget", NULL, NULL);
    uint64_t permitted = (uint64_t)data[0].permitted | (uint64_t)data[1].permitted << 32;
    uint64_t keep = plan->caps & known & permitted;
    /* bwrap leaves root's own sets alone unless asked (capset may be filtered). */
    if (plan->caps_edited || plan->caller_uid != 0) {
        for (int k = 0; k < 2; k++) {
            uint32_t word = (uint32_t)(keep >> (32 * k));
            data[k].effective = data[k].permitted = data[k].inheritable = word;
        }
        if (syscall(SYS_capset, &header, data) < 0)
            report_failure(report_fd, "drop-privileges", errno, "capset", NULL, NULL);
    }
    uint64_t inheritable = (uint64_t)data[0].inheritable | (uint64_t)data[1].inheritable << 32;
    for (int cap = 0; cap <= 63; cap++)
        if (keep & inheritable & ((uint64_t)1 << cap)) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
}

/* Drops every capability of this process (a sandbox's init, once the action runs). */
void sandbox_drop_all_caps(void) {
    struct cap_header header = {CAP_VERSION_3, 0};
    struct cap_data data[2];
    memset(data, 0, sizeof data);
    syscall(SYS_capset, &header, data);
}
