/* Benchmark baseline for `paddock bench spawn --sandbox`: the sandbox of
 * Sandbox.hostReadOnly() built by hand, N times from C threads at concurrency C.
 *
 * Each spawn is one raw clone into new user, mount, pid, net, ipc, uts and
 * cgroup namespaces. The child maps its ids, assembles a fresh root on tmpfs
 * (the host's / read-only, a fresh /proc, a minimal /dev, a private /tmp),
 * brings loopback up, pivots into it and execs the command as pid 1; the
 * parent waits. That is the kernel work of paddock's sandboxed launcher
 * without the launcher's exec, its init process, or its supervision.
 *
 * With --shared-netns, the program itself first moves into a new user
 * namespace holding one empty network namespace with loopback up, and each
 * spawn clones into every namespace but the network one (which it shares),
 * as paddock's spawn server does for Sandbox.Network.SHARED.
 *
 * With --bind DIR, DIR is also bound writable at the same place, as
 * Sandbox.hostReadOnly() does for the action's working directory.
 *
 * Output as harness.h says. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

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

#define NAMESPACES \
    (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)

static char **command;
static const char *bind_dir; /* --bind DIR, or NULL */
static int namespaces = NAMESPACES;
static uid_t outer_uid;
static gid_t outer_gid;
static int dev_null;

/* In the child: a failed step ends it with a message; the parent counts a failure. */
static _Noreturn void fail(const char *step, const char *path) {
    dprintf(2, "c-clone-sandbox: %s %s: %s\n", step, path, strerror(errno));
    _exit(126);
}

static void must(int ok, const char *step, const char *path) {
    if (!ok) fail(step, path);
}

static int write_file(const char *path, const char *content) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = write(fd, content, strlen(content));
    close(fd);
    return n == (ssize_t)strlen(content);
}

static int rbind_with(const char *source, const char *target, unsigned long long attrs) {
    struct mount_attr attr = {.attr_set = attrs};
    return mount(source, target, NULL, MS_BIND | MS_REC, NULL) == 0 &&
           (attrs == 0 || syscall(SYS_mount_setattr, AT_FDCWD, target, AT_RECURSIVE, &attr, sizeof attr) == 0);
}

static int mount_tmpfs(const char *target, unsigned long flags) {
    return (mkdir(target, 0755) == 0 || errno == EEXIST) &&
           mount("tmpfs", target, "tmpfs", MS_NOSUID | flags, "mode=0755") == 0;
}

