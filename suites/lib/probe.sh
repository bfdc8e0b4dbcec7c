# Probe helpers for task scripts (sourced, so `set -eu` and spread's MATCH apply).
#
# $PROBE is the command that runs the probe confined, e.g.
# `snap run test-daemon-user.probe --via i386`; the probe makes one call and prints
# `After: ruid=R, euid=E, suid=S, rgid=R, egid=E, sgid=S, groups=...` or the errno text.

# allows "RUID EUID SUID RGID EGID SGID" CALL ARGS...
# The call succeeds and leaves exactly these ids.
allows() {
    local ids out
    read -r -a ids <<<"$1"
    shift
    out=$($PROBE "$@" 2>&1) || { echo "$out"; echo "expected '$*' to be allowed"; return 1; }
    echo "$out" | MATCH "^After: ruid=${ids[0]}, euid=${ids[1]}, suid=${ids[2]}, rgid=${ids[3]}, egid=${ids[4]}, sgid=${ids[5]}, groups="
}

# denies CALL ARGS...
# The call fails with EPERM ("Operation not permitted").
denies() {
    local out
    if out=$($PROBE "$@" 2>&1); then
        echo "$out"
        echo "expected '$*' to be denied"
        return 1
    fi
    echo "$out" | MATCH '^Operation not permitted$'
}

# chown_allows CALL FILE USER GROUP "UID:GID"
# From a root-owned FILE, the call succeeds and FILE ends up owned by UID:GID.
chown_allows() {
    local call="$1" file="$2" user="$3" group="$4" owner="$5" out
    chown root:root "$file"
    out=$($PROBE "$call" "$file" "$user" "$group" 2>&1) || {
        echo "$out"
        echo "expected '$call $file $user $group' to be allowed"
        return 1
    }
    echo "$out" | MATCH '^After: '
    stat -c %u:%g "$file" | MATCH "^$owner\$"
}

# chown_denies CALL FILE USER GROUP
# The call fails with EPERM and FILE stays root-owned.
chown_denies() {
    local file="$2"
    chown root:root "$file"
    denies "$@"
    stat -c %u:%g "$file" | MATCH '^0:0$'
}

# The uid and the gid of account NAME, looked up in the system (never assumed).
uid_of() {
    local entry
    entry=$(getent passwd "$1") || { echo "no user $1" >&2; return 1; }
    echo "$entry" | cut -d: -f3
}
gid_of() {
    local entry
    entry=$(getent group "$1") || { echo "no group $1" >&2; return 1; }
    echo "$entry" | cut -d: -f3
}
