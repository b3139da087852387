/* linux-sandbox mode: paddock-launch standing in for Bazel's linux-sandbox.
 *
 * Buildfarm workers (and Bazel) run actions as
 *     linux-sandbox [-N] [-H] -W DIR [-S FILE] -w PATH... [-e DIR...] -- COMMAND...
 * This file parses that command line with linux-sandbox's own rules (its
 * getopt string ":W:T:t:il:L:w:e:M:m:S:h:pC:HnNRUPD:", @FILE argument files,
 * the same usage errors and exit status 1), translates it into paddock-launch's
 * bubblewrap-style options and runs /proc/self/exe with them. It mounts
 * nothing itself. It stays the parent of that launcher for the two things the
 * launcher's own exit status cannot say the way linux-sandbox does: the
 * action's own status also after a timeout or a SIGTERM (linux-sandbox exits
 * as its child did, where paddock-launch exits 124 on a timeout), and the
 * -S statistics file (an ExecutionStatistics protobuf, from the `exited`
 * record's rusage). docs/scale-out.md says what an action then sees. */
#define _GNU_SOURCE
#include "linux_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* linux-sandbox's getopt string, without the leading ':' (which only asks
 * getopt to report a missing argument as ':'). */
static const char optstring[] = "W:T:t:il:L:w:e:M:m:S:h:pC:HnNRUPD:";

struct strv {
    char **items;
    size_t len, cap;
};

static void strv_push(struct strv *v, const char *s) {
    if (v->len + 1 >= v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 32;
        char **items = realloc(v->items, cap * sizeof *items);
        if (items == NULL) {
            perror("linux-sandbox: realloc");
            exit(EXIT_FAILURE);
        }
        v->items = items;
        v->cap = cap;
    }
    v->items[v->len++] = (char *)s;
    v->items[v->len] = NULL;
}

static bool strv_has(const struct strv *v, const char *s) {
    for (size_t i = 0; i < v->len; i++)
        if (strcmp(v->items[i], s) == 0) return true;
    return false;
}

static char *xasprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        perror("linux-sandbox: vasprintf");
        exit(EXIT_FAILURE);
    }
    return s;
}

enum netns { NO_NETNS, NETNS, NETNS_WITH_LOOPBACK };

struct ls_opts {
    const char *working_dir;
    int timeout_secs, kill_delay_secs;
    bool sigint_sends_sigterm, persistent;
    const char *stdout_path, *stderr_path, *stats_path, *cgroups_dir, *debug_path;
    struct strv writable, tmpfs, bind_src, bind_tgt, args;
    bool hermetic;
    char *sandbox_root;
    enum netns netns;
    bool fake_hostname, fake_root, fake_username, enable_pty;
};

static const char *program = "linux-sandbox";

/* A usage error: the message, linux-sandbox's usage text, exit status 1. */
__attribute__((format(printf, 1, 2), noreturn)) static void usage(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nUsage: %s -- command arg1 @args\n", program);
    fputs("\nPossible arguments (Bazel's linux-sandbox options, run in paddock's sandbox):\n"
          "  -W <working-dir>  working directory, writable (default: the current one)\n"
          "  -T <timeout>  SIGTERM the action after this many seconds\n"
          "  -t <timeout>  after a timeout or SIGTERM, SIGKILL this many seconds later\n"
          "  -i  a SIGINT is handled like a SIGTERM\n"
          "  -l <file>  redirect stdout to a file\n"
          "  -L <file>  redirect stderr to a file\n"
          "  -w <file>  make a file or directory writable for the action\n"
          "  -e <dir>  mount an empty tmpfs on a directory\n"
          "  -M/-m <source/target>  bind a directory (read-only unless -w names the target);\n"
          "        -M names the source, an -m right after it the target\n"
          "  -S <file>  write resource usage (an ExecutionStatistics protobuf) to a file\n"
          "  -H  hostname 'localhost' in a new uts namespace\n"
          "  -n  a new network namespace without loopback\n"
          "  -N  a new network namespace with loopback up (only one of -n and -N)\n"
          "  -R  uid/gid 0 inside\n"
          "  -U  uid/gid of 'nobody' inside\n"
          "  -P  gid 'tty' inside\n"
          "  -D <debug-file>  write the translated command line and status records here\n"
          "  -p  do not die with the parent process\n"
          "  -C <dir>  put the sandbox's processes into this cgroup\n"
          "  -h <sandbox-dir>  the sandbox dir is the root, with only the -M/-m mounts\n"
          "  @FILE  read newline-separated arguments from FILE\n"
          "  --  command to run inside sandbox, followed by arguments\n",
          stderr);
    exit(EXIT_FAILURE);
}

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...) {
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", program);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, ": %s\n", strerror(saved));
    exit(EXIT_FAILURE);
}

