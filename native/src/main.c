/* paddock-launch: one-shot mode runs one action contained, reports and exits;
 * --server FD runs the spawn server (server.c).
 *
 * The JVM posix_spawns this program; everything that must happen between fork
 * and exec happens here, in a single-threaded process. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linux_sandbox.h"
#include "msg.h"
#include "plan.h"
#include "run.h"
#include "server.h"
#include "supervise.h"

/* Follows "usage: ARGV0 [OPTIONS...] [--] COMMAND [ARGS...]" (bwrap prints its argv[0] there). */
static const char usage[] =
    "\n"
    "Runs COMMAND contained: in its own session and process group, with only\n"
    "fds 0, 1 and 2, and with its whole process tree killed when it exits, times\n"
    "out, is cancelled or loses its owner. Options follow bubblewrap's names.\n"
    "\n"
    "    --help                  print this text and exit\n"
    "    --args FD               parse NUL-separated arguments from FD here\n"
    "    --new-session           accepted for bwrap compatibility (always on)\n"
    "    --die-with-parent       kill the action when the launcher's parent dies\n"
    "    --allow-core-dumps      keep the core-dump limit (default: 0, and the action\n"
    "                            cannot raise it)\n"
    "    --rlimit NAME VALUE     the action's soft and hard limit of NAME (as, cpu,\n"
    "                            data, fsize, nofile, nproc, stack) as getrlimit(2)\n"
    "                            counts it, or 'unlimited'. cpu: SIGXCPU at the\n"
    "                            limit, SIGKILL a second later. nproc: only with\n"
    "                            the sandbox's own user namespace; with its own pid\n"
    "                            namespace also that namespace's pid_max (Linux\n"
    "                            6.14+, at least 301), which binds root too\n"
    "    --chdir DIR             run the action in DIR\n"
    "    --setenv VAR VALUE      set an environment variable\n"
    "    --unsetenv VAR          unset an environment variable\n"
    "    --clearenv              start from an empty environment\n"
    "    --status-fd FD          write paddock's status records (JSON lines) to FD\n"
    "    --json-status-fd FD     write bwrap's JSON status (child pid, namespaces,\n"
    "                            exit code) to FD\n"
    "    --info-fd FD            write bwrap's info (child pid, namespaces) to FD\n"
    "    --argv0 VALUE           run COMMAND with argv[0] set to VALUE\n"
    "    --level-prefix          prefix messages with <3> (errors) or <4> (warnings)\n"
    "    --block-fd FD           wait for a byte (or end of file) on FD before exec\n"
    "    --sync-fd FD            keep FD open while the action runs\n"
    "    --lock-file PATH        hold a read lock on host PATH while the action runs\n"
    "    --lifeline-fd FD        kill everything when FD reads EOF (owner gone)\n"
    "    --timeout DURATION      SIGTERM the tree after DURATION (30s, 1.5s, 200ms)\n"
    "    --kill-grace DURATION   SIGKILL this long after SIGTERM (default 5s)\n"
    "    --pty                   fds 0-2 are a pty slave: make it the action's\n"
    "                            controlling terminal, the action its foreground job\n"
    "\n"
    "Sandbox (rootless: always in a new user and mount namespace, fresh root on\n"
    "tmpfs; setup operations apply in the order given; DEST is inside):\n"
    "    --unshare-user|pid|net|ipc|uts|cgroup|all   new namespaces (-try: same)\n"
    "    --share-net             keep the host network (after --unshare-all)\n"
    "    --no-loopback           leave lo down in a new network namespace\n"
    "    --shared-netns          under --server: join the server's one empty network\n"
    "                            namespace (loopback up, shared by every action that\n"
    "                            asks; saves creating one); one-shot: a fresh one\n"
    "    --uid UID, --gid GID    ids inside (default: the caller's)\n"
    "    --hostname NAME         hostname inside (needs --unshare-uts)\n"
    "    --as-pid-1              exec the action as pid 1 (no reaping init)\n"
    "    --userns FD, --pidns FD join these namespaces instead of new ones\n"
    "    --userns-block-fd FD    the caller writes the id maps; wait for FD first\n"
    "    --disable-userns        the action cannot create user namespaces\n"
    "    --assert-userns-disabled  fail unless user namespaces are disabled\n"
    "    --cap-add CAP, --cap-drop CAP   capabilities the action keeps (ALL: every\n"
    "                            one); root starts with its own, others with none\n"
    "    --seccomp FD, --add-seccomp-fd FD   seccomp BPF programs applied at exec\n"
    "    --default-seccomp       paddock's own filter (not bwrap's; also without a\n"
    "                            sandbox, with no_new_privs): EPERM for keyctl,\n"
    "                            add_key, request_key (the caller's keyrings);\n"
    "                            unshare, setns, clone with CLONE_NEW* (clone3:\n"
    "                            ENOSYS) (no nested namespaces); mount, umount2,\n"
    "                            pivot_root, the new mount API (the sandbox's view\n"
    "                            stays); io_uring (unfiltered I/O); personality\n"
    "                            but 0 and the query (no READ_IMPLIES_EXEC, no\n"
    "                            ASLR off); ioctl TIOCSTI, TIOCLINUX (typing into\n"
    "                            the terminal); perf_event_open, bpf, userfaultfd\n"
    "                            (kernel attack surface); kexec, modules, reboot,\n"
    "                            swap, acct, quotactl (host administration);\n"
    "                            lookup_dcookie, open_by_handle_at,\n"
    "                            name_to_handle_at (handles escape binds). ptrace\n"
    "                            stays allowed. A 32-bit (i386) call is killed.\n"
    "                            Combines with --seccomp. Leave it out to opt out\n"
    "    --exec-label L, --file-label L  SELinux labels (refused without SELinux)\n"
    "    --bind SRC DEST         host SRC writable at DEST (no devices)\n"
    "    --ro-bind SRC DEST      host SRC read-only at DEST\n"
    "    --dev-bind SRC DEST     host SRC at DEST, devices usable\n"
    "                            (each with a -try variant: skip a missing SRC)\n"
    "    --tmpfs DEST            an empty private tmpfs\n"
    "    --proc DEST             a fresh procfs for the new pid namespace\n"
    "    --dev DEST              null zero full random urandom tty, devpts, shm\n"
    "    --dir DEST, --symlink TARGET DEST, --remount-ro DEST, --chmod OCTAL PATH\n"
    "    --bind-fd FD DEST, --ro-bind-fd FD DEST   bind the directory open on FD\n"
    "    --file FD DEST          a file at DEST holding FD's data\n"
    "    --bind-data FD DEST, --ro-bind-data FD DEST   the same, bound in\n"
    "    --perms OCTAL           mode of the next --dir, --tmpfs, --file, --bind-data\n"
    "    --size BYTES            size of the next --tmpfs\n"
    "    --refuse-symlinks       follow no symbolic link in a bind's SRC or in any\n"
    "                            DEST (nor in the parents made for it): setup fails\n"
    "                            naming the link. A link planted in a writable\n"
    "                            directory then cannot redirect a bind or make\n"
    "                            directories outside it. bwrap follows links.\n"
    "    --overlay-src SRC       a layer for the next overlay (later ones on top)\n"
    "    --overlay UPPER WORK DEST   overlay of the layers, writes land in UPPER\n"
    "    --tmp-overlay DEST      overlay of the layers, writes discarded\n"
    "    --ro-overlay DEST       overlay of the layers, read-only\n"
    "    --overlay-impl auto|kernel|fuse|bind\n"
    "                            auto (default) tries kernel overlayfs, then\n"
    "                            fuse-overlayfs, then read-only binds on a tmpfs,\n"
    "                            and reports each fallback; the others force one\n"
    "    --sandbox-mode auto|required\n"
    "                            auto (default): where the host refuses a step,\n"
    "                            degrade one step and report it (fresh /proc ->\n"
    "                            the host's /proc bound; overlays as above; no\n"
    "                            user namespace -> Landlock and no_new_privs);\n"
    "                            required: fail with the cause and remedy instead\n"
    "\n"
    "Spawn server: paddock-launch --server FD serves spawn requests on the unix\n"
    "SOCK_SEQPACKET socket FD until its peer closes (see docs/launcher.md).\n"
    "\n"
    "linux-sandbox mode: run as linux-sandbox (a symlink) or with --linux-sandbox\n"
    "first, it takes Bazel linux-sandbox's options, as Buildfarm passes them, and\n"
    "runs the command in paddock's sandbox (see docs/scale-out.md).\n"
    "\n"
    "Exit status: the action's own, 128+N if killed by signal N, 124 timed out,\n"
    "125 the launcher failed, 126 not executable, 127 not found.\n";

