#!/usr/bin/env bash
# Tests for paddock-launch's sandbox options (no Java): user, pid, net, uts,
# ipc and cgroup namespaces, the mount operations, --dev and --proc, dropped
# capabilities, and paddock's init (reaping, signal relay, exit status,
# timeouts that take the whole pid namespace down).
#
# usage: native/tests/launcher-sandbox-tests.sh PATH_TO_paddock-launch
#
# Runs as root and as an unprivileged user without a home directory, e.g.
#   setpriv --reuid=65534 --regid=65534 --clear-groups \
#       bash native/tests/launcher-sandbox-tests.sh /tmp/x/paddock-launch
# A test is skipped only when the kernel refuses a feature it needs (user
# namespaces, a namespace type, a fresh procfs), and says which. Most
# sandboxes see the host read-only (--ro-bind / /) with the test's own
# directory bound writable; the action's stdout and stderr are host files.
set -u
# shellcheck source=native/tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export LC_ALL=C # the error messages the tests look for are the C locale's

# A root that is the sandbox's own tmpfs with only /usr (and /bin, /lib...
# as the host has them: symlinks on merged-/usr hosts, binds otherwise), for
# the operations that create things in the root.
MIN_ROOT=(--ro-bind /usr /usr)
for d in bin sbin lib lib32 lib64; do
    if [ -L "/$d" ]; then
        MIN_ROOT+=(--symlink "$(readlink "/$d")" "/$d")
    elif [ -d "/$d" ]; then
        MIN_ROOT+=(--ro-bind "/$d" "/$d")
    fi
done

# The interface names in /proc/net/dev (sed program).
IFACES_SED='s/^ *\([^ :]*\):.*/\1/p'

# ---- helpers -------------------------------------------------------------

# needs [OPTION...]: skips the test when this kernel refuses what OPTIONs ask
# for (namespaces, a fresh procfs), or without OPTIONs any sandbox at all (it
# always has a user namespace), naming them; returns 1 then, so callers write
# `needs ... || return 0`. Any other failure is left to the test.
needs() {
    timeout -k 5 30 "$LAUNCH" --status-fd 3 --ro-bind / / "$@" -- true 3>"$D/needs" >/dev/null 2>&1 &&
        return 0
    local step errno message
    step=$(str_field "$D/needs" setup-failed step)
    errno=$(str_field "$D/needs" setup-failed errno)
    case $step:$errno in
    clone:* | uid-map:* | setgroups:* | gid-map:* | make-private:EPERM | new-root:EPERM | proc:EPERM)
        message=$(str_field "$D/needs" setup-failed message)
        skip "this kernel refuses ${*:-a user namespace}: $step failed with $errno (${message%% (*})"
        return 1
        ;;
    esac
    return 0
}

str_field() { # str_field FILE TYPE KEY: a string field of a record
    record "$1" "$2" | sed -n "s/.*\"$3\":\"\([^\"]*\)\".*/\1/p"
}

# out_is WANT: the action's stdout is exactly WANT.
out_is() {
    [ "$(cat "$D/out")" = "$1" ] ||
        fail "stdout: $(head -c 600 "$D/out" | tr '\n' '|'); want: $(printf %s "$1" | tr '\n' '|'); stderr: $(head -c 300 "$D/err")"
}

out_line() { sed -n "$1p" "$D/out"; }

# no_marked_left: no process started with this test's MARK is alive on the host.
no_marked_left() {
    local left pid
    left=$(marked_pids "$MARK")
    [ -z "$left" ] || fail "still running on the host: $(for pid in $left; do
        tr '\0' ' ' <"/proc/$pid/cmdline"
        echo -n '; '
    done)"
}

# failed_nonzero: the action ran and failed (its own exit code, not the launcher's 125).
failed_nonzero() {
    [ "$HUNG" = 0 ] || fail "launcher hung" || return 1
    [ "$RC" != 0 ] && [ "$RC" != 125 ] || fail "exit code $RC, want the action's own failure; stderr: $(head -c 300 "$D/err")"
}

# ---- user namespace and ids ----------------------------------------------

test_user_ns_keeps_caller_ids() {
    needs --unshare-user || return 0
    launch --unshare-user --ro-bind / / -- sh -c 'id -u; id -g; readlink /proc/self/ns/user' >"$D/out" 2>"$D/err"
    expect_rc 0 || return 1
    [ "$(out_line 1,2)" = "$(id -u; id -g)" ] || fail "ids inside: $(out_line 1,2 | tr '\n' ' ')want $(id -u) $(id -g)" || return 1
    [ "$(out_line 3)" != "$(readlink /proc/self/ns/user)" ] || fail "the action is in the host's user namespace"
}

test_uid_0_gid_0() {
    needs --unshare-user || return 0
    launch --unshare-user --uid 0 --gid 0 --ro-bind / / -- \
        sh -c 'id -u; id -g; echo $(cat /proc/self/uid_map); echo $(cat /proc/self/gid_map)' >"$D/out" 2>"$D/err"
    expect_rc 0 && out_is "0
0
0 $(id -u) 1
0 $(id -g) 1"
}

test_uid_1234_writes_as_caller() {
    # Inside it is uid 1234; what it writes on a bound host directory belongs
    # to the caller (a one-line map: nothing else is mapped).
    needs --unshare-user || return 0
    launch --unshare-user --uid 1234 --gid 2345 --ro-bind / / --bind "$D" "$D" -- \
        sh -c 'id -u; id -g; echo x > "$1/made"' sh "$D" >"$D/out" 2>"$D/err"
    expect_rc 0 && out_is "1234
2345" || return 1
    local owner
    owner=$(stat -c %u:%g "$D/made" 2>/dev/null)
    [ "$owner" = "$(id -u):$(id -g)" ] || fail "the file written inside is owned by ${owner:-nobody (missing)} on the host"
}

test_pid_ns_uid_under_init() {
    # With a pid namespace the action runs under paddock's init (pid 1, the
    # same uid), not as pid 1 itself.
    needs --unshare-pid --proc /proc || return 0
    launch --unshare-user --unshare-pid --uid 1234 --ro-bind / / --proc /proc -- sh -c '
        id -u
        echo $$
        sed -n "s/^PPid:[[:space:]]*//p" /proc/$$/status
        cat /proc/1/comm
        sed -n "s/^Uid:[[:space:]]*\([0-9]*\).*/\1/p" /proc/1/status' >"$D/out" 2>"$D/err"
    expect_rc 0 || return 1
    [ "$(out_line 1)" = 1234 ] || fail "uid inside: $(out_line 1), want 1234" || return 1
    [ -n "$(out_line 2)" ] && [ "$(out_line 2)" != 1 ] || fail "the action is pid $(out_line 2), want a child of init" || return 1
    [ "$(out_line 3)" = 1 ] || fail "the action's parent is pid $(out_line 3), want 1 (init)" || return 1
    [ "$(out_line 4)" = paddock-launch ] || fail "pid 1 is $(out_line 4), want paddock-launch" || return 1
    [ "$(out_line 5)" = 1234 ] || fail "init's uid inside: $(out_line 5), want 1234"
}

test_as_pid_1() {
    needs --unshare-pid --proc /proc || return 0
    launch --unshare-pid --as-pid-1 --ro-bind / / --proc /proc -- sh -c 'echo $$; cat /proc/1/comm' >"$D/out" 2>"$D/err"
    expect_rc 0 && out_is "1
sh"
}

# ---- namespaces ----------------------------------------------------------

test_proc_shows_only_the_sandbox() {
    # The shell expands the glob itself, so it runs no process of its own
    # meanwhile: exactly init and the action.
    needs --unshare-pid --proc /proc || return 0
    launch --unshare-pid --ro-bind / / --proc /proc -- sh -c 'echo $$; echo /proc/[0-9]*' >"$D/out" 2>"$D/err"
    expect_rc 0 && out_is "$(out_line 1)
/proc/1 /proc/$(out_line 1)"
}

test_net_ns_only_loopback_up() {
    # /sys is the host's sysfs (bound, not remounted), so the interfaces come
    # from /proc/net/dev. Loopback is up when a connection to 127.0.0.1 is
    # refused (nobody listens) rather than "Network is unreachable", as it is
    # with --no-loopback.
    needs --unshare-net || return 0
    local probe='echo $(sed -n "$1" /proc/net/dev); { : <>/dev/tcp/127.0.0.1/9; } 2>&1'
    launch --unshare-net --ro-bind / / -- bash -c "$probe" bash "$IFACES_SED" >"$D/out" 2>"$D/err"
    failed_nonzero || return 1
    [ "$(out_line 1)" = lo ] || fail "interfaces: $(out_line 1), want lo only" || return 1
    has "$D/out" "Connection refused" && has_not "$D/out" "unreachable" || return 1
    launch --unshare-net --no-loopback --ro-bind / / -- bash -c "$probe" bash "$IFACES_SED" >"$D/out" 2>"$D/err"
    failed_nonzero && has "$D/out" "Network is unreachable"
}

