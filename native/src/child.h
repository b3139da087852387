/* Applying a plan inside the action's child process. */
#ifndef PADDOCK_CHILD_H
#define PADDOCK_CHILD_H

#include <limits.h>
#include <sys/types.h>

#include "plan.h"

/* Which step of the child's setup failed. */
enum child_step {
    STEP_SESSION = 1, /* setsid */
    STEP_PARENT,      /* prctl(PR_SET_PDEATHSIG) */
    STEP_SIGNALS,     /* resetting the signal mask and dispositions */
    STEP_CHDIR,
    STEP_ENV,
    STEP_FDS,         /* closing inherited descriptors */
    STEP_EXEC,
};

/* What the child sends back over the report pipe when setup or exec fails.
 * Nothing is sent when exec succeeds: the pipe is close-on-exec. */
struct child_failure {
    int step;
    int err;
    char syscall[16];
    char path[PATH_MAX];     /* the path the failing call was given */
    char search_path[4096];  /* PATH as the action saw it, for exec failures */
};

const char *child_step_name(int step);

/* Runs in the freshly forked child; never returns. report_fd is the
 * close-on-exec write end of the report pipe; launcher_pid is the parent. */
_Noreturn void child_run(const struct plan *plan, int report_fd, pid_t launcher_pid);

#endif
