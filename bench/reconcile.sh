#!/usr/bin/env bash
# Reproduces the reconciliation figures in BENCHMARKS.md: provider requests
# (against the page count), DynamoDB calls, wall time and peak memory of a
# reconcile run over a day of N Stripe payments (M of them with the webhook
# lost), and of a second run of the same day. Starts its own moto; prints a
# report and writes it to .local/bench-reconcile.txt.
#   PAYMENTS=10000 LOST=50 bash bench/reconcile.sh
#   PROFILE=dev bash bench/reconcile.sh     # the debug build (no optimized rebuild)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/common.sh
PAYMENTS="${PAYMENTS:-10000}"
LOST="${LOST:-50}"
PROFILE="${PROFILE:-measure}"
T="${CARGO_TARGET_DIR:-target}"
case "$PROFILE" in dev) DIR=debug ;; *) DIR="$PROFILE" ;; esac

ensure_venv
step "building reconcile-bench (profile $PROFILE)"
cargo build --locked --profile "$PROFILE" -p ayaztrade-tests --bin reconcile-bench
start_moto
use_local_aws
export AYAZ_PYTHON="$VENV/bin/python" RUST_LOG=warn
mkdir -p .local
step "running: $PAYMENTS payments, $LOST with the webhook lost"
"$T/$DIR/reconcile-bench" --payments "$PAYMENTS" --lost "$LOST" \
    2> .local/bench-reconcile.log | tee .local/bench-reconcile.txt