test_share_net_keeps_host_network() {
    needs --unshare-all --proc /proc || return 0
    local probe='readlink /proc/self/ns/net; readlink /proc/self/ns/uts; sed -n "$1" /proc/net/dev | sort | tr "\n" " "'
    launch --unshare-all --ro-bind / / --proc /proc -- sh -c "$probe" sh "$IFACES_SED" >"$D/out" 2>"$D/err"
    expect_rc 0 "--unshare-all" || return 1
    [ "$(out_line 1)" != "$(readlink /proc/self/ns/net)" ] || fail "--unshare-all kept the host's network" || return 1
    launch --unshare-all --share-net --ro-bind / / --proc /proc -- sh -c "$probe" sh "$IFACES_SED" >"$D/out" 2>"$D/err"
    expect_rc 0 "--unshare-all --share-net" || return 1
    [ "$(out_line 2)" != "$(readlink /proc/self/ns/uts)" ] || fail "--share-net undid the other namespaces" || return 1
    out_is "$(readlink /proc/self/ns/net)
$(out_line 2)
$(sed -n "$IFACES_SED" /proc/net/dev | sort | tr '\n' ' ')"
}

test_hostname() {
    needs --unshare-uts || return 0
    local host_name
    host_name=$(uname -n)
    launch --unshare-uts --hostname paddock-box --ro-bind / / -- sh -c 'uname -n; cat /proc/sys/kernel/hostname' \
        >"$D/out" 2>"$D/err"
    expect_rc 0 && out_is "paddock-box
paddock-box" && assert "the host's name changed to $(uname -n)" [ "$(uname -n)" = "$host_name" ]
}

test_hostname_without_uts_125() {
    launch --status-fd 3 --hostname paddock-box --ro-bind / / --bind "$D" "$D" -- touch "$D/ran" \
        3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 125 && has "$D/err" "--hostname" && has "$D/err" "--unshare-uts" &&
        has_record "$D/status" setup-failed '"step":"options"' '--hostname' &&
        assert "the command ran" [ ! -e "$D/ran" ]
}

# fresh_namespace NS OPTION: OPTION gives the action an NS namespace of its
# own; a sandbox without it (user namespace only) shares the host's.
fresh_namespace() {
    local ns=$1 opt=$2 host
    needs "$opt" || return 0
    host=$(readlink "/proc/self/ns/$ns")
    launch "$opt" --ro-bind / / -- readlink "/proc/self/ns/$ns" >"$D/out" 2>"$D/err"
    expect_rc 0 "$opt" || return 1
    [ -s "$D/out" ] && [ "$(cat "$D/out")" != "$host" ] || fail "$opt: the action is in the host's $ns namespace" || return 1
    launch --unshare-user --ro-bind / / -- readlink "/proc/self/ns/$ns" >"$D/out" 2>"$D/err"
    expect_rc 0 "--unshare-user" && out_is "$host"
}

test_unshare_ipc() { fresh_namespace ipc --unshare-ipc; }
test_unshare_cgroup() { fresh_namespace cgroup --unshare-cgroup; }
test_unshare_uts() { fresh_namespace uts --unshare-uts; }
test_unshare_net() { fresh_namespace net --unshare-net; }
test_unshare_pid() { fresh_namespace pid --unshare-pid; }

# ---- mounts --------------------------------------------------------------

test_ro_bind_root_read_only() {
    # uid 0 inside, and it tries to remount: without capabilities it cannot.
    # (Root keeps its capabilities in the namespace unless told, as under
    # bwrap: --cap-drop ALL, as the library passes it.)
    # (--dev: the host's /dev under --ro-bind is nodev, /dev/null unusable.)
    needs --unshare-user || return 0
    launch --unshare-user --uid 0 --cap-drop ALL --ro-bind / / --dev /dev -- sh -c '
        mount -o remount,bind,rw / 2>/dev/null; mount -o remount,rw / 2>/dev/null
        echo x > "$1/f"' sh "$D" >"$D/out" 2>"$D/err"
    failed_nonzero && has "$D/err" "Read-only file system" && assert "the write reached the host" [ ! -e "$D/f" ]
}

test_bind_writes_reach_host() {
    needs || return 0
    mkdir "$D/src"
    launch --ro-bind / / --bind "$D" "$D" --bind "$D/src" "$D/elsewhere" -- \
        sh -c 'echo same > "$1/same"; echo moved > "$1/elsewhere/f"' sh "$D" >"$D/out" 2>"$D/err"
    expect_rc 0 && assert "same path: $(cat "$D/same" 2>&1)" [ "$(cat "$D/same" 2>/dev/null)" = same ] &&
        assert "other destination: $(cat "$D/src/f" 2>&1)" [ "$(cat "$D/src/f" 2>/dev/null)" = moved ] &&
        assert "the write landed under the destination on the host" [ ! -e "$D/elsewhere/f" ]
}

# A link an earlier action planted in a writable directory: followed as bwrap
# follows it, the next setup makes a directory outside anything declared
# (destinations are made while the host's root is reachable under /oldroot);
# with --refuse-symlinks nothing is made and the setup names the link.
test_refuse_symlinks_planted_destination() {
    needs || return 0
    mkdir "$D/w" "$D/src" "$D/victim"
    ln -s "/oldroot$D/victim" "$D/w/out"
    launch --ro-bind / / --bind "$D/w" "$D/w" --ro-bind "$D/src" "$D/w/out/src" -- true >"$D/out" 2>"$D/err"
    expect_rc 0 "links followed" && assert "following the link made no host directory (the test shows nothing)" \
        [ -d "$D/victim/src" ] || return 1
    rmdir "$D/victim/src"
    launch --status-fd 3 --refuse-symlinks --ro-bind / / --bind "$D/w" "$D/w" --ro-bind "$D/src" "$D/w/out/src" \
        -- touch "$D/ran" 3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 125 && has_record "$D/status" setup-failed '"step":"ro-bind"' '"errno":"ELOOP"' '"syscall":"openat2"' &&
        assert "a directory was made through the link: $(ls -A "$D/victim")" [ -z "$(ls -A "$D/victim")" ] &&
        assert "the command ran" [ ! -e "$D/ran" ]
}

test_refuse_symlinks_planted_source() {
    needs || return 0
    mkdir "$D/w" "$D/victim"
    ln -s ../victim "$D/w/out"
    launch --ro-bind / / --tmpfs /mnt --bind "$D/w/out" /mnt/out -- sh -c 'echo x > /mnt/out/written' >"$D/out" 2>"$D/err"
    expect_rc 0 "links followed" && assert "the write did not reach the link's target (the test shows nothing)" \
        [ -e "$D/victim/written" ] || return 1
    rm "$D/victim/written"
    launch --refuse-symlinks --ro-bind / / --tmpfs /mnt --bind "$D/w/out" /mnt/out -- sh -c 'echo x > /mnt/out/written' \
        >"$D/out" 2>"$D/err"
    expect_rc 125 && has "$D/err" "bind $D/w/out: $D/w/out is a symbolic link" &&
        assert "the action wrote through the link" [ ! -e "$D/victim/written" ]
}

# --file writes, --chmod changes: neither through a link in their destination.
test_refuse_symlinks_file_and_chmod() {
    needs || return 0
    mkdir "$D/w" "$D/victim"
    chmod 0755 "$D/victim"
    ln -s "/oldroot$D/victim/planted" "$D/w/file"
    ln -s "/oldroot$D/victim" "$D/w/dir"
    launch --refuse-symlinks --ro-bind / / --bind "$D/w" "$D/w" --file 4 "$D/w/file" -- true 4</dev/null \
        >"$D/out" 2>"$D/err"
    expect_rc 125 "--file" && has "$D/err" "file $D/w/file: $D/w/file is a symbolic link" &&
        assert "--file wrote through the link" [ ! -e "$D/victim/planted" ] || return 1
    launch --refuse-symlinks --ro-bind / / --bind "$D/w" "$D/w" --chmod 0777 "$D/w/dir" -- true >"$D/out" 2>"$D/err"
    expect_rc 125 "--chmod" && has "$D/err" "chmod $D/w/dir: $D/w/dir is a symbolic link" &&
        assert "--chmod changed the link's target" [ "$(stat -c %a "$D/victim")" = 755 ]
}

# Without links in the way every operation works as before.
test_refuse_symlinks_real_paths_work() {
    needs || return 0
    mkdir -p "$D/w" "$D/src" "$D/rw"
    echo data >"$D/src/f"
    echo note >"$D/note"
    launch --refuse-symlinks --ro-bind / / --bind "$D/w" "$D/w" --ro-bind "$D/src" "$D/w/a/b/src" \
        --ro-bind "$D/note" "$D/w/note" --ro-bind-try "$D/missing" "$D/w/missing" --file 4 "$D/w/made" \
        --chmod 0600 "$D/w/made" --dir "$D/w/d" --tmpfs "$D/w/t" --bind "$D/rw" "$D/w/rw" --remount-ro "$D/w/rw" -- \
        sh -c 'cat "$1/a/b/src/f" "$1/note" "$1/made"; stat -c %a "$1/made"; [ -e "$1/missing" ] || echo skipped
               touch "$1/rw/x" 2>/dev/null || echo read-only' sh "$D/w" 4<"$D/note" >"$D/out" 2>"$D/err"
    expect_rc 0 && out_is "data
note
note
600
skipped
read-only"
}

test_bind_try_missing_source_skipped() {
    needs || return 0
    mkdir "$D/box"
    launch --ro-bind / / --bind "$D/box" "$D/box" --ro-bind-try "$D/missing" "$D/box/ro" \
        --bind-try "$D/missing" "$D/box/rw" --dev-bind-try "$D/missing" "$D/box/dev" -- \
        sh -c 'ls -A "$1"; touch "$1/ran"' sh "$D/box" >"$D/out" 2>"$D/err"
    expect_rc 0 && out_is "" && assert "the action did not run" [ -e "$D/box/ran" ]
}