static bool fd_is_open(int fd) { return fcntl(fd, F_GETFD) >= 0; }

int main(int argc, char **argv) {
    if (linux_sandbox_invoked(argc, argv)) return linux_sandbox_main(argc, argv);
    msg_init(argv[0]);
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: %s [OPTIONS...] [--] COMMAND [ARGS...]\n", argv[0] != NULL ? argv[0] : "paddock-launch");
        fputs(usage, stdout);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--server") == 0) return server_main(argc, argv);
    struct plan plan;
    char err[1024];
    if (plan_parse(argc, argv, &plan, err, sizeof err) < 0)
        return launcher_failed(plan.status_fd, "options", NULL, 0, NULL, err);
    if (plan.status_fd >= 0 && !fd_is_open(plan.status_fd)) {
        snprintf(err, sizeof err, "option --status-fd: fd %d is not open", plan.status_fd);
        return launcher_failed(-1, "options", "fcntl", EBADF, NULL, err);
    }
    const struct {
        const char *name;
        int fd;
    } fds[] = {{"--json-status-fd", plan.json_status_fd}, {"--info-fd", plan.info_fd}, {"--block-fd", plan.block_fd},
               {"--userns-block-fd", plan.userns_block_fd}, {"--sync-fd", plan.sync_fd},
               {"--userns", plan.userns_fd}, {"--pidns", plan.pidns_fd}};
    for (size_t k = 0; k < sizeof fds / sizeof fds[0]; k++)
        if (fds[k].fd >= 0 && !fd_is_open(fds[k].fd)) {
            snprintf(err, sizeof err, "option %s: fd %d is not open", fds[k].name, fds[k].fd);
            return launcher_failed(plan.status_fd, "options", "fcntl", EBADF, NULL, err);
        }
    if (plan.warn_chdir) msg(MSG_WARNING, "Only the last --chdir option will take effect");
    if (plan.lifeline_fd >= 0 && !fd_is_open(plan.lifeline_fd)) {
        snprintf(err, sizeof err, "option --lifeline-fd: fd %d is not open", plan.lifeline_fd);
        return launcher_failed(plan.status_fd, "options", "fcntl", EBADF, NULL, err);
    }
    /* The launcher's own descriptors never reach the action: the child closes
     * every fd above 2 before exec (child.c). */

    if (supervise_prepare() < 0)
        return launcher_failed(plan.status_fd, "signals", "signalfd", errno, NULL, "cannot set up signal handling");
    return run_action(&plan);
}
