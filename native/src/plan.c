/* Command-line parsing: bubblewrap's option names and semantics where they
 * overlap, paddock's own options where bwrap has nothing. */
#define _GNU_SOURCE
#include "plan.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "msg.h"

static int fail(char *err, size_t err_len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

int64_t parse_duration_ms(const char *text) {
    if (text == NULL || *text == '\0') return -1;
    errno = 0;
    char *end;
    double value = strtod(text, &end);
    if (errno != 0 || end == text || value < 0 || value != value) return -1;
    double scale;
    if (*end == '\0' || strcmp(end, "s") == 0) scale = 1000.0;
    else if (strcmp(end, "ms") == 0) scale = 1.0;
    else if (strcmp(end, "m") == 0) scale = 60000.0;
    else if (strcmp(end, "h") == 0) scale = 3600000.0;
    else return -1;
    double ms = value * scale;
    if (ms > (double)INT64_MAX / 2) return -1;
    int64_t rounded = (int64_t)ms;
    if ((double)rounded < ms) rounded++; /* never round a positive timeout down to 0 */
    return rounded;
}

static int parse_fd(const char *text, int *fd) {
    if (text == NULL || *text == '\0') return -1;
    errno = 0;
    char *end;
    long value = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < 0 || value > INT_MAX) return -1;
    *fd = (int)value;
    return 0;
}

/* The argument list being parsed. --args FD splices NUL-separated arguments
 * read from FD in at its own position, so it is a growable vector. */
struct arglist {
    char **items;
    int count;
};

/* Bounds for --args: far beyond any real command line (execve takes a few MiB at most), and
 * low enough that every count fits an int with room to spare. */
#define ARGS_MAX_BYTES ((size_t)256 << 20)
#define ARGS_MAX_COUNT 4000000

static int splice_args_from_fd(struct arglist *args, int at, int fd, char *err, size_t err_len) {
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL) return fail(err, err_len, "--args %d: out of memory", fd);
    for (;;) {
        if (len == cap) {
            if (cap >= ARGS_MAX_BYTES)
                return fail(err, err_len, "--args %d: more than %zu MiB of arguments", fd, ARGS_MAX_BYTES >> 20);
            cap *= 2;
            char *grown = realloc(buf, cap);
            if (grown == NULL) return fail(err, err_len, "--args %d: out of memory", fd);
            buf = grown;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(err, err_len, "--args %d: cannot read: %s", fd, strerror(errno));
        if (n == 0) break;
        len += (size_t)n;
    }
    close(fd);
    size_t added = 0;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\0') added++;
    if (len > 0 && buf[len - 1] != '\0')
        return fail(err, err_len, "--args %d: arguments must each end with a NUL byte", fd);
    if (added + (size_t)args->count > ARGS_MAX_COUNT)
        return fail(err, err_len, "--args %d: more than %d arguments", fd, ARGS_MAX_COUNT);
    char **items = malloc(sizeof(char *) * ((size_t)args->count - 2 + added + 1));
    if (items == NULL) return fail(err, err_len, "--args %d: out of memory", fd);
    int n = 0;
    for (int i = 0; i < at; i++) items[n++] = args->items[i];
    for (size_t i = 0; i < len; i += strlen(buf + i) + 1) items[n++] = buf + i;
    for (int i = at + 2; i < args->count; i++) items[n++] = args->items[i];
    items[n] = NULL;
    args->items = items;
    args->count = n;
    return 0;
}

/* The room for count + 1 items of a vector that grows by doubling from 8:
 * count itself when that is full, else 0 (no realloc needed). Growing one
 * item at a time made a spawn's parse go through ever larger allocations,
 * each an mmap and munmap of its own under musl. */
static size_t grown_room(int count) {
    if (count == 0) return 8;
    return count >= 8 && (count & (count - 1)) == 0 ? (size_t)count * 2 : 0;
}

static struct setup_op *add_setup_op(struct plan *plan, enum op_kind kind, const char *source, const char *dest,
                                     bool try_only) {
    size_t room = grown_room(plan->op_count);
    if (room > 0) {
        struct setup_op *ops = realloc(plan->ops, sizeof(struct setup_op) * room);
        if (ops == NULL) return NULL;
        plan->ops = ops;
    }
    struct setup_op *ops = plan->ops;
    ops[plan->op_count] = (struct setup_op){.kind = kind, .source = source, .dest = dest, .try_only = try_only,
                                         .perms = -1, .fd = -1};
    return &ops[plan->op_count++];
}

/* Overlay layers named by --overlay-src, waiting for the overlay that uses them. */
struct pending_layers {
    const char **paths;
    int count;
};

