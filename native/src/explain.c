/* Causes and remedies for setup failures (see explain.h). Each branch
 * corresponds to an entry of docs/diagnostics.md. */
#define _GNU_SOURCE
#include "explain.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#define AUTO_LANDLOCK "or use --sandbox=auto, which falls back to Landlock"

static void say(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *out, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, size, fmt, ap);
    va_end(ap);
}

/* A sysctl's integer value, or -1 when it does not exist or cannot be read. */
static long sysctl_value(const char *path) {
    FILE *f = fopen(path, "re");
    if (f == NULL) return -1;
    long value = -1;
    if (fscanf(f, "%ld", &value) != 1) value = -1;
    fclose(f);
    return value;
}

/* The "Seccomp:" mode of this process: 0 none, 1 strict, 2 filter; -1 unknown. */
static int seccomp_mode(void) {
    FILE *f = fopen("/proc/self/status", "re");
    if (f == NULL) return -1;
    char line[256];
    int mode = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "Seccomp: %d", &mode) == 1) break;
    fclose(f);
    return mode;
}

/* The mount points below /proc (what a container runtime masks), comma-separated. */
static void proc_masks(char *out, size_t size) {
    out[0] = '\0';
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (f == NULL) return;
    char line[4096];
    size_t len = 0;
    int shown = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        char point[1024];
        /* id parent major:minor root mount-point ... */
        if (sscanf(line, "%*s %*s %*s %*s %1023s", point) != 1 || strncmp(point, "/proc/", 6) != 0) continue;
        if (shown++ == 4) {
            snprintf(out + len, size - len, ", ...");
            break;
        }
        int n = snprintf(out + len, size - len, "%s%s", len ? ", " : "", point);
        if (n < 0 || (size_t)n >= size - len) break;
        len += (size_t)n;
    }
    fclose(f);
}

static bool is(const char *a, const char *b) { return a != NULL && strcmp(a, b) == 0; }

static bool is_mount_call(const char *syscall_name) {
    return is(syscall_name, "mount") || is(syscall_name, "mount_setattr") || is(syscall_name, "pivot_root") ||
           is(syscall_name, "umount2");
}

bool namespaces_refused(const char *step, const char *syscall_name, int err) {
    /* ENOSPC with user namespaces allowed is a limit reached (too many, or
     * nested too deep, or --disable-userns around us): a failure, not the
     * host's refusal of namespaces, which would call for Landlock. */
    if (is(step, "clone") && err == ENOSPC) return sysctl_value("/proc/sys/user/max_user_namespaces") == 0;
    if (is(step, "clone") || is(step, "uid-map") || is(step, "setgroups") || is(step, "gid-map") ||
        is(step, "make-private") || is(step, "new-root") || is(step, "pivot-root"))
        return true;
    bool plain_mount_step = is(step, "bind") || is(step, "ro-bind") || is(step, "dev-bind") || is(step, "tmpfs") ||
                            is(step, "dev") || is(step, "remount-ro");
    return plain_mount_step && is_mount_call(syscall_name) && (err == EPERM || err == EACCES || err == ENOSYS);
}

