#!/usr/bin/env bash
# Long runs that `make test` (and CI) keep short: the catalog fault test at
# its full size, 10,000 products through 20 % failing provider calls; and
# every demo command `make dev` prints (tools/demo_test.py, `make demo-test`).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/common.sh

ensure_venv
start_moto
use_local_aws
export CATALOG_FAULT_PRODUCTS="${CATALOG_FAULT_PRODUCTS:-10000}"
step "catalog fault run at $CATALOG_FAULT_PRODUCTS products"
cargo test -p ayaztrade-tests --test e2e --locked catalog::ten_thousand
step "every demo command make dev prints, against the local stack (tools/demo_test.py)"
"$VENV/bin/python" tools/demo_test.py
step "soak done"
