#!/bin/bash
# Runs bubblewrap's own test suite (tests/test-run.sh of a bubblewrap
# checkout, v0.11.1) against paddock-launch standing in for bwrap.
#
#   bash native/tests/bwrap-suite.sh PATH_TO_paddock-launch BUBBLEWRAP_SOURCE_DIR
#
# The launcher and the suite's files are staged in a fresh directory under
# /tmp that every user can read, so the same command works as root and as an
# unprivileged user (e.g. uid 65534). BWRAP points at a symlink named "bwrap"
# there: the launcher prefixes its messages with the name it was run as, and
# the suite looks for "bwrap: ...". Prints the suite's TAP output, then
#   bwrap suite: N passed, F failed, K skipped
# and exits non-zero if the suite did not run to its end with every case
# passing (2: bad usage).
set -u

usage() {
    echo "usage: $0 PATH_TO_paddock-launch BUBBLEWRAP_SOURCE_DIR" >&2
    echo "  BUBBLEWRAP_SOURCE_DIR: a checkout of bubblewrap v0.11.1 (it holds tests/test-run.sh), e.g." >&2
    echo "  git clone -b v0.11.1 https://github.com/containers/bubblewrap" >&2
    exit 2
}
[ $# -eq 2 ] || usage
launcher=$1
source_dir=$2
if [ ! -x "$launcher" ] || [ ! -f "$launcher" ]; then
    echo "$0: $launcher is not an executable file" >&2
    usage
fi
if [ ! -f "$source_dir/tests/test-run.sh" ] || [ ! -f "$source_dir/tests/libtest.sh" ]; then
    echo "$0: $source_dir is not a bubblewrap checkout (no tests/test-run.sh)" >&2
    usage
fi

stage=$(mktemp -d /tmp/bwrap-suite.XXXXXX) || exit 2
trap 'rm -rf "$stage"' EXIT
chmod 755 "$stage"
mkdir "$stage/bin" "$stage/tests"
cp "$launcher" "$stage/bin/paddock-launch" || exit 2
chmod 755 "$stage/bin/paddock-launch"
ln -s paddock-launch "$stage/bin/bwrap"
cp -R "$source_dir/tests/." "$stage/tests/" || exit 2
chmod -R a+rX "$stage/tests"

log="$stage/tap.log"
# The suite keeps its scratch files under /var/tmp and cleans up after itself.
(cd "$stage/tests" && BWRAP="$stage/bin/bwrap" bash ./test-run.sh) >"$log" 2>"$stage/trace.log"
rc=$?
cat "$log"
passed=$(grep -Ec '^ok [0-9]+' "$log")
skipped=$(grep -Ec '^ok [0-9]+ # SKIP' "$log")
failed=$(grep -Ec '^not ok [0-9]+' "$log")
passed=$((passed - skipped))
plan=$(grep -E '^1\.\.[0-9]+$' "$log")
if [ "$rc" != 0 ] || [ -z "$plan" ]; then
    echo "# the suite stopped early (exit code $rc); the end of its trace:"
    tail -n 25 "$stage/trace.log" | sed 's/^/# /'
    [ "$failed" -gt 0 ] || failed=1
fi
echo "bwrap suite: $passed passed, $failed failed, $skipped skipped"
[ "$rc" = 0 ] && [ -n "$plan" ] && [ "$failed" = 0 ]
