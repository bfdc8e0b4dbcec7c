#!/usr/bin/env bash
# Proves that the e2e suites fail when the security code they check is broken.
#
# For each patch in ci/mutations/ (one deliberate bug each), this script applies it to a scratch
# git worktree of HEAD, runs the e2e jobs that check that code with `cargo xtask e2e`, and
# expects the run to FAIL. It exits 0 only if every mutation turned at least one job red, and
# prints the failed jobs of each run. /work/main (or wherever you run it from) is never touched:
# the worktree lives in a temporary directory and is removed afterwards.
#
#   ci/mutations.sh                 # every mutation
#   ci/mutations.sh c-daemon-uid-1  # one, by patch name
#
# The worktree's target/ (the images copy target/release/snapcell from the tree they are built
# for) is a link to $MUTATIONS_TARGET_DIR (default /tmp/snapcell-mutations-target), kept between
# runs so that only the mutated crates are rebuilt. Each harness run starts its containers from
# the exact image tag it built, so other e2e runs at the same time are unaffected; the mutated
# images do take over e2e/NAME:latest while a mutation runs, so at the end the images of this
# tree are tagged :latest again (for anyone using the images by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# Which jobs must turn red for each mutation (see docs/VERIFICATION.md for why these).
declare -A selection=(
    [a-no-arch-check]="docker:debian-12:suites/privilege-drop/denied"
    [b-setuid-any-uid]="docker:debian-12:suites/privilege-drop/denied"
    [c-daemon-uid-1]="docker:rhel-like:suites/privilege-drop/drop"
    [d-shared-tmp]="docker:debian-12:suites/smoke/launch"
)

if (($#)); then names=("$@"); else names=(a-no-arch-check b-setuid-any-uid c-daemon-uid-1 d-shared-tmp); fi
for name in "${names[@]}"; do
    if [ -z "${selection[$name]:-}" ] || [ ! -f "ci/mutations/$name.patch" ]; then
        echo "unknown mutation $name (known: ${!selection[*]})" >&2
        exit 2
    fi
done

scratch=$(mktemp -d /tmp/snapcell-mutations.XXXXXX)
worktree=$scratch/tree
cleanup() {
    git -C "$root" worktree remove --force "$worktree" 2>/dev/null || true
    rm -rf "$scratch"
}
trap cleanup EXIT
git worktree add --quiet --detach "$worktree" HEAD
target=${MUTATIONS_TARGET_DIR:-/tmp/snapcell-mutations-target}
mkdir -p "$target"
ln -s "$target" "$worktree/target"

survived=()
for name in "${names[@]}"; do
    patch=$root/ci/mutations/$name.patch
    log=$scratch/$name.log
    echo "==> mutation $name: $(sed -n 's/^# //p' "$patch" | head -1)"
    git -C "$worktree" checkout --quiet -- .
    if ! git -C "$worktree" apply --check "$patch"; then
        echo "the patch no longer applies to HEAD: regenerate ci/mutations/$name.patch" >&2
        exit 2
    fi
    git -C "$worktree" apply "$patch"
    echo "    running cargo xtask e2e ${selection[$name]} (log: $log)"
    if (cd "$worktree" && cargo xtask e2e ${selection[$name]}) >"$log" 2>&1; then
        echo "    SURVIVED: every job passed with the mutation applied"
        survived+=("$name")
    else
        if ! grep -qE '(^| )Failed tasks: [1-9]' "$log"; then
            tail -n 40 "$log"
            echo "    the run failed without a failed task: not a verdict on the mutation" >&2
            exit 2
        fi
        echo "    KILLED: the run failed; failed jobs:"
        sed -n '/ Failed tasks: /,/^[^ ]/p' "$log" | sed -n 's/^ *- /        /p'
    fi
    cp "$log" "$root/target/mutation-$name.log" 2>/dev/null || true
done

echo "==> tagging this tree's images :latest again"
git -C "$worktree" checkout --quiet -- .
cargo xtask images >/dev/null

if ((${#survived[@]})); then
    echo "mutations that no job caught: ${survived[*]}" >&2
    exit 1
fi
echo "every mutation turned at least one job red"
