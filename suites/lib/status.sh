# /proc/PID/status helpers for task scripts (sourced, so `set -eu` and spread's MATCH apply).

# status_has_bit FIELD BIT [FILE]
# Whether the hex mask on the FIELD line (CapBnd, CapEff, SigIgn, ...) of FILE, by default
# /proc/self/status, has BIT set.
status_has_bit() {
    local mask
    mask=$(sed -n "s/^$1:\t*//p" "${3:-/proc/self/status}")
    (( (0x$mask >> $2) & 1 ))
}
