# Snap state helpers for task scripts (sourced, so `set -eu` and spread's MATCH apply).

# Removes snap NAME if it is installed (restore scripts run even when the install failed).
remove_snap_if_installed() {
    if snap info "$1" >/dev/null 2>&1; then
        snap remove "$1"
    fi
}

# Every file and link snapcell keeps for installed snaps (the lock file aside), one per line:
# compared before and after a refused install to prove that nothing was left behind.
snap_state_files() {
    local dir
    for dir in /var/lib/snapcell /snap /var/snap; do
        if [ -d "$dir" ]; then
            find "$dir" \( -type f -o -type l \) ! -path /var/lib/snapcell/lock
        fi
    done | sort
}