test_bind_missing_source_125() {
    needs || return 0
    local opt
    for opt in --ro-bind --bind --dev-bind; do
        launch --status-fd 3 --ro-bind / / --bind "$D" "$D" "$opt" "$D/missing" "$D/dest" -- touch "$D/ran" \
            3>"$D/status" >"$D/out" 2>"$D/err"
        expect_rc 125 "$opt" && json_lines "$D/status" &&
            has_record "$D/status" setup-failed "\"step\":\"${opt#--}\"" "\"path\":\"$D/missing\"" '"syscall":"stat"' \
                '"errno":"ENOENT"' '"exit_code":125' &&
            has_not "$D/status" '"type":"spawned"' && assert "the command ran after a failed $opt" [ ! -e "$D/ran" ] ||
            return 1
    done
    # Without a status fd the message goes to stderr.
    launch --ro-bind / / --ro-bind "$D/missing" "$D/dest" -- true >"$D/out" 2>"$D/err"
    expect_rc 125 "no status fd" && has "$D/err" "ro-bind" && has "$D/err" "$D/missing"
}

test_tmpfs_tmp_private() {
    needs || return 0
    local probe
    probe=$(basename "$T")-tmpfs-probe
    launch --ro-bind / / --tmpfs /tmp -- sh -c '
        ls -A /tmp; echo --
        echo written > "/tmp/$1" && cat "/tmp/$1"
        stat -f -c %T /tmp' sh "$probe" >"$D/out" 2>"$D/err"
    expect_rc 0 && out_is "--
written
tmpfs" && assert "the write reached the host's /tmp" [ ! -e "/tmp/$probe" ]
}

test_dir() {
    needs || return 0
    launch "${MIN_ROOT[@]}" --dir /made/here -- \
        sh -c 'test -d /made/here && echo is-dir; echo x > /made/here/f && cat /made/here/f' >"$D/out" 2>"$D/err"
    expect_rc 0 && out_is "is-dir
x"
}

test_tmpfs_and_shm_sizes() {
    needs || return 0
    launch "${MIN_ROOT[@]}" --shm-size 8388608 --dev /dev --size 16777216 --tmpfs /tmp -- \
        sh -c 'df -B1 --output=size /dev/shm /tmp | tail -n 2 | tr -d " "' >"$D/out" 2>"$D/err"
    expect_rc 0 && out_is "8388608
16777216" || return 1
    launch --shm-size 0 -- true >"$D/out" 2>"$D/err"
    expect_rc 125 "--shm-size 0" && has "$D/err" "--shm-size takes a non-zero number of bytes"
}

test_pwd_set_unless_unset() {
    needs || return 0
    launch "${MIN_ROOT[@]}" --tmpfs /tmp --chdir /tmp --clearenv -- /usr/bin/env >"$D/out" 2>"$D/err"
    expect_rc 0 "PWD set" && out_is "PWD=/tmp" || return 1
    launch "${MIN_ROOT[@]}" --tmpfs /tmp --chdir /tmp --clearenv --unsetenv PWD --setenv ONLY this -- /usr/bin/env \
        >"$D/out" 2>"$D/err"
    expect_rc 0 "PWD unset" && out_is "ONLY=this"
}

test_symlink() {
    needs || return 0
    mkdir "$D/data"
    echo "through the link" >"$D/data/file"
    launch "${MIN_ROOT[@]}" --ro-bind "$D/data" /data --symlink data/file /link --symlink /data /abs-link -- \
        sh -c 'readlink /link; cat /link; cat /abs-link/file' >"$D/out" 2>"$D/err"
    expect_rc 0 && out_is "data/file
through the link
through the link"
}

test_remount_ro() {
    needs || return 0
    launch --ro-bind / / --bind "$D" "$D" -- sh -c 'echo x > "$1/before"' sh "$D" >"$D/out" 2>"$D/err"
    expect_rc 0 "without --remount-ro" && assert "the bind is not writable" [ -s "$D/before" ] || return 1
    launch --ro-bind / / --bind "$D" "$D" --remount-ro "$D" -- sh -c 'echo x > "$1/after"' sh "$D" >"$D/out" 2>"$D/err"
    failed_nonzero && has "$D/err" "Read-only file system" && assert "the write reached the host" [ ! -e "$D/after" ]
}

test_dev() {
    needs || return 0
    launch --ro-bind / / --dev /dev -- bash -c '
        echo $(ls -A /dev)
        for n in null zero full random urandom tty; do [ -c /dev/$n ] || echo "/dev/$n is not a character device"; done
        readlink /dev/fd /dev/stdin /dev/ptmx
        echo discarded > /dev/null && echo null: ok
        echo urandom: $(head -c 16 /dev/urandom | wc -c)
        echo zero: $(head -c 4 /dev/zero | od -An -tx1)
        head -c 1 /dev/zero > /dev/full || echo full: refused
        echo shm: $(echo written > /dev/shm/f && cat /dev/shm/f)
        echo stdin: $(echo piped | cat /dev/stdin)
        exec 3<>/dev/ptmx && echo pts: $(ls /dev/pts)' >"$D/out" 2>"$D/err"
    expect_rc 0 && out_is "core fd full null ptmx pts random shm stderr stdin stdout tty urandom zero
/proc/self/fd
/proc/self/fd/0
pts/ptmx
null: ok
urandom: 16
zero: 00 00 00 00
full: refused
shm: written
stdin: piped
pts: 0 ptmx" && has "$D/err" "No space left on device"
}

test_dev_bind_keeps_devices_bind_does_not() {
    # --bind is nodev: the bound /dev/null cannot be opened; --dev-bind keeps it working.
    needs || return 0
    launch --ro-bind / / --bind "$D" "$D" --bind /dev/null "$D/nodev-null" --dev-bind /dev/null "$D/dev-null" -- \
        sh -c 'echo x > "$1/nodev-null" && echo bind: written; echo x > "$1/dev-null" && echo dev-bind: written' sh "$D" \
        >"$D/out" 2>"$D/err"
    expect_rc 0 && out_is "dev-bind: written" && has "$D/err" "Permission denied" &&
        assert "a write went to a mount point on the host" [ ! -s "$D/nodev-null" -a ! -s "$D/dev-null" ]
}

# ---- privileges ----------------------------------------------------------

test_no_capabilities() {
    # uid 0 inside would get every capability of its namespace on exec; the
    # action must keep none, with or without init, and no_new_privs.
    needs --unshare-pid || return 0
    local variant want
    want="$(printf '%s:\t0000000000000000\n' CapInh CapPrm CapEff CapBnd CapAmb)
NoNewPrivs:	1"
    for variant in --unshare-user --unshare-pid "--unshare-pid --as-pid-1"; do
        # shellcheck disable=SC2086 # the variant's options are words
        launch --uid 0 --cap-drop ALL $variant --ro-bind / / -- grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):' /proc/self/status \
            >"$D/out" 2>"$D/err"
        expect_rc 0 "$variant" && out_is "$want" || { FAIL_MSG="$variant: $FAIL_MSG"; return 1; }
    done
}

caps_of() { grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):' "$1"; }

test_cap_drop_all_empties_every_set() {
    # --cap-drop ALL (the library passes it): nothing in any set, with or
    # without a user namespace of its own (root gets one only when it asks),
    # under paddock's init or as pid 1.
    needs --unshare-pid || return 0
    local variant want
    want="$(printf '%s:\t0000000000000000\n' CapInh CapPrm CapEff CapBnd CapAmb)
NoNewPrivs:	1"
    for variant in "" --unshare-user "--unshare-user --uid 0" --unshare-pid "--unshare-pid --as-pid-1"; do
        # shellcheck disable=SC2086 # the variant's options are words
        launch --cap-drop ALL $variant --ro-bind / / -- cat /proc/self/status >"$D/status" 2>"$D/err"
        caps_of "$D/status" >"$D/out"
        expect_rc 0 "$variant" && out_is "$want" || { FAIL_MSG="${variant:-no namespace option}: $FAIL_MSG"; return 1; }
    done
}

test_cap_add_in_user_namespace() {
    # uid 0 in a user namespace keeps exactly what --cap-add gives it, in
    # every set the action can use, and the bounding set is cut to that.
    needs --unshare-user || return 0
    launch --unshare-user --uid 0 --cap-drop ALL --cap-add CAP_NET_BIND_SERVICE --cap-add sys_chroot --ro-bind / / \
        -- cat /proc/self/status >"$D/status" 2>"$D/err"
    caps_of "$D/status" >"$D/out"
    expect_rc 0 && out_is "$(printf '%s:\t0000000000040400\n' CapInh CapPrm CapEff CapBnd CapAmb)
NoNewPrivs:	1" || return 1
    launch --unshare-user --cap-add CAP_NO_SUCH_THING --ro-bind / / -- true >"$D/out" 2>"$D/err"
    expect_rc 125 "an unknown capability" && has "$D/err" "--cap-add" && has "$D/err" "CAP_NO_SUCH_THING"
}

