/* paddock's default seccomp filter (--default-seccomp), a classic BPF program
 * built here and installed in the action's process right before exec.
 *
 * It allows everything but the usual container-runtime deny list, which it
 * answers with EPERM rather than killing, so that a program probing for a
 * feature (io_uring, user namespaces, perf) falls back instead of dying:
 *   - keyrings: keyctl, add_key, request_key
 *   - namespaces: unshare, setns; clone with any CLONE_NEW* flag; clone3
 *     (ENOSYS: its flags are in memory, out of the filter's reach, and libcs
 *     then fall back to clone, whose flags it can see)
 *   - mounts: mount, umount2, pivot_root and the new mount API
 *   - io_uring_setup, io_uring_enter, io_uring_register
 *   - personality but PER_LINUX and the query 0xffffffff
 *   - ioctl TIOCSTI and TIOCLINUX (typing into a terminal)
 *   - perf_event_open, bpf, userfaultfd
 *   - host administration: kexec, modules, reboot, swap, acct, quotactl
 *   - lookup_dcookie, open_by_handle_at, name_to_handle_at
 * Another architecture than the launcher's is killed; x32 calls get EPERM.
 * docs/launcher.md says why each group is there. */
#define _GNU_SOURCE
#include "seccomp_default.h"

#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__) && !defined(__ILP32__)

/* Numbers an older libc's headers may lack (x86_64's, the same on every kernel). */
#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif
#ifndef SYS_io_uring_enter
#define SYS_io_uring_enter 426
#endif
#ifndef SYS_io_uring_register
#define SYS_io_uring_register 427
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_fspick
#define SYS_fspick 433
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_quotactl_fd
#define SYS_quotactl_fd 443
#endif
#ifndef SYS_lookup_dcookie
#define SYS_lookup_dcookie 212 /* removed from newer headers; the number stays reserved */
#endif
#ifndef SYS_seccomp
#define SYS_seccomp 317
#endif

#define FILTER_ARCH 0xc000003eu /* AUDIT_ARCH_X86_64 */
#define X32_SYSCALL_BIT 0x40000000u

/* Answered with EPERM whatever their arguments. */
static const uint32_t denied[] = {
    /* keyrings: not namespaced; the caller's session keyring holds its credentials */
    SYS_keyctl, SYS_add_key, SYS_request_key,
    /* namespaces: the sandbox's are the only ones an action gets */
    SYS_unshare, SYS_setns,
    /* mounts: the sandbox's view of the filesystem stays as it was set up */
    SYS_mount, SYS_umount2, SYS_pivot_root, SYS_move_mount, SYS_open_tree, SYS_fsopen, SYS_fsconfig, SYS_fsmount,
    SYS_fspick, SYS_mount_setattr,
    /* io_uring: operations no seccomp filter sees, and a large attack surface */
    SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register,
    /* kernel attack surface and information leaks */
    SYS_perf_event_open, SYS_bpf, SYS_userfaultfd,
    /* host administration */
    SYS_kexec_load, SYS_kexec_file_load, SYS_init_module, SYS_finit_module, SYS_delete_module, SYS_reboot,
    SYS_swapon, SYS_swapoff, SYS_acct, SYS_quotactl, SYS_quotactl_fd,
    /* file handles reach past bind mounts; dcookies are oprofile's */
    SYS_lookup_dcookie, SYS_open_by_handle_at, SYS_name_to_handle_at,
};

/* Classic BPF, spelled out (musl ships no <linux/filter.h> or <linux/seccomp.h>). */
#define BPF_LD_W_ABS 0x20u /* BPF_LD | BPF_W | BPF_ABS */
#define BPF_JEQ_K 0x15u    /* BPF_JMP | BPF_JEQ | BPF_K */
#define BPF_JSET_K 0x45u   /* BPF_JMP | BPF_JSET | BPF_K */
#define BPF_JGE_K 0x35u    /* BPF_JMP | BPF_JGE | BPF_K */
#define BPF_RET_K 0x06u    /* BPF_RET | BPF_K */

