/* Command-line parsing: bubblewrap's option names and semantics where they
 * overlap, paddock's own options where bwrap has nothing. */
#define _GNU_SOURCE
#include "plan.h"

#include <errno.h>
#include <sched.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int splice_args_from_fd(struct arglist *args, int at, int fd, char *err, size_t err_len) {
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL) return fail(err, err_len, "--args %d: out of memory", fd);
    for (;;) {
        if (len == cap) {
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
    int added = 0;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\0') added++;
    if (len > 0 && buf[len - 1] != '\0')
        return fail(err, err_len, "--args %d: arguments must each end with a NUL byte", fd);
    char **items = malloc(sizeof(char *) * (size_t)(args->count - 2 + added + 1));
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

static struct setup_op *add_setup_op(struct plan *plan, enum op_kind kind, const char *source, const char *dest,
                                     bool try_only) {
    struct setup_op *ops = realloc(plan->ops, sizeof(struct setup_op) * (size_t)(plan->op_count + 1));
    if (ops == NULL) return NULL;
    plan->ops = ops;
    ops[plan->op_count] = (struct setup_op){.kind = kind, .source = source, .dest = dest, .try_only = try_only};
    return &ops[plan->op_count++];
}

/* Overlay layers named by --overlay-src, waiting for the overlay that uses them. */
struct pending_layers {
    const char **paths;
    int count;
};

/* The kernel's overlay options are a comma-separated list of colon-separated
 * paths: a path containing either character cannot be passed on. */
static int check_overlay_path(const char *opt, const char *path, char *err, size_t err_len) {
    if (path[0] != '/') return fail(err, err_len, "option %s: '%s' must be an absolute path", opt, path);
    if (strpbrk(path, ",:\\") != NULL)
        return fail(err, err_len, "option %s: '%s' contains ',', ':' or '\\', which overlay paths cannot hold", opt,
                    path);
    return 0;
}

/* --overlay RWSRC WORKDIR DEST, --tmp-overlay DEST, --ro-overlay DEST: one
 * overlay over the layers given by the --overlay-src options before it. */
static int add_overlay(struct plan *plan, struct pending_layers *pending, const char *opt, enum op_kind kind,
                       const char *upper, const char *workdir, const char *dest, char *err, size_t err_len) {
    if (pending->count == 0)
        return fail(err, err_len, "option %s %s: no layers; give them first with --overlay-src DIR", opt, dest);
    if (dest[0] != '/') return fail(err, err_len, "option %s: '%s' must be an absolute path", opt, dest);
    if (upper != NULL && (check_overlay_path(opt, upper, err, err_len) < 0 ||
                          check_overlay_path(opt, workdir, err, err_len) < 0))
        return -1;
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
    struct env_op *ops = realloc(plan->env_ops, sizeof(struct env_op) * (size_t)(plan->env_op_count + 1));
    if (ops == NULL) return -1;
    plan->env_ops = ops;
    ops[plan->env_op_count++] = (struct env_op){kind, name, value};
    return 0;
}

int plan_parse(int argc, char **argv, struct plan *plan, char *err, size_t err_len) {
    *plan = (struct plan){
        .status_fd = -1,
        .lifeline_fd = -1,
        .kill_grace_ms = DEFAULT_KILL_GRACE_MS,
        .sandbox_uid = -1,
        .sandbox_gid = -1,
    };
    bool share_net = false;
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
        } else if (strcmp(opt, "--chdir") == 0) {
            NEED(1);
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
            i += 2;
        } else if (strcmp(opt, "--clearenv") == 0) {
            if (add_env_op(plan, ENV_CLEAR, NULL, NULL) < 0) return fail(err, err_len, "out of memory");
            i += 1;
        } else if (strcmp(opt, "--json-status-fd") == 0 || strcmp(opt, "--lifeline-fd") == 0) {
            NEED(1);
            int fd;
            if (parse_fd(args.items[i + 1], &fd) < 0)
                return fail(err, err_len, "option %s: '%s' is not a file descriptor", opt, args.items[i + 1]);
            if (opt[2] == 'j') plan->status_fd = fd;
            else plan->lifeline_fd = fd;
            i += 2;
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
            if (check_overlay_path(opt, args.items[i + 1], err, err_len) < 0) return -1;
            const char **paths = realloc(pending.paths, sizeof(char *) * (size_t)(pending.count + 1));
            if (paths == NULL) return fail(err, err_len, "out of memory");
            paths[pending.count++] = args.items[i + 1];
            pending.paths = paths;
            i += 2;
        } else if (strcmp(opt, "--overlay") == 0) {
            NEED(3);
            if (add_overlay(plan, &pending, opt, OP_OVERLAY, args.items[i + 1], args.items[i + 2], args.items[i + 3],
                            err, err_len) < 0)
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
                    plan->clone_flags |= unshare_options[k].flags;
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
                    if (add_setup_op(plan, path_options[k].kind, NULL, args.items[i + 1], false) == NULL)
                        return fail(err, err_len, "out of memory");
                    i += 2;
                    known = true;
                }
            if (!known) return fail(err, err_len, "unknown option '%s' (see paddock-launch --help)", opt);
        } else {
            break; /* first non-option: the command, as bwrap allows without "--" */
        }
#undef NEED
    }
    if (pending.count > 0)
        return fail(err, err_len, "option --overlay-src %s: no --overlay, --tmp-overlay or --ro-overlay uses it",
                    pending.paths[pending.count - 1]);
    if (share_net) plan->clone_flags &= ~CLONE_NEWNET;
    /* Mounts need a mount namespace, and rootless mounts a user namespace: a
     * sandbox always has both, also when started as root. */
    bool sandboxed = plan->clone_flags != 0 || plan->op_count > 0;
    if (sandboxed) plan->clone_flags |= CLONE_NEWUSER | CLONE_NEWNS;
    /* As bwrap: options that only mean something in a sandbox are refused
     * without one rather than silently ignored. */
    if (!sandboxed && (plan->sandbox_uid >= 0 || plan->sandbox_gid >= 0))
        return fail(err, err_len, "option %s needs a sandbox (--unshare-user, or any mount option)",
                    plan->sandbox_uid >= 0 ? "--uid" : "--gid");
    if (plan->shared_netns && !(plan->clone_flags & CLONE_NEWNET))
        return fail(err, err_len, "option --shared-netns needs --unshare-net (or --unshare-all without --share-net)");
    if (plan->shared_netns && plan->no_loopback)
        return fail(err, err_len, "option --shared-netns joins a namespace whose loopback is up: drop --no-loopback");
    if (plan->as_pid_1 && !(plan->clone_flags & CLONE_NEWPID))
        return fail(err, err_len, "option --as-pid-1 needs --unshare-pid (or --unshare-all)");
    for (int k = 0; k < plan->op_count; k++)
        if (plan->ops[k].kind == OP_PROC && !(plan->clone_flags & CLONE_NEWPID))
            return fail(err, err_len, "option --proc %s needs --unshare-pid (or --unshare-all): a fresh procfs "
                        "belongs to the sandbox's own pid namespace", plan->ops[k].dest);
    if (plan->hostname != NULL && !(plan->clone_flags & CLONE_NEWUTS))
        return fail(err, err_len, "option --hostname needs --unshare-uts (or --unshare-all)");
    if (i >= args.count) return fail(err, err_len, "no command given (usage: paddock-launch [OPTIONS] -- COMMAND [ARGS...])");
    plan->argv = args.items + i;
    return 0;
}