static void validate_absolute(const char *path, char flag) {
    if (path[0] != '/') usage("The -%c option must be used with absolute paths only.", flag);
}

/* @FILE: its non-empty lines, each expanded again. */
static void expand_argument(struct strv *out, const char *arg, int depth) {
    if (arg[0] != '@') {
        strv_push(out, arg);
        return;
    }
    if (depth > 64) {
        errno = ELOOP;
        die("argument file %s nests too deeply", arg + 1);
    }
    FILE *f = fopen(arg + 1, "r");
    if (f == NULL) die("opening argument file %s failed", arg + 1);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        if (n > 0 && line[n - 1] == '\n') line[--n] = '\0';
        if (n > 0) expand_argument(out, strdup(line), depth + 1);
    }
    if (ferror(f)) die("error while reading from argument file %s", arg + 1);
    free(line);
    fclose(f);
}

static int parse_int(const char *text, char flag, const char *what) {
    int value;
    if (sscanf(text, "%d", &value) != 1 || value < 0) usage("Invalid %s (-%c) value: %s", what, flag, text);
    return value;
}

static void set_once(const char **slot, const char *value, const char *message) {
    if (*slot != NULL) usage("%s", message);
    *slot = value;
}

static void parse(struct ls_opts *o, const struct strv *args) {
    struct strv nonopts = {0};
    bool source_specified = false;
    size_t i = 1;
    while (i < args->len) {
        const char *a = args->items[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0') { /* GNU getopt moves operands behind the options */
            strv_push(&nonopts, a);
            i++;
            continue;
        }
        i++;
        for (size_t j = 1; a[j] != '\0';) {
            char c = a[j++];
            const char *spec = c == ':' ? NULL : strchr(optstring, c);
            if (spec == NULL) usage("Unrecognized argument: -%c (%zu)", c, i);
            const char *arg = NULL;
            if (spec[1] == ':') {
                if (a[j] != '\0') arg = a + j;
                else if (i < args->len) arg = args->items[i++];
                else usage("Flag -%c requires an argument", c);
            }
            if (c != 'M' && c != 'm') source_specified = false;
            switch (c) {
            case 'W':
                if (o->working_dir != NULL) usage("Multiple working directories (-W) specified, expected one.");
                validate_absolute(arg, c);
                o->working_dir = arg;
                break;
            case 'T': o->timeout_secs = parse_int(arg, c, "timeout"); break;
            case 't': o->kill_delay_secs = parse_int(arg, c, "kill delay"); break;
            case 'i': o->sigint_sends_sigterm = true; break;
            case 'p': o->persistent = true; break;
            case 'l': set_once(&o->stdout_path, arg, "Cannot redirect stdout to more than one destination."); break;
            case 'L': set_once(&o->stderr_path, arg, "Cannot redirect stderr to more than one destination."); break;
            case 'w':
                validate_absolute(arg, c);
                strv_push(&o->writable, arg);
                break;
            case 'e':
                validate_absolute(arg, c);
                strv_push(&o->tmpfs, arg);
                break;
            case 'M':
                validate_absolute(arg, c);
                strv_push(&o->bind_src, arg);
                strv_push(&o->bind_tgt, arg);
                source_specified = true;
                break;
            case 'm':
                validate_absolute(arg, c);
                if (!source_specified) usage("The -m option must be strictly preceded by an -M option.");
                o->bind_tgt.items[o->bind_tgt.len - 1] = (char *)arg;
                source_specified = false;
                break;
            case 'S': set_once(&o->stats_path, arg, "Cannot write stats to more than one destination."); break;
            case 'h': {
                o->hermetic = true;
                if (o->sandbox_root != NULL) usage("Multiple sandbox roots (-s) specified, expected one.");
                char *root = strdup(arg);
                size_t n = strlen(root);
                if (n > 0 && root[n - 1] == '/') {
                    validate_absolute(arg, c);
                    root[--n] = '\0';
                    if (n > 0 && root[n - 1] == '/') usage("Sandbox root path should not have trailing slashes");
                }
                o->sandbox_root = root;
                break;
            }
            case 'H': o->fake_hostname = true; break;
            case 'n':
                if (o->netns == NETNS_WITH_LOOPBACK) usage("Only one of -n and -N may be specified.");
                o->netns = NETNS;
                break;
            case 'N':
                if (o->netns == NETNS) usage("Only one of -n and -N may be specified.");
                o->netns = NETNS_WITH_LOOPBACK;
                break;
            case 'R':
                if (o->fake_username) usage("The -R option cannot be used at the same time us the -U option.");
                o->fake_root = true;
                break;
            case 'U':
                if (o->fake_root) usage("The -U option cannot be used at the same time us the -R option.");
                o->fake_username = true;
                break;
            case 'C':
                validate_absolute(arg, c);
                o->cgroups_dir = arg;
                break;
            case 'P': o->enable_pty = true; break;
            case 'D':
                if (o->debug_path != NULL) usage("Cannot write debug output to more than one file.");
                validate_absolute(arg, c);
                o->debug_path = arg;
                break;
            }
            if (arg != NULL) break; /* the rest of this word was the argument */
        }
    }
    if (o->working_dir != NULL && o->sandbox_root != NULL && strstr(o->working_dir, o->sandbox_root) == NULL)
        usage("working-dir %s (-W) should be a subdirectory of sandbox-dir %s (-h)", o->working_dir, o->sandbox_root);
    for (size_t k = 0; k < nonopts.len; k++) strv_push(&o->args, nonopts.items[k]);
    for (; i < args->len; i++) strv_push(&o->args, args->items[i]);
    if (o->args.len == 0) usage("No command specified.");
    if (o->working_dir == NULL) {
        char *cwd = getcwd(NULL, 0);
        if (cwd == NULL) die("getcwd");
        o->working_dir = cwd;
    }
}

