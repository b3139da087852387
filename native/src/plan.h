/* paddock-launch: the plan an action runs under.
 *
 * Parsing the command line produces a plan; applying a plan happens in the
 * action's child process (child.c); supervising it happens in the launcher
 * (supervise.c). Keeping the three apart lets a future spawn server reuse the
 * parser and the child setup without the one-shot main. */
#ifndef PADDOCK_PLAN_H
#define PADDOCK_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Environment edits, applied in command-line order. */
enum env_op_kind { ENV_SET, ENV_UNSET, ENV_CLEAR };

struct env_op {
    enum env_op_kind kind;
    const char *name;  /* unused for ENV_CLEAR */
    const char *value; /* ENV_SET only */
};

/* Sandbox setup operations, applied in command-line order (as bwrap's). */
enum op_kind {
    OP_BIND, OP_RO_BIND, OP_DEV_BIND, OP_TMPFS, OP_PROC, OP_DEV, OP_DIR, OP_SYMLINK, OP_REMOUNT_RO,
    OP_OVERLAY,     /* writes land in a host upper directory */
    OP_TMP_OVERLAY, /* writes land in a private tmpfs and vanish with the sandbox */
    OP_RO_OVERLAY,  /* no writes */
    OP_CHMOD,       /* --chmod: perms on an existing path */
    OP_FILE,        /* --file FD DEST: a file holding FD's data */
    OP_BIND_DATA,   /* --bind-data FD DEST: FD's data in a private file bound at DEST */
    OP_RO_BIND_DATA,
};

struct setup_op {
    enum op_kind kind;
    const char *source; /* host path for binds, link target for symlinks, upper dir for OP_OVERLAY */
    const char *dest;   /* path inside the sandbox */
    bool try_only;      /* the -try variants: skip when the source is missing */
    /* overlays only */
    const char **layers; /* host paths, lowest first (the --overlay-src order) */
    int layer_count;
    const char *workdir; /* OP_OVERLAY: host work dir on the upper's filesystem */
    int perms;           /* --perms (or the kind's default); -1: none applies */
    unsigned long long size; /* --size for OP_TMPFS; 0: the kernel's default */
    int fd;              /* --bind-fd, --file, --bind-data: the fd it names; -1 otherwise */
};

/* How overlays are mounted. AUTO tries each in turn and reports every
 * fallback; the others force one, for tests and for hosts where one misbehaves. */
enum overlay_impl { OVERLAY_AUTO, OVERLAY_KERNEL, OVERLAY_FUSE, OVERLAY_BIND };

/* What a sandbox does when the host refuses part of it. AUTO degrades one
 * step at a time and reports each step (fresh procfs -> bind of the host's
 * /proc; kernel overlay -> fuse-overlayfs -> binds; no user namespace ->
 * Landlock); REQUIRED fails with the explanation instead. */
enum sandbox_mode { SANDBOX_AUTO, SANDBOX_REQUIRED };

