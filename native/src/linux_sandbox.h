/* linux-sandbox mode: paddock-launch as a stand-in for Bazel's linux-sandbox
 * (what Buildfarm and Bazel run as `linux-sandbox [OPTIONS] -- COMMAND`). */
#ifndef PADDOCK_LINUX_SANDBOX_H
#define PADDOCK_LINUX_SANDBOX_H

#include <stdbool.h>

/* True when the launcher was started as `linux-sandbox` (argv[0]'s basename,
 * e.g. through a symlink) or with `--linux-sandbox` as its first argument. */
bool linux_sandbox_invoked(int argc, char **argv);

/* Parses linux-sandbox's options, translates them into paddock-launch's own
 * and runs /proc/self/exe with them; returns the exit status (see
 * docs/scale-out.md). */
int linux_sandbox_main(int argc, char **argv);

#endif