/* The numeric ids of a user (passwd) or group (group) entry, as getpwnam(3)
 * would find them in the files; false when there is none. */
static bool lookup_ids(const char *file, const char *name, long *first, long *second) {
    FILE *f = fopen(file, "r");
    if (f == NULL) return false;
    char *line = NULL;
    size_t cap = 0;
    bool found = false;
    size_t len = strlen(name);
    while (!found && getline(&line, &cap, f) >= 0) {
        if (strncmp(line, name, len) != 0 || line[len] != ':') continue;
        char *p = strchr(line + len + 1, ':'); /* past the password field */
        if (p == NULL) continue;
        char *end;
        *first = strtol(p + 1, &end, 10);
        if (end == p + 1 || *end != ':') continue;
        *second = strtol(end + 1, &end, 10);
        found = true;
    }
    free(line);
    fclose(f);
    return found;
}

static int open_output(const char *path) {
    return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0666);
}

static void redirect(const char *path, int target) {
    if (path == NULL) return;
    int fd = open_output(path);
    if (fd < 0) die("open(%s)", path);
    if (dup2(fd, target) < 0) die("dup2");
    close(fd);
}

/* paddock-launch's command line for these options. */
/* The root (BIND_OPTION SOURCE /), a fresh /dev and /proc, then the -e tmpfs dirs: both layouts start so. */
static void push_root_proc_dev_tmpfs(struct strv *out, const char *bind_option, const char *source,
                                     const struct ls_opts *o) {
    const char *fixed[] = {bind_option, source, "/", "--dev", "/dev", "--proc", "/proc"};
    for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++) strv_push(out, fixed[k]);
    for (size_t k = 0; k < o->tmpfs.len; k++) {
        strv_push(out, "--tmpfs");
        strv_push(out, o->tmpfs.items[k]);
    }
}

