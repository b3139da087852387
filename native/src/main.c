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

#include "plan.h"
#include "run.h"
#include "server.h"
#include "supervise.h"

static const char usage[] =
    "usage: paddock-launch [OPTIONS...] [--] COMMAND [ARGS...]\n"
    "\n"
    "Runs COMMAND contained: in its own session and process group, with only\n"
    "fds 0, 1 and 2, and with its whole process tree killed when it exits, times\n"
    "out, is cancelled or loses its owner. Options follow bubblewrap's names.\n"
    "\n"
    "    --help                  print this text and exit\n"
    "    --args FD               parse NUL-separated arguments from FD here\n"
    "    --new-session           accepted for bwrap compatibility (always on)\n"
    "    --die-with-parent       kill the action when the launcher's parent dies\n"
    "    --chdir DIR             run the action in DIR\n"
    "    --setenv VAR VALUE      set an environment variable\n"
    "    --unsetenv VAR          unset an environment variable\n"
    "    --clearenv              start from an empty environment\n"
    "    --json-status-fd FD     write status records (JSON lines) to FD\n"
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
    "    --bind SRC DEST         host SRC writable at DEST (no devices)\n"
    "    --ro-bind SRC DEST      host SRC read-only at DEST\n"
    "    --dev-bind SRC DEST     host SRC at DEST, devices usable\n"
    "                            (each with a -try variant: skip a missing SRC)\n"
    "    --tmpfs DEST            an empty private tmpfs\n"
    "    --proc DEST             a fresh procfs for the new pid namespace\n"
    "    --dev DEST              null zero full random urandom tty, devpts, shm\n"
    "    --dir DEST, --symlink TARGET DEST, --remount-ro DEST\n"
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
    "Exit status: the action's own, 128+N if killed by signal N, 124 timed out,\n"
    "125 the launcher failed, 126 not executable, 127 not found.\n";

static bool fd_is_open(int fd) { return fcntl(fd, F_GETFD) >= 0; }

int main(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--server") == 0) return server_main(argc, argv);
    struct plan plan;
    char err[1024];
    if (plan_parse(argc, argv, &plan, err, sizeof err) < 0)
        return launcher_failed(plan.status_fd, "options", NULL, 0, NULL, err);
    if (plan.status_fd >= 0 && !fd_is_open(plan.status_fd)) {
        snprintf(err, sizeof err, "option --json-status-fd: fd %d is not open", plan.status_fd);
        return launcher_failed(-1, "options", "fcntl", EBADF, NULL, err);
    }
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
