#!/usr/bin/env bash
# Tests for paddock-launch alone (no Java): exit codes, status records, fd
# hygiene, environment, --args, whole-tree kill on exit/timeout/cancel/lifeline.
#
# usage: native/tests/launcher-tests.sh PATH_TO_paddock-launch
#
# Runs as root and as an unprivileged user without a home directory, e.g.
#   setpriv --reuid=65534 --regid=65534 --clear-groups \
#       bash native/tests/launcher-tests.sh /tmp/x/paddock-launch
# Writes only under a fresh mktemp -d directory, removed at exit. Every wait is
# bounded and every launcher run is under `timeout 30`; tests synchronise on
# files the action writes and on status records, not on sleeps.
set -u
# shellcheck source=native/tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ---- tests ---------------------------------------------------------------

test_help() {
    launch --help >"$D/out" 2>"$D/err"
    expect_rc 0 && has "$D/out" "--lifeline-fd" && has "$D/out" "--timeout"
}

test_core_dumps_off_and_cannot_be_turned_on() {
    launch -- sh -c 'ulimit -c; ulimit -H -c; ulimit -c unlimited 2>/dev/null && echo RAISED; ulimit -c' \
        >"$D/out" 2>"$D/err"
    expect_rc 0 && assert "core limit soft, hard, soft after raising: $(cat "$D/out" | tr '\n' ' ')" \
        [ "$(cat "$D/out" | tr '\n' ' ')" = "0 0 0 " ] || return 1
    launch --allow-core-dumps -- sh -c 'ulimit -H -c' >"$D/out" 2>"$D/err"
    expect_rc 0 && assert "--allow-core-dumps keeps the caller's hard limit: $(cat "$D/out")" \
        [ "$(cat "$D/out")" = "$(ulimit -H -c)" ]
}

test_exit_0() {
    launch --status-fd 3 -- true 3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 0 && json_lines "$D/status" &&
        assert "want 2 records (spawned, exited): $(cat "$D/status")" [ "$(wc -l <"$D/status")" = 2 ] || return 1
    has_record "$D/status" spawned '"pid":' '"launcher_pid":' &&
        has_record "$D/status" exited '"exit_code":0' '"status":0' '"signal":null' '"timed_out":false' \
            '"cancelled_by":null' '"owner_lost":false' '"killed_after_grace":false' '"rusage":{'
}

test_exit_1() {
    launch --status-fd 3 -- false 3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 1 && has_record "$D/status" exited '"exit_code":1' '"status":1'
}

test_exit_3() {
    launch --status-fd 3 -- sh -c 'exit 3' 3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 3 && has_record "$D/status" exited '"exit_code":3' '"status":3'
}

test_exit_137_self_sigkill() {
    launch --status-fd 3 -- sh -c 'kill -9 $$' 3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 137 && has_record "$D/status" exited '"exit_code":137' '"status":null' '"signal":"SIGKILL"' \
        '"signal_number":9' '"timed_out":false' '"cancelled_by":null'
}

test_stdin_stdout_pass_through() {
    printf 'through the launcher\n' >"$D/in"
    launch -- cat <"$D/in" >"$D/out" 2>"$D/err"
    expect_rc 0 && assert "stdout: $(cat "$D/out")" [ "$(cat "$D/out")" = "through the launcher" ]
}

