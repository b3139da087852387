# Shared by the launcher's shell tests. A test file runs `set -u`, sources
# this file (which reads the file's own arguments: PATH_TO_paddock-launch),
# defines test_* functions, and ends with `run_tests LABEL TEST...`.
#
# Sourcing sets LAUNCH (absolute path of the launcher) and T (a fresh mktemp
# directory, removed at exit, and the working directory), and installs the
# helper scripts $DAEMONIZE and $AWAIT. Every launcher run is under
# `timeout 30`; tests synchronise on files the action writes and on status
# records, not on sleeps.

if [ $# -ne 1 ]; then
    echo "usage: $0 PATH_TO_paddock-launch" >&2
    exit 2
fi
case $1 in
/*) LAUNCH=$1 ;;
*) LAUNCH=$PWD/$1 ;;
esac
if [ ! -x "$LAUNCH" ]; then
    echo "$0: $LAUNCH is not an executable file" >&2
    exit 2
fi

TEST_FILE=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/$TEST_FILE.XXXXXX" 2>/dev/null || mktemp -d "/tmp/$TEST_FILE.XXXXXX") || {
    echo "$0: cannot create a temporary directory" >&2
    exit 2
}
BG_PIDS="" # background launchers (under timeout) started by the tests
# Unique to this run; see MARK in run_tests.
RUN_MARK=$$$RANDOM

cleanup() {
    # Whatever a failing test left behind: our background launchers, any
    # process whose (host) pid an action recorded in a *.pid file and that is
    # still a sleep of ours, and any process carrying this run's mark.
    local pid f
    for pid in $BG_PIDS; do
        is_alive "$pid" && kill -KILL "$pid" 2>/dev/null
    done
    for f in "$T"/*/*.pid "$T"/*/*.pids "$T"/*/*.tmp; do
        [ -f "$f" ] || continue
        while read -r pid; do
            case $pid in '' | *[!0-9]*) continue ;; esac
            if is_alive "$pid" && grep -q sleep "/proc/$pid/cmdline" 2>/dev/null; then
                kill -KILL "$pid" 2>/dev/null
            fi
        done <"$f"
    done
    for pid in $(marked_pids "*.$RUN_MARK"); do
        kill -KILL "$pid" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
cd "$T" || exit 2

# Small helpers for the actions, so that their sh -c scripts stay readable.
mkdir "$T/bin"
# daemonize PIDFILE CMD...: a classic daemon (fork, setsid, fork), like
# daemon(3): CMD ends up in a new session, re-parented away from its starter.
# Its pid is written to PIDFILE atomically (tmp + mv) before CMD runs.
cat >"$T/bin/daemonize" <<'EOF'
#!/bin/sh
pidfile=$1
shift
( setsid sh -c 'echo $$ > "$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$pidfile" "$@" & )
EOF
# await FILE: wait up to 10 s for FILE to appear (for use inside actions).
cat >"$T/bin/await" <<'EOF'
#!/bin/sh
i=0
while [ ! -e "$1" ]; do
    i=$((i + 1))
    [ "$i" -gt 1000 ] && exit 1
    sleep 0.01
done
EOF
chmod 755 "$T/bin/daemonize" "$T/bin/await"
DAEMONIZE=$T/bin/daemonize
AWAIT=$T/bin/await

# ---- helpers -------------------------------------------------------------

now_ms() {
    local t=${EPOCHREALTIME/[.,]/}
    echo $((t / 1000))
}

FAIL_MSG=""
fail() {
    FAIL_MSG=$*
    return 1
}

SKIP_MSG=""
# skip REASON: the test cannot run here (say which feature is missing);
# returns 0 so that `... || return 0` ends the test.
skip() {
    SKIP_MSG=$*
    return 0
}

# assert MESSAGE COMMAND...: fails with MESSAGE when COMMAND fails, e.g.
#   expect_rc 0 && assert "no output" [ -s "$D/out" ]
assert() {
    local msg=$1
    shift
    "$@" || fail "$msg"
}

# is_alive PID: the process exists and is not a zombie.
is_alive() {
    kill -0 "$1" 2>/dev/null || [ -d "/proc/$1" ] || return 1
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

# wait_until SECONDS COMMAND...: bounded poll until COMMAND succeeds.
wait_until() {
    local i=0 n=$(($1 * 50))
    shift
    until "$@" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -gt "$n" ] && return 1
        sleep 0.02
    done
}

# wait_for_file FILE SECONDS: FILE exists.
wait_for_file() { wait_until "$2" test -e "$1"; }

# wait_for_grep FILE STRING SECONDS: FILE holds the fixed string.
wait_for_grep() { wait_until "$3" grep -qF -- "$2" "$1"; }

# wait_for_exit PID SECONDS: PID is gone (or a zombie).
wait_for_exit() { wait_until "$2" is_gone "$1"; }
is_gone() { ! is_alive "$1"; }

# marked_pids PATTERN: host pids of the live processes that have an argument
# matching the glob PATTERN (read from /proc without forking per process).
marked_pids() {
    local f pid arg args
    for f in /proc/[0-9]*/cmdline; do
        args=()
        mapfile -d '' args 2>/dev/null <"$f" || continue # gone meanwhile
        for arg in "${args[@]}"; do
            # shellcheck disable=SC2254 # PATTERN is a glob on purpose
            case $arg in
            $1)
                pid=${f#/proc/}
                pid=${pid%/cmdline}
                is_alive "$pid" && echo "$pid"
                break
                ;;
            esac
        done
    done
}

# launch ARGS...: runs the launcher under a 30 s watchdog; sets RC, ELAPSED_MS
# and HUNG (the watchdog's own 124 must not pass for the launcher's).
launch() {
    local t0
    t0=$(now_ms)
    timeout -k 5 30 "$LAUNCH" "$@"
    RC=$?
    ELAPSED_MS=$(($(now_ms) - t0))
    HUNG=0
    [ "$ELAPSED_MS" -ge 29000 ] && HUNG=1
    return 0
}

# start_bg ARGS... [REDIRECTIONS]: the launcher in the background under the
# watchdog; sets BG to the watchdog's pid (its exit code is the launcher's).
# Call it in the foreground (not with &): redirections on the call apply to
# the background job, e.g.  start_bg --status-fd 3 -- cmd 3>"$D/status"
start_bg() {
    timeout -k 5 30 "$LAUNCH" "$@" &
    BG=$!
    BG_PIDS="$BG_PIDS $BG"
}

expect_rc() { # expect_rc WANT [CONTEXT]
    [ "$HUNG" = 0 ] || fail "launcher hung: killed by the 30 s watchdog${2:+ ($2)}" || return 1
    [ "$RC" = "$1" ] || fail "exit code $RC, want $1${2:+ ($2)}; stderr: $(head -c 300 "$D/err" 2>/dev/null)"
}

# has FILE STRING: FILE contains the fixed STRING.
has() {
    grep -qF -- "$2" "$1" 2>/dev/null || fail "$(basename "$1") lacks $2: $(head -c 600 "$1" 2>/dev/null)"
}
has_not() {
    ! grep -qF -- "$2" "$1" 2>/dev/null || fail "$(basename "$1") unexpectedly has $2: $(head -c 600 "$1")"
}

# record FILE TYPE: prints the (single) status record of TYPE in FILE.
record() {
    grep -F -- "{\"type\":\"$2\"" "$1" 2>/dev/null
}

# has_record FILE TYPE STRING...: a record of TYPE exists and holds every STRING.
has_record() {
    local file=$1 type=$2 line s
    shift 2
    local n
    n=$(record "$file" "$type" | wc -l)
    [ "$n" = 1 ] || fail "want one \"$type\" record, found $n in: $(head -c 600 "$file" 2>/dev/null)" || return 1
    line=$(record "$file" "$type")
    for s in "$@"; do
        case $line in
        *"$s"*) ;;
        *) fail "\"$type\" record lacks $s: $line" || return 1 ;;
        esac
    done
}

