#!/usr/bin/env bash
# Reproduces the marketplace-order figures in BENCHMARKS.md: list requests,
# duplicates and run time for importing N new orders per marketplace, and the
# order → event latency when webhooks are lost. Starts its own moto; prints a
# report and writes it to .local/bench-orders.txt.
#   ORDERS=10000 PERIOD_MS=3000 bash bench/orders.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/common.sh
ORDERS="${ORDERS:-10000}"
PERIOD_MS="${PERIOD_MS:-3000}"
T="${CARGO_TARGET_DIR:-target}"

ensure_venv
step "building orders-bench (profile measure: optimized, no LTO)"
cargo build --locked --profile measure -p ayaztrade-tests --bin orders-bench
start_moto
use_local_aws
export AYAZ_PYTHON="$VENV/bin/python" RUST_LOG=warn
mkdir -p .local
step "running: $ORDERS orders per marketplace, poll every $PERIOD_MS ms for the latency part"
"$T/measure/orders-bench" --orders "$ORDERS" --period-ms "$PERIOD_MS" \
    2> .local/bench-orders.log | tee .local/bench-orders.txt