static void translate(const struct ls_opts *o, int status_fd, struct strv *out) {
    strv_push(out, "paddock-launch");
    strv_push(out, "--status-fd");
    strv_push(out, xasprintf("%d", status_fd));
    strv_push(out, "--die-with-parent"); /* its parent is this process */
    /* linux-sandbox always has new user, mount, ipc and pid namespaces. */
    strv_push(out, "--unshare-user");
    strv_push(out, "--unshare-ipc");
    strv_push(out, "--unshare-pid");
    if (o->netns != NO_NETNS) {
        strv_push(out, "--unshare-net");
        if (o->netns == NETNS) strv_push(out, "--no-loopback");
    }
    if (o->fake_hostname) {
        strv_push(out, "--unshare-uts");
        strv_push(out, "--hostname");
        strv_push(out, "localhost");
    }
    if (o->fake_root) {
        strv_push(out, "--uid");
        strv_push(out, "0");
        strv_push(out, "--gid");
        strv_push(out, "0");
    } else if (o->fake_username) {
        long uid, gid;
        if (!lookup_ids("/etc/passwd", "nobody", &uid, &gid)) {
            errno = ENOENT;
            die("unable to find passwd entry for user nobody");
        }
        strv_push(out, "--uid");
        strv_push(out, xasprintf("%ld", uid));
        strv_push(out, "--gid");
        strv_push(out, xasprintf("%ld", gid));
    }
    if (o->enable_pty) {
        long gid, members;
        if (!lookup_ids("/etc/group", "tty", &gid, &members)) {
            errno = ENOENT;
            die("unable to find group entry for tty");
        }
        strv_push(out, "--gid");
        strv_push(out, xasprintf("%ld", gid));
    }
    const char *chdir_to = o->working_dir;
    if (o->hermetic) {
        /* The sandbox dir becomes the root; only what is asked for is mounted in it. */
        push_root_proc_dev_tmpfs(out, "--bind", o->sandbox_root, o);
        for (size_t k = 0; k < o->bind_src.len; k++) {
            strv_push(out, strv_has(&o->writable, o->bind_tgt.items[k]) ? "--bind" : "--ro-bind");
            strv_push(out, o->bind_src.items[k]);
            strv_push(out, o->bind_tgt.items[k]);
        }
        size_t root_len = strlen(o->sandbox_root);
        chdir_to = strlen(o->working_dir) > root_len + 1 ? xasprintf("/%s", o->working_dir + root_len + 1) : "/";
    } else {
        /* The host's root read-only, a fresh /proc and /dev, the tmpfs dirs,
         * the writable paths and the working dir (parents before what lies
         * in them, so that none hides another), then the -M/-m binds. */
        push_root_proc_dev_tmpfs(out, "--ro-bind", "/", o);
        struct strv writable = {0};
        for (size_t k = 0; k < o->writable.len; k++)
            if (!strv_has(&o->bind_src, o->writable.items[k]) && !strv_has(&writable, o->writable.items[k]))
                strv_push(&writable, o->writable.items[k]);
        if (!strv_has(&writable, o->working_dir)) strv_push(&writable, o->working_dir);
        for (size_t k = 1; k < writable.len; k++) /* stable insertion sort by length */
            for (size_t j = k; j > 0 && strlen(writable.items[j - 1]) > strlen(writable.items[j]); j--) {
                char *t = writable.items[j];
                writable.items[j] = writable.items[j - 1];
                writable.items[j - 1] = t;
            }
        for (size_t k = 0; k < writable.len; k++) {
            strv_push(out, "--bind");
            strv_push(out, writable.items[k]);
            strv_push(out, writable.items[k]);
        }
        for (size_t k = 0; k < o->bind_src.len; k++) {
            strv_push(out, strv_has(&o->writable, o->bind_tgt.items[k]) ? "--bind" : "--ro-bind");
            strv_push(out, o->bind_src.items[k]);
            strv_push(out, o->bind_tgt.items[k]);
        }
    }
    strv_push(out, "--chdir");
    strv_push(out, chdir_to);
    if (o->timeout_secs > 0) {
        strv_push(out, "--timeout");
        strv_push(out, xasprintf("%ds", o->timeout_secs));
    }
    strv_push(out, "--kill-grace");
    strv_push(out, xasprintf("%ds", o->kill_delay_secs));
    /* No capabilities, or under -R, like root in linux-sandbox's user
     * namespace, all of them (they count in the sandbox's namespaces only). */
    strv_push(out, o->fake_root ? "--cap-add" : "--cap-drop");
    strv_push(out, "ALL");
    strv_push(out, "--");
    for (size_t k = 0; k < o->args.len; k++) strv_push(out, o->args.items[k]);
}

