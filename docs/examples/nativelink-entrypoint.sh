#!/bin/sh
# A NativeLink worker `entrypoint` that runs every action in paddock's sandbox
# with paddock-launch. See docs/scale-out.md (NativeLink) for the worker
# configuration that goes with it.
#
# NativeLink runs `ENTRYPOINT ARGV...` (the action's own arguments appended),
# in the action's working directory, with stdin from /dev/null and only the
# action's environment plus the worker's `additional_environment`, which must
# set PADDOCK_ACTION_DIR (`"action_directory"`) and may set:
#   PADDOCK_TIMEOUT_MS    ("timeout_millis") the action's timeout, enforced by
#                         paddock (use with `timeout_handled_externally: true`)
#   PADDOCK_SIDE_CHANNEL  ("side_channel_file") where a timeout is reported to
#                         NativeLink, as {"failure":"timeout"}
#   PADDOCK_NETWORK       (e.g. {property: "network"}) "host" keeps the host's
#                         network; anything else: loopback only
#   PADDOCK_LAUNCH        the paddock-launch binary (default
#                         /usr/local/bin/paddock-launch)
set -eu

launch=${PADDOCK_LAUNCH:-/usr/local/bin/paddock-launch}
action_dir=${PADDOCK_ACTION_DIR:?"set PADDOCK_ACTION_DIR: \"action_directory\" in the worker's additional_environment"}
timeout_ms=${PADDOCK_TIMEOUT_MS:-}
side_channel=${PADDOCK_SIDE_CHANNEL:-}
network=${PADDOCK_NETWORK:-}
workdir=$(pwd)

status=$action_dir/paddock-status

# Options are prepended in front of `-- ARGV...`, last first.
set -- -- "$@"
set -- --unsetenv PADDOCK_ACTION_DIR --unsetenv PADDOCK_TIMEOUT_MS --unsetenv PADDOCK_SIDE_CHANNEL \
    --unsetenv PADDOCK_NETWORK --unsetenv PADDOCK_LAUNCH --cap-drop ALL "$@"
if [ -n "$timeout_ms" ] && [ "$timeout_ms" -gt 0 ] 2>/dev/null; then
    set -- --timeout "${timeout_ms}ms" "$@"
fi
if [ "$network" = host ]; then
    set -- --share-net "$@"
fi
# The host read-only; a fresh /proc and /dev; a private /tmp; the worker's
# other actions hidden under a tmpfs over its work directory; this action's
# directory writable. In this order, so that each lies on top of the last
# (the work directory is often under /tmp).
set -- --status-fd 3 --die-with-parent --unshare-all \
    --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp \
    --tmpfs "$(dirname "$action_dir")" --bind "$action_dir" "$action_dir" \
    --chdir "$workdir" "$@"

rc=0
"$launch" "$@" 3>"$status" || rc=$?
# A setup failure (exit 125) or a command that could not run (126, 127) is
# only in the status records: say it on stderr, where the client sees it.
grep -q '"type":"exited"' "$status" || cat "$status" >&2
if [ -n "$side_channel" ] && grep -q '"timed_out":true' "$status"; then
    echo '{"failure":"timeout"}' >"$side_channel"
fi
exit "$rc"
