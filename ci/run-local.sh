#!/usr/bin/env bash
# Runs the e2e matrix of ci/e2e.yml on this machine: every system of suites/spread.yaml, or the
# systems named as arguments (ci/run-local.sh solus-like core-like). One harness run drives all
# systems in parallel; the JUnit report goes to target/e2e-junit.xml.
set -euo pipefail
cd "$(dirname "$0")/.."

selectors=()
for system in "$@"; do
    selectors+=("docker:$system:")
done

# Builds the binaries, the test snaps and the missing images, then runs the suites.
exec cargo xtask e2e -junit target/e2e-junit.xml "${selectors[@]}"
