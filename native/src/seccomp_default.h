/* paddock's default seccomp filter (--default-seccomp): the system calls a
 * build action has no use for and that container runtimes refuse, answered
 * with EPERM (clone3 with ENOSYS) instead of running. The list and the reason
 * for each group are in docs/launcher.md. */
#ifndef PADDOCK_SECCOMP_DEFAULT_H
#define PADDOCK_SECCOMP_DEFAULT_H

/* Installs the filter on the calling thread only (no TSYNC): called in the
 * action's process right before exec, after no_new_privs. Returns 0, or -1
 * with errno set (ENOSYS: no filter for this architecture). */
int seccomp_default_install(void);

#endif