#define RET_KILL_PROCESS 0x80000000u
#define RET_ERRNO 0x00050000u
#define RET_ALLOW 0x7fff0000u

/* struct seccomp_data: nr, arch, then the arguments as 64-bit words; the low
 * half of argument n on a little-endian machine. */
#define OFF_NR 0u
#define OFF_ARCH 4u
#define OFF_ARG_LOW(n) (16u + 8u * (n))

/* CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
 * CLONE_NEWPID, CLONE_NEWNET (CLONE_NEWTIME's 0x80 is part of clone's exit
 * signal; only unshare and clone3 take it, and both are refused). */
#define CLONE_NEW_ANY 0x7e020000u

#ifndef TIOCSTI
#define TIOCSTI 0x5412
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541c
#endif

struct sock_filter_insn {
    uint16_t code;
    uint8_t jt, jf;
    uint32_t k;
};

struct sock_filter_prog {
    unsigned short len;
    struct sock_filter_insn *filter;
};

/* Jump targets, resolved once the program is laid out; NEXT falls through.
 * Labels of the search tree's branches are numbered from TARGETS up. */
enum target { NEXT, ALLOW, EPERM_, ENOSYS_, KILL, CLONE_FLAGS, PERSONALITY_ARG, IOCTL_REQUEST, TARGETS };

#define MAX_INSNS 192
#define MAX_LABELS (TARGETS + 64)

struct builder {
    struct sock_filter_insn insns[MAX_INSNS];
    int jt[MAX_INSNS], jf[MAX_INSNS];
    int at[MAX_LABELS];
    int count;
    int labels;
    int overflow;
};

static void emit(struct builder *b, uint16_t code, uint32_t k, int jt, int jf) {
    if (b->count == MAX_INSNS) {
        b->overflow = 1;
        return;
    }
    b->insns[b->count] = (struct sock_filter_insn){code, 0, 0, k};
    b->jt[b->count] = jt;
    b->jf[b->count] = jf;
    b->count++;
}

static void place(struct builder *b, int t) { b->at[t] = b->count; }

static int new_label(struct builder *b) {
    if (b->labels == MAX_LABELS) {
        b->overflow = 1;
        return NEXT;
    }
    b->at[b->labels] = -1;
    return b->labels++;
}

/* Fills in the jump offsets; -1 when one does not fit (a bug in the layout). */
static int resolve(struct builder *b) {
    if (b->overflow) return -1;
    for (int i = 0; i < b->count; i++) {
        uint16_t code = b->insns[i].code;
        if (code != BPF_JEQ_K && code != BPF_JSET_K && code != BPF_JGE_K) continue;
        int ts[2] = {b->jt[i], b->jf[i]};
        int offsets[2];
        for (int j = 0; j < 2; j++) {
            offsets[j] = ts[j] == NEXT ? 0 : b->at[ts[j]] - (i + 1);
            if (ts[j] != NEXT && (b->at[ts[j]] < 0 || offsets[j] < 0 || offsets[j] > 255)) return -1;
        }
        b->insns[i].jt = (uint8_t)offsets[0];
        b->insns[i].jf = (uint8_t)offsets[1];
    }
    return 0;
}

/* A system call the filter does not simply allow, and where it goes. */
struct special {
    uint32_t nr;
    int target;
};

/* Ascending by number, for the search tree. */
static void sort_specials(struct special *s, size_t n) {
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && s[j - 1].nr > s[j].nr; j--) {
            struct special t = s[j];
            s[j] = s[j - 1];
            s[j - 1] = t;
        }
}

/* Searches s[0..n) for the number in the accumulator: a binary tree of
 * "number >= k" tests down to a few equality tests, then allow. The kernel
 * runs the filter for every system call number once when it is installed (to
 * learn which it may allow without running it), so its cost, about 2.5 us per
 * instruction on the path of an allowed call, is paid by every sandboxed
 * spawn: a linear list of the 40 numbers cost 70 us, the tree 25. */