test_root_keeps_its_capabilities() {
    # As under bwrap: root without --unshare-user stays in the host's user
    # namespace and keeps its own capabilities (with no_new_privs) unless
    # --cap-drop takes them.
    [ "$(id -u)" = 0 ] || { skip "needs root"; return 0; }
    needs || return 0
    local eff bnd
    eff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
    bnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)
    launch --ro-bind / / -- cat /proc/self/status >"$D/status" 2>"$D/err"
    expect_rc 0 && has "$D/status" "CapEff:	$eff" && has "$D/status" "CapBnd:	$bnd" &&
        has "$D/status" "NoNewPrivs:	1" || return 1
    launch --cap-drop CAP_KILL --ro-bind / / -- cat /proc/self/status >"$D/status" 2>"$D/err"
    expect_rc 0 && has "$D/status" "CapEff:	$(printf %016x $((0x$eff & ~0x20)))"
}

test_seccomp_filter() {
    # --seccomp FD: a compiled BPF program, installed last before exec; here
    # one that fails mkdir and mkdirat with EPERM.
    needs || return 0
    command -v python3 >/dev/null 2>&1 || { skip "no python3 to compile a filter"; return 0; }
    python3 - "$D/filter.bpf" <<'PY' || { skip "no seccomp filter for this architecture"; return 0; }
import platform, struct, sys
arches = {"x86_64": (0xc000003e, [83, 258]), "aarch64": (0xc00000b7, [34])}
if platform.machine() not in arches:
    sys.exit(1)
arch, numbers = arches[platform.machine()]
def op(code, k, jt=0, jf=0): return struct.pack("=HBBI", code, jt, jf, k)
LD, JEQ, RET = 0x20, 0x15, 0x06
prog = [op(LD, 4), op(JEQ, arch, 0, len(numbers) + 2), op(LD, 0)]
for i, nr in enumerate(numbers):
    prog.append(op(JEQ, nr, len(numbers) - i, 0))
prog += [op(RET, 0x7fff0000), op(RET, 0x00050000 | 1)]
open(sys.argv[1], "wb").write(b"".join(prog))
PY
    launch --seccomp 4 --ro-bind / / --bind "$D" "$D" -- sh -c 'mkdir "$1/blocked" || echo refused; echo ran' sh "$D" \
        4<"$D/filter.bpf" >"$D/out" 2>"$D/err"
    expect_rc 0 && out_is "refused
ran" && has "$D/err" "Operation not permitted" && assert "mkdir got through the filter" [ ! -e "$D/blocked" ] || return 1
    printf 'abc' >"$D/bad.bpf"
    launch --seccomp 4 --ro-bind / / -- true 4<"$D/bad.bpf" >"$D/out" 2>"$D/err"
    expect_rc 125 "a program whose length is no multiple of 8" && has "$D/err" "multiple of 8"
}

# ---- --default-seccomp ---------------------------------------------------

# The sandbox the --default-seccomp tests run in.
SECCOMP_SANDBOX=(--unshare-all --ro-bind / / --proc /proc --dev /dev)

# write_probe FILE: a python3 program that makes each call of the deny list
# for real (raw system calls through libc's syscall(), x86_64 numbers) and
# prints one line per call: its name and "ok" or the errno's name.
write_probe() {
    cat >"$1" <<'PY'
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
M64 = (1 << 64) - 1
def call(name, nr, *args, forks=False):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_ulong(a & M64) for a in args])
    e = ctypes.get_errno()
    if forks and r == 0:
        os._exit(0)  # the child of a clone that got through
    if forks and r > 0:
        os.waitpid(r, 0)
    print(name, "ok" if r >= 0 else errno.errorcode.get(e, str(e)), flush=True)
buf = ctypes.create_string_buffer(256)
p = ctypes.addressof(buf)
SIGCHLD, NEWNS, NEWUSER = 17, 0x20000, 0x10000000
call("keyctl", 250, 0, -3, 0)              # KEYCTL_GET_KEYRING_ID of the session keyring
call("add_key", 248, 0, 0, 0, 0, 0)
call("request_key", 249, 0, 0, 0, 0)
call("setns", 308, -1, 0)
call("clone_newns", 56, NEWNS | SIGCHLD, 0, 0, 0, 0, forks=True)
call("clone_newuser", 56, NEWUSER | SIGCHLD, 0, 0, 0, 0, forks=True)
call("clone3", 435, 0, 0)
call("mount", 165, 0, 0, 0, 0, 0)
call("umount2", 166, 0, 0)
call("pivot_root", 155, 0, 0)
call("fsopen", 430, 0, 0)
call("open_tree", 428, -100, 0, 0)
call("mount_setattr", 442, -1, 0, 0, 0, 0)
call("move_mount", 429, -1, 0, -1, 0, 0)
call("fsconfig", 431, -1, 0, 0, 0, 0)
call("fsmount", 432, -1, 0, 0)
call("fspick", 433, -1, 0, 0)
call("quotactl_fd", 443, -1, 0, 0, 0)
call("io_uring_setup", 425, 1, p)
call("personality_rie", 135, 0x0400000)    # READ_IMPLIES_EXEC
call("personality_query", 135, 0xffffffff)
call("personality_linux", 135, 0)
call("tiocsti", 16, 0, 0x5412, p)
call("tiocsti_high_bits", 16, 0, (1 << 32) | 0x5412, p)
call("tioclinux", 16, 0, 0x541c, p)
call("tcgets", 16, 0, 0x5401, p)
call("perf_event_open", 298, 0, 0, -1, -1, 0)
call("bpf", 321, 0, 0, 0)
call("userfaultfd", 323, 1)                 # UFFD_USER_MODE_ONLY
for name, nr in [("kexec_load", 246), ("kexec_file_load", 320), ("init_module", 175), ("finit_module", 313),
                 ("delete_module", 176), ("reboot", 169), ("swapon", 167), ("swapoff", 168), ("acct", 163),
                 ("quotactl", 179), ("lookup_dcookie", 212), ("open_by_handle_at", 304),
                 ("name_to_handle_at", 303)]:
    call(name, nr, 0, 0, 0, 0, 0)
call("x32_getpid", 0x40000000 | 39)
call("getpid", 39)
# Neighbours of refused numbers, harmless with these arguments: the filter
# looks numbers up in a search tree, and must not take them for refused ones.
for name, nr, args in [("create_module", 174, ()), ("get_kernel_syms", 177, ()), ("query_module", 178, ()),
                       ("recvmmsg", 299, (-1, 0, 0, 0, 0)), ("membarrier", 324, (0, 0)),
                       ("pidfd_open", 434, (0, 0)), ("landlock_create_ruleset", 444, (0, 0, 1))]:
    call(name, nr, *args)
call("ptrace", 101, 0x4206, 0, 0, 0)        # PTRACE_SEIZE of pid 0: ESRCH, not EPERM
call("unshare_user", 272, NEWUSER)          # last: where it gets through, later calls would run in it
PY
}

# probe_is FILE NAME WANT: the probe's line for NAME says WANT.
probe_is() {
    local got
    got=$(sed -n "s/^$2 //p" "$1")
    [ "$got" = "$3" ] || fail "$2: ${got:-missing}, want $3 ($(basename "$1"): $(tr '\n' ' ' <"$1" | head -c 900))"
}

# probe_not FILE NAME ERRNO: the probe has a line for NAME, and not ERRNO.
probe_not() {
    local got
    got=$(sed -n "s/^$2 //p" "$1")
    [ -n "$got" ] && [ "$got" != "$3" ] ||
        fail "$2: ${got:-missing}, want anything but $3 ($(basename "$1"): $(tr '\n' ' ' <"$1" | head -c 900))"
}

needs_python_x86_64() {
    command -v python3 >/dev/null 2>&1 || { skip "no python3 to make the calls"; return 1; }
    [ "$(uname -m)" = x86_64 ] || { skip "the filter and the probe's numbers are x86_64's"; return 1; }
}

REFUSED_CALLS="keyctl add_key request_key unshare_user setns clone_newns clone_newuser mount umount2 pivot_root
    fsopen open_tree mount_setattr move_mount fsconfig fsmount fspick quotactl_fd io_uring_setup personality_rie tiocsti tiocsti_high_bits tioclinux
    perf_event_open bpf userfaultfd kexec_load kexec_file_load init_module finit_module delete_module reboot
    swapon swapoff acct quotactl lookup_dcookie open_by_handle_at name_to_handle_at x32_getpid"

# check_filtered FILE: every refused call got EPERM, clone3 ENOSYS, and what
# stays allowed got through.
check_filtered() {
    local name
    for name in $REFUSED_CALLS; do
        probe_is "$1" "$name" EPERM || return 1
    done
    for name in create_module get_kernel_syms query_module recvmmsg membarrier pidfd_open landlock_create_ruleset; do
        probe_not "$1" "$name" EPERM || return 1
    done
    probe_is "$1" clone3 ENOSYS && probe_is "$1" personality_query ok && probe_is "$1" personality_linux ok &&
        probe_not "$1" tcgets EPERM && probe_is "$1" getpid ok && probe_not "$1" ptrace EPERM
}