static void explain_clone(int err, struct explanation *out) {
    long max = sysctl_value("/proc/sys/user/max_user_namespaces");
    long debian = sysctl_value("/proc/sys/kernel/unprivileged_userns_clone");
    long apparmor = sysctl_value("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
    int seccomp = seccomp_mode();
    if (max == 0) {
        say(out->cause, sizeof out->cause,
            "user namespaces are disabled: the sysctl user.max_user_namespaces is 0, and paddock's sandbox is "
            "built in a user namespace");
        say(out->remedy, sizeof out->remedy,
            "as root, sysctl -w user.max_user_namespaces=15000 (persist it in /etc/sysctl.d/), " AUTO_LANDLOCK);
    } else if (err == ENOSPC) {
        say(out->cause, sizeof out->cause,
            "the limit on user namespaces is reached: user.max_user_namespaces is %ld and that many exist already "
            "for this user (or the nesting depth of 32 is reached)", max);
        say(out->remedy, sizeof out->remedy, "raise it (sysctl -w user.max_user_namespaces=15000) or run fewer "
            "sandboxes at once");
    } else if (err == EUSERS) {
        say(out->cause, sizeof out->cause, "user namespaces are nested 32 deep already, the kernel's limit");
        say(out->remedy, sizeof out->remedy, "run paddock closer to the host's own user namespace");
    } else if (debian == 0 && geteuid() != 0) {
        say(out->cause, sizeof out->cause,
            "user namespaces are for root only: the sysctl kernel.unprivileged_userns_clone is 0");
        say(out->remedy, sizeof out->remedy, "as root, sysctl -w kernel.unprivileged_userns_clone=1, " AUTO_LANDLOCK);
    } else if (apparmor == 1) {
        say(out->cause, sizeof out->cause,
            "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)");
        say(out->remedy, sizeof out->remedy,
            "give paddock-launch an AppArmor profile that allows 'userns,', or as root sysctl -w "
            "kernel.apparmor_restrict_unprivileged_userns=0, " AUTO_LANDLOCK);
    } else if (seccomp == 2) {
        say(out->cause, sizeof out->cause,
            "a seccomp filter refuses creating namespaces (this process has Seccomp: 2 in /proc/self/status; "
            "container runtimes' default profiles do this)");
        say(out->remedy, sizeof out->remedy,
            "run the container with a seccomp profile that allows clone and unshare with namespace flags (docker "
            "run --security-opt seccomp=unconfined), " AUTO_LANDLOCK);
    } else if (err == EINVAL) {
        say(out->cause, sizeof out->cause,
            "this kernel lacks a namespace type the sandbox needs (built without CONFIG_USER_NS, CONFIG_PID_NS or "
            "CONFIG_NET_NS)");
        say(out->remedy, sizeof out->remedy, "use a kernel with namespaces, " AUTO_LANDLOCK);
    } else {
        say(out->cause, sizeof out->cause,
            "creating a user namespace was refused, and neither the sysctls nor a seccomp filter explain it: "
            "a security module (AppArmor, SELinux) may forbid it");
        say(out->remedy, sizeof out->remedy, "run paddock doctor for the details, " AUTO_LANDLOCK);
    }
}

static void explain_id_map(const char *step, int err, struct explanation *out) {
    const char *file = is(step, "uid-map") ? "uid_map" : is(step, "gid-map") ? "gid_map" : "setgroups";
    if (seccomp_mode() == 2 && err == EPERM) {
        say(out->cause, sizeof out->cause,
            "writing /proc/self/%s was refused, and this process runs under a seccomp filter that may refuse it",
            file);
    } else if (is(step, "gid-map")) {
        say(out->cause, sizeof out->cause,
            "writing /proc/self/gid_map was refused: an unprivileged process may map only its own group, and only "
            "after writing 'deny' to /proc/self/setgroups (without that file, before Linux 3.19, it may map no "
            "group at all); a security module can also refuse it");
    } else if (is(step, "setgroups")) {
        say(out->cause, sizeof out->cause, "writing 'deny' to /proc/self/setgroups was refused");
    } else {
        say(out->cause, sizeof out->cause,
            "writing /proc/self/uid_map was refused: an unprivileged process may map only its own uid, once");
    }
    say(out->remedy, sizeof out->remedy, "run paddock doctor to see whether id maps work for this user, " AUTO_LANDLOCK);
}

static void explain_mount_refused(int err, struct explanation *out) {
    if (seccomp_mode() == 2) {
        say(out->cause, sizeof out->cause,
            "a seccomp filter refuses mount (this process has Seccomp: 2 in /proc/self/status; container runtimes' "
            "default profiles refuse mount even inside a user namespace)");
        say(out->remedy, sizeof out->remedy,
            "run the container with a seccomp profile that allows mount, umount2, pivot_root and mount_setattr "
            "(docker run --security-opt seccomp=unconfined), " AUTO_LANDLOCK);
    } else if (err == ENOSYS) {
        say(out->cause, sizeof out->cause, "this kernel lacks mount_setattr (it needs Linux 5.12 or later)");
        say(out->remedy, sizeof out->remedy, "use a newer kernel, " AUTO_LANDLOCK);
    } else {
        say(out->cause, sizeof out->cause,
            "mounting inside the sandbox's user namespace was refused: a security module (AppArmor, SELinux) may "
            "forbid mounts");
        say(out->remedy, sizeof out->remedy, "run paddock doctor for the details, " AUTO_LANDLOCK);
    }
}

static void explain_proc(int err, struct explanation *out) {
    char masks[512];
    proc_masks(masks, sizeof masks);
    if (err == EPERM && masks[0]) {
        say(out->cause, sizeof out->cause,
            "the kernel refuses a fresh /proc while parts of the existing one are hidden by mounts over them "
            "(here: %s), as container runtimes mask /proc: the new one would reveal them", masks);
    } else {
        say(out->cause, sizeof out->cause, "mounting a fresh procfs for the sandbox's pid namespace was refused%s",
            seccomp_mode() == 2 ? " (this process runs under a seccomp filter)" : "");
    }
    say(out->remedy, sizeof out->remedy,
        "use --sandbox=auto, which binds the existing /proc instead (the action then sees the host's processes), "
        "or run the container with /proc unmasked (docker run --security-opt systempaths=unconfined)");
}

static void explain_overlay(const char *step, const char *syscall_name, int err, struct explanation *out) {
    if (is(step, "overlay-kernel")) {
        struct utsname u;
        const char *release = uname(&u) == 0 ? u.release : "unknown";
        say(out->cause, sizeof out->cause,
            "kernel overlayfs refused the mount in a user namespace: that needs Linux 5.11 or later (this is %s), "
            "and upper and work directories on one filesystem that supports user extended attributes", release);
        say(out->remedy, sizeof out->remedy,
            "use --sandbox=auto, which falls back to fuse-overlayfs, or --overlay-impl fuse");
    } else if (is(step, "overlay-fuse") && is(syscall_name, "execve")) {
        say(out->cause, sizeof out->cause, "fuse-overlayfs is not installed");
        say(out->remedy, sizeof out->remedy,
            "install it (Debian and Ubuntu: apt-get install fuse-overlayfs), or use --sandbox=auto to fall back to "
            "read-only binds");
    } else if (is(step, "overlay-fuse") && err == ENOENT) {
        say(out->cause, sizeof out->cause, "/dev/fuse does not exist, so fuse-overlayfs cannot mount");
        say(out->remedy, sizeof out->remedy,
            "load the fuse module (modprobe fuse) or pass the device into the container (docker run --device "
            "/dev/fuse), or use --sandbox=auto to fall back to read-only binds");
    } else if (is(step, "overlay-fuse") && (err == EACCES || err == EPERM)) {
        say(out->cause, sizeof out->cause, "/dev/fuse is not readable and writable by this user");
        say(out->remedy, sizeof out->remedy, "chmod 0666 /dev/fuse (the usual mode), or use --sandbox=auto");
    } else if (is(step, "overlay-fuse")) {
        say(out->cause, sizeof out->cause, "fuse-overlayfs started but could not mount the overlay");
        say(out->remedy, sizeof out->remedy, "run fuse-overlayfs by hand with the same layers to see its error, "
            "or use --sandbox=auto");
    } else if (err == ENOENT) {
        say(out->cause, sizeof out->cause, "an overlay layer does not exist on the host");
        say(out->remedy, sizeof out->remedy, "create the layer directory, or drop it from the overlay");
    }
}

void explain(const char *step, const char *syscall_name, int err, struct explanation *out) {
    out->cause[0] = out->remedy[0] = '\0';
    if (is(step, "exec")) {
        switch (err) {
        case ENOENT:
        case ENOTDIR: say(out->remedy, sizeof out->remedy, "check the command's spelling and PATH, or give an "
                          "absolute path"); break;
        case EACCES: say(out->remedy, sizeof out->remedy, "the file exists but may not be executed: check its mode "
                         "(chmod +x) and that its filesystem is not mounted noexec"); break;
        case ENOEXEC: say(out->remedy, sizeof out->remedy, "the file is not in an executable format for this "
                          "machine"); break;
        case ETXTBSY: say(out->remedy, sizeof out->remedy, "the file is still open for writing by another "
                          "process"); break;
        case E2BIG: say(out->remedy, sizeof out->remedy, "the arguments and environment are too large; pass "
                        "arguments through a file"); break;
        }
    } else if (is(step, "chdir")) {
        const char *cause = err == ENOENT    ? "the working directory does not exist"
                            : err == EACCES  ? "the working directory is not searchable by this user"
                            : err == ENOTDIR ? "the working directory is not a directory"
                                             : NULL;
        if (cause != NULL) say(out->cause, sizeof out->cause, "%s", cause);
    } else if (is(step, "controlling-terminal") && err == EPERM) {
        say(out->cause, sizeof out->cause, "fd 0 is already another session's controlling terminal");
        say(out->remedy, sizeof out->remedy, "--pty needs a fresh pty, its slave on fds 0-2");
    } else if (is(step, "controlling-terminal") && err == ENOTTY) {
        say(out->cause, sizeof out->cause, "fd 0 is not a terminal");
        say(out->remedy, sizeof out->remedy, "--pty needs a pty slave on fds 0-2");
    } else if (is(step, "clone")) {
        explain_clone(err, out);
    } else if (is(step, "uid-map") || is(step, "setgroups") || is(step, "gid-map")) {
        explain_id_map(step, err, out);
    } else if (is(step, "proc") && is(syscall_name, "mount")) {
        explain_proc(err, out);
    } else if (strncmp(step, "overlay", 7) == 0) {
        explain_overlay(step, syscall_name, err, out);
    } else if (namespaces_refused(step, syscall_name, err) && is_mount_call(syscall_name)) {
        explain_mount_refused(err, out);
    } else if (is(syscall_name, "openat2") && err == ELOOP) {
        say(out->cause, sizeof out->cause,
            "a symbolic link is on the path, and with --refuse-symlinks (which paddock's library always passes) "
            "setup follows none: a link in a writable directory may have been planted by an earlier action");
        say(out->remedy, sizeof out->remedy,
            "check that the link is yours, then give the real path it leads to (readlink -f PATH)");
    } else if ((is(step, "bind") || is(step, "ro-bind") || is(step, "dev-bind")) && err == ENOENT) {
        say(out->cause, sizeof out->cause, "the source path does not exist on the host");
        say(out->remedy, sizeof out->remedy, "create it, or use the -try variant, which skips a missing source");
    } else if (err == EROFS) {
        say(out->cause, sizeof out->cause,
            "the mount point does not exist and its parent inside the sandbox is read-only");
        say(out->remedy, sizeof out->remedy,
            "put a --tmpfs on a parent directory first, or mount onto a directory that exists");
    } else if (is(step, "landlock") && is(syscall_name, "open") && err == ENOENT) {
        say(out->cause, sizeof out->cause, "a path the sandbox shows does not exist on the host");
        say(out->remedy, sizeof out->remedy, "create it, or use the -try variant of the bind");
    } else if (is(step, "landlock") && (err == ENOSYS || err == EOPNOTSUPP)) {
        say(out->cause, sizeof out->cause,
            "the kernel offers no Landlock (it needs Linux 5.13 or later with landlock in its lsm= list), so "
            "there is nothing to fall back to without namespaces");
        say(out->remedy, sizeof out->remedy,
            "make user namespaces available (run paddock doctor), or run without a sandbox (--sandbox=off)");
    }
}
