#!/usr/bin/env bash
# Tests for paddock-launch's linux-sandbox mode: the launcher run as
# `linux-sandbox` (a symlink) or with `--linux-sandbox` first, taking Bazel's
# linux-sandbox options, as Buildfarm's workers run it.
#
# usage: native/tests/linux-sandbox-tests.sh PATH_TO_paddock-launch
#
# Runs as root and as an unprivileged user without a home directory, e.g.
#   setpriv --reuid=65534 --regid=65534 --clear-groups \
#       bash native/tests/linux-sandbox-tests.sh /tmp/x/paddock-launch
#
# The command line Buildfarm's worker builds for an action that uses the
# sandbox (ShardWorkerContext.java: limitExecution, decideLinuxSandboxOptions
# and addLinuxSandboxCli; Executor.java: executePolled, executeCommand):
#
#   [prioritized policy wrappers...] [cgexec-wrapper -g CONTROLLERS:GROUP]
#   LINUX_SANDBOX [-N] [-H] -W WORKDIR [-S WORKDIR/action_execution_statistics]
#       -w EXECROOT -w WORKDIR [-w ADDITIONAL_WRITE_PATH...] [-e TMPFS_PATH...] --
#       [as-nobody] [other policy wrappers...] ARGV...
#
# -N when the action blocks the network, -H for a fake hostname, -S when it
# asks to be debugged after execution (the worker then parses that file as
# Bazel's ExecutionStatistics protobuf), -e for sandboxSettings.tmpFsPaths.
# The process starts in WORKDIR with only the action's environment
# (ProcessBuilder with a cleared environment). Buildfarm passes no -T: it
# times actions out itself, by destroying the process (SIGTERM, then SIGKILL).
set -u
# shellcheck source=native/tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export LC_ALL=C

ln -s "$LAUNCH" "$T/bin/linux-sandbox"
LS=$T/bin/linux-sandbox

# sandboxed ARGS...: runs ARGS (a linux-sandbox command line) under the
# watchdog from $D/exec/work with an empty environment but PATH, as a
# Buildfarm worker does; stdout to $D/out, stderr to $D/err.
sandboxed() {
    local t0
    t0=$(now_ms)
    (cd "$D/exec/work" && timeout -k 5 30 env -i PATH=/usr/local/bin:/usr/bin:/bin "$@" >"$D/out" 2>"$D/err")
    RC=$?
    ELAPSED_MS=$(($(now_ms) - t0))
    HUNG=0
    [ "$ELAPSED_MS" -ge 29000 ] && HUNG=1
    return 0
}

# The directories of one Buildfarm execution: the exec root (-w), the action's
# working dir in it (-W, -w), a tmpfs path (-e) that holds a host file, and a
# host directory the action may only read.
setup_exec() {
    mkdir -p "$D/exec/work" "$D/scratch" "$D/ro"
    echo host >"$D/scratch/host-file"
    echo readonly >"$D/ro/file"
}

# The argv shape above, for an action that blocks the network and fakes the
# hostname and wants statistics.
buildfarm_argv() {
    BF=("$LS" -N -H -W "$D/exec/work" -S "$D/exec/work/action_execution_statistics"
        -w "$D/exec" -w "$D/exec/work" -e "$D/scratch" --)
}

# needs_sandbox: skips the test when this kernel gives no user namespace.
needs_sandbox() {
    timeout -k 5 30 "$LAUNCH" --status-fd 3 --unshare-user --unshare-pid --ro-bind / / --proc /proc -- true \
        3>"$D/needs" >/dev/null 2>&1 && return 0
    skip "this kernel refuses a sandbox: $(head -c 300 "$D/needs")"
    return 1
}

# varint: reads one varint from bytes[] at i into v, advancing i.
varint() {
    local b shift=0
    v=0
    while [ "$i" -lt "$n" ]; do
        b=${bytes[$i]}
        i=$((i + 1))
        v=$((v | ((b & 127) << shift)))
        shift=$((shift + 7))
        [ "$b" -lt 128 ] && return 0
    done
    return 1
}

