# Account helpers for task scripts (sourced, so `set -eu` and spread's MATCH apply).
#
# Most systems keep users in /etc; where /etc is read-only (core-like) they live in
# /var/lib/extrausers, read through libnss-extrausers. Tasks use these helpers to set up the
# account state a check needs (a missing user, a lone group) and to put it back afterwards.

# The directory holding the passwd/group/shadow/gshadow files that this system can write.
account_db_dir() {
    if [ -w /etc/passwd ]; then
        echo /etc
    else
        echo /var/lib/extrausers
    fi
}

# A fingerprint of every account database, to prove that nothing was added or changed.
account_db_digest() {
    local dir
    for dir in /etc /var/lib/extrausers; do
        for db in passwd group shadow gshadow; do
            if [ -e "$dir/$db" ]; then
                sha256sum "$dir/$db"
            fi
        done
    done
}

# Removes user NAME and group NAME wherever they are, if they exist.
remove_account() {
    local name="$1" dir
    dir=$(account_db_dir)
    if [ "$dir" = /etc ]; then
        if getent passwd "$name" >/dev/null; then userdel "$name"; fi
        if getent group "$name" >/dev/null; then groupdel "$name"; fi
    else
        for db in passwd group shadow gshadow; do
            if [ -e "$dir/$db" ]; then sed -i "/^$name:/d" "$dir/$db"; fi
        done
    fi
    if getent passwd "$name" || getent group "$name"; then
        echo "cannot remove account $name"
        return 1
    fi
}

# Adds group NAME with GID and no user of that name.
add_lone_group() {
    local name="$1" gid="$2" dir
    dir=$(account_db_dir)
    if [ "$dir" = /etc ]; then
        groupadd --system --gid "$gid" "$name"
    else
        echo "$name:x:$gid:" >>"$dir/group"
        echo "$name:!::" >>"$dir/gshadow"
    fi
}

# Adds the unprivileged user "test" (the third user every denial is checked with) if missing.
ensure_test_user() {
    local dir
    if getent passwd test >/dev/null; then return 0; fi
    dir=$(account_db_dir)
    if [ "$dir" = /etc ]; then
        useradd --create-home --shell /bin/sh test
    else
        echo "test:x:12345:12345::/tmp:/bin/sh" >>"$dir/passwd"
        echo "test:*:19000:0:99999:7:::" >>"$dir/shadow"
        echo "test:x:12345:" >>"$dir/group"
        echo "test:!::" >>"$dir/gshadow"
    fi
    getent passwd test
}

LSB_DAEMON_MARK=/var/tmp/suites.lsb-daemon-added

# On a system without the LSB daemon user (solus-like), adds it the way the refusal message
# says, and remembers that this task did so. Elsewhere it does nothing.
add_lsb_daemon_if_missing() {
    if getent passwd daemon >/dev/null && getent group daemon >/dev/null; then return 0; fi
    groupadd --system daemon
    useradd --system --gid daemon --no-create-home --shell /usr/sbin/nologin daemon
    touch "$LSB_DAEMON_MARK"
}

# Undoes add_lsb_daemon_if_missing.
remove_lsb_daemon_if_added() {
    if [ -e "$LSB_DAEMON_MARK" ]; then
        remove_account daemon
        rm "$LSB_DAEMON_MARK"
    fi
}

# not CMD...: succeeds when CMD fails (a bare `! CMD` does not stop a `set -e` script).
not() {
    if "$@"; then
        echo "expected to fail: $*"
        return 1
    fi
}