test_default_seccomp_refuses_each_group() {
    # Each call of the deny list, made for real: EPERM under the filter (also
    # with every capability in the sandbox's user namespace), while without
    # the option the same calls get through, or fail for another reason (bad
    # arguments): so it is the filter that refuses them.
    needs "${SECCOMP_SANDBOX[@]}" || return 0
    needs_python_x86_64 || return 0
    write_probe "$D/probe.py"
    launch "${SECCOMP_SANDBOX[@]}" --default-seccomp -- python3 "$D/probe.py" >"$D/filtered" 2>"$D/err" </dev/null
    expect_rc 0 "under the filter" && check_filtered "$D/filtered" || return 1
    launch "${SECCOMP_SANDBOX[@]}" --cap-add ALL --default-seccomp -- python3 "$D/probe.py" >"$D/filtered-caps" \
        2>"$D/err" </dev/null
    expect_rc 0 "under the filter, with every capability" && check_filtered "$D/filtered-caps" || return 1
    launch "${SECCOMP_SANDBOX[@]}" --cap-add ALL -- python3 "$D/probe.py" >"$D/unfiltered" 2>"$D/err" </dev/null
    expect_rc 0 "without the option" || return 1
    local name
    for name in keyctl unshare_user clone_newns clone_newuser personality_rie; do
        probe_is "$D/unfiltered" "$name" ok || return 1
    done
    for name in setns mount umount2 tiocsti tiocsti_high_bits tioclinux perf_event_open userfaultfd \
        name_to_handle_at; do
        probe_not "$D/unfiltered" "$name" EPERM || return 1
    done
    probe_not "$D/unfiltered" clone3 ENOSYS || return 1
    if [ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" = 0 ]; then
        probe_is "$D/unfiltered" io_uring_setup ok
    fi
}

test_default_seccomp_programs_run() {
    # Forks, threads (glibc's clone3, refused with ENOSYS, falls back to
    # clone), posix_spawn, sh, gcc and the program it built all work under
    # the filter; a 32-bit call (int 0x80) kills the process.
    needs "${SECCOMP_SANDBOX[@]}" || return 0
    needs_python_x86_64 || return 0
    launch "${SECCOMP_SANDBOX[@]}" --default-seccomp -- python3 -c '
import os, subprocess, threading
out = []
t = threading.Thread(target=lambda: out.append("thread"))
t.start(); t.join()
pid = os.fork()
if pid == 0: os._exit(7)
out.append("fork %d" % os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
out.append(subprocess.run(["echo", "spawned"], capture_output=True, text=True).stdout.strip())
print(" ".join(out))' >"$D/out" 2>"$D/err"
    expect_rc 0 "python3" && out_is "thread fork 7 spawned" || return 1
    launch "${SECCOMP_SANDBOX[@]}" --default-seccomp -- \
        sh -c 'true & wait $!; echo "bg $?"; (exit 3) & wait $!; echo "bg $?"' >"$D/out" 2>"$D/err"
    expect_rc 0 "sh" && out_is "bg 0
bg 3" || return 1
    command -v gcc >/dev/null 2>&1 || { skip "no gcc (python3 and sh ran under the filter)"; return 0; }
    cat >"$D/hello.c" <<'C'
#include <pthread.h>
#include <stdio.h>
#include <string.h>
static void *run(void *arg) { return arg; }
int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "int80") == 0) {
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory"); /* i386 getpid */
        printf("int80 %ld\n", r);
        return 0;
    }
    pthread_t t;
    void *back = NULL;
    if (pthread_create(&t, NULL, run, "thread") != 0 || pthread_join(t, &back) != 0) return 1;
    printf("hello %s\n", (char *)back);
    return 0;
}
C
    launch "${SECCOMP_SANDBOX[@]}" --tmpfs /tmp --bind "$D" "$D" --default-seccomp -- \
        sh -c 'gcc -pthread -o "$1/hello" "$1/hello.c" && "$1/hello"' sh "$D" >"$D/out" 2>"$D/err"
    expect_rc 0 "gcc" && out_is "hello thread" || return 1
    launch "${SECCOMP_SANDBOX[@]}" -- "$D/hello" int80 >"$D/out" 2>"$D/err"
    if [ "$RC" != 0 ] || ! grep -q '^int80 [1-9]' "$D/out"; then
        skip "this kernel runs no 32-bit calls (int 0x80 without the filter: exit $RC, $(cat "$D/out"))"
        return 0
    fi
    launch "${SECCOMP_SANDBOX[@]}" --default-seccomp -- "$D/hello" int80 >"$D/out" 2>"$D/err"
    expect_rc $((128 + 31)) "a 32-bit call under the filter (killed by SIGSYS)"
}

test_default_seccomp_on_the_action_only() {
    # The filter is the action's (installed right before exec); paddock's
    # init, pid 1, which supervises it, runs without one.
    needs "${SECCOMP_SANDBOX[@]}" || return 0
    launch "${SECCOMP_SANDBOX[@]}" --default-seccomp -- sh -c 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status
        grep "^Seccomp:" /proc/1/status' >"$D/out" 2>"$D/err"
    expect_rc 0 && out_is "NoNewPrivs:	1
Seccomp:	2
Seccomp:	0" || return 1
    launch "${SECCOMP_SANDBOX[@]}" -- grep "^Seccomp:" /proc/self/status >"$D/out" 2>"$D/err"
    expect_rc 0 "without the option" && out_is "Seccomp:	0"
}

test_default_seccomp_with_seccomp_fd() {
    # --seccomp FD and --default-seccomp together: two filters, both hold.
    needs "${SECCOMP_SANDBOX[@]}" || return 0
    needs_python_x86_64 || return 0
    python3 - "$D/mkdir.bpf" <<'PY'
import struct, sys
def op(code, k, jt=0, jf=0): return struct.pack("=HBBI", code, jt, jf, k)
# x86_64 only; mkdir and mkdirat: EACCES
prog = [op(0x20, 4), op(0x15, 0xc000003e, 0, 3), op(0x20, 0), op(0x15, 83, 2, 0), op(0x15, 258, 1, 0),
        op(0x06, 0x7fff0000), op(0x06, 0x00050000 | 13)]
open(sys.argv[1], "wb").write(b"".join(prog))
PY
    launch "${SECCOMP_SANDBOX[@]}" --bind "$D" "$D" --seccomp 4 --default-seccomp -- python3 -c '
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
r = libc.syscall(ctypes.c_long(250), ctypes.c_ulong(0), ctypes.c_ulong((1 << 64) - 3), ctypes.c_ulong(0))
print("keyctl", errno.errorcode[ctypes.get_errno()] if r < 0 else "ok")
try:
    os.mkdir(sys.argv[1] + "/blocked")
    print("mkdir ok")
except OSError as e:
    print("mkdir", errno.errorcode[e.errno])
print("filters", open("/proc/self/status").read().split("Seccomp_filters:")[1].split()[0])' "$D" \
        4<"$D/mkdir.bpf" >"$D/out" 2>"$D/err"
    expect_rc 0 && out_is "keyctl EPERM
mkdir EACCES
filters 2" && assert "mkdir got through the filter" [ ! -e "$D/blocked" ]
}

test_default_seccomp_without_sandbox() {
    # Also a plain action (no namespaces): no_new_privs, then the filter;
    # without the option a plain action has neither, as before.
    needs_python_x86_64 || return 0
    write_probe "$D/probe.py"
    launch --default-seccomp -- python3 "$D/probe.py" >"$D/filtered" 2>"$D/err" </dev/null
    expect_rc 0 && check_filtered "$D/filtered" || return 1
    launch --default-seccomp -- grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status >"$D/out" 2>"$D/err"
    expect_rc 0 && out_is "NoNewPrivs:	1
Seccomp:	2" || return 1
    launch -- grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status >"$D/out" 2>"$D/err"
    expect_rc 0 "without the option" && out_is "NoNewPrivs:	0
Seccomp:	0"
}

# write_spawn_client DIR: a python3 module, DIR/spawnclient.py, that speaks
# the spawn protocol (protocol.h): start a server, get a keeper, send spawn
# requests and read their records.
write_spawn_client() {
    cat >"$1/spawnclient.py" <<'PY'
import array, os, socket, struct, subprocess, sys, time
HEADER = "=IIQII"
MAGIC, SPAWN, KEEPER, READY_SPARE = 0x314b4450, 1, 3, 0x10000

def start(launch, shared=False):
    """A spawn server and one keeper (of the shared network namespace, if shared): (server
    process, owner socket, keeper socket, keeper pid)."""
    owner, server_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server = subprocess.Popen([launch, "--server", str(server_end.fileno())], pass_fds=[server_end.fileno()])
    server_end.close()
    assert owner.recv(16) == b"REDY", "no REDY from the server"
    owner.send(struct.pack(HEADER, MAGIC, KEEPER, 0, 1 if shared else 0, 0))
    msg, anc, _, _ = owner.recvmsg(64, socket.CMSG_SPACE(4))
    _, _, keeper_pid, _, err = struct.unpack(HEADER, msg[:24])
    fds = array.array("i")
    for level, kind, data in anc:
        fds.frombytes(data[:len(data) - len(data) % 4])
    assert len(fds) == 1, "no keeper socket (errno %d)" % err
    return server, owner, socket.socket(fileno=fds[0]), keeper_pid

def spawn(keeper, out_path, rid, argv, magic=MAGIC, nfds=3):
    """Sends request rid (stdin /dev/null, stdout to out_path, our stderr; the first nfds of
    them) and reads its records to the last: (records, what the action wrote)."""
    env = ["PATH=" + os.environ["PATH"]]
    body = b"".join(s.encode() + b"\0" for s in argv + env)
    out = open(out_path, "w+b")
    null = open("/dev/null", "rb")
    keeper.sendmsg([struct.pack(HEADER, magic, SPAWN | READY_SPARE, rid, len(argv), len(env)) + body],
                   [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [null.fileno(), out.fileno(), 2][:nfds]))])
    records = []
    while True:
        rec = keeper.recv(65536).decode()
        assert rec, "the keeper closed its socket"
        records.append(rec)
        if '"exited"' in rec or '"setup-failed"' in rec or '"exec-failed"' in rec:
            break
    print("records of", rid, records, file=sys.stderr)
    assert all('"request":%d' % rid in r for r in records), "records of another request: %s" % records
    out.seek(0)
    return records, out.read().decode()