# json_lines FILE: every line is one JSON object with a type.
json_lines() {
    local line
    [ -s "$1" ] || fail "no status records in $(basename "$1")" || return 1
    while IFS= read -r line; do
        case $line in
        '{"type":"'*'}') ;;
        *) fail "not a one-line JSON record: $line" || return 1 ;;
        esac
    done <"$1"
}

# all_dead FILE: none of the pids listed in FILE is alive.
all_dead() {
    local pid alive=""
    [ -s "$1" ] || fail "no pids recorded in $(basename "$1")" || return 1
    while read -r pid; do
        [ -n "$pid" ] || continue
        is_alive "$pid" && alive="$alive $pid($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null))"
    done <"$1"
    [ -z "$alive" ] || fail "still alive:$alive"
}

all_alive() {
    local pid
    while read -r pid; do
        [ -n "$pid" ] || continue
        is_alive "$pid" || fail "pid $pid from $(basename "$1") is not running" || return 1
    done <"$1"
}

field() { # field FILE TYPE KEY: a numeric field of a record
    record "$1" "$2" | sed -n "s/.*\"$3\":\([0-9-]*\).*/\1/p"
}

# ---- runner --------------------------------------------------------------

# run_tests LABEL TEST...: runs each test function in its own directory $D
# and prints TAP-like lines and a summary; the exit status says whether all
# passed. MARK is a long sleep duration unique to the test and the run: an
# action that runs `sleep "$MARK"` can be found on the host afterwards with
# marked_pids "$MARK", also when its pid was only known inside a pid namespace.
run_tests() {
    local label=$1 t name passed=0 failed=0 skipped=0 n=0
    shift
    for t in "$@"; do
        name=${t#test_}
        n=$((n + 1))
        D=$T/$name
        MARK=9999$n.$RUN_MARK
        mkdir "$D"
        FAIL_MSG="" SKIP_MSG=""
        RC="" HUNG=0 ELAPSED_MS=0
        if "$t" && [ -z "$FAIL_MSG" ]; then
            if [ -n "$SKIP_MSG" ]; then
                echo "ok - $name # SKIP $SKIP_MSG"
                skipped=$((skipped + 1))
            else
                echo "ok - $name"
                passed=$((passed + 1))
            fi
        else
            echo "not ok - $name: ${FAIL_MSG:-failed}"
            failed=$((failed + 1))
        fi
    done
    if [ "$skipped" = 0 ]; then
        echo "$label: $passed passed, $failed failed"
    else
        echo "$label: $passed passed, $failed failed, $skipped skipped"
    fi
    [ "$failed" = 0 ]
}