/* --overlay RWSRC WORKDIR DEST, --tmp-overlay DEST, --ro-overlay DEST: one
 * overlay over the layers given by the --overlay-src options before it. */
static int add_overlay(struct plan *plan, struct pending_layers *pending, const char *opt, enum op_kind kind,
                       const char *upper, const char *workdir, const char *dest, char *err, size_t err_len) {
    /* bwrap's words: its test suite and users' scripts look for them. */
    if (kind == OP_RO_OVERLAY && pending->count < 2)
        return fail(err, err_len, "%s requires at least two --overlay-src", opt);
    if (pending->count == 0) return fail(err, err_len, "%s requires at least one --overlay-src", opt);
    if (dest[0] != '/') return fail(err, err_len, "option %s: '%s' must be an absolute path", opt, dest);
    struct setup_op *op = add_setup_op(plan, kind, upper, dest, false);
    if (op == NULL) return fail(err, err_len, "out of memory");
    op->layers = pending->paths;
    op->layer_count = pending->count;
    op->workdir = workdir;
    *pending = (struct pending_layers){NULL, 0};
    return 0;
}

static const struct {
    const char *name;
    enum overlay_impl impl;
} overlay_impls[] = {
    {"auto", OVERLAY_AUTO}, {"kernel", OVERLAY_KERNEL}, {"fuse", OVERLAY_FUSE}, {"bind", OVERLAY_BIND},
};

/* Options that take a host source and a sandbox destination. */
static const struct {
    const char *name;
    enum op_kind kind;
    bool try_only;
} bind_options[] = {
    {"--bind", OP_BIND, false},         {"--bind-try", OP_BIND, true},
    {"--ro-bind", OP_RO_BIND, false},   {"--ro-bind-try", OP_RO_BIND, true},
    {"--dev-bind", OP_DEV_BIND, false}, {"--dev-bind-try", OP_DEV_BIND, true},
    {"--symlink", OP_SYMLINK, false},
};

/* Options that take one sandbox path. */
static const struct {
    const char *name;
    enum op_kind kind;
} path_options[] = {
    {"--tmpfs", OP_TMPFS}, {"--proc", OP_PROC}, {"--dev", OP_DEV}, {"--dir", OP_DIR}, {"--remount-ro", OP_REMOUNT_RO},
};

static const struct {
    const char *name;
    int flags;
} unshare_options[] = {
    {"--unshare-user", CLONE_NEWUSER},   {"--unshare-user-try", CLONE_NEWUSER},
    {"--unshare-pid", CLONE_NEWPID},     {"--unshare-net", CLONE_NEWNET},
    {"--unshare-ipc", CLONE_NEWIPC},     {"--unshare-uts", CLONE_NEWUTS},
    {"--unshare-cgroup", CLONE_NEWCGROUP}, {"--unshare-cgroup-try", CLONE_NEWCGROUP},
    {"--unshare-all", CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP},
};

/* path made absolute against base, or against the current directory when
 * base is NULL; a path that is already absolute is returned as it is. */
static const char *absolute(const char *path, const char *base) {
    if (path[0] == '/') return path;
    char cwd[PATH_MAX];
    if (base == NULL) {
        if (getcwd(cwd, sizeof cwd) == NULL) return NULL;
        base = cwd;
    }
    size_t len = strlen(base) + strlen(path) + 2;
    char *joined = malloc(len);
    if (joined == NULL) return NULL;
    snprintf(joined, len, "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/", path);
    return joined;
}

static int parse_id(const char *text, int *id) {
    int fd;
    if (parse_fd(text, &fd) < 0) return -1; /* same grammar: a non-negative int */
    *id = fd;
    return 0;
}

static int add_env_op(struct plan *plan, enum env_op_kind kind, const char *name, const char *value) {
    size_t room = grown_room(plan->env_op_count);
    if (room > 0) {
        struct env_op *ops = realloc(plan->env_ops, sizeof(struct env_op) * room);
        if (ops == NULL) return -1;
        plan->env_ops = ops;
    }
    plan->env_ops[plan->env_op_count++] = (struct env_op){kind, name, value};
    return 0;
}


/* Capability names as the kernel numbers them (musl ships no <linux/capability.h>). */
static const char *const cap_names[] = {
    "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
    "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
    "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
    "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write", "audit_control", "setfcap",
    "mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf",
    "checkpoint_restore",
};

/* "CAP_KILL", "kill" or "5": the capability's number, or -1. */
static int parse_cap(const char *text) {
    const char *name = strncasecmp(text, "cap_", 4) == 0 ? text + 4 : text;
    for (size_t i = 0; i < sizeof cap_names / sizeof cap_names[0]; i++)
        if (strcasecmp(name, cap_names[i]) == 0) return (int)i;
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno == 0 && *text != '\0' && *end == '\0' && n >= 0 && n < 64) return (int)n;
    return -1;
}