/* ---- the launcher's status records ---------------------------------------- */

/* The value of "KEY": in one JSON line written by the launcher: a number
 * (true, false as 1, 0); false when absent or null. */
static bool json_number(const char *line, const char *key, int64_t *value) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(line, pattern);
    if (p == NULL) return false;
    p += strlen(pattern);
    if (strncmp(p, "true", 4) == 0) *value = 1;
    else if (strncmp(p, "false", 5) == 0) *value = 0;
    else {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno != 0) return false;
        *value = v;
    }
    return true;
}

/* The string value of "KEY": (no escapes expected in what is printed). */
static const char *json_string(const char *line, const char *key, char *buf, size_t len) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *p = strstr(line, pattern);
    if (p == NULL) return NULL;
    p += strlen(pattern);
    size_t n = 0;
    while (p[n] != '\0' && p[n] != '"' && n + 1 < len) n++;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

static const char *find_record(const char *records, const char *type) {
    char prefix[64];
    snprintf(prefix, sizeof prefix, "{\"type\":\"%s\"", type);
    for (const char *line = records; line != NULL && *line != '\0';) {
        if (strncmp(line, prefix, strlen(prefix)) == 0) return line;
        line = strchr(line, '\n');
        if (line != NULL) line++;
    }
    return NULL;
}

/* ---- -S: Bazel's ExecutionStatistics protobuf ------------------------------ */

static size_t put_varint(uint8_t *p, uint64_t v) {
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        p[n++] = b | (v ? 0x80 : 0);
    } while (v);
    return n;
}

static size_t put_int64(uint8_t *p, unsigned field, int64_t v) {
    if (v == 0) return 0; /* proto3 leaves default values out */
    size_t n = put_varint(p, (uint64_t)field << 3); /* wire type 0: varint */
    return n + put_varint(p + n, (uint64_t)v);
}

/* ExecutionStatistics { ResourceUsage resource_usage = 1; } with the whole
 * tree's rusage from the exited record (fields as in getrusage(2)). */