# marked_count: how many live processes carry this test's MARK.
marked_count() { marked_pids "$MARK" | wc -l; }
marks_at_least() { [ "$(marked_count)" -ge "$1" ]; }
no_marks() { [ "$(marked_count)" = 0 ]; }

# decode_stats FILE: prints "FIELD VALUE" for each varint field of the
# ResourceUsage message inside an ExecutionStatistics protobuf.
decode_stats() {
    local bytes=() i=0 n tag v
    read -r -a bytes <<<"$(od -An -v -tu1 "$1" | tr -s ' \n' '  ')"
    n=${#bytes[@]}
    [ "$n" -ge 2 ] && [ "${bytes[0]}" = 10 ] || return 1 # field 1, length-delimited
    [ "${bytes[1]}" = $((n - 2)) ] || return 1
    i=2
    while [ "$i" -lt "$n" ]; do
        varint || return 1
        tag=$v
        [ $((tag & 7)) = 0 ] || return 1
        varint || return 1
        echo "$((tag >> 3)) $v"
    done
}

# ---- the Buildfarm argv shape ----------------------------------------------

test_buildfarm_action_runs_and_writes_its_working_dir() {
    needs_sandbox || return 0
    setup_exec
    buildfarm_argv
    sandboxed "${BF[@]}" /bin/sh -c 'echo out; echo err >&2; pwd > pwd.txt; echo x > "$0/exec/sibling"; exit 3' "$D"
    expect_rc 3 || return 1
    assert "stdout: $(cat "$D/out")" [ "$(cat "$D/out")" = out ] || return 1
    assert "stderr: $(cat "$D/err")" [ "$(cat "$D/err")" = err ] || return 1
    assert "no pwd.txt in the working dir" [ "$(cat "$D/exec/work/pwd.txt" 2>/dev/null)" = "$D/exec/work" ] || return 1
    assert "the exec root (-w) was not writable" [ -s "$D/exec/sibling" ]
}

test_buildfarm_host_is_read_only() {
    needs_sandbox || return 0
    setup_exec
    buildfarm_argv
    sandboxed "${BF[@]}" /bin/sh -c 'cat "$0/ro/file" && ! echo y >"$0/ro/file" 2>/dev/null && ! touch "$0/ro/new" 2>/dev/null && ! mkdir /usr/paddock-ls-test 2>/dev/null' "$D"
    expect_rc 0 "read-only host paths were writable, or unreadable" || return 1
    assert "read-only file changed" [ "$(cat "$D/ro/file")" = readonly ] || return 1
    assert "file created on the host" [ ! -e "$D/ro/new" ]
}

test_buildfarm_tmpfs_is_empty_and_private() {
    needs_sandbox || return 0
    setup_exec
    buildfarm_argv
    sandboxed "${BF[@]}" /bin/sh -c 'ls -A "$0/scratch"; echo inside > "$0/scratch/inner"; cat "$0/scratch/inner"' "$D"
    expect_rc 0 || return 1
    assert "tmpfs dir not empty, or not writable: $(cat "$D/out")" [ "$(cat "$D/out")" = inside ] || return 1
    assert "the host file under the tmpfs is gone" [ "$(cat "$D/scratch/host-file")" = host ] || return 1
    assert "a file written to the tmpfs reached the host" [ ! -e "$D/scratch/inner" ]
}

test_buildfarm_N_leaves_only_loopback() {
    needs_sandbox || return 0
    setup_exec
    buildfarm_argv
    sandboxed "${BF[@]}" /bin/sh -c 'sed -n "s/^ *\([^ :]*\):.*/\1/p" /proc/net/dev; readlink /proc/self/ns/net'
    expect_rc 0 || return 1
    assert "interfaces: $(tr '\n' ' ' <"$D/out")" [ "$(sed -n 1p "$D/out"):$(wc -l <"$D/out")" = lo:2 ] || return 1
    assert "same network namespace as the host" [ "$(tail -n 1 "$D/out")" != "$(readlink /proc/self/ns/net)" ]
}

test_buildfarm_N_loopback_is_up() {
    needs_sandbox || return 0
    local ip
    ip=$(command -v ip) || ip=/usr/sbin/ip
    [ -x "$ip" ] || { skip "no ip program (iproute2) to read the state of lo"; return 0; }
    setup_exec
    buildfarm_argv
    sandboxed "${BF[@]}" "$ip" -o link show
    expect_rc 0 || return 1
    assert "links: $(cat "$D/out")" [ "$(wc -l <"$D/out")" = 1 ] || return 1
    has "$D/out" "lo:" || return 1
    has "$D/out" "UP"
}

test_buildfarm_H_sets_hostname_localhost() {
    needs_sandbox || return 0
    setup_exec
    buildfarm_argv
    sandboxed "${BF[@]}" /bin/sh -c 'cat /proc/sys/kernel/hostname'
    expect_rc 0 || return 1
    assert "hostname: $(cat "$D/out")" [ "$(cat "$D/out")" = localhost ]
}

test_without_N_and_H_host_network_and_hostname() {
    needs_sandbox || return 0
    setup_exec
    sandboxed "$LS" -W "$D/exec/work" -w "$D/exec" -w "$D/exec/work" -- /bin/sh -c 'readlink /proc/self/ns/net; cat /proc/sys/kernel/hostname'
    expect_rc 0 || return 1
    assert "network namespace differs without -N" [ "$(sed -n 1p "$D/out")" = "$(readlink /proc/self/ns/net)" ] || return 1
    assert "hostname differs without -H" [ "$(sed -n 2p "$D/out")" = "$(cat /proc/sys/kernel/hostname)" ]
}

test_buildfarm_proc_is_fresh_and_proc_self_exe_readable() {
    needs_sandbox || return 0
    setup_exec
    buildfarm_argv
    sandboxed "${BF[@]}" /bin/sh -c 'readlink /proc/self/exe; head -c 4 /proc/self/exe | od -An -c | tr -d " "; ls /proc | grep -c "^[0-9]*$"; test -c /dev/null && test -c /dev/urandom && echo devs'
    expect_rc 0 || return 1
    has "$D/out" ELF || return 1
    has "$D/out" devs || return 1
    local exe nprocs
    exe=$(sed -n 1p "$D/out")
    nprocs=$(sed -n 3p "$D/out")
    case $exe in /*) ;; *) fail "readlink /proc/self/exe: $exe" || return 1 ;; esac
    # paddock's init, sh and ls (and the grep): a new pid namespace.
    assert "/proc lists $nprocs processes: not a fresh pid namespace" [ "$nprocs" -le 6 ]
}

test_buildfarm_statistics_file_is_execution_statistics() {
    needs_sandbox || return 0
    setup_exec
    buildfarm_argv
    sandboxed "${BF[@]}" /bin/sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; head -c 1000000 /dev/zero | cat >/dev/null'
    expect_rc 0 || return 1
    local stats=$D/exec/work/action_execution_statistics fields
    assert "no statistics file" [ -s "$stats" ] || return 1
    fields=$(decode_stats "$stats") || fail "not an ExecutionStatistics protobuf: $(od -An -tx1 "$stats" | head -c 300)" || return 1
    # maxrss (5) is in kB and non-zero; some CPU time (1-4) was used.
    echo "$fields" | grep -q '^5 [1-9]' || fail "no maxrss in: $fields" || return 1
    echo "$fields" | grep -q '^[1-4] [1-9]' || fail "no CPU time in: $fields"
}

test_buildfarm_sigterm_stops_the_tree() {
    needs_sandbox || return 0
    setup_exec
    buildfarm_argv
    (cd "$D/exec/work" && exec env -i PATH=/usr/bin:/bin "${BF[@]}" /bin/sh -c 'sleep "$0" & echo $! > "$1/exec/work/bg.pid"; sleep "$0"' "$MARK" "$D") >"$D/out" 2>"$D/err" &
    local shim=$!
    BG_PIDS="$BG_PIDS $shim"
    wait_until 10 marks_at_least 2 || fail "the action's sleeps did not start" || return 1
    kill -TERM "$shim"
    wait "$shim"
    RC=$?
    HUNG=0
    expect_rc 143 "the action's own status: killed by SIGTERM" || return 1
    wait_until 10 no_marks || fail "left behind: $(marked_pids "$MARK")"
}

test_buildfarm_sigkill_of_the_shim_kills_the_tree() {
    needs_sandbox || return 0
    setup_exec
    buildfarm_argv
    (cd "$D/exec/work" && exec env -i PATH=/usr/bin:/bin "${BF[@]}" /bin/sh -c 'sleep "$0"' "$MARK") >"$D/out" 2>"$D/err" &
    local shim=$!
    BG_PIDS="$BG_PIDS $shim"
    wait_until 10 marks_at_least 1 || fail "the action's sleep did not start" || return 1
    kill -KILL "$shim"
    wait "$shim" 2>/dev/null
    wait_until 10 no_marks || fail "left behind: $(marked_pids "$MARK")"
}

test_buildfarm_tmpfs_path_above_the_worker_root() {
    needs_sandbox || return 0
    setup_exec
    # sandboxSettings.tmpFsPaths [/tmp] with the worker root under /tmp: the
    # tmpfs comes first, the exec root and working dir stay visible on it.
    sandboxed "$LS" -W "$D/exec/work" -w "$D/exec" -w "$D/exec/work" -e "$D" -- /bin/sh -c 'ls -A "$0"; echo x > "$0/exec/work/out"; echo y > "$0/new"' "$D"
    expect_rc 0 || return 1
    assert "the tmpfs holds $(tr '\n' ' ' <"$D/out")" [ "$(cat "$D/out")" = exec ] || return 1
    assert "working dir not written through" [ -s "$D/exec/work/out" ] || return 1
    assert "a file written to the tmpfs reached the host" [ ! -e "$D/new" ]
}

# The execution policy of docs/scale-out.md: a wrapper with fixed arguments,
# so no -W (the working dir is the current one, where Buildfarm starts it).
#   worker.executionPolicies: [{name: "", executionWrapper: {path: LINUX_SANDBOX,
#       arguments: ["-N", "-w", WORKER_ROOT, "-e", "/tmp", "--"]}}]
# gives  LINUX_SANDBOX -N -w WORKER_ROOT -e /tmp -- ARGV...
test_buildfarm_execution_policy_shape() {
    needs_sandbox || return 0
    setup_exec
    sandboxed "$LS" -N -w "$D/exec" -e /tmp -- /bin/sh -c 'pwd; echo "[$(ls -A /tmp)]"; echo x > out; echo y > ../up; sed -n "s/^ *\([^ :]*\):.*/\1/p" /proc/net/dev'
    expect_rc 0 || return 1
    # The private /tmp holds only the way to the worker root, when it is there.
    local in_tmp=""
    case $D in /tmp/*) in_tmp=${D#/tmp/} in_tmp=${in_tmp%%/*} ;; esac
    assert "output: $(tr '\n' ' ' <"$D/out")" [ "$(tr '\n' ' ' <"$D/out")" = "$D/exec/work [$in_tmp] lo " ] || return 1
    assert "working dir not written through" [ -s "$D/exec/work/out" ] || return 1
    assert "the worker root (-w) not written through" [ -s "$D/exec/up" ]
}

# ---- exit status -----------------------------------------------------------

test_exit_status_is_the_actions() {
    needs_sandbox || return 0
    setup_exec
    sandboxed "$LS" -W "$D/exec/work" -- /bin/sh -c 'exit 42'
    expect_rc 42 || return 1
    sandboxed "$LS" -W "$D/exec/work" -- /bin/sh -c 'kill -KILL $$'
    expect_rc 137 "killed by SIGKILL" || return 1
    sandboxed "$LS" -W "$D/exec/work" -- no-such-command-paddock
    expect_rc 127 "command not found" || return 1
    has "$D/err" no-such-command-paddock
}

test_timeout_T_terminates_with_the_actions_status() {
    needs_sandbox || return 0
    setup_exec
    sandboxed "$LS" -T 1 -t 1 -W "$D/exec/work" -- /bin/sh -c 'exec sleep "$0"' "$MARK"
    expect_rc 143 "killed by the timeout's SIGTERM" || return 1
    assert "took $ELAPSED_MS ms for -T 1" [ "$ELAPSED_MS" -lt 10000 ] || return 1
    assert "left behind: $(marked_pids "$MARK")" [ -z "$(marked_pids "$MARK")" ]
}

test_timeout_t_kills_an_action_that_ignores_sigterm() {
    needs_sandbox || return 0
    setup_exec
    sandboxed "$LS" -T 1 -t 1 -W "$D/exec/work" -- /bin/sh -c 'trap "" TERM; sleep "$0"; exit 0' "$MARK"
    expect_rc 137 "SIGKILL after the -t delay" || return 1
    assert "took $ELAPSED_MS ms for -T 1 -t 1" [ "$ELAPSED_MS" -lt 10000 ] || return 1
    assert "left behind: $(marked_pids "$MARK")" [ -z "$(marked_pids "$MARK")" ]
}

test_setup_failure_is_said_on_stderr() {
    needs_sandbox || return 0
    setup_exec
    sandboxed "$LS" -W "$D/exec/work" -w "$D/missing" -- /bin/true
    [ "$RC" != 0 ] || fail "a missing writable path ran the action" || return 1
    has "$D/err" "$D/missing"
}

# ---- the other options -----------------------------------------------------

test_l_and_L_redirect_output() {
    needs_sandbox || return 0
    setup_exec
    sandboxed "$LS" -W "$D/exec/work" -l "$D/stdout.log" -L "$D/stderr.log" -- /bin/sh -c 'echo to-out; echo to-err >&2'
    expect_rc 0 || return 1
    assert "stdout file: $(cat "$D/stdout.log" 2>/dev/null)" [ "$(cat "$D/stdout.log")" = to-out ] || return 1
    assert "stderr file: $(cat "$D/stderr.log" 2>/dev/null)" [ "$(cat "$D/stderr.log")" = to-err ] || return 1
    assert "output reached the caller's stdout" [ ! -s "$D/out" ]
}

test_M_m_bind_read_only_unless_w() {
    needs_sandbox || return 0
    setup_exec
    mkdir "$D/exec/work/ro-target" "$D/exec/work/rw-target" "$D/src"
    echo src >"$D/src/file"
    sandboxed "$LS" -W "$D/exec/work" -M "$D/src" -m "$D/exec/work/ro-target" -M "$D/src" -m "$D/exec/work/rw-target" \
        -w "$D/exec/work/rw-target" -- /bin/sh -c 'cat ro-target/file; ! touch ro-target/new 2>/dev/null && touch rw-target/new && echo ok'
    expect_rc 0 || return 1
    has "$D/out" src || return 1
    has "$D/out" ok || return 1
    assert "-w target not written through" [ -e "$D/src/new" ]
}

test_argument_file_expands() {
    needs_sandbox || return 0
    setup_exec
    printf '%s\n' -H -W "$D/exec/work" "" -w "$D/exec/work" >"$D/args"
    sandboxed "$LS" "@$D/args" -- /bin/sh -c 'cat /proc/sys/kernel/hostname; echo x > f'
    expect_rc 0 || return 1
    assert "hostname: $(cat "$D/out")" [ "$(cat "$D/out")" = localhost ] || return 1
    assert "-W from the file not used" [ -s "$D/exec/work/f" ]
}

test_R_and_U_ids() {
    needs_sandbox || return 0
    setup_exec
    sandboxed "$LS" -R -W "$D/exec/work" -- /bin/sh -c 'id -u; id -g; sed -n "s/^CapEff:[[:space:]]*//p" /proc/self/status'
    expect_rc 0 || return 1
    assert "-R ids: $(tr '\n' ' ' <"$D/out")" [ "$(head -n 2 "$D/out" | tr '\n' ' ')" = "0 0 " ] || return 1
    assert "-R without capabilities" [ "$(sed -n 3p "$D/out")" != 0000000000000000 ] || return 1
    local nobody
    nobody=$(sed -n 's/^nobody:[^:]*:\([0-9]*\):.*/\1/p' /etc/passwd)
    [ -n "$nobody" ] || return 0
    sandboxed "$LS" -U -W "$D/exec/work" -- /bin/sh -c 'id -u'
    expect_rc 0 || return 1
    assert "-U uid: $(cat "$D/out"), want $nobody" [ "$(cat "$D/out")" = "$nobody" ]
}

test_default_ids_are_the_callers_without_capabilities() {
    needs_sandbox || return 0
    setup_exec
    sandboxed "$LS" -W "$D/exec/work" -- /bin/sh -c 'id -u; sed -n "s/^CapEff:[[:space:]]*//p" /proc/self/status'
    expect_rc 0 || return 1
    assert "uid $(sed -n 1p "$D/out"), want $(id -u)" [ "$(sed -n 1p "$D/out")" = "$(id -u)" ] || return 1
    assert "effective capabilities $(sed -n 2p "$D/out")" [ "$(sed -n 2p "$D/out")" = 0000000000000000 ]
}

test_h_hermetic_root() {
    needs_sandbox || return 0
    local root=$D/root d
    mkdir -p "$root/work" "$root/usr"
    local binds=(-M /usr)
    for d in bin sbin lib lib32 lib64; do
        if [ -L "/$d" ]; then
            ln -s "$(readlink "/$d")" "$root/$d"
        elif [ -d "/$d" ]; then
            mkdir "$root/$d"
            binds+=(-M "/$d")
        fi
    done
    mkdir -p "$D/exec/work"
    sandboxed "$LS" -h "$root" -W "$root/work" "${binds[@]}" -- /bin/sh -c 'pwd; echo x > here; ls /; ! touch /usr/paddock-ls-test 2>/dev/null && echo ro'
    expect_rc 0 || return 1
    assert "working dir: $(sed -n 1p "$D/out")" [ "$(sed -n 1p "$D/out")" = /work ] || return 1
    assert "not written in the sandbox dir" [ -s "$root/work/here" ] || return 1
    has "$D/out" ro || return 1
    has_not "$D/out" exec
}

test_C_puts_the_action_into_the_cgroup() {
    needs_sandbox || return 0
    setup_exec
    local base cg="" name=paddock-ls-$RUN_MARK
    for base in /sys/fs/cgroup /sys/fs/cgroup/unified /sys/fs/cgroup/pids; do
        [ -f "$base/cgroup.procs" ] && mkdir "$base/$name" 2>/dev/null && cg=$base/$name && break
    done
    [ -n "$cg" ] || { skip "no cgroup directory this user can create"; return 0; }
    sandboxed "$LS" -C "$cg" -W "$D/exec/work" -- /bin/cat /proc/self/cgroup
    local rc=$RC
    rmdir "$cg" 2>/dev/null
    RC=$rc
    expect_rc 0 || return 1
    has "$D/out" "/$name"
}

test_linux_sandbox_flag_form_and_debug_file() {
    needs_sandbox || return 0
    setup_exec
    sandboxed "$LAUNCH" --linux-sandbox -D "$D/debug" -W "$D/exec/work" -- /bin/echo hello
    expect_rc 0 || return 1
    assert "stdout: $(cat "$D/out")" [ "$(cat "$D/out")" = hello ] || return 1
    has "$D/debug" "--ro-bind" || return 1
    has "$D/debug" '{"type":"exited"'
}

test_operands_before_double_dash_are_the_command() {
    needs_sandbox || return 0
    setup_exec
    # GNU getopt, which linux-sandbox uses, moves operands behind the options.
    sandboxed "$LS" -W "$D/exec/work" /bin/echo -H -- a b
    expect_rc 0 || return 1
    assert "stdout: $(cat "$D/out")" [ "$(cat "$D/out")" = "a b" ]
}

test_usage_errors_exit_1_naming_the_flag() {
    setup_exec
    sandboxed "$LS" -X -- /bin/true
    expect_rc 1 "unknown flag" || return 1
    has "$D/err" "Unrecognized argument: -X" || return 1
    sandboxed "$LS" -W relative -- /bin/true
    expect_rc 1 "relative -W" || return 1
    has "$D/err" "The -W option must be used with absolute paths only." || return 1
    sandboxed "$LS" -W "$D/exec/work"
    expect_rc 1 "no command" || return 1
    has "$D/err" "No command specified." || return 1
    sandboxed "$LS" -m /x -- /bin/true
    expect_rc 1 "-m without -M" || return 1
    has "$D/err" "The -m option must be strictly preceded by an -M option." || return 1
    sandboxed "$LS" -n -N -- /bin/true
    expect_rc 1 "-n and -N" || return 1
    has "$D/err" "Only one of -n and -N may be specified." || return 1
    sandboxed "$LS" -T
    expect_rc 1 "-T without a value" || return 1
    has "$D/err" "Flag -T requires an argument" || return 1
    sandboxed "$LS" -T soon -- /bin/true
    expect_rc 1 "bad -T" || return 1
    has "$D/err" "Invalid timeout (-T) value: soon" || return 1
    sandboxed "$LS" "@$D/no-such-args" -- /bin/true
    expect_rc 1 "missing argument file" || return 1
    has "$D/err" "$D/no-such-args"
}

run_tests "linux-sandbox tests as $(id -un 2>/dev/null || id -u)" \
    test_buildfarm_action_runs_and_writes_its_working_dir \
    test_buildfarm_host_is_read_only \
    test_buildfarm_tmpfs_is_empty_and_private \
    test_buildfarm_N_leaves_only_loopback \
    test_buildfarm_N_loopback_is_up \
    test_buildfarm_H_sets_hostname_localhost \
    test_without_N_and_H_host_network_and_hostname \
    test_buildfarm_proc_is_fresh_and_proc_self_exe_readable \
    test_buildfarm_statistics_file_is_execution_statistics \
    test_buildfarm_sigterm_stops_the_tree \
    test_buildfarm_sigkill_of_the_shim_kills_the_tree \
    test_buildfarm_tmpfs_path_above_the_worker_root \
    test_buildfarm_execution_policy_shape \
    test_exit_status_is_the_actions \
    test_timeout_T_terminates_with_the_actions_status \
    test_timeout_t_kills_an_action_that_ignores_sigterm \
    test_setup_failure_is_said_on_stderr \
    test_l_and_L_redirect_output \
    test_M_m_bind_read_only_unless_w \
    test_argument_file_expands \
    test_R_and_U_ids \
    test_default_ids_are_the_callers_without_capabilities \
    test_h_hermetic_root \
    test_C_puts_the_action_into_the_cgroup \
    test_linux_sandbox_flag_form_and_debug_file \
    test_operands_before_double_dash_are_the_command \
    test_usage_errors_exit_1_naming_the_flag
