/* Landlock fallback for hosts without usable user namespaces (landlock.h). */
#define _GNU_SOURCE
#include "landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "report.h"

/* The uapi, spelled out: musl ships no <linux/landlock.h>. */
#define SYS_landlock_create_ruleset_nr 444
#define SYS_landlock_add_rule_nr 445
#define SYS_landlock_restrict_self_nr 446
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#define LANDLOCK_RULE_PATH_BENEATH 1

#define FS_EXECUTE (1ULL << 0)
#define FS_WRITE_FILE (1ULL << 1)
#define FS_READ_FILE (1ULL << 2)
#define FS_READ_DIR (1ULL << 3)
#define FS_REMOVE_DIR (1ULL << 4)
#define FS_REMOVE_FILE (1ULL << 5)
#define FS_MAKE_CHAR (1ULL << 6)
#define FS_MAKE_DIR (1ULL << 7)
#define FS_MAKE_REG (1ULL << 8)
#define FS_MAKE_SOCK (1ULL << 9)
#define FS_MAKE_FIFO (1ULL << 10)
#define FS_MAKE_BLOCK (1ULL << 11)
#define FS_MAKE_SYM (1ULL << 12)
#define FS_REFER (1ULL << 13)    /* ABI 2 */
#define FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#define NET_BIND_TCP (1ULL << 0)    /* ABI 4 */
#define NET_CONNECT_TCP (1ULL << 1) /* ABI 4 */
#define SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define SCOPE_SIGNAL (1ULL << 1)               /* ABI 6 */