static void emit_search(struct builder *b, const struct special *s, size_t n) {
    if (n <= 3) {
        for (size_t i = 0; i < n; i++) emit(b, BPF_JEQ_K, s[i].nr, s[i].target, NEXT);
        emit(b, BPF_RET_K, RET_ALLOW, NEXT, NEXT);
        return;
    }
    size_t mid = n / 2;
    int upper = new_label(b);
    emit(b, BPF_JGE_K, s[mid].nr, upper, NEXT);
    emit_search(b, s, mid);
    place(b, upper);
    emit_search(b, s + mid, n - mid);
}

#endif /* x86_64 */

int seccomp_default_install(void) {
#if defined(__x86_64__) && !defined(__ILP32__)
    struct builder b;
    b.count = 0;
    b.overflow = 0;
    b.labels = TARGETS;
    for (int t = 0; t < TARGETS; t++) b.at[t] = -1;
    enum { DENIED = sizeof denied / sizeof denied[0] };
    struct special specials[DENIED + 4];
    size_t n = 0;
    for (size_t i = 0; i < DENIED; i++) specials[n++] = (struct special){denied[i], EPERM_};
    specials[n++] = (struct special){SYS_clone3, ENOSYS_};
    specials[n++] = (struct special){SYS_clone, CLONE_FLAGS};
    specials[n++] = (struct special){SYS_personality, PERSONALITY_ARG};
    specials[n++] = (struct special){SYS_ioctl, IOCTL_REQUEST};
    sort_specials(specials, n);

    emit(&b, BPF_LD_W_ABS, OFF_ARCH, NEXT, NEXT);
    emit(&b, BPF_JEQ_K, FILTER_ARCH, NEXT, KILL);
    emit(&b, BPF_LD_W_ABS, OFF_NR, NEXT, NEXT);
    emit(&b, BPF_JSET_K, X32_SYSCALL_BIT, EPERM_, NEXT);
    emit_search(&b, specials, n);

    place(&b, CLONE_FLAGS); /* clone(flags, ...): no new namespace */
    emit(&b, BPF_LD_W_ABS, OFF_ARG_LOW(0), NEXT, NEXT);
    emit(&b, BPF_JSET_K, CLONE_NEW_ANY, EPERM_, ALLOW);

    place(&b, PERSONALITY_ARG); /* personality(persona): PER_LINUX, or the query */
    emit(&b, BPF_LD_W_ABS, OFF_ARG_LOW(0), NEXT, NEXT);
    emit(&b, BPF_JEQ_K, 0u, ALLOW, NEXT);
    emit(&b, BPF_JEQ_K, 0xffffffffu, ALLOW, EPERM_);

    place(&b, IOCTL_REQUEST); /* ioctl(fd, request, ...): the request's low 32 bits, as the kernel takes it */
    emit(&b, BPF_LD_W_ABS, OFF_ARG_LOW(1), NEXT, NEXT);
    emit(&b, BPF_JEQ_K, (uint32_t)TIOCSTI, EPERM_, NEXT);
    emit(&b, BPF_JEQ_K, (uint32_t)TIOCLINUX, EPERM_, ALLOW);

    place(&b, ALLOW);
    emit(&b, BPF_RET_K, RET_ALLOW, NEXT, NEXT);
    place(&b, EPERM_);
    emit(&b, BPF_RET_K, RET_ERRNO | (uint32_t)EPERM, NEXT, NEXT);
    place(&b, ENOSYS_);
    emit(&b, BPF_RET_K, RET_ERRNO | (uint32_t)ENOSYS, NEXT, NEXT);
    place(&b, KILL);
    emit(&b, BPF_RET_K, RET_KILL_PROCESS, NEXT, NEXT);

    if (resolve(&b) < 0) {
        errno = EINVAL;
        return -1;
    }
    struct sock_filter_prog prog = {(unsigned short)b.count, b.insns};
    /* seccomp(2) first: without flags it filters this thread only, like prctl. */
    if (syscall(SYS_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, 0U, &prog) == 0) return 0;
    if (errno != ENOSYS) return -1;
    return prctl(PR_SET_SECCOMP, 2 /* SECCOMP_MODE_FILTER */, &prog, 0, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}