/* The caller's effective capabilities (a caller with uid 0 keeps them, as under bwrap). */
static uint64_t effective_caps(void) {
    struct cap_header header = {CAP_VERSION_3, 0};
    struct cap_data data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &header, data) < 0) return 0;
    return (uint64_t)data[0].effective | (uint64_t)data[1].effective << 32;
}

/* An octal mode up to 07777, as --perms and --chmod take it; -1 otherwise. */
static int parse_mode(const char *text) {
    if (*text == '\0') return -1;
    char *end;
    unsigned long mode = strtoul(text, &end, 8);
    if (*end != '\0' || mode > 07777) return -1;
    return (int)mode;
}

/* Options that only modify the next one (bwrap's "modifier options"). */
/* A tmpfs size in bytes: a non-zero number, at most half the address space (as bwrap's --size). */
static int parse_tmpfs_size(const char *opt, const char *text, unsigned long long *out, char *err, size_t err_len) {
    char *end;
    errno = 0;
    unsigned long long size = strtoull(text, &end, 0);
    if (errno != 0 || !isdigit((unsigned char)text[0]) || *end != '\0' || size == 0)
        return fail(err, err_len, "%s takes a non-zero number of bytes", opt);
    if (size > SIZE_MAX >> 1) return fail(err, err_len, "%s (for tmpfs) is limited to %zu", opt, (size_t)(SIZE_MAX >> 1));
    *out = size;
    return 0;
}

/* --rlimit's resources: the limits an action may be given, by their names in getrlimit(2). */
static const struct {
    const char *name;
    int resource;
} RLIMITS[] = {{"as", RLIMIT_AS}, {"cpu", RLIMIT_CPU}, {"data", RLIMIT_DATA}, {"fsize", RLIMIT_FSIZE},
               {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC}, {"stack", RLIMIT_STACK}};

static int parse_rlimit(struct plan *plan, const char *name, const char *value, char *err, size_t err_len) {
    int resource = -1;
    for (size_t k = 0; k < sizeof RLIMITS / sizeof RLIMITS[0]; k++)
        if (strcmp(name, RLIMITS[k].name) == 0) resource = RLIMITS[k].resource;
    if (resource < 0)
        return fail(err, err_len, "--rlimit: unknown resource '%s' (as, cpu, data, fsize, nofile, nproc or stack)", name);
    unsigned long long limit = RLIM_INFINITY;
    if (strcmp(value, "unlimited") != 0) {
        char *end;
        errno = 0;
        limit = strtoull(value, &end, 10);
        if (errno != 0 || !isdigit((unsigned char)value[0]) || *end != '\0' || limit == RLIM_INFINITY)
            return fail(err, err_len, "--rlimit %s takes a number (bytes, seconds or a count) or 'unlimited', not '%s'",
                        name, value);
    }
    for (int k = 0; k < plan->rlimit_count; k++)
        if (plan->rlimits[k].resource == resource) {
            plan->rlimits[k].value = limit; /* the last one counts */
            return 0;
        }
    if (plan->rlimit_count == (int)(sizeof plan->rlimits / sizeof plan->rlimits[0]))
        return fail(err, err_len, "--rlimit: too many limits");
    plan->rlimits[plan->rlimit_count++] = (struct rlimit_op){resource, name, limit};
    return 0;
}

static bool is_modifier(const char *opt) { return strcmp(opt, "--perms") == 0 || strcmp(opt, "--size") == 0; }

/* Whether the kernel has this namespace type (the -try options). Looked up
 * once per process: a keeper parses a request for every action, and the
 * lookup through /proc costs more than the rest of the parse. */
static bool have_namespace(const char *name) {
    static int known_user = -1, known_cgroup = -1;
    int *known = strcmp(name, "user") == 0 ? &known_user : strcmp(name, "cgroup") == 0 ? &known_cgroup : NULL;
    if (known != NULL && *known >= 0) return *known;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/ns/%s", name);
    struct stat st;
    bool have = stat(path, &st) == 0;
    if (known != NULL) *known = have;
    return have;
}

static bool selinux_enabled(void) {
    struct stat st;
    return stat("/sys/fs/selinux/enforce", &st) == 0;
}

/* The caller's ids and effective capabilities, as the first plan found them.
 * A spare sandbox (spare.c) parses its request in a user namespace of its
 * own, where they are the sandbox's: its plan must be the one its keeper
 * would have made (bwrap's rules on capabilities hang on the caller's uid). */
static struct caller {
    bool known;
    unsigned uid, gid;
    uint64_t caps;
} caller;