struct ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct path_beneath_attr {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

#define READ_RIGHTS (FS_EXECUTE | FS_READ_FILE | FS_READ_DIR)
#define FILE_RIGHTS (FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE)

static uint64_t write_rights(int abi) {
    uint64_t rights = FS_WRITE_FILE | FS_REMOVE_DIR | FS_REMOVE_FILE | FS_MAKE_CHAR | FS_MAKE_DIR | FS_MAKE_REG |
                      FS_MAKE_SOCK | FS_MAKE_FIFO | FS_MAKE_BLOCK | FS_MAKE_SYM;
    if (abi >= 2) rights |= FS_REFER;
    if (abi >= 3) rights |= FS_TRUNCATE;
    return rights;
}

int landlock_abi(void) {
    long abi = syscall(SYS_landlock_create_ruleset_nr, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return abi > 0 ? (int)abi : 0;
}

static bool is_bind(enum op_kind kind) { return kind == OP_BIND || kind == OP_RO_BIND || kind == OP_DEV_BIND; }

static bool under(const char *path, const char *dir) {
    size_t n = strlen(dir);
    if (strcmp(dir, "/") == 0) return true;
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

const char *landlock_unsupported(const struct plan *plan, char *why, size_t size) {
    for (int i = 0; i < plan->op_count; i++) {
        const struct setup_op *op = &plan->ops[i];
        if (op->kind == OP_OVERLAY || op->kind == OP_TMP_OVERLAY || op->kind == OP_RO_OVERLAY) {
            snprintf(why, size, "the overlay at %s needs a mount namespace", op->dest);
            return why;
        }
        if (is_bind(op->kind) && strcmp(op->source, op->dest) != 0) {
            snprintf(why, size, "showing host path %s at %s needs a mount namespace", op->source, op->dest);
            return why;
        }
        if ((op->kind == OP_PROC && strcmp(op->dest, "/proc") != 0) ||
            (op->kind == OP_DEV && strcmp(op->dest, "/dev") != 0)) {
            snprintf(why, size, "a /%s at %s needs a mount namespace", op->kind == OP_PROC ? "proc" : "dev",
                     op->dest);
            return why;
        }
        if (op->kind == OP_REMOUNT_RO)
            for (int k = 0; k < i; k++)
                if ((plan->ops[k].kind == OP_BIND || plan->ops[k].kind == OP_DEV_BIND) &&
                    under(op->dest, plan->ops[k].dest)) {
                    snprintf(why, size, "making %s read-only inside the writable %s needs a mount namespace",
                             op->dest, plan->ops[k].dest);
                    return why;
                }
    }
    return NULL;
}

static bool tcp_refused(const struct plan *plan) {
    return plan->landlock_abi >= 4 && (plan->clone_flags & CLONE_NEWNET) && plan->no_loopback;
}

void landlock_effect(const struct plan *plan, char *out, size_t size) {
    size_t len = 0;
#define ADD(...)                                                                   \
    do {                                                                           \
        int n_ = snprintf(out + len, size - len, __VA_ARGS__);                     \
        if (n_ > 0) len = (size_t)n_ >= size - len ? size - 1 : len + (size_t)n_;  \
    } while (0)
    out[0] = '\0';
    ADD("no namespaces: the action sees the host's processes%s, ids and hostname; Landlock (ABI %d) lets it write "
        "only to",
        (plan->clone_flags & CLONE_NEWNET) && !tcp_refused(plan) ? ", network" : "", plan->landlock_abi);
    int writable = 0;
    for (int i = 0; i < plan->op_count; i++) {
        const struct setup_op *op = &plan->ops[i];
        if (op->kind == OP_BIND || op->kind == OP_DEV_BIND) ADD("%s %s", writable++ ? "," : "", op->dest);
        else if (op->kind == OP_DEV) ADD("%s the usual /dev devices", writable++ ? "," : "");
        else if (op->kind == OP_TMPFS && strcmp(op->dest, "/tmp") == 0 && plan->private_tmp != NULL)
            ADD("%s TMPDIR=%s (instead of a private /tmp)", writable++ ? "," : "", plan->private_tmp);
        else if (op->kind == OP_TMPFS) ADD("%s (not %s, which stays the host's)", writable++ ? "," : "", op->dest);
    }
    if (writable == 0) ADD(" nothing");
    if (tcp_refused(plan)) ADD("; TCP is refused, other network traffic is not");
    if (plan->sandbox_uid >= 0 || plan->sandbox_gid >= 0) ADD("; --uid/--gid are not applied");
    if (plan->hostname != NULL) ADD("; --hostname is not applied");
    for (int i = 0; i < plan->rlimit_count; i++)
        if (plan->rlimits[i].resource == RLIMIT_NPROC)
            ADD("; --rlimit nproc is not applied (without a user namespace it would count all the user's processes)");
#undef ADD
}

static void add_rule(int ruleset, const char *path, uint64_t rights, bool try_only, int report_fd) {
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0) {
        if (try_only && errno == ENOENT) return;
        report_failure(report_fd, "landlock", errno, "open", path, NULL);
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) rights &= FILE_RIGHTS;
    struct path_beneath_attr attr = {.allowed_access = rights, .parent_fd = fd};
    if (syscall(SYS_landlock_add_rule_nr, ruleset, LANDLOCK_RULE_PATH_BENEATH, &attr, 0) < 0)
        report_failure(report_fd, "landlock", errno, "landlock_add_rule", path, NULL);
    close(fd);
}

void landlock_enter(const struct plan *plan, int report_fd) {
    int abi = plan->landlock_abi;
    uint64_t rw = READ_RIGHTS | write_rights(abi);
    struct ruleset_attr attr = {.handled_access_fs = rw};
    if (tcp_refused(plan)) attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP;
    if (abi >= 6) {
        /* What a pid and network namespace would have kept apart: signals to
         * other processes, and abstract unix sockets outside the action. */
        if (plan->clone_flags & CLONE_NEWPID) attr.scoped |= SCOPE_SIGNAL;
        if (plan->clone_flags & CLONE_NEWNET) attr.scoped |= SCOPE_ABSTRACT_UNIX_SOCKET;
    }
    int ruleset = (int)syscall(SYS_landlock_create_ruleset_nr, &attr, sizeof attr, 0);
    if (ruleset < 0) report_failure(report_fd, "landlock", errno, "landlock_create_ruleset", NULL, NULL);
    for (int i = 0; i < plan->op_count; i++) {
        const struct setup_op *op = &plan->ops[i];
        switch (op->kind) {
        case OP_RO_BIND: add_rule(ruleset, op->source, READ_RIGHTS, op->try_only, report_fd); break;
        case OP_BIND:
        case OP_DEV_BIND: add_rule(ruleset, op->source, rw, op->try_only, report_fd); break;
        case OP_PROC: add_rule(ruleset, "/proc", READ_RIGHTS, false, report_fd); break;
        case OP_DEV: {
            static const char *const devices[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random",
                                                  "/dev/urandom", "/dev/tty", "/dev/ptmx", "/dev/pts", "/dev/shm"};
            for (size_t k = 0; k < sizeof devices / sizeof devices[0]; k++)
                add_rule(ruleset, devices[k], rw, true, report_fd);
            break;
        }
        case OP_TMPFS:
            if (strcmp(op->dest, "/tmp") == 0 && plan->private_tmp != NULL)
                add_rule(ruleset, plan->private_tmp, rw, false, report_fd);
            break;
        default: break; /* directories and links are the host's; the rest is refused up front */
        }
    }
    if (plan->private_tmp != NULL && setenv("TMPDIR", plan->private_tmp, 1) < 0)
        report_failure(report_fd, "landlock", errno, "setenv", "TMPDIR", NULL);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        report_failure(report_fd, "landlock", errno, "prctl", "PR_SET_NO_NEW_PRIVS", NULL);
    if (syscall(SYS_landlock_restrict_self_nr, ruleset, 0) < 0)
        report_failure(report_fd, "landlock", errno, "landlock_restrict_self", NULL, NULL);
    close(ruleset);
}

char *landlock_private_tmp(void) {
    const char *base = getenv("TMPDIR");
    char template[PATH_MAX];
    snprintf(template, sizeof template, "%s/paddock-tmp-XXXXXX", base != NULL && base[0] == '/' ? base : "/tmp");
    if (mkdtemp(template) == NULL) return NULL;
    return strdup(template);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void remove_tree(const char *path) {
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
