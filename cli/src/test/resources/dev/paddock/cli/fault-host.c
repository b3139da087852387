/* fault-host: runs a command on a host made hostile the way real hosts are,
 * for paddock's failure tests. Compiled by the tests themselves.
 *
 *   fault-host [--userns] [--deny-namespaces] [--deny-mount] [--deny-landlock] -- COMMAND...
 *
 * --userns           a new user and mount namespace to change things in without
 *                    touching the host: as root, ids 0-65535 map to themselves
 *                    (so the command can still drop to uid 65534 with setpriv);
 *                    otherwise the caller becomes root inside. Mounts stay private.
 * --deny-namespaces  a seccomp filter as container runtimes install: clone and
 *                    unshare with namespace flags and setns get EPERM, clone3 ENOSYS
 * --deny-mount       the filter refuses mount and its relatives with EPERM
 * --deny-landlock    the filter answers Landlock's calls with ENOSYS (no Landlock)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what) {
    fprintf(stderr, "fault-host: %s: %s\n", what, strerror(errno));
    exit(125);
}

static void write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) die(path);
    close(fd);
}

static void enter_userns(void) {
    uid_t uid = getuid();
    gid_t gid = getgid();
    int ready[2], done[2];
    if (pipe(ready) < 0 || pipe(done) < 0) die("pipe");
    pid_t self = getpid();
    pid_t helper = uid == 0 ? fork() : -1;
    if (uid == 0 && helper < 0) die("fork");
    if (helper == 0) { /* stays outside, where writing a full map is allowed */
        char c;
        if (read(ready[0], &c, 1) != 1) _exit(1);
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/uid_map", self);
        write_file(path, "0 0 65536\n");
        snprintf(path, sizeof path, "/proc/%d/gid_map", self);
        write_file(path, "0 0 65536\n");
        if (write(done[1], "x", 1) != 1) _exit(1);
        _exit(0);
    }
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) die("unshare");
    if (uid == 0) {
        char c;
        if (write(ready[1], "x", 1) != 1 || read(done[0], &c, 1) != 1) die("id maps");
        waitpid(helper, NULL, 0);
    } else {
        char map[64];
        snprintf(map, sizeof map, "0 %u 1\n", uid);
        write_file("/proc/self/uid_map", map);
        write_file("/proc/self/setgroups", "deny\n");
        snprintf(map, sizeof map, "0 %u 1\n", gid);
        write_file("/proc/self/gid_map", map);
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("mount --make-rprivate /");
}

#define NAMESPACE_FLAGS 0x7E020080U /* CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWTIME */

struct program {
    struct sock_filter code[128];
    unsigned short len;
};

static void emit(struct program *p, struct sock_filter f) { p->code[p->len++] = f; }

/* if (nr == number) return action; */
static void deny(struct program *p, int number, unsigned errno_value) {
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)number, 0, 1));
    emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | errno_value));
}

/* if (nr == number) return args[0] & NAMESPACE_FLAGS ? EPERM : ALLOW; (reloads nr after) */
static void deny_with_namespace_flags(struct program *p, int number) {
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)number, 0, 4));
    emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])));
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NAMESPACE_FLAGS, 0, 1));
    emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
    emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
}

static void install_filter(int namespaces, int mounts, int landlock) {
    struct program p = {.len = 0};
    emit(&p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
    emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
    emit(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    emit(&p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
    if (namespaces) {
        deny(&p, 435 /* clone3: flags are out of a filter's reach */, ENOSYS);
        deny(&p, SYS_setns, EPERM);
        deny_with_namespace_flags(&p, SYS_unshare);
        deny_with_namespace_flags(&p, SYS_clone);
    }
    if (mounts) {
        static const int calls[] = {SYS_mount, SYS_umount2, SYS_pivot_root, 428, 429, 430, 431, 432, 433, 442};
        for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) deny(&p, calls[i], EPERM);
    }
    if (landlock) {
        deny(&p, 444, ENOSYS);
        deny(&p, 445, ENOSYS);
        deny(&p, 446, ENOSYS);
    }
    emit(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    struct sock_fprog prog = {.len = p.len, .filter = p.code};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die("no_new_privs");
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) die("seccomp");
}

int main(int argc, char **argv) {
    int userns = 0, namespaces = 0, mounts = 0, landlock = 0, i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--userns") == 0) userns = 1;
        else if (strcmp(argv[i], "--deny-namespaces") == 0) namespaces = 1;
        else if (strcmp(argv[i], "--deny-mount") == 0) mounts = 1;
        else if (strcmp(argv[i], "--deny-landlock") == 0) landlock = 1;
        else {
            fprintf(stderr, "fault-host: unknown option %s\n", argv[i]);
            return 125;
        }
    }
    if (i + 1 >= argc) {
        fprintf(stderr, "usage: fault-host [--userns] [--deny-namespaces] [--deny-mount] [--deny-landlock] -- CMD...\n");
        return 125;
    }
    if (userns) enter_userns();
    if (namespaces || mounts || landlock) install_filter(namespaces, mounts, landlock);
    execvp(argv[i + 1], argv + i + 1);
    die(argv[i + 1]);
}