static int write_stats(const char *path, const char *exited) {
    struct {
        const char *key;
        unsigned field;
    } fields[] = {{"max_rss_kb", 5}, {"minor_faults", 9}, {"major_faults", 10}, {"in_blocks", 12},
                  {"out_blocks", 13}, {"voluntary_switches", 17}, {"involuntary_switches", 18}};
    uint8_t usage_buf[256], out[300];
    size_t n = 0;
    int64_t v;
    if (exited != NULL) {
        const char *rusage = strstr(exited, "\"rusage\":");
        if (rusage != NULL) {
            int64_t user = 0, sys = 0;
            json_number(rusage, "user_us", &user);
            json_number(rusage, "sys_us", &sys);
            n += put_int64(usage_buf + n, 1, user / 1000000);
            n += put_int64(usage_buf + n, 2, user % 1000000);
            n += put_int64(usage_buf + n, 3, sys / 1000000);
            n += put_int64(usage_buf + n, 4, sys % 1000000);
            for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
                if (json_number(rusage, fields[k].key, &v)) n += put_int64(usage_buf + n, fields[k].field, v);
        }
    }
    size_t m = put_varint(out, (1u << 3) | 2); /* field 1, wire type 2: length-delimited */
    m += put_varint(out + m, n);
    memcpy(out + m, usage_buf, n);
    m += n;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) return -1;
    ssize_t w = write(fd, out, m);
    int saved = errno;
    close(fd);
    errno = saved;
    return w == (ssize_t)m ? 0 : -1;
}

/* ---- running the launcher ------------------------------------------------- */

static volatile sig_atomic_t launcher_pid;

/* SIGTERM (and SIGINT under -i): the launcher stops the whole tree, SIGTERM
 * first and SIGKILL after the -t delay, as linux-sandbox does. */
static void on_term(int sig) {
    (void)sig;
    if (launcher_pid > 0) kill(launcher_pid, SIGTERM);
}

bool linux_sandbox_invoked(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--linux-sandbox") == 0) return true;
    if (argc < 1 || argv[0] == NULL) return false;
    const char *base = strrchr(argv[0], '/');
    return strcmp(base != NULL ? base + 1 : argv[0], "linux-sandbox") == 0;
}

