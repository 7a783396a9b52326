#!/usr/bin/env bash
# Reproduces the figures in BENCHMARKS.md: stripped release binary sizes
# (x86_64 and arm64) and local init time beside the hello-world floor and the
# naive SDK setup. Writes .local/bench-sizes.txt and .local/bench-init.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/common.sh
RUNS="${RUNS:-40}"
T="${CARGO_TARGET_DIR:-target}"

ensure_venv
step "release builds (x86_64, workspace profile: opt-level 3, fat LTO, 1 codegen unit, strip)"
cargo build --release --locked -p payments -p orders -p webhook -p catalog -p product-sync -p catalog-worker -p order-poll -p shipment -p shipment-tracking -p hello-lambda
cargo build --release --manifest-path bench/naive-sdk-lambda/Cargo.toml --target-dir "$T/naive"

step "arm64 builds for Lambda (cargo lambda build --release --arm64)"
rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1 || true
"$VENV/bin/cargo-lambda" lambda build --release --arm64 -p payments -p orders -p webhook -p catalog -p product-sync -p catalog-worker -p order-poll -p shipment -p shipment-tracking

mkdir -p .local
{
    for b in hello-lambda payments orders webhook catalog product-sync catalog-worker; do
        printf 'x86_64 %-24s %9d bytes\n' "$b" "$(stat -c %s "$T/release/$b")"
    done
    printf 'x86_64 %-24s %9d bytes\n' naive-sdk-lambda "$(stat -c %s "$T/naive/release/naive-sdk-lambda")"
    for b in payments orders webhook catalog product-sync catalog-worker; do
        printf 'arm64  %-24s %9d bytes\n' "$b" "$(stat -c %s "$T/lambda/$b/bootstrap")"
    done
} | tee .local/bench-sizes.txt

start_moto
names="$("$VENV/bin/python" tools/local_aws.py up --endpoint "$MOTO_URL" --stage bench)"
table="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["TableName"])' "$names")"
step "init time, $RUNS interleaved runs each"
ev=bench/events/missing-order.json
"$VENV/bin/python" bench/init_time.py --runs "$RUNS" --moto "$MOTO_URL" --table "$table" \
    "hello-lambda=$T/release/hello-lambda:$ev" \
    "naive-sdk-lambda=$T/naive/release/naive-sdk-lambda:$ev" \
    "payments=$T/release/payments:$ev" \
    "orders=$T/release/orders:events/get-order.json" \
    "webhook=$T/release/webhook:bench/events/webhook-unsigned.json" | tee .local/bench-init.json