test_own_session_and_group() {
    # pid, pgrp and session of the action itself, from /proc/<pid>/stat.
    launch --status-fd 3 -- sh -c 'read -r s < /proc/$$/stat; echo "$s"' 3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 0 || return 1
    local stat pid rest pgrp sid
    stat=$(cat "$D/out")
    pid=${stat%% *}
    rest=${stat##*) }         # state ppid pgrp session ...
    set -- $rest
    pgrp=$3 sid=$4
    [ "$pid" = "$pgrp" ] && [ "$pid" = "$sid" ] || fail "action pid $pid pgrp $pgrp sid $sid: not its own session leader" || return 1
    [ "$(field "$D/status" spawned pid)" = "$pid" ] || fail "spawned record pid $(field "$D/status" spawned pid), action pid $pid" || return 1
    has_record "$D/status" spawned "\"pgid\":$pid" "\"sid\":$pid"
}

test_exec_missing_command_127() {
    launch --setenv PATH /nonexistent-a:/nonexistent-b --status-fd 3 -- paddock-no-such-command-x \
        3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 127 && json_lines "$D/status" &&
        has_record "$D/status" exec-failed '"step":"exec"' '"errno":"ENOENT"' \
            '"search_path":"/nonexistent-a:/nonexistent-b"' '"path":"paddock-no-such-command-x"' '"exit_code":127' &&
        has_not "$D/status" '"type":"spawned"' && has_not "$D/status" '"type":"exited"'
}

test_exec_missing_command_inherited_path() {
    # The search path reported is the action's own (inherited) PATH.
    launch --status-fd 3 -- paddock-no-such-command-x 3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 127 || return 1
    case $PATH in *[\"\\]*) has_record "$D/status" exec-failed '"errno":"ENOENT"' '"search_path":"' ;;
    *) has_record "$D/status" exec-failed '"errno":"ENOENT"' "\"search_path\":\"$PATH\"" ;;
    esac || return 1
    # Without a status fd the message goes to stderr instead.
    launch -- paddock-no-such-command-x >"$D/out" 2>"$D/err"
    expect_rc 127 "no status fd" && has "$D/err" "paddock-no-such-command-x" && has "$D/err" "PATH="
}

test_exec_unsearchable_path_dir_127() {
    # A PATH entry the user may not search (root's ~/.cargo/bin in a PATH
    # inherited through setpriv/sudo) makes execve fail with EACCES; that is
    # still "not found" (127), not "found but not executable" (126). Only
    # meaningful when not root: root may search a mode-000 directory.
    mkdir "$D/locked" "$D/bin"
    chmod 000 "$D/locked"
    local result=0
    launch --setenv PATH "$D/locked:/nonexistent" --status-fd 3 -- paddock-no-such-command-x \
        3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 127 "unsearchable dir" &&
        has_record "$D/status" exec-failed '"errno":"ENOENT"' '"path":"paddock-no-such-command-x"' || result=1
    if [ "$result" = 0 ]; then
        # ...while a real non-executable file later in PATH is still 126.
        printf '#!/bin/sh\ntouch "%s/ran"\n' "$D" >"$D/bin/script"
        chmod 644 "$D/bin/script"
        launch --setenv PATH "$D/locked:$D/bin" --status-fd 3 -- script 3>"$D/status2" >"$D/out" 2>"$D/err"
        expect_rc 126 "non-executable file after an unsearchable dir" &&
            has_record "$D/status2" exec-failed '"errno":"EACCES"' "\"path\":\"$D/bin/script\"" &&
            assert "the non-executable script ran" [ ! -e "$D/ran" ] || result=1
    fi
    chmod 700 "$D/locked"
    return "$result"
}

test_exec_script_without_shebang() {
    # Like execvp: an executable text file without #! runs through /bin/sh.
    printf 'echo "no shebang: $1"\n' >"$D/script"
    chmod 755 "$D/script"
    launch -- "$D/script" arg >"$D/out" 2>"$D/err"
    expect_rc 0 && assert "stdout: $(cat "$D/out")" [ "$(cat "$D/out")" = "no shebang: arg" ]
}

test_exec_missing_absolute_127() {
    launch --status-fd 3 -- "$D/not-there" 3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 127 && has_record "$D/status" exec-failed '"errno":"ENOENT"' "\"path\":\"$D/not-there\"" \
        '"search_path":null'
}

test_exec_not_executable_126() {
    printf '#!/bin/sh\ntouch "%s/ran"\n' "$D" >"$D/script"
    chmod 644 "$D/script"
    launch --status-fd 3 -- "$D/script" 3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 126 "absolute path" && has_record "$D/status" exec-failed '"errno":"EACCES"' '"exit_code":126' &&
        assert "the non-executable script ran" [ ! -e "$D/ran" ] || return 1
    # Found through PATH but not executable: 126 too, not 127.
    launch --setenv PATH "/nonexistent:$D" --status-fd 3 -- script 3>"$D/status2" >"$D/out" 2>"$D/err"
    expect_rc 126 "via PATH" && has_record "$D/status2" exec-failed '"errno":"EACCES"' "\"path\":\"$D/script\"" &&
        assert "the non-executable script ran" [ ! -e "$D/ran" ]
}

test_unknown_option_125() {
    launch --no-such-option -- sh -c 'touch "$1"' sh "$D/ran" >"$D/out" 2>"$D/err"
    expect_rc 125 && has "$D/err" "--no-such-option" &&
        assert "the command ran after an unknown option" [ ! -e "$D/ran" ] || return 1
    # With a status fd: a setup-failed record for the options step.
    launch --status-fd 3 --no-such-option -- sh -c 'touch "$1"' sh "$D/ran" 3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 125 "with status fd" && json_lines "$D/status" &&
        has_record "$D/status" setup-failed '"step":"options"' '--no-such-option' '"exit_code":125' &&
        has_not "$D/status" '"type":"spawned"' && assert "the command ran" [ ! -e "$D/ran" ]
}

test_malformed_timeout_125() {
    launch --timeout xx -- sh -c 'touch "$1"' sh "$D/ran" >"$D/out" 2>"$D/err"
    expect_rc 125 && has "$D/err" "--timeout" && has "$D/err" "'xx'" &&
        assert "the command ran after --timeout xx" [ ! -e "$D/ran" ] || return 1
    launch --kill-grace 5parsecs -- sh -c 'touch "$1"' sh "$D/ran" >"$D/out" 2>"$D/err"
    expect_rc 125 "--kill-grace 5parsecs" && has "$D/err" "--kill-grace" || return 1
    launch -- sh -c 'touch "$1"' sh "$D/ran" --timeout >"$D/out" 2>"$D/err" # after the command: an argument
    expect_rc 0 "--timeout after the command is the command's argument" || return 1
    launch --timeout >"$D/out" 2>"$D/err"
    expect_rc 125 "--timeout without a value" && has "$D/err" "--timeout"
}

test_chdir_missing_125_vs_action_125() {
    launch --chdir "$D/missing" --status-fd 3 -- sh -c 'touch "$1"' sh "$D/ran" \
        3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 125 "missing --chdir" && json_lines "$D/status" &&
        has_record "$D/status" setup-failed '"step":"chdir"' '"errno":"ENOENT"' "\"path\":\"$D/missing\"" \
            '"syscall":"chdir"' '"exit_code":125' &&
        has_not "$D/status" '"type":"exited"' && has_not "$D/status" '"type":"spawned"' &&
        assert "the command ran despite the failed chdir" [ ! -e "$D/ran" ] || return 1
    # The action's own 125 is an "exited" record, never a setup failure.
    launch --status-fd 3 -- sh -c 'exit 125' 3>"$D/status2" >"$D/out" 2>"$D/err"
    expect_rc 125 "action exits 125" && has_record "$D/status2" exited '"exit_code":125' '"status":125' &&
        has_not "$D/status2" '"type":"setup-failed"' && has_not "$D/status2" '"type":"exec-failed"'
}

test_chdir_existing() {
    mkdir "$D/work dir"
    launch --chdir "$D/work dir" -- sh -c 'pwd -P' >"$D/out" 2>"$D/err"
    expect_rc 0 && assert "pwd: $(cat "$D/out")" [ "$(cat "$D/out")" = "$(cd "$D/work dir" && pwd -P)" ]
}

test_only_fds_012() {
    # The launcher holds fds 3 (status), 4 (lifeline), 5 and 7 (strays, as a
    # JVM leaves them without O_CLOEXEC): the action must see none of them.
    # The probe lists the action's fds from a child (ls), so that the listing
    # itself opens nothing in the action; a glob over /proc/$$/fd would show
    # the shell's own directory fd, and "ls" as the last command would be
    # exec'ed in place of the shell.
    local probe='ls /proc/$$/fd; exit 0' fds
    # Control: without the launcher, the probe does see a stray fd 7.
    sh -c "$probe" 7</dev/null >"$D/control"
    grep -qx 7 "$D/control" || fail "the probe cannot see fd 7: $(tr '\n' ' ' <"$D/control")" || return 1
    mkfifo "$D/lifeline"
    exec 8<>"$D/lifeline" # a writer, held here, so the lifeline stays open
    launch --status-fd 3 --lifeline-fd 4 -- sh -c "$probe" \
        3>"$D/status" 4<"$D/lifeline" 5</dev/null 7</dev/null 8>&- >"$D/out" 2>"$D/err"
    exec 8>&-
    expect_rc 0 && has_record "$D/status" exited '"owner_lost":false' || return 1
    fds=$(sort -n "$D/out" | tr '\n' ' ')
    [ "$fds" = "0 1 2 " ] || fail "action's fds: $fds(want 0 1 2)"
}

test_signals_default_in_action() {
    # Ignored signals survive exec: the launcher must hand the action none of
    # the ones it inherited ignored (as under nohup), nor its own SIGPIPE, and
    # no blocked signals. The control shows the inherited ones do reach cat.
    (trap '' HUP INT USR1 && exec cat /proc/self/status) >"$D/control"
    grep -Eq '^SigIgn:[[:space:]]*0*[1-9a-f]' "$D/control" ||
        fail "the control ignores nothing: $(grep '^Sig' "$D/control" | tr '\n' ' ')" || return 1
    (trap '' HUP INT USR1 && launch -- cat /proc/self/status >"$D/out" 2>"$D/err" && exit "$RC")
    RC=$?
    expect_rc 0 || return 1
    local ign blk
    ign=$(awk '$1 == "SigIgn:" {print $2}' "$D/out")
    blk=$(awk '$1 == "SigBlk:" {print $2}' "$D/out")
    assert "action's SigIgn $ign, SigBlk $blk (want all zeros)" [ "$ign $blk" = "0000000000000000 0000000000000000" ]
}

test_setenv_unsetenv() {
    FOO=outer BAR=keep BAZ=gone launch --setenv FOO inner --unsetenv BAZ --setenv NEW 'a b=c' \
        -- sh -c 'echo "$FOO|${BAR-unset}|${BAZ-unset}|$NEW"' >"$D/out" 2>"$D/err"
    expect_rc 0 && assert "env seen: $(cat "$D/out")" [ "$(cat "$D/out")" = "inner|keep|unset|a b=c" ] || return 1
    launch --setenv 'BAD=NAME' x -- true >"$D/out" 2>"$D/err"
    expect_rc 125 "--setenv with = in the name" && has "$D/err" "--setenv"
}

test_clearenv() {
    # Edits apply in order: what was set before --clearenv is gone.
    FOO=outer launch --setenv EARLY 1 --clearenv --setenv ONLY 'x y' -- env >"$D/out" 2>"$D/err"
    expect_rc 0 && assert "environment after --clearenv: $(tr '\n' ' ' <"$D/out")" [ "$(cat "$D/out")" = "ONLY=x y" ]
}

test_args_fd_too_many_refused() {
    # Four million and one arguments: refused with a message, nothing runs (counts stay far from int overflow).
    yes x | head -n 4000001 | tr '\n' '\0' >"$D/many"
    launch --args 3 -- sh -c "touch $D/ran" 3<"$D/many" >"$D/out" 2>"$D/err"
    expect_rc 125 && has "$D/err" "more than 4000000 arguments" &&
        assert "nothing ran" [ ! -e "$D/ran" ]
}

test_args_fd() {
    # Options and the command from a NUL-separated fd, with spaces, a newline
    # and an empty argument kept intact.
    printf '%s\0' --setenv GREETING 'hello world' -- sh -c 'printf "[%s]" "$GREETING" "$@"' sh 'a b' \
        "$(printf 'line1\nline2')" '' >"$D/args"
    launch --args 3 3<"$D/args" >"$D/out" 2>"$D/err"
    expect_rc 0 || return 1
    local want
    want=$(printf '[hello world][a b][line1\nline2][]')
    [ "$(cat "$D/out")" = "$want" ] || fail "argv seen: $(cat "$D/out")" || return 1
    # Spliced in place: options from the fd, the command on the command line.
    printf '%s\0' --setenv X from-fd >"$D/args2"
    launch --args 3 --setenv Y from-argv -- sh -c 'echo "$X $Y"' 3<"$D/args2" >"$D/out" 2>"$D/err"
    expect_rc 0 "spliced" && assert "spliced: $(cat "$D/out")" [ "$(cat "$D/out")" = "from-fd from-argv" ] || return 1
    # A last argument without its NUL is refused, and nothing runs.
    printf 'sh\0-c\0touch %s/ran' "$D" >"$D/args3"
    launch --args 3 3<"$D/args3" >"$D/out" 2>"$D/err"
    expect_rc 125 "unterminated" && has "$D/err" "--args" && assert "the command ran" [ ! -e "$D/ran" ]
}

test_timeout_124_kills_tree() {
    # Main process, a setsid'd sleep (new session) and an orphaned sleep
    # (same group, re-parented): all dead after the timeout.
    launch --timeout 1s --status-fd 3 -- sh -c '
        setsid sleep 600 & echo $! >> "$1.tmp"
        (sleep 601 & echo $! >> "$1.tmp")
        echo $$ >> "$1.tmp"; mv "$1.tmp" "$1"
        exec sleep 600' sh "$D/tree.pids" 3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 124 && assert "the action never recorded its pids" [ -f "$D/tree.pids" ] &&
        assert "want 3 pids: $(cat "$D/tree.pids" 2>/dev/null)" [ "$(wc -l <"$D/tree.pids")" = 3 ] &&
        all_dead "$D/tree.pids" &&
        has_record "$D/status" exited '"exit_code":124' '"timed_out":true' '"signal":"SIGTERM"' \
            '"killed_after_grace":false' '"cancelled_by":null' || return 1
    assert "took $ELAPSED_MS ms for a 1 s timeout" [ "$ELAPSED_MS" -ge 900 -a "$ELAPSED_MS" -lt 4500 ]
}

test_timeout_kill_grace_escalation() {
    launch --timeout 1s --kill-grace 500ms --status-fd 3 -- sh -c '
        trap "" TERM
        setsid sleep 600 & echo $! >> "$1.tmp"
        echo $$ >> "$1.tmp"; mv "$1.tmp" "$1"
        sleep 600; echo survived' sh "$D/tree.pids" 3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 124 && all_dead "$D/tree.pids" &&
        has_record "$D/status" exited '"exit_code":124' '"timed_out":true' '"killed_after_grace":true' \
            '"signal":"SIGKILL"' || return 1
    assert "the action kept running: $(cat "$D/out")" [ ! -s "$D/out" ] &&
        assert "took $ELAPSED_MS ms for 1 s + 500 ms grace" [ "$ELAPSED_MS" -ge 1400 -a "$ELAPSED_MS" -lt 5000 ]
}

test_timeout_stopped_action() {
    # A stopped action must still get the SIGTERM (SIGCONT follows it), not
    # wait out the whole grace period for SIGKILL.
    launch --timeout 1s --kill-grace 3s --status-fd 3 -- sh -c '
        echo $$ > "$1.tmp"; mv "$1.tmp" "$1"; kill -STOP $$; echo continued' sh "$D/main.pid" \
        3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 124 && all_dead "$D/main.pid" &&
        has_record "$D/status" exited '"timed_out":true' '"signal":"SIGTERM"' '"killed_after_grace":false' &&
        assert "took $ELAPSED_MS ms: the SIGTERM waited for the grace period" [ "$ELAPSED_MS" -lt 2500 ] &&
        assert "the action ran on: $(cat "$D/out")" [ ! -s "$D/out" ]
}

test_action_exit_124_is_not_a_timeout() {
    launch --timeout 20s --status-fd 3 -- sh -c 'exit 124' 3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 124 && has_record "$D/status" exited '"status":124' '"timed_out":false'
}

test_double_fork_daemon_killed_on_exit() {
    # (cmd &) inside a subshell: the sleep is orphaned, re-parented to the
    # launcher, and the action's main process exits 0 at once.
    launch --status-fd 3 -- sh -c '(sleep 600 & echo $! > "$1.tmp"; mv "$1.tmp" "$1"); exit 0' \
        sh "$D/daemon.pid" 3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 0 && assert "no daemon pid recorded" [ -s "$D/daemon.pid" ] &&
        all_dead "$D/daemon.pid" && has_record "$D/status" exited '"exit_code":0'
}

test_setsid_daemon_killed_on_exit() {
    # A real daemon: fork, setsid, fork (new session, parent gone). The main
    # process waits until it runs, then exits 0.
    launch --status-fd 3 -- sh -c '"$0" "$1" sleep 600; "$2" "$1" || exit 99; exit 0' \
        "$DAEMONIZE" "$D/daemon.pid" "$AWAIT" 3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 0 && assert "no daemon pid recorded" [ -s "$D/daemon.pid" ] && all_dead "$D/daemon.pid"
}

test_lifeline_eof_kills_tree() {
    mkfifo "$D/lifeline"
    # fd 8 holds the FIFO open read-write so neither open blocks; the launcher
    # gets the read end only (8>&-), so closing 8 here is the owner's death.
    exec 8<>"$D/lifeline"
    start_bg --lifeline-fd 3 --status-fd 4 -- sh -c '
        "$0" "$1" sleep 600; "$2" "$1" || exit 99
        echo $$ > "$3.tmp"; mv "$3.tmp" "$3"; exec sleep 600' \
        "$DAEMONIZE" "$D/daemon.pid" "$AWAIT" "$D/main.pid" \
        3<"$D/lifeline" 4>"$D/status" 8>&- >"$D/out" 2>"$D/err"
    local bg=$BG rc
    if ! wait_for_file "$D/main.pid" 10; then
        exec 8>&-
        fail "the action never started: $(cat "$D/err" "$D/status")"
        return 1
    fi
    wait_for_grep "$D/status" '"type":"spawned"' 10 || { exec 8>&-; fail "no spawned record"; return 1; }
    if ! is_alive "$bg" || ! all_alive "$D/daemon.pid"; then
        exec 8>&-
        fail "the launcher or daemon stopped while the lifeline was open: ${FAIL_MSG:-launcher gone} $(cat "$D/status")"
        return 1
    fi
    exec 8>&- # the owner goes away
    wait_for_exit "$bg" 10 || fail "the launcher did not exit within 10 s of the lifeline closing" || return 1
    wait "$bg"
    rc=$?
    all_dead "$D/daemon.pid" && all_dead "$D/main.pid" || return 1
    [ "$rc" = 137 ] || fail "exit code $rc, want 137 (action SIGKILLed)" || return 1
    has_record "$D/status" exited '"owner_lost":true' '"signal":"SIGKILL"' '"timed_out":false'
}

test_sigterm_cancels_143() {
    start_bg --status-fd 3 -- sh -c '
        setsid sleep 600 & echo $! > "$1.tmp"; mv "$1.tmp" "$1"
        echo $$ > "$2.tmp"; mv "$2.tmp" "$2"; exec sleep 600' sh "$D/daemon.pid" "$D/main.pid" \
        3>"$D/status" >"$D/out" 2>"$D/err"
    local bg=$BG rc lpid
    wait_for_file "$D/main.pid" 10 && wait_for_grep "$D/status" '"type":"spawned"' 10 ||
        fail "the action never started: $(cat "$D/err" "$D/status")" || return 1
    lpid=$(field "$D/status" spawned launcher_pid)
    [ -n "$lpid" ] || fail "no launcher_pid in $(cat "$D/status")" || return 1
    kill -TERM "$lpid"
    wait_for_exit "$bg" 10 || fail "the launcher did not exit within 10 s of SIGTERM" || return 1
    wait "$bg"
    rc=$?
    [ "$rc" = 143 ] || fail "exit code $rc, want 143" || return 1
    all_dead "$D/main.pid" && all_dead "$D/daemon.pid" &&
        has_record "$D/status" exited '"exit_code":143' '"signal":"SIGTERM"' '"cancelled_by":"SIGTERM"' \
            '"timed_out":false' '"killed_after_grace":false'
}

test_die_with_parent() {
    # The launcher's parent (here the timeout watchdog) is SIGKILLed: the
    # launcher must notice (PR_SET_PDEATHSIG) and take the tree down.
    start_bg --die-with-parent --status-fd 3 -- sh -c '
        setsid sleep 600 & echo $! > "$1.tmp"; mv "$1.tmp" "$1"
        echo $$ > "$2.tmp"; mv "$2.tmp" "$2"; exec sleep 600' sh "$D/daemon.pid" "$D/main.pid" \
        3>"$D/status" >"$D/out" 2>"$D/err"
    local parent=$BG lpid
    wait_for_file "$D/main.pid" 10 && wait_for_grep "$D/status" '"type":"spawned"' 10 ||
        fail "the action never started: $(cat "$D/err" "$D/status")" || return 1
    lpid=$(field "$D/status" spawned launcher_pid)
    [ -n "$lpid" ] || fail "no launcher_pid in $(cat "$D/status")" || return 1
    BG_PIDS="$BG_PIDS $lpid"
    kill -KILL "$parent"
    wait "$parent" 2>/dev/null
    wait_for_exit "$lpid" 10 || fail "the launcher survived its parent by 10 s" || return 1
    all_dead "$D/main.pid" && all_dead "$D/daemon.pid" &&
        has_record "$D/status" exited '"owner_lost":true' '"signal":"SIGKILL"'
}

# ---- runner --------------------------------------------------------------

TESTS="
test_help
test_exit_0
test_exit_1
test_exit_3
test_exit_137_self_sigkill
test_stdin_stdout_pass_through
test_own_session_and_group
test_exec_missing_command_127
test_exec_missing_command_inherited_path
test_exec_missing_absolute_127
test_exec_unsearchable_path_dir_127
test_exec_script_without_shebang
test_exec_not_executable_126
test_unknown_option_125
test_malformed_timeout_125
test_chdir_missing_125_vs_action_125
test_chdir_existing
test_only_fds_012
test_signals_default_in_action
test_setenv_unsetenv
test_clearenv
test_args_fd
test_args_fd_too_many_refused
test_timeout_124_kills_tree
test_timeout_kill_grace_escalation
test_timeout_stopped_action
test_action_exit_124_is_not_a_timeout
test_double_fork_daemon_killed_on_exit
test_setsid_daemon_killed_on_exit
test_lifeline_eof_kills_tree
test_sigterm_cancels_143
test_die_with_parent
test_core_dumps_off_and_cannot_be_turned_on
"
# shellcheck disable=SC2086 # one test name per word
run_tests launcher $TESTS