int linux_sandbox_main(int argc, char **argv) {
    /* Like linux-sandbox: die with the parent, unless -p says otherwise. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die("prctl");
    pid_t initial_ppid = getppid();

    struct strv raw = {0};
    for (int k = 0; k < argc; k++) {
        if (k == 1 && strcmp(argv[k], "--linux-sandbox") == 0) continue;
        strv_push(&raw, argv[k]);
    }
    if (raw.len > 0) program = raw.items[0];
    struct strv args = {0};
    for (size_t k = 0; k < raw.len; k++) {
        if (k > 0 && strcmp(raw.items[k], "--") == 0) {
            for (; k < raw.len; k++) strv_push(&args, raw.items[k]);
            break;
        }
        expand_argument(&args, raw.items[k], 0);
    }
    struct ls_opts o = {0};
    parse(&o, &args);

    FILE *debug = NULL;
    if (o.debug_path != NULL && (debug = fopen(o.debug_path, "we")) == NULL) die("fopen(%s)", o.debug_path);
    if (o.persistent && prctl(PR_SET_PDEATHSIG, 0) < 0) die("prctl");
    if (!o.persistent && getppid() != initial_ppid) return EXIT_FAILURE; /* the parent is already gone */
    redirect(o.stdout_path, STDOUT_FILENO);
    redirect(o.stderr_path, STDERR_FILENO);

    if (o.cgroups_dir != NULL) {
        /* linux-sandbox's pid 1 joins the cgroup; here the launcher's parent
         * does, so the launcher and the whole action tree are in it. */
        char *procs = xasprintf("%s/cgroup.procs", o.cgroups_dir);
        int fd = open(procs, O_WRONLY | O_CLOEXEC);
        char pid[32];
        int len = snprintf(pid, sizeof pid, "%d", (int)getpid());
        if (fd < 0 || write(fd, pid, (size_t)len) != len) die("writing to %s", procs);
        close(fd);
    }

    int status_pipe[2];
    if (pipe2(status_pipe, O_CLOEXEC) < 0) die("pipe2");
    struct strv launcher = {0};
    translate(&o, status_pipe[1], &launcher);
    if (debug != NULL) {
        fputs("paddock-launch command line:\n", debug);
        for (size_t k = 0; k < launcher.len; k++) fprintf(debug, "  %s\n", launcher.items[k]);
        fflush(debug);
    }

    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    if (o.sigint_sends_sigterm) sigaddset(&term, SIGINT);
    sigprocmask(SIG_BLOCK, &term, &old);
    struct sigaction sa = {0};
    sa.sa_handler = on_term; /* no SA_RESTART: a read or wait returns EINTR, and is retried */
    sigaction(SIGTERM, &sa, NULL);
    if (o.sigint_sends_sigterm) sigaction(SIGINT, &sa, NULL);

    /* Outputs are world-readable, as linux-sandbox's umask makes them. */
    mode_t old_umask = umask(022);
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (fcntl(status_pipe[1], F_SETFD, 0) < 0) _exit(125);
        execv("/proc/self/exe", launcher.items);
        fprintf(stderr, "%s: execv(/proc/self/exe): %s\n", program, strerror(errno));
        _exit(125);
    }
    umask(old_umask);
    launcher_pid = pid;
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(status_pipe[1]);

    size_t cap = 4096, len = 0;
    char *records = malloc(cap);
    if (records == NULL) die("malloc");
    for (;;) {
        if (len + 1024 > cap) {
            if (cap >= (1u << 20)) { /* far more than a run writes: stop keeping it */
                char sink[1024];
                ssize_t n = read(status_pipe[0], sink, sizeof sink);
                if (n == 0 || (n < 0 && errno != EINTR)) break;
                continue;
            }
            char *grown = realloc(records, cap * 2);
            if (grown == NULL) die("realloc");
            records = grown;
            cap *= 2;
        }
        ssize_t n = read(status_pipe[0], records + len, cap - len - 1);
        if (n > 0) len += (size_t)n;
        else if (n == 0 || errno != EINTR) break;
    }
    records[len] = '\0';
    close(status_pipe[0]);
    int wstatus;
    while (waitpid(pid, &wstatus, 0) < 0)
        if (errno != EINTR) die("waitpid");
    launcher_pid = 0;
    if (debug != NULL) {
        fputs("status records:\n", debug);
        fputs(records, debug);
        fclose(debug);
    }

    int code = WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : WEXITSTATUS(wstatus);
    const char *exited = find_record(records, "exited");
    int64_t v;
    if (exited != NULL) {
        /* The action's own status, also after a timeout or a SIGTERM: what
         * linux-sandbox returns (paddock-launch itself says 124 on a timeout). */
        if (json_number(exited, "status", &v)) code = (int)v;
        else if (json_number(exited, "signal_number", &v)) code = 128 + (int)v;
    } else {
        /* The action never started: say why (the record has it, not stderr). */
        const char *failed = find_record(records, "setup-failed");
        if (failed == NULL) failed = find_record(records, "exec-failed");
        char step[128], path[1024], message[512], cause[1024];
        if (failed != NULL && json_string(failed, "message", message, sizeof message) != NULL) {
            bool has_path = json_string(failed, "path", path, sizeof path) != NULL;
            fprintf(stderr, "%s: %s%s%s: %s\n", program,
                    json_string(failed, "step", step, sizeof step) ? step : "setup", has_path ? " " : "",
                    has_path ? path : "", message);
            if (json_string(failed, "cause", cause, sizeof cause) != NULL)
                fprintf(stderr, "%s: cause: %s\n", program, cause);
            if (json_string(failed, "remedy", cause, sizeof cause) != NULL)
                fprintf(stderr, "%s: remedy: %s\n", program, cause);
        }
    }
    if (o.stats_path != NULL && write_stats(o.stats_path, exited) < 0) die("writing stats to %s", o.stats_path);
    return code;
}