def children(pid):
    """The processes whose parent is pid, each with its pid namespace."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(open("/proc/%s/stat" % entry).read().rsplit(")", 1)[1].split()[1]) == pid:
                    found[int(entry)] = os.readlink("/proc/%s/ns/pid" % entry)
            except (OSError, ValueError):
                pass
    return found

def await_spares(keeper_pid, after):
    """The pid namespaces of the keeper's children but the one of the action that ran in after: the
    keeper readies its spare once an action has started, and that action's init may still be
    exiting (bounded wait; empty if none came)."""
    for _ in range(500):
        spares = [ns for ns in children(keeper_pid).values() if ns != after]
        if spares:
            return spares
        time.sleep(0.02)
    return []
PY
}

test_spare_hands_back_what_it_cannot_run() {
    # A keeper leaves its socket to a waiting spare sandbox, which reads the
    # next request itself: one it cannot run as the next sandbox's init (not
    # a spawn request, the wrong number of fds, a plain action) goes back to
    # the keeper with its fds, and gets the same answer as from a keeper
    # without a spare: one setup-failed record, or the action run as asked.
    # One it can run, also in the shared network namespace, runs in the
    # spare's pid namespace.
    needs --unshare-all --proc /proc --dev /dev || return 0
    command -v python3 >/dev/null 2>&1 || { skip "no python3 to speak the spawn protocol"; return 0; }
    write_spawn_client "$D"
    timeout -k 5 60 python3 - "$LAUNCH" "$D" >"$D/out" 2>"$D/err" <<'PY'
import os, sys
sys.path.insert(0, sys.argv[2])
from spawnclient import MAGIC, await_spares, spawn, start
launch, d = sys.argv[1], sys.argv[2]
server, owner, keeper, keeper_pid = start(launch)
host_pid_ns = os.readlink("/proc/self/ns/pid")
def send(rid, options, magic=MAGIC, nfds=3, to=keeper):
    argv = ["paddock-launch"] + options + ["--", "sh", "-c", "readlink /proc/self/ns/pid"]
    records, out = spawn(to, os.path.join(d, "out%d" % rid), rid, argv, magic, nfds)
    return records[-1], out.strip()
sandbox = ["--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
def outcome(last, out):
    if '"setup-failed"' in last:
        return "refused: " + last.split('"message":"')[1].split('"')[0]
    return "exit %s, %s" % ('0' if '"exit_code":0' in last else '?', "host pid ns" if out == host_pid_ns else "own pid ns")
def sandboxed(rid, options=sandbox, to=keeper, of=keeper_pid):
    """Runs a sandboxed action; whether a spare is readied after it."""
    last, out = send(rid, options, to=to)
    print(outcome(last, out) + (", in the spare" if out in sandboxed.spares else ""))
    sandboxed.spares = await_spares(of, out)
    print("spare", bool(sandboxed.spares))
sandboxed.spares = []
sandboxed(1)
print(outcome(*send(2, sandbox, magic=0x12345678)))
print(outcome(*send(3, sandbox, nfds=2)))
sandboxed(4)
print(outcome(*send(5, sandbox, nfds=2)))
sandboxed(6)
sandboxed(7)
print(outcome(*send(8, [])))
print(outcome(*send(9, sandbox)))
keeper.close()
owner.close()
server.wait(timeout=20)
# A keeper of the shared network namespace: its spare runs the next such action too.
server, owner, keeper, keeper_pid = start(launch, shared=True)
sandboxed.spares = []
sandboxed(10, sandbox + ["--shared-netns"], keeper, keeper_pid)
sandboxed(11, sandbox + ["--shared-netns"], keeper, keeper_pid)
keeper.close()
owner.close()
server.wait(timeout=20)
PY
    [ $? = 0 ] || fail "the spawn server's client failed: $(tail -c 600 "$D/err")" || return 1
    out_is "exit 0, own pid ns
spare True
refused: not a paddock spawn request
refused: a spawn request carries exactly three fds (stdin, stdout, stderr)
exit 0, own pid ns
spare True
refused: a spawn request carries exactly three fds (stdin, stdout, stderr)
exit 0, own pid ns
spare True
exit 0, own pid ns, in the spare
spare True
exit 0, host pid ns
exit 0, own pid ns
exit 0, own pid ns
spare True
exit 0, own pid ns, in the spare
spare True"
}

# spare_agrees_with_alone PROBE OPTION...: runs `sh -c PROBE` in a sandbox
# with the options three ways: through a spawn server's keeper, which clones
# it, then again, taken by the spare the keeper readied meanwhile, and with
# the launcher on its own. All three must print the same; the probe's last
# line must be the action's pid namespace (left out of the comparison).
spare_agrees_with_alone() {
    local probe=$1
    shift
    "$LAUNCH" "$@" -- sh -c "$probe" 2>"$D/err" | sed '$d' >"$D/alone"
    [ "${PIPESTATUS[0]}" = 0 ] || fail "the launcher on its own failed: $(head -c 300 "$D/err")" || return 1
    write_spawn_client "$D"
    timeout -k 5 60 python3 - "$LAUNCH" "$D" "$probe" "$@" >"$D/out" 2>"$D/err" <<'PY'
import os, sys
sys.path.insert(0, sys.argv[2])
from spawnclient import await_spares, spawn, start
launch, d, probe, options = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
server, owner, keeper, keeper_pid = start(launch)
def run(rid):
    records, out = spawn(keeper, os.path.join(d, "out%d" % rid), rid, ["paddock-launch"] + options + ["--", "sh", "-c", probe])
    assert '"exit_code":0' in records[-1], records[-1]
    *lines, ns = out.split("\n")[:-1]
    return "\n".join(lines), ns
cloned, ns = run(1)
spares = await_spares(keeper_pid, ns)
taken, ns = run(2)
print(cloned)
print("spare took it", ns in spares)
print(taken)
keeper.close()
owner.close()
server.wait(timeout=20)
PY
    [ $? = 0 ] || fail "the spawn server's client failed: $(tail -c 600 "$D/err")" || return 1
    out_is "$(cat "$D/alone")
spare took it True
$(cat "$D/alone")"
}

test_spare_keeps_the_callers_capability_rules() {
    # A spare sandbox parses its request inside its own user namespace, where
    # the ids are the sandbox's; bwrap's rules on capabilities hang on the
    # caller's. An action in the sandbox under another uid than the caller's
    # (0 for a user, 1000 for root) gets the same capability sets whether the
    # keeper cloned it, a spare took it, or the launcher ran it on its own.
    needs --unshare-all --proc /proc --dev /dev || return 0
    command -v python3 >/dev/null 2>&1 || { skip "no python3 to speak the spawn protocol"; return 0; }
    local uid=0
    [ "$(id -u)" = 0 ] && uid=1000
    spare_agrees_with_alone "grep -E '^Cap(Eff|Prm|Bnd):' /proc/self/status; readlink /proc/self/ns/pid" \
        --unshare-all --ro-bind / / --proc /proc --dev /dev --uid "$uid"
}

test_spare_dev_works_like_a_fresh_one() {
    # A spare makes its /dev ahead, devpts and /dev/ptmx included, and moves
    # it into place when its request comes: the action finds the same
    # devices, and a new pty from /dev/ptmx, as in a /dev made for it.
    needs --unshare-all --proc /proc --dev /dev || return 0
    command -v python3 >/dev/null 2>&1 || { skip "no python3 to speak the spawn protocol"; return 0; }
    spare_agrees_with_alone 'echo $(ls -A /dev); readlink /dev/ptmx; exec 3<>/dev/ptmx && echo pts: $(ls /dev/pts)
        echo shm: $(echo written > /dev/shm/f && cat /dev/shm/f); readlink /proc/self/ns/pid' \
        --unshare-all --ro-bind / / --proc /proc --dev /dev
}

test_default_seccomp_under_spawn_server() {
    # The spawn server's keeper parses each request's command line: the
    # option holds there too, for an action it clones itself and for one
    # that a spare sandbox, cloned ahead, takes (its pid namespace existed
    # before the request was sent).
    needs "${SECCOMP_SANDBOX[@]}" || return 0
    needs_python_x86_64 || return 0
    write_spawn_client "$D"
    timeout -k 5 60 python3 - "$LAUNCH" "$D" >"$D/out" 2>"$D/err" <<'PY'
import os, sys
sys.path.insert(0, sys.argv[2])
from spawnclient import await_spares, start
import spawnclient
launch, d = sys.argv[1], sys.argv[2]
server, owner, keeper, keeper_pid = start(launch)
probe = ("import ctypes, errno, os\n"
         "l = ctypes.CDLL(None, use_errno=True); l.syscall.restype = ctypes.c_long\n"
         "r = l.syscall(ctypes.c_long(250), ctypes.c_ulong(0), ctypes.c_ulong((1 << 64) - 3), ctypes.c_ulong(0))\n"
         "print('keyctl', errno.errorcode[ctypes.get_errno()] if r < 0 else 'ok', os.readlink('/proc/self/ns/pid'))\n")
def spawn(rid, options):
    argv = ["paddock-launch"] + options + ["--", "python3", "-c", probe]
    records, out = spawnclient.spawn(keeper, os.path.join(d, "out%d" % rid), rid, argv)
    return out.split(), '"exit_code":0' in records[-1]
sandbox = ["--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
first, ok = spawn(1, sandbox + ["--default-seccomp"])
print("first", first[:2], ok)
spares = await_spares(keeper_pid, first[2])
second, ok = spawn(2, sandbox + ["--default-seccomp"])
print("second", second[:2], ok)
print("spare took it", second[2] in spares)
third, ok = spawn(3, sandbox)
print("without", third[:2], ok)
keeper.close()
owner.close()
server.wait(timeout=20)
PY
    [ $? = 0 ] || fail "the spawn server's client failed: $(tail -c 600 "$D/err")" || return 1
    out_is "first ['keyctl', 'EPERM'] True
second ['keyctl', 'EPERM'] True
spare took it True
without ['keyctl', 'ok'] True"
}

test_default_seccomp_refused_by_the_host() {
    # Made to happen with strace's fault injection: a kernel that refuses the
    # filter is a setup failure (step default-seccomp), the action never runs;
    # one without seccomp(2) gets it through prctl instead.
    command -v strace >/dev/null 2>&1 || { skip "no strace to inject the failure"; return 0; }
    timeout -k 5 30 strace -f -qq -o /dev/null -e trace=seccomp -e inject=seccomp:error=EINVAL \
        "$LAUNCH" --status-fd 3 --default-seccomp -- sh -c 'echo ran' 3>"$D/status" >"$D/out" 2>"$D/err"
    RC=$? HUNG=0
    if [ "$RC" != 125 ] && grep -q "ptrace" "$D/err"; then
        skip "strace cannot trace here: $(head -c 200 "$D/err")"
        return 0
    fi
    expect_rc 125 "seccomp refused" && has_record "$D/status" setup-failed '"step":"default-seccomp"' \
        '"syscall":"seccomp"' '"errno":"EINVAL"' && assert "the action ran" [ ! -s "$D/out" ] || return 1
    needs "${SECCOMP_SANDBOX[@]}" || return 0
    timeout -k 5 30 strace -f -qq -o /dev/null -e trace=seccomp -e inject=seccomp:error=ENOSYS \
        "$LAUNCH" "${SECCOMP_SANDBOX[@]}" --default-seccomp -- grep "^Seccomp:" /proc/self/status >"$D/out" 2>"$D/err"
    RC=$?
    expect_rc 0 "no seccomp(2)" && out_is "Seccomp:	2"
}

test_bwrap_info_and_json_status() {
    # bwrap's --info-fd and --json-status-fd beside paddock's --status-fd,
    # which keeps its own records.
    needs --unshare-pid --unshare-net || return 0
    launch --unshare-pid --unshare-net --ro-bind / / --info-fd 4 --json-status-fd 5 --status-fd 6 -- sh -c 'exit 3' \
        4>"$D/info" 5>"$D/json" 6>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 3 || return 1
    local pid_ns net_ns
    pid_ns=$(sed -n 's/.*"pid-namespace": \([0-9]*\).*/\1/p' "$D/json")
    net_ns=$(sed -n 's/.*"net-namespace": \([0-9]*\).*/\1/p' "$D/json")
    assert "json status: $(cat "$D/json")" grep -Eq '^\{ "child-pid": [0-9]+, .*"mnt-namespace": [0-9]+' "$D/json" &&
        assert "no exit code: $(cat "$D/json")" grep -qx '{ "exit-code": 3 }' "$D/json" &&
        assert "info: $(cat "$D/info")" grep -Eq '^    "child-pid": [0-9]+,$' "$D/info" &&
        has "$D/info" "\"pid-namespace\": $pid_ns" && has "$D/info" "\"net-namespace\": $net_ns" &&
        has_record "$D/status" exited '"exit_code":3' || return 1
    # Nothing ran: no exit code.
    launch --unshare-pid --ro-bind / / --json-status-fd 5 -- /nonexistent/command 5>"$D/json" >"$D/out" 2>"$D/err"
    expect_rc 127 && has "$D/json" '"child-pid"' && has_not "$D/json" 'exit-code'
}

test_file_data_and_perms() {
    # --file, --bind-data and --ro-bind-data write FD's data; --perms sets
    # the mode of the next one; --chmod changes an existing path's.
    needs || return 0
    printf 'data' >"$D/data"
    launch "${MIN_ROOT[@]}" --perms 0640 --file 4 /etc/f --ro-bind-data 5 /etc/g --dir /d --chmod 0700 /d -- \
        sh -c 'cat /etc/f /etc/g; echo; stat -c %a /etc/f /etc/g /d; echo x > /etc/g || echo ro' \
        4<"$D/data" 5<"$D/data" >"$D/out" 2>"$D/err"
    expect_rc 0 && out_is "datadata
640
600
700
ro"
}

# ---- init ----------------------------------------------------------------

# daemon_left_behind OPTION...: an action that starts a daemon (fork, setsid,
# fork; ignoring SIGTERM and SIGHUP) and exits 0 at once neither keeps the
# launcher waiting nor leaves the daemon running.
daemon_left_behind() {
    needs --unshare-pid "$@" || return 0
    launch --unshare-pid "$@" --ro-bind / / --dev /dev --bind "$D" "$D" --status-fd 3 -- sh -c '
        trap "" TERM HUP
        "$0" "$1" sleep "$3"; "$2" "$1" || exit 99
        exit 0' "$DAEMONIZE" "$D/daemon.nspid" "$AWAIT" "$MARK" 3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 0 && assert "the daemon never started" [ -s "$D/daemon.nspid" ] &&
        has_record "$D/status" exited '"status":0' &&
        assert "took $ELAPSED_MS ms: the launcher waited for the daemon" [ "$ELAPSED_MS" -lt 5000 ] &&
        no_marked_left
}

test_init_daemon_left_behind() { daemon_left_behind; }
test_as_pid_1_daemon_left_behind() { daemon_left_behind --as-pid-1; }

# sigterm_reaches_action FIELD CANCELLED_BY: SIGTERM to the process whose pid
# is FIELD of the spawned record reaches the action, which traps it, writes a
# file and exits 3; the launcher reports that status.
sigterm_reaches_action() {
    needs --unshare-pid || return 0
    start_bg --unshare-pid --ro-bind / / --dev /dev --bind "$D" "$D" --status-fd 3 -- sh -c '
        trap "echo TERM > \"\$1/trapped\"; exit 3" TERM
        sleep "$2" &
        echo ready > "$1/ready"
        wait' sh "$D" "$MARK" 3>"$D/status" >"$D/out" 2>"$D/err"
    local bg=$BG rc target
    wait_for_file "$D/ready" 10 && wait_for_grep "$D/status" '"type":"spawned"' 10 ||
        fail "the action never started: $(cat "$D/err" "$D/status")" || return 1
    target=$(field "$D/status" spawned "$1")
    [ -n "$target" ] || fail "no $1 in $(cat "$D/status")" || return 1
    kill -TERM "$target"
    wait_for_exit "$bg" 10 || fail "the launcher did not exit within 10 s of SIGTERM" || return 1
    wait "$bg"
    rc=$?
    [ "$rc" = 3 ] || fail "exit code $rc, want 3 (the action's, after its trap); stderr: $(head -c 300 "$D/err")" || return 1
    assert "the action's trap did not run" grep -qx TERM "$D/trapped" &&
        has_record "$D/status" exited '"exit_code":3' '"status":3' "\"cancelled_by\":$2" && no_marked_left
}

test_sigterm_to_launcher_reaches_action() { sigterm_reaches_action launcher_pid '"SIGTERM"'; }
# The sandbox's init supervises the action: a signal to it is a cancel too.
test_sigterm_to_init_cancels() { sigterm_reaches_action pid '"SIGTERM"'; }

test_exit_status_through_init() {
    needs --unshare-pid || return 0
    launch --unshare-pid --ro-bind / / --status-fd 3 -- sh -c 'exit 7' 3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 7 "exit 7" && has_record "$D/status" exited '"exit_code":7' '"status":7' '"signal":null' || return 1
    launch --unshare-pid --ro-bind / / --status-fd 3 -- sh -c 'kill -KILL $$' 3>"$D/status2" >"$D/out" 2>"$D/err"
    expect_rc 137 "kill -KILL \$\$" && has_record "$D/status2" exited '"exit_code":137' '"status":null' \
        '"signal":"SIGKILL"' '"signal_number":9'
}

test_failures_before_exec_through_init() {
    # The action's exec and setup failures happen under init, which relays them.
    needs --unshare-pid || return 0
    launch --unshare-pid --ro-bind / / --status-fd 3 -- paddock-no-such-command-x 3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 127 "missing command" && json_lines "$D/status" &&
        has_record "$D/status" exec-failed '"errno":"ENOENT"' '"path":"paddock-no-such-command-x"' &&
        has_not "$D/status" '"type":"spawned"' && has_not "$D/status" '"type":"exited"' || return 1
    launch --unshare-pid --ro-bind / / --chdir "$D/missing" --status-fd 3 -- true 3>"$D/status2" >"$D/out" 2>"$D/err"
    expect_rc 125 "missing --chdir" && has_record "$D/status2" setup-failed '"step":"chdir"' '"errno":"ENOENT"' \
        "\"path\":\"$D/missing\"" && has_not "$D/status2" '"type":"spawned"'
}

test_timeout_kills_pid_namespace() {
    # A background sleep, a daemon ignoring SIGTERM in its own session, and
    # the main process: after the timeout nothing of them is left on the host.
    needs --unshare-pid || return 0
    start_bg --timeout 3s --unshare-pid --ro-bind / / --dev /dev --bind "$D" "$D" --status-fd 3 -- sh -c '
        sleep "$3" &
        (trap "" TERM HUP; "$0" "$1/daemon.nspid" sleep "$3")
        "$2" "$1/daemon.nspid" || exit 99
        echo ready > "$1/ready"
        exec sleep "$3"' "$DAEMONIZE" "$D" "$AWAIT" "$MARK" 3>"$D/status" >"$D/out" 2>"$D/err"
    local bg=$BG rc running
    wait_for_file "$D/ready" 10 || fail "the action never got ready: $(cat "$D/err" "$D/status")" || return 1
    running=$(marked_pids "$MARK" | wc -l)
    [ "$running" -ge 3 ] || fail "$running marked processes before the timeout, want 3" || return 1
    wait_for_exit "$bg" 10 || fail "the launcher was still running 10 s after the action got ready" || return 1
    wait "$bg"
    rc=$?
    [ "$rc" = 124 ] || fail "exit code $rc, want 124; stderr: $(head -c 300 "$D/err")" || return 1
    has_record "$D/status" exited '"exit_code":124' '"timed_out":true' '"killed_after_grace":false' && no_marked_left
}

# ---- bad input -----------------------------------------------------------

# --rlimit: cpu ends with SIGXCPU, fsize stops a file at its bound, nproc bounds
# a fork loop (RLIMIT_NPROC for a user that is not root, the pid namespace's
# pid_max for root on Linux 6.14+); bad names and values are refused.
test_rlimit() {
    needs || return 0
    launch --status-fd 3 --unshare-all --cap-drop ALL --ro-bind / / --proc /proc --rlimit cpu 1 -- \
        sh -c 'while :; do :; done' 3>"$D/status" >"$D/out" 2>"$D/err"
    expect_rc 152 "cpu" && has_record "$D/status" exited '"signal":"SIGXCPU"' || return 1
    launch --unshare-all --cap-drop ALL --ro-bind / / --dev /dev --bind "$D" "$D" --rlimit fsize 4096 -- \
        dd if=/dev/zero of="$D/big" bs=1024 count=8 >"$D/out" 2>"$D/err"
    expect_rc 153 "fsize" && assert "the file grew past 4096 bytes" [ "$(stat -c %s "$D/big")" = 4096 ] || return 1
    if [ "$(id -u)" = 0 ] && ! unshare -Upfr --mount-proc sh -c 'echo 400 > /proc/sys/kernel/pid_max' 2>/dev/null; then
        skip "no per-pid-namespace pid_max (Linux 6.14+), and root is exempt from RLIMIT_NPROC"
        return 0
    fi
    launch --unshare-all --cap-drop ALL --ro-bind / / --proc /proc --rlimit nproc 50 -- \
        sh -c 'n=0; while [ $n -lt 1000 ]; do sleep 10 & n=$((n + 1)); done' >"$D/out" 2>"$D/err"
    assert "forks beyond the limit did not fail: $(head -c 300 "$D/err")" grep -q "fork\|Resource temporarily" "$D/err" ||
        return 1
    launch --rlimit memory 1 -- true >"$D/out" 2>"$D/err"
    expect_rc 125 "unknown resource" && has "$D/err" "unknown resource 'memory'" || return 1
    launch --rlimit cpu soon -- true >"$D/out" 2>"$D/err"
    expect_rc 125 "bad value" && has "$D/err" "--rlimit cpu takes a number"
}

test_unknown_option_125() {
    launch --unshare-everything --ro-bind / / --bind "$D" "$D" -- touch "$D/ran" >"$D/out" 2>"$D/err"
    expect_rc 125 && has "$D/err" "--unshare-everything" && assert "the command ran" [ ! -e "$D/ran" ] || return 1
    launch --ro-bind / >"$D/out" 2>"$D/err"
    expect_rc 125 "--ro-bind with one argument" && has "$D/err" "--ro-bind" || return 1
    launch --unshare-user --uid me -- true >"$D/out" 2>"$D/err"
    expect_rc 125 "--uid me" && has "$D/err" "--uid" && has "$D/err" "'me'"
}

test_relative_path_125() {
    local opt
    for opt in --tmpfs --proc --dev --dir --remount-ro; do
        launch --status-fd 3 --ro-bind / / --bind "$D" "$D" "$opt" tmp -- touch "$D/ran" \
            3>"$D/status" >"$D/out" 2>"$D/err"
        expect_rc 125 "$opt tmp" && has "$D/err" "$opt" && has "$D/err" "'tmp'" &&
            has_record "$D/status" setup-failed '"step":"options"' && assert "the command ran" [ ! -e "$D/ran" ] ||
            return 1
    done
}

test_relative_destination_not_dropped() {
    # bwrap takes a relative destination as relative to the sandbox's root;
    # paddock may instead refuse it (125, as for --tmpfs), but must not drop
    # the operation silently.
    needs || return 0
    mkdir "$D/src"
    local opt
    for opt in --bind --ro-bind --dev-bind --symlink; do
        launch "${MIN_ROOT[@]}" "$opt" "$D/src" rel -- sh -c 'test -e /rel -o -L /rel && echo at /rel' >"$D/out" 2>"$D/err"
        [ "$HUNG" = 0 ] || fail "launcher hung ($opt)" || return 1
        if [ "$RC" = 125 ]; then
            has "$D/err" "$opt" || return 1
        elif [ "$RC" != 0 ] || [ "$(cat "$D/out")" != "at /rel" ]; then
            fail "$opt $D/src rel: neither refused (exit 125) nor made at /rel: exit code $RC, stdout: $(cat "$D/out")"
            return 1
        fi
    done
}

test_uid_without_user_namespace_not_dropped() {
    # bwrap refuses --uid without a user namespace; paddock may instead make
    # one, but must not run the action with the caller's uid as if nothing was asked.
    launch --uid 1234 -- id -u >"$D/out" 2>"$D/err"
    [ "$HUNG" = 0 ] || fail "launcher hung" || return 1
    if [ "$RC" = 125 ]; then
        has "$D/err" "--uid"
    else
        expect_rc 0 && out_is 1234
    fi
}

test_as_pid_1_without_pid_namespace_not_dropped() {
    # bwrap refuses --as-pid-1 without --unshare-pid.
    needs || return 0
    launch --as-pid-1 --ro-bind / / -- sh -c 'echo $$' >"$D/out" 2>"$D/err"
    [ "$HUNG" = 0 ] || fail "launcher hung" || return 1
    if [ "$RC" = 125 ]; then
        has "$D/err" "--as-pid-1"
    else
        expect_rc 0 && out_is 1
    fi
}

# ---- runner --------------------------------------------------------------

run_tests "launcher sandbox" \
    test_user_ns_keeps_caller_ids \
    test_uid_0_gid_0 \
    test_uid_1234_writes_as_caller \
    test_pid_ns_uid_under_init \
    test_as_pid_1 \
    test_proc_shows_only_the_sandbox \
    test_net_ns_only_loopback_up \
    test_share_net_keeps_host_network \
    test_hostname \
    test_hostname_without_uts_125 \
    test_unshare_ipc \
    test_unshare_cgroup \
    test_unshare_uts \
    test_unshare_net \
    test_unshare_pid \
    test_ro_bind_root_read_only \
    test_cap_drop_all_empties_every_set \
    test_cap_add_in_user_namespace \
    test_root_keeps_its_capabilities \
    test_seccomp_filter \
    test_default_seccomp_refuses_each_group \
    test_default_seccomp_programs_run \
    test_default_seccomp_on_the_action_only \
    test_default_seccomp_with_seccomp_fd \
    test_default_seccomp_without_sandbox \
    test_default_seccomp_under_spawn_server \
    test_spare_keeps_the_callers_capability_rules \
    test_spare_dev_works_like_a_fresh_one \
    test_spare_hands_back_what_it_cannot_run \
    test_default_seccomp_refused_by_the_host \
    test_bwrap_info_and_json_status \
    test_file_data_and_perms \
    test_bind_writes_reach_host \
    test_refuse_symlinks_planted_destination \
    test_refuse_symlinks_planted_source \
    test_refuse_symlinks_file_and_chmod \
    test_refuse_symlinks_real_paths_work \
    test_bind_try_missing_source_skipped \
    test_bind_missing_source_125 \
    test_tmpfs_tmp_private \
    test_dir \
    test_pwd_set_unless_unset \
    test_tmpfs_and_shm_sizes \
    test_symlink \
    test_remount_ro \
    test_dev \
    test_dev_bind_keeps_devices_bind_does_not \
    test_no_capabilities \
    test_init_daemon_left_behind \
    test_as_pid_1_daemon_left_behind \
    test_sigterm_to_launcher_reaches_action \
    test_sigterm_to_init_cancels \
    test_exit_status_through_init \
    test_failures_before_exec_through_init \
    test_timeout_kills_pid_namespace \
    test_rlimit \
    test_unknown_option_125 \
    test_relative_path_125 \
    test_relative_destination_not_dropped \
    test_uid_without_user_namespace_not_dropped \
    test_as_pid_1_without_pid_namespace_not_dropped