int plan_parse(int argc, char **argv, struct plan *plan, char *err, size_t err_len) {
    if (!caller.known) caller = (struct caller){true, getuid(), getgid(), effective_caps()};
    *plan = (struct plan){
        .status_fd = -1,
        .json_status_fd = -1,
        .info_fd = -1,
        .block_fd = -1,
        .userns_block_fd = -1,
        .sync_fd = -1,
        .userns_fd = -1,
        .pidns_fd = -1,
        .lifeline_fd = -1,
        .kill_grace_ms = DEFAULT_KILL_GRACE_MS,
        .sandbox_uid = -1,
        .sandbox_gid = -1,
        .caller_uid = caller.uid,
        .caller_gid = caller.gid,
    };
    plan->caps = plan->caller_uid == 0 ? caller.caps : 0;
    bool share_net = false, want_userns = false, seccomp_exclusive = false;
    int next_perms = -1;
    unsigned long long next_size = 0;
    struct pending_layers pending = {NULL, 0};
    struct arglist args = {argv, argc};
    int i = 1;
    while (i < args.count) {
        const char *opt = args.items[i];
        /* Values of the option at i: args.items[i+1], args.items[i+2]. */
#define NEED(n)                                                                         \
    do {                                                                                \
        if (i + (n) >= args.count)                                                      \
            return fail(err, err_len, "option %s needs %d argument%s", opt, (n),        \
                        (n) == 1 ? "" : "s");                                           \
    } while (0)
#define FD_ARG(target)                                                                               \
    do {                                                                                             \
        NEED(1);                                                                                     \
        if (parse_fd(args.items[i + 1], &(target)) < 0)                                              \
            return fail(err, err_len, "option %s: '%s' is not a file descriptor", opt, args.items[i + 1]); \
    } while (0)
        if (opt[0] != '-' || strcmp(opt, "--") == 0) {
            /* the command: a --perms, --size or --overlay-src before it has nothing to apply to */
        } else if (!is_modifier(opt) && next_perms >= 0 && strcmp(opt, "--dir") != 0 && strcmp(opt, "--tmpfs") != 0 &&
                   strcmp(opt, "--file") != 0 && strcmp(opt, "--bind-data") != 0 &&
                   strcmp(opt, "--ro-bind-data") != 0) {
            return fail(err, err_len, "--perms must be followed by an option that creates a file");
        } else if (!is_modifier(opt) && next_size != 0 && strcmp(opt, "--tmpfs") != 0) {
            return fail(err, err_len, "--size must be followed by --tmpfs");
        }
        if (pending.count > 0 && strcmp(opt, "--overlay-src") != 0 && strcmp(opt, "--overlay") != 0 &&
            strcmp(opt, "--tmp-overlay") != 0 && strcmp(opt, "--ro-overlay") != 0)
            return fail(err, err_len, "--overlay-src must be followed by another --overlay-src or one of --overlay, "
                                      "--tmp-overlay, or --ro-overlay");
        if (strcmp(opt, "--") == 0) {
            i++;
            break;
        } else if (strcmp(opt, "--args") == 0) {
            NEED(1);
            int fd;
            if (parse_fd(args.items[i + 1], &fd) < 0)
                return fail(err, err_len, "option --args: '%s' is not a file descriptor", args.items[i + 1]);
            if (splice_args_from_fd(&args, i, fd, err, err_len) < 0) return -1;
            continue; /* parse the spliced arguments from position i */
        } else if (strcmp(opt, "--new-session") == 0) {
            plan->new_session = true;
            i += 1;
        } else if (strcmp(opt, "--die-with-parent") == 0) {
            plan->die_with_parent = true;
            i += 1;
        } else if (strcmp(opt, "--rlimit") == 0) {
            NEED(2);
            if (parse_rlimit(plan, args.items[i + 1], args.items[i + 2], err, err_len) < 0) return -1;
            i += 3;
        } else if (strcmp(opt, "--allow-core-dumps") == 0) {
            plan->allow_core_dumps = true;
            i += 1;
        } else if (strcmp(opt, "--level-prefix") == 0) {
            msg_set_level_prefix(true);
            i += 1;
        } else if (strcmp(opt, "--argv0") == 0) {
            NEED(1);
            if (plan->argv0 != NULL) return fail(err, err_len, "--argv0 used multiple times");
            plan->argv0 = args.items[i + 1];
            i += 2;
        } else if (strcmp(opt, "--chdir") == 0) {
            NEED(1);
            if (plan->chdir_path != NULL) plan->warn_chdir = true;
            plan->chdir_path = args.items[i + 1];
            i += 2;
        } else if (strcmp(opt, "--setenv") == 0) {
            NEED(2);
            if (args.items[i + 1][0] == '\0' || strchr(args.items[i + 1], '=') != NULL)
                return fail(err, err_len, "option --setenv: '%s' is not a variable name", args.items[i + 1]);
            if (add_env_op(plan, ENV_SET, args.items[i + 1], args.items[i + 2]) < 0)
                return fail(err, err_len, "out of memory");
            i += 3;
        } else if (strcmp(opt, "--unsetenv") == 0) {
            NEED(1);
            if (add_env_op(plan, ENV_UNSET, args.items[i + 1], NULL) < 0)
                return fail(err, err_len, "out of memory");
            /* An environment that must be exactly the caller's (a remote action's) says so this way. */
            if (strcmp(args.items[i + 1], "PWD") == 0) plan->pwd_unset = true;
            i += 2;
        } else if (strcmp(opt, "--clearenv") == 0) {
            if (add_env_op(plan, ENV_CLEAR, NULL, NULL) < 0) return fail(err, err_len, "out of memory");
            i += 1;
        } else if (strcmp(opt, "--status-fd") == 0) {
            FD_ARG(plan->status_fd);
            i += 2;
        } else if (strcmp(opt, "--json-status-fd") == 0) {
            FD_ARG(plan->json_status_fd);
            i += 2;
        } else if (strcmp(opt, "--info-fd") == 0) {
            FD_ARG(plan->info_fd);
            i += 2;
        } else if (strcmp(opt, "--lifeline-fd") == 0) {
            FD_ARG(plan->lifeline_fd);
            i += 2;
        } else if (strcmp(opt, "--block-fd") == 0) {
            FD_ARG(plan->block_fd);
            i += 2;
        } else if (strcmp(opt, "--userns-block-fd") == 0) {
            FD_ARG(plan->userns_block_fd);
            i += 2;
        } else if (strcmp(opt, "--sync-fd") == 0) {
            FD_ARG(plan->sync_fd);
            i += 2;
        } else if (strcmp(opt, "--userns") == 0) {
            FD_ARG(plan->userns_fd);
            i += 2;
        } else if (strcmp(opt, "--pidns") == 0) {
            FD_ARG(plan->pidns_fd);
            i += 2;
        } else if (strcmp(opt, "--seccomp") == 0 || strcmp(opt, "--add-seccomp-fd") == 0) {
            bool exclusive = opt[2] == 's';
            if (plan->seccomp_fd_count > 0 && (exclusive || seccomp_exclusive))
                return fail(err, err_len, "%s cannot be combined with %s", opt,
                            exclusive ? "--add-seccomp-fd" : "--seccomp");
            if (plan->seccomp_fd_count == (int)(sizeof plan->seccomp_fds / sizeof plan->seccomp_fds[0]))
                return fail(err, err_len, "option %s: too many seccomp programs", opt);
            FD_ARG(plan->seccomp_fds[plan->seccomp_fd_count]);
            plan->seccomp_fd_count++;
            seccomp_exclusive = exclusive;
            i += 2;
        } else if (strcmp(opt, "--refuse-symlinks") == 0) {
            plan->refuse_symlinks = true;
            i += 1;
        } else if (strcmp(opt, "--default-seccomp") == 0) {
            plan->default_seccomp = true;
            i += 1;
        } else if (strcmp(opt, "--lock-file") == 0) {
            NEED(1);
            const char **files = realloc(plan->lock_files, sizeof(char *) * (size_t)(plan->lock_file_count + 1));
            if (files == NULL) return fail(err, err_len, "out of memory");
            files[plan->lock_file_count++] = args.items[i + 1];
            plan->lock_files = files;
            i += 2;
        } else if (strcmp(opt, "--disable-userns") == 0) {
            plan->disable_userns = true;
            i += 1;
        } else if (strcmp(opt, "--assert-userns-disabled") == 0) {
            plan->assert_userns_disabled = true;
            i += 1;
        } else if (strcmp(opt, "--exec-label") == 0 || strcmp(opt, "--file-label") == 0) {
            NEED(1);
            if (!selinux_enabled())
                return fail(err, err_len, "option %s: labeling not supported on this system (SELinux is not enabled)",
                            opt);
            if (opt[2] == 'e') plan->exec_label = args.items[i + 1];
            else plan->file_label = args.items[i + 1];
            i += 2;
        } else if (strcmp(opt, "--cap-add") == 0 || strcmp(opt, "--cap-drop") == 0) {
            NEED(1);
            bool add = opt[6] == 'a';
            const char *name = args.items[i + 1];
            uint64_t bits;
            if (strcasecmp(name, "ALL") == 0) {
                bits = ~(uint64_t)0;
            } else {
                int cap = parse_cap(name);
                if (cap < 0) return fail(err, err_len, "option %s: unknown cap: %s", opt, name);
                bits = (uint64_t)1 << cap;
            }
            if (add) plan->caps |= bits;
            else plan->caps &= ~bits;
            plan->caps_edited = true;
            i += 2;
        } else if (strcmp(opt, "--perms") == 0) {
            NEED(1);
            if (next_perms >= 0) return fail(err, err_len, "--perms given twice for the same action");
            next_perms = parse_mode(args.items[i + 1]);
            if (next_perms < 0) return fail(err, err_len, "--perms takes an octal argument <= 07777");
            i += 2;
        } else if (strcmp(opt, "--size") == 0) {
            NEED(1);
            if (next_size != 0) return fail(err, err_len, "--size given twice for the same action");
            if (parse_tmpfs_size("--size", args.items[i + 1], &next_size, err, err_len) < 0) return -1;
            i += 2;
        } else if (strcmp(opt, "--shm-size") == 0) {
            NEED(1);
            if (parse_tmpfs_size("--shm-size", args.items[i + 1], &plan->shm_size, err, err_len) < 0) return -1;
            i += 2;
        } else if (strcmp(opt, "--chmod") == 0) {
            NEED(2);
            int mode = parse_mode(args.items[i + 1]);
            if (mode < 0) return fail(err, err_len, "--chmod takes an octal argument <= 07777");
            const char *dest = absolute(args.items[i + 2], "/");
            struct setup_op *op = dest == NULL ? NULL : add_setup_op(plan, OP_CHMOD, NULL, dest, false);
            if (op == NULL) return fail(err, err_len, "out of memory");
            op->perms = mode;
            i += 3;
        } else if (strcmp(opt, "--file") == 0 || strcmp(opt, "--bind-data") == 0 || strcmp(opt, "--ro-bind-data") == 0 ||
                   strcmp(opt, "--bind-fd") == 0 || strcmp(opt, "--ro-bind-fd") == 0) {
            NEED(2);
            int fd;
            if (parse_fd(args.items[i + 1], &fd) < 0)
                return fail(err, err_len, "option %s: '%s' is not a file descriptor", opt, args.items[i + 1]);
            enum op_kind kind = strcmp(opt, "--file") == 0        ? OP_FILE
                                : strcmp(opt, "--bind-data") == 0 ? OP_BIND_DATA
                                : strcmp(opt, "--ro-bind-data") == 0 ? OP_RO_BIND_DATA
                                : strcmp(opt, "--bind-fd") == 0   ? OP_BIND
                                                                  : OP_RO_BIND;
            const char *source = NULL;
            if (kind == OP_BIND || kind == OP_RO_BIND) {
                char *path = malloc(32);
                if (path == NULL) return fail(err, err_len, "out of memory");
                snprintf(path, 32, "/proc/self/fd/%d", fd);
                source = path;
            }
            const char *dest = absolute(args.items[i + 2], "/");
            struct setup_op *op = dest == NULL ? NULL : add_setup_op(plan, kind, source, dest, false);
            if (op == NULL) return fail(err, err_len, "out of memory");
            op->fd = fd;
            if (kind == OP_FILE || kind == OP_BIND_DATA || kind == OP_RO_BIND_DATA) {
                op->perms = next_perms >= 0 ? next_perms : kind == OP_FILE ? 0666 : 0600;
                next_perms = -1;
            }
            i += 3;
        } else if (strcmp(opt, "--timeout") == 0 || strcmp(opt, "--kill-grace") == 0) {
            NEED(1);
            int64_t ms = parse_duration_ms(args.items[i + 1]);
            if (ms < 0)
                return fail(err, err_len,
                            "option %s: '%s' is not a duration (use e.g. 30s, 1.5s, 200ms, 2m, 1h)", opt,
                            args.items[i + 1]);
            if (opt[2] == 't') plan->timeout_ms = ms;
            else plan->kill_grace_ms = ms;
            i += 2;
        } else if (strcmp(opt, "--share-net") == 0) {
            share_net = true;
            i += 1;
        } else if (strcmp(opt, "--pty") == 0) {
            plan->pty = true;
            i += 1;
        } else if (strcmp(opt, "--no-loopback") == 0) {
            plan->no_loopback = true;
            i += 1;
        } else if (strcmp(opt, "--shared-netns") == 0) {
            plan->shared_netns = true;
            i += 1;
        } else if (strcmp(opt, "--as-pid-1") == 0) {
            plan->as_pid_1 = true;
            i += 1;
        } else if (strcmp(opt, "--hostname") == 0) {
            NEED(1);
            plan->hostname = args.items[i + 1];
            i += 2;
        } else if (strcmp(opt, "--overlay-src") == 0) {
            NEED(1);
            const char *path = absolute(args.items[i + 1], NULL);
            const char **paths = realloc(pending.paths, sizeof(char *) * (size_t)(pending.count + 1));
            if (paths == NULL || path == NULL) return fail(err, err_len, "out of memory");
            paths[pending.count++] = path;
            pending.paths = paths;
            i += 2;
        } else if (strcmp(opt, "--overlay") == 0) {
            NEED(3);
            const char *upper = absolute(args.items[i + 1], NULL), *work = absolute(args.items[i + 2], NULL);
            if (upper == NULL || work == NULL) return fail(err, err_len, "out of memory");
            if (add_overlay(plan, &pending, opt, OP_OVERLAY, upper, work, args.items[i + 3], err, err_len) < 0)
                return -1;
            i += 4;
        } else if (strcmp(opt, "--tmp-overlay") == 0 || strcmp(opt, "--ro-overlay") == 0) {
            NEED(1);
            if (add_overlay(plan, &pending, opt, opt[2] == 't' ? OP_TMP_OVERLAY : OP_RO_OVERLAY, NULL, NULL,
                            args.items[i + 1], err, err_len) < 0)
                return -1;
            i += 2;
        } else if (strcmp(opt, "--overlay-impl") == 0) {
            NEED(1);
            size_t k = 0, n = sizeof overlay_impls / sizeof overlay_impls[0];
            while (k < n && strcmp(args.items[i + 1], overlay_impls[k].name) != 0) k++;
            if (k == n)
                return fail(err, err_len, "option --overlay-impl: '%s' is not one of auto, kernel, fuse, bind",
                            args.items[i + 1]);
            plan->overlay_impl = overlay_impls[k].impl;
            i += 2;
        } else if (strcmp(opt, "--sandbox-mode") == 0) {
            NEED(1);
            if (strcmp(args.items[i + 1], "auto") == 0) plan->sandbox_mode = SANDBOX_AUTO;
            else if (strcmp(args.items[i + 1], "required") == 0) plan->sandbox_mode = SANDBOX_REQUIRED;
            else return fail(err, err_len, "option --sandbox-mode: '%s' is not one of auto, required", args.items[i + 1]);
            i += 2;
        } else if (strcmp(opt, "--uid") == 0 || strcmp(opt, "--gid") == 0) {
            NEED(1);
            if (parse_id(args.items[i + 1], opt[2] == 'u' ? &plan->sandbox_uid : &plan->sandbox_gid) < 0)
                return fail(err, err_len, "option %s: '%s' is not a numeric id", opt, args.items[i + 1]);
            i += 2;
        } else if (opt[0] == '-') {
            bool known = false;
            for (size_t k = 0; !known && k < sizeof unshare_options / sizeof unshare_options[0]; k++)
                if (strcmp(opt, unshare_options[k].name) == 0) {
                    int flags = unshare_options[k].flags;
                    if (strcmp(opt, "--unshare-user-try") == 0 && !have_namespace("user")) flags = 0;
                    if (strcmp(opt, "--unshare-cgroup-try") == 0 && !have_namespace("cgroup")) flags = 0;
                    if (strcmp(opt, "--unshare-all") == 0 && !have_namespace("cgroup")) flags &= ~CLONE_NEWCGROUP;
                    if (flags & CLONE_NEWUSER) want_userns = true;
                    plan->clone_flags |= flags & ~CLONE_NEWUSER;
                    i += 1;
                    known = true;
                }
            for (size_t k = 0; !known && k < sizeof bind_options / sizeof bind_options[0]; k++)
                if (strcmp(opt, bind_options[k].name) == 0) {
                    NEED(2);
                    /* As bwrap: a relative source is the launcher's directory's, a
                     * relative destination the sandbox root's. A symlink's target is kept as given. */
                    const char *source = bind_options[k].kind == OP_SYMLINK
                                             ? args.items[i + 1]
                                             : absolute(args.items[i + 1], NULL);
                    const char *dest = absolute(args.items[i + 2], "/");
                    if (source == NULL || dest == NULL) return fail(err, err_len, "%s: %s", opt, strerror(errno));
                    if (add_setup_op(plan, bind_options[k].kind, source, dest, bind_options[k].try_only) == NULL)
                        return fail(err, err_len, "out of memory");
                    i += 3;
                    known = true;
                }
            for (size_t k = 0; !known && k < sizeof path_options / sizeof path_options[0]; k++)
                if (strcmp(opt, path_options[k].name) == 0) {
                    NEED(1);
                    if (args.items[i + 1][0] != '/')
                        return fail(err, err_len, "option %s: '%s' must be an absolute path", opt, args.items[i + 1]);
                    struct setup_op *op = add_setup_op(plan, path_options[k].kind, NULL, args.items[i + 1], false);
                    if (op == NULL) return fail(err, err_len, "out of memory");
                    if (op->kind == OP_DIR || op->kind == OP_TMPFS) {
                        op->perms = next_perms >= 0 ? next_perms : 0755;
                        next_perms = -1;
                    }
                    if (op->kind == OP_TMPFS) {
                        op->size = next_size;
                        next_size = 0;
                    }
                    i += 2;
                    known = true;
                }
            if (!known) return fail(err, err_len, "unknown option '%s' (see %s --help)", opt, msg_name());
        } else {
            break; /* first non-option: the command, as bwrap allows without "--" */
        }
#undef NEED
#undef FD_ARG
    }
    if (pending.count > 0)
        return fail(err, err_len, "--overlay-src must be followed by another --overlay-src or one of --overlay, "
                                  "--tmp-overlay, or --ro-overlay");
    if (share_net) plan->clone_flags &= ~CLONE_NEWNET;
    /* Mounts need a mount namespace. As under bwrap, a caller other than
     * root always gets a user namespace with it (mounts need one), root only
     * when it asks (--unshare-user, --unshare-all), or joins one (--userns). */
    bool sandboxed = plan->clone_flags != 0 || plan->op_count > 0 || want_userns || plan->userns_fd >= 0 ||
                     plan->pidns_fd >= 0 || plan->disable_userns || plan->assert_userns_disabled;
    if (plan->userns_fd >= 0 && want_userns) return fail(err, err_len, "--userns not compatible --unshare-user");
    if (plan->disable_userns && !want_userns) return fail(err, err_len, "--disable-userns requires --unshare-user");
    if (plan->userns_block_fd >= 0 && !want_userns)
        return fail(err, err_len, "--userns-block-fd requires --unshare-user");
    if (plan->userns_block_fd >= 0 && plan->info_fd < 0)
        return fail(err, err_len, "--userns-block-fd requires --info-fd");
    if (plan->disable_userns && plan->userns_block_fd >= 0)
        return fail(err, err_len, "--disable-userns is not compatible with --userns-block-fd");
    if (sandboxed) {
        plan->clone_flags |= CLONE_NEWNS;
        if (plan->userns_fd < 0 && (want_userns || plan->caller_uid != 0)) plan->clone_flags |= CLONE_NEWUSER;
    }
    /* As bwrap: options that only mean something in a sandbox are refused
     * without one rather than silently ignored. */
    if (!sandboxed && (plan->sandbox_uid >= 0 || plan->sandbox_gid >= 0))
        return fail(err, err_len, "option %s needs a sandbox (--unshare-user, or any mount option)",
                    plan->sandbox_uid >= 0 ? "--uid" : "--gid");
    if (sandboxed && !(plan->clone_flags & CLONE_NEWUSER) && plan->userns_fd < 0) {
        if (plan->sandbox_uid >= 0 && (unsigned)plan->sandbox_uid != plan->caller_uid)
            return fail(err, err_len, "Specifying --uid requires --unshare-user or --userns");
        if (plan->sandbox_gid >= 0 && (unsigned)plan->sandbox_gid != plan->caller_gid)
            return fail(err, err_len, "Specifying --gid requires --unshare-user or --userns");
    }
    if (plan->shared_netns && !(plan->clone_flags & CLONE_NEWNET))
        return fail(err, err_len, "option --shared-netns needs --unshare-net (or --unshare-all without --share-net)");
    if (plan->shared_netns && plan->no_loopback)
        return fail(err, err_len, "option --shared-netns joins a namespace whose loopback is up: drop --no-loopback");
    if (plan->as_pid_1 && !(plan->clone_flags & CLONE_NEWPID))
        return fail(err, err_len, "option --as-pid-1 needs --unshare-pid (or --unshare-all)");
    if (plan->as_pid_1 && plan->lock_file_count > 0)
        return fail(err, err_len, "Specifying --as-pid-1 and --lock-file is not permitted");
    if (plan->hostname != NULL && !(plan->clone_flags & CLONE_NEWUTS))
        return fail(err, err_len, "option --hostname needs --unshare-uts (or --unshare-all)");
    if (i >= args.count)
        return fail(err, err_len, "no command given (usage: %s [OPTIONS] -- COMMAND [ARGS...])", msg_name());
    plan->argv = args.items + i;
    plan->exec_path = plan->argv[0];
    if (plan->argv0 != NULL) plan->argv[0] = (char *)plan->argv0;
    return 0;
}
