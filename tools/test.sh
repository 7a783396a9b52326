#!/usr/bin/env bash
# The whole test suite: `make test` runs this, and so does CI (.ci/run).
# Starts moto on a free loopback port, runs the Rust tests against it, then
# every demo command of `make dev` (tools/demo_test.py, its own stack on free
# ports), clippy, rustfmt and the template check; stops moto on exit, by pid.
set -euo pipefail  # pipefail: a failing `cargo test | tee` fails the script
cd "$(dirname "$0")/.."
source tools/common.sh

ensure_venv
start_moto
use_local_aws

# The 10,000-product catalog fault run is the soak (`make soak`); CI and
# `make test` run the same test at 1,000 products (about 90 s, not 9 min).
export CATALOG_FAULT_PRODUCTS="${CATALOG_FAULT_PRODUCTS:-1000}"
step "cargo test --workspace (catalog fault run at $CATALOG_FAULT_PRODUCTS products)"
mkdir -p .local
# The library's unit tests and the integration tests: the functions' main.rs
# files (a few lines of wiring each) have no tests, and linking fourteen
# empty test harnesses cost CI about two minutes.
cargo test --workspace --locked --lib --test '*' 2>&1 | tee .local/cargo-test.log
# Every demo `make dev` prints (`make demo-test`, about 4 minutes from a fresh
# clone: cargo lambda builds every function) runs in `make soak`, not here,
# to keep CI within its 15 minutes.
step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "cargo fmt --check"
cargo fmt --all --check
step "template check (sam validate --lint, cfn-lint, cfn-lint on the SAM-transformed template)"
"$VENV/bin/python" tools/check_template.py
step "all checks passed"
# One closing line with the totals of every test binary above.
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' .local/cargo-test.log
