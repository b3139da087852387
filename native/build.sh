#!/bin/sh
# Builds paddock-launch and the benchmark baselines into OUT_DIR.
# Static with musl-gcc when it is installed (one file runs on any x86_64
# Linux); dynamically linked with gcc otherwise.
set -eu
out=${1:?usage: native/build.sh OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
flags="-std=c11 -O2 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fno-strict-aliasing"
if command -v musl-gcc >/dev/null 2>&1; then
    cc="musl-gcc"; link="-static"
else
    cc="${CC:-gcc}"; link=""
fi
# shellcheck disable=SC2086
$cc $flags $link -o "$out/paddock-launch" "$here"/src/*.c
# The baselines measure glibc's posix_spawn, a hand-built sandbox and a spawn
# under a pty, as a C program on this host would.
# shellcheck disable=SC2086
${CC:-gcc} $flags -pthread -o "$out/c-posix-spawn" "$here/bench/c-posix-spawn.c" "$here/bench/harness.c"
# shellcheck disable=SC2086
${CC:-gcc} $flags -pthread -o "$out/c-clone-sandbox" "$here/bench/c-clone-sandbox.c" "$here/bench/harness.c"
# shellcheck disable=SC2086
${CC:-gcc} $flags -pthread -o "$out/c-pty" "$here/bench/c-pty.c" "$here/bench/harness.c"
echo "native: built paddock-launch with $cc${link:+ ($link)}"
