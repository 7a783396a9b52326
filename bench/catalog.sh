#!/usr/bin/env bash
# Reproduces the catalog-sync figures in BENCHMARKS.md: provider requests and
# planning time for 10,000 products with 10 % changed, and the request rate
# achieved against Trendyol's limit. Starts its own moto; prints a report and
# writes it to .local/bench-catalog.txt.
#   PRODUCTS=10000 RATE_REQUESTS=150 bash bench/catalog.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/common.sh
PRODUCTS="${PRODUCTS:-10000}"
RATE_REQUESTS="${RATE_REQUESTS:-300}"
T="${CARGO_TARGET_DIR:-target}"

ensure_venv
step "building catalog-bench (profile measure: optimized, no LTO)"
cargo build --locked --profile measure -p ayaztrade-tests --bin catalog-bench
start_moto
use_local_aws
export AYAZ_PYTHON="$VENV/bin/python" RUST_LOG=warn
mkdir -p .local
step "running: $PRODUCTS products, $RATE_REQUESTS rate-test requests"
"$T/measure/catalog-bench" --products "$PRODUCTS" --rate-requests "$RATE_REQUESTS" \
    2> .local/bench-catalog.log | tee .local/bench-catalog.txt