struct plan {
    char **argv;             /* the action's argv, NULL-terminated */
    const char *chdir_path;  /* NULL: stay in the launcher's directory */
    struct env_op *env_ops;
    int env_op_count;
    bool pwd_unset;          /* --unsetenv PWD: a sandbox does not set PWD (bwrap would) */
    const char *argv0;       /* --argv0: the action's argv[0] */
    const char *exec_path;   /* what is executed: argv[0] as given (--argv0 replaces argv[0] only) */
    int status_fd;           /* -1: no status records (paddock's JSON lines, --status-fd) */
    int json_status_fd;      /* -1: none; bubblewrap's --json-status-fd */
    int info_fd;             /* -1: none; bubblewrap's --info-fd */
    int block_fd;            /* --block-fd: wait for a byte on it before exec */
    int userns_block_fd;     /* --userns-block-fd: the caller writes the id maps; wait for it */
    int sync_fd;             /* --sync-fd: kept open by the launcher while the sandbox lives */
    int seccomp_fds[16];     /* --seccomp / --add-seccomp-fd: BPF programs, applied last before exec */
    int seccomp_fd_count;
    bool refuse_symlinks;    /* --refuse-symlinks: no link followed in bind sources or in destinations */
    bool default_seccomp;    /* --default-seccomp: paddock's own filter (seccomp_default.c), also applied last */
    int userns_fd;           /* --userns: join this user namespace instead of creating one */
    int pidns_fd;            /* --pidns: start the sandbox in (below) this pid namespace */
    bool disable_userns;     /* --disable-userns: the action cannot create user namespaces */
    bool assert_userns_disabled;
    const char **lock_files; /* --lock-file: held (read-locked) by the launcher while the action runs */
    int lock_file_count;
    const char *exec_label;  /* --exec-label (SELinux) */
    const char *file_label;  /* --file-label (SELinux) */
    /* Capabilities the action keeps, as bubblewrap computes them: a caller
     * with uid 0 starts from its effective set, anyone else from none;
     * --cap-add and --cap-drop edit that. caps_edited: either was given. */
    uint64_t caps;
    bool caps_edited;
    unsigned caller_uid, caller_gid;
    bool warn_chdir;         /* --chdir given more than once: only the last counts */
    int lifeline_fd;         /* -1: no lifeline */
    bool die_with_parent;
    bool allow_core_dumps;   /* --allow-core-dumps: keep RLIMIT_CORE (default: 0, soft and hard) */
    /* --rlimit NAME VALUE: soft and hard limits set just before exec. */
    struct rlimit_op {
        int resource;        /* RLIMIT_* */
        const char *name;    /* as given: "cpu", "data", ... */
        unsigned long long value; /* RLIM_INFINITY for "unlimited" */
    } rlimits[8];
    int rlimit_count;
    unsigned long long shm_size; /* --shm-size: the size of --dev's /dev/shm tmpfs; 0: the kernel's default */
    bool new_session;        /* accepted for bwrap compatibility; always on */
    int64_t timeout_ms;      /* 0: none */
    int64_t kill_grace_ms;   /* SIGTERM -> SIGKILL delay */
    /* sandbox */
    int clone_flags;         /* CLONE_NEW* namespaces; 0: no sandbox */
    struct setup_op *ops;
    int op_count;
    int sandbox_uid;         /* -1: the caller's uid */
    int sandbox_gid;         /* -1: the caller's gid */
    const char *hostname;
    bool as_pid_1;           /* exec the action as pid 1 instead of under paddock's init */
    enum overlay_impl overlay_impl;
    bool no_loopback;        /* a new network namespace keeps lo down */
    bool shared_netns;       /* join the spawn server's empty network namespace (one-shot: a fresh one) */
    bool pty;                /* fds 0-2 are a pty slave: make it the action's controlling terminal */
    bool omit_spawned;       /* no "spawned" record: a spawn server's client has no use for it */
    bool return_at_start;    /* a keeper: once a sandbox's init supervises the action, serve on */
    /* A keeper's spare sandbox (server.c) that took this request: a child
     * already cloned into the plan's namespaces, which runs child_run itself. */
    struct prestarted {
        int pid;             /* 0: none, clone one */
        int report_fd;       /* read end of its report pipe */
        int64_t spawn_us;    /* when its request arrived */
    } prestarted;
    enum sandbox_mode sandbox_mode;
    /* Set by the launcher when AUTO falls back to Landlock: no namespaces. */
    int landlock_abi;        /* 0: namespaces as planned */
    char *private_tmp;       /* Landlock: the directory given as TMPDIR for a /tmp tmpfs */
};

#define DEFAULT_KILL_GRACE_MS 5000

/* Parses argv into plan. On failure returns -1 and writes a message naming the
 * offending option into err (the caller reports it and exits 125). The plan
 * points into argv and into memory that lives until exit. */
int plan_parse(int argc, char **argv, struct plan *plan, char *err, size_t err_len);


/* Parses "1.5s", "200ms", "2m", "1h" or a bare number of seconds.
 * Returns milliseconds, or -1 when malformed. */
int64_t parse_duration_ms(const char *text);

#endif
