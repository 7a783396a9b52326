#!/usr/bin/env bash
# Long runs that `make test` (and CI) keep short: the catalog fault test at
# its full size, 10,000 products through 20 % failing provider calls.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/common.sh

ensure_venv
start_moto
export AWS_ENDPOINT_URL="$MOTO_URL" AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
       AWS_REGION=eu-central-1 AWS_EC2_METADATA_DISABLED=true \
       AWS_SDK_ATTEMPT_TIMEOUT_MS=60000 AWS_SDK_OPERATION_TIMEOUT_MS=180000
export CATALOG_FAULT_PRODUCTS="${CATALOG_FAULT_PRODUCTS:-10000}"
step "catalog fault run at $CATALOG_FAULT_PRODUCTS products"
cargo test -p ayaztrade-tests --test e2e --locked catalog::ten_thousand