/* A fresh procfs, with the parts that can reconfigure the host read-only. */
static void mount_proc(void) {
    must(mount("proc", "/newroot/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0, "mount", "/proc");
    static const char *const read_only[] = {
        "/newroot/proc/sys", "/newroot/proc/sysrq-trigger", "/newroot/proc/irq", "/newroot/proc/bus"};
    for (size_t i = 0; i < sizeof read_only / sizeof read_only[0]; i++)
        if (access(read_only[i], F_OK) == 0) must(rbind_with(read_only[i], read_only[i], MOUNT_ATTR_RDONLY), "bind", read_only[i]);
}

/* A tmpfs /dev with the usual devices bound from the host, its own devpts, /dev/shm and the fd links. */
static void mount_dev(void) {
    must(mount_tmpfs("/newroot/dev", 0), "mount", "/dev");
    static const char *const devices[] = {"null", "zero", "full", "random", "urandom", "tty"};
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) {
        char source[64], target[64];
        snprintf(source, sizeof source, "/oldroot/dev/%s", devices[i]);
        snprintf(target, sizeof target, "/newroot/dev/%s", devices[i]);
        int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        must(fd >= 0, "create", target);
        close(fd);
        must(rbind_with(source, target, 0), "bind", source);
    }
    must(mkdir("/newroot/dev/pts", 0755) == 0 &&
             mount("devpts", "/newroot/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620") == 0,
         "mount", "/dev/pts");
    must(mount_tmpfs("/newroot/dev/shm", MS_NODEV), "mount", "/dev/shm");
    static const char *const links[][2] = {
        {"pts/ptmx", "ptmx"}, {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
        {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}, {"/proc/kcore", "core"},
    };
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        char target[64];
        snprintf(target, sizeof target, "/newroot/dev/%s", links[i][1]);
        must(symlink(links[i][0], target) == 0, "symlink", target);
    }
}

static void bring_up_loopback(void) {
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    must(sock >= 0, "socket", "lo");
    struct ifreq req;
    memset(&req, 0, sizeof req);
    strcpy(req.ifr_name, "lo");
    must(ioctl(sock, SIOCGIFFLAGS, &req) == 0, "ioctl", "lo");
    req.ifr_flags |= IFF_UP | IFF_RUNNING;
    must(ioctl(sock, SIOCSIFFLAGS, &req) == 0, "ioctl", "lo");
    close(sock);
}

static _Noreturn void child(void) {
    must(dup2(dev_null, 1) == 1, "dup2", "/dev/null");
    must(setsid() >= 0, "setsid", "");
    must(prctl(PR_SET_PDEATHSIG, SIGKILL) == 0, "prctl", "");
    char map[64];
    snprintf(map, sizeof map, "%u %u 1\n", outer_uid, outer_uid);
    must(write_file("/proc/self/uid_map", map), "write", "uid_map");
    /* An unprivileged gid_map write is refused until setgroups is denied. */
    must(write_file("/proc/self/setgroups", "deny\n"), "write", "setgroups");
    snprintf(map, sizeof map, "%u %u 1\n", outer_gid, outer_gid);
    must(write_file("/proc/self/gid_map", map), "write", "gid_map");

    /* Nothing mounted below may propagate to the host. */
    must(mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) == 0, "mount", "/");
    /* Assemble on a scratch tmpfs, with the host root reachable at /oldroot. */
    must(mount_tmpfs("/tmp", MS_NODEV) && chdir("/tmp") == 0, "mount", "/tmp");
    must(mkdir("newroot", 0755) == 0 && mkdir("oldroot", 0755) == 0, "mkdir", "/tmp");
    must(mount_tmpfs("newroot", MS_NODEV), "mount", "newroot");
    must(syscall(SYS_pivot_root, "/tmp", "/tmp/oldroot") == 0 && chdir("/") == 0, "pivot_root", "/tmp");

    must(rbind_with("/oldroot", "/newroot", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV), "bind", "/");
    mount_proc();
    mount_dev();
    must(mount("tmpfs", "/newroot/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == 0, "mount", "/tmp");
    /* As paddock's host-read-only sandbox: the places host services keep their sockets, empty. */
    static const char *const hidden[] = {"/newroot/run", "/newroot/var/tmp"};
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
        struct stat st;
        if (lstat(hidden[i], &st) == 0 && S_ISDIR(st.st_mode))
            must(mount("tmpfs", hidden[i], "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == 0, "mount", hidden[i]);
    }
    if (bind_dir != NULL) {
        char source[4096], target[4096];
        snprintf(source, sizeof source, "/oldroot%s", bind_dir);
        snprintf(target, sizeof target, "/newroot%s", bind_dir);
        /* Below the fresh /tmp the mount point must be made first. */
        for (char *p = target + strlen("/newroot") + 1; *p; p++)
            if (*p == '/') {
                *p = '\0';
                mkdir(target, 0755);
                *p = '/';
            }
        must(mkdir(target, 0755) == 0 || errno == EEXIST, "mkdir", target);
        must(rbind_with(source, target, MOUNT_ATTR_NODEV), "bind", source);
    }

    /* Drop the host root and make the assembled tree the root. */
    must(umount2("/oldroot", MNT_DETACH) == 0, "umount", "/oldroot");
    must(chdir("/newroot") == 0 && syscall(SYS_pivot_root, ".", ".") == 0, "pivot_root", "/newroot");
    must(umount2(".", MNT_DETACH) == 0 && chdir("/") == 0, "umount", "/");
    if (namespaces & CLONE_NEWNET) bring_up_loopback();
    execv(command[0], command);
    fail("execv", command[0]);
}

static int spawn_once(void) {
    /* Like fork, with the child starting in its new namespaces. */
    pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD | namespaces, NULL, NULL, NULL, NULL);
    if (pid == 0) child();
    int status = 0;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv) {
    struct bench b;
    bench_parse(&b, argc, argv, "c-clone-sandbox", "[--shared-netns] [--bind DIR] COMMAND [ARGS...]", 1);
    command = b.args;
    outer_uid = getuid();
    outer_gid = getgid();
    bool shared_netns = false;
    for (;;) {
        if (strcmp(command[0], "--shared-netns") == 0 && command[1] != NULL) {
            shared_netns = true;
            command++;
        } else if (strcmp(command[0], "--bind") == 0 && command[1] != NULL && command[2] != NULL) {
            if (command[1][0] != '/') return fprintf(stderr, "c-clone-sandbox: --bind needs an absolute path\n"), 2;
            bind_dir = command[1];
            command += 2;
        } else {
            break;
        }
    }
    if (shared_netns) {
        char map[64];
        if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) return perror("c-clone-sandbox: unshare"), 1;
        snprintf(map, sizeof map, "%u %u 1\n", outer_uid, outer_uid);
        if (!write_file("/proc/self/uid_map", map) || !write_file("/proc/self/setgroups", "deny\n")) return 1;
        snprintf(map, sizeof map, "%u %u 1\n", outer_gid, outer_gid);
        if (!write_file("/proc/self/gid_map", map)) return 1;
        bring_up_loopback();
        namespaces &= ~CLONE_NEWNET;
    }
    dev_null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (dev_null < 0) return 1;
    return bench_run(&b, spawn_once);
}
