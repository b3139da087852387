#define _GNU_SOURCE
#include "signals.h"

#include <string.h>

static sigset_t inherited_ignored;

void supervised_signals(sigset_t *mask) {
    sigemptyset(mask);
    sigaddset(mask, SIGCHLD);
    sigaddset(mask, SIGTERM);
    sigaddset(mask, SIGINT);
    sigaddset(mask, SIGHUP);
}

void note_inherited_ignored_signals(void) {
    sigemptyset(&inherited_ignored);
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction old;
        if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            sigaddset(&inherited_ignored, sig);
    }
}

/* The launcher installs no handlers, so only its ignored signals (inherited,
 * and SIGPIPE) would reach the action; a call per signal would cost more than
 * the rest of the child's setup. */
int reset_inherited_signals(void) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        if (sig == SIGPIPE || sigismember(&inherited_ignored, sig) == 1) sigaction(sig, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    return sigprocmask(SIG_SETMASK, &none, NULL);
}
