#!/usr/bin/env bash
# `make dev`: the whole thing on this machine, offline, with no credentials.
#   moto (DynamoDB, SQS, EventBridge) with the resources of template.yaml,
#   the provider fakes, and `cargo lambda watch` serving every function.
# Ctrl-C stops everything it started.
#
# Real Stripe test mode instead of the fake (the other fakes still run):
#   STRIPE_SECRET_KEY=sk_test_... make dev
# Your own Aras contract tariff for the rates route (JSON, README § Shipping):
#   ARAS_TARIFF_JSON='{"bands":[...],"extraPerDesi":{...}}' make dev
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/common.sh

# Where the env file, logs and seed answer go (tools/demo_test.py uses its own).
LOCAL="${DEV_LOCAL_DIR:-.local}"
export DEV_LOCAL_DIR="$LOCAL"
MOTO_PORT="${MOTO_PORT:-5050}"
WATCH_PORT="${WATCH_PORT:-9000}"
FAKE_STRIPE_PORT="${FAKE_STRIPE_PORT:-12111}"
FAKE_IYZICO_PORT="${FAKE_IYZICO_PORT:-12112}"
FAKE_TRENDYOL_PORT="${FAKE_TRENDYOL_PORT:-12113}"
FAKE_HEPSIBURADA_LISTING_PORT="${FAKE_HEPSIBURADA_LISTING_PORT:-12114}"
FAKE_HEPSIBURADA_MPOP_PORT="${FAKE_HEPSIBURADA_MPOP_PORT:-12115}"
FAKE_HEPSIBURADA_OMS_PORT="${FAKE_HEPSIBURADA_OMS_PORT:-12116}"
FAKE_ARAS_PORT="${FAKE_ARAS_PORT:-12117}"
FAKE_STRIPE_KEY="sk_test_51AyazFakeKey0123456789"
# Local webhook credentials (tools/send_webhook.py signs with the Stripe one).
STRIPE_WEBHOOK_SECRET="${STRIPE_WEBHOOK_SECRET:-whsec_local_dev_0123456789}"
# A small demo contract tariff for POST /shipping/aras/rates (TRY, per desi band).
DEMO_ARAS_TARIFF='{"bands":[{"upToDesi":5,"prices":{"near":"110.00","long":"150.00"}},{"upToDesi":30,"prices":{"near":"160.00","long":"220.00"}}],"extraPerDesi":{"near":"6.00","long":"8.00"}}'
ARAS_TARIFF_JSON="${ARAS_TARIFF_JSON:-$DEMO_ARAS_TARIFF}"

ensure_venv
start_moto
step "creating the table, queues and event bus of template.yaml in moto"
names="$("$VENV/bin/python" tools/local_aws.py up --endpoint "$MOTO_URL" --stage local)"
echo "$names"
table="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["TableName"])' "$names")"
bus="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["EventBusName"])' "$names")"
catalog_queue="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["Queues"]["CatalogQueue"])' "$names")"
stock_sync_queue="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["Queues"]["StockSyncQueue"])' "$names")"
outbound_queue="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["Queues"]["OutboundQueue"])' "$names")"

step "building and starting the provider fakes (with demo marketplace orders for events/demo-products.json)"
cargo build --quiet -p ayaztrade-tests --bin fake-providers
setsid target/debug/fake-providers --stripe-port "$FAKE_STRIPE_PORT" --iyzico-port "$FAKE_IYZICO_PORT" \
    --trendyol-port "$FAKE_TRENDYOL_PORT" \
    --hepsiburada-listing-port "$FAKE_HEPSIBURADA_LISTING_PORT" \
    --hepsiburada-mpop-port "$FAKE_HEPSIBURADA_MPOP_PORT" \
    --hepsiburada-oms-port "$FAKE_HEPSIBURADA_OMS_PORT" \
    --aras-port "$FAKE_ARAS_PORT" \
    --demo-orders events/demo-products.json \
    > "$LOCAL/fakes.log" 2>&1 &
PIDS+=($!)
for port in "$FAKE_STRIPE_PORT" "$FAKE_IYZICO_PORT" "$FAKE_TRENDYOL_PORT" \
    "$FAKE_HEPSIBURADA_LISTING_PORT" "$FAKE_HEPSIBURADA_MPOP_PORT" \
    "$FAKE_HEPSIBURADA_OMS_PORT" "$FAKE_ARAS_PORT"; do
    wait_for_http "http://127.0.0.1:$port/" "the provider fake on port $port (see $LOCAL/fakes.log)"
done
cat "$LOCAL/fakes.log"

if [ -n "${STRIPE_SECRET_KEY:-}" ]; then
    stripe_key="$STRIPE_SECRET_KEY"
    stripe_base="${STRIPE_API_BASE:-https://api.stripe.com}"
    step "using Stripe at $stripe_base with your key"
else
    stripe_key="$FAKE_STRIPE_KEY"
    stripe_base="http://127.0.0.1:$FAKE_STRIPE_PORT"
fi

# A test credential of a fake, read from its source (tests/src/<fake>.rs), so
# the two cannot drift: `pub const NAME: &str = "value";`. Of Rust's escapes
# only \" and \\ are understood (the Aras passwords hold quotes on purpose).
fake_const() { # module, NAME
    local value
    value="$(sed -n "s/^pub const $2: &str = \"\(.*\)\";\$/\1/p" "tests/src/$1.rs")"
    [ -n "$value" ] || { echo "no $2 in tests/src/$1.rs" >&2; return 1; }
    if printf '%s' "$value" | sed 's/\\["\\]//g' | grep -q '\\'; then
        echo "$2 in tests/src/$1.rs has an escape other than \\\" or \\\\" >&2
        return 1
    fi
    printf '%s' "$value" | sed 's/\\\(["\\]\)/\1/g'
}
# A value as .local/dev.env must hold it for cargo lambda (env-file-reader):
# bare when it has no blank, =, quote or #; else in a quote character it does
# not contain (no escapes: \n and \<quote> would be rewritten, so no \ at all).
env_value() { # value
    local v="$1" bare='^[^[:space:]=#"`'"'"']+$'
    if [[ "$v" == *\\* || "$v" == *$'\n'* ]]; then
        echo "cannot write $v to .local/dev.env" >&2
        return 1
    elif [[ "$v" =~ $bare ]]; then
        printf '%s' "$v"
    elif [[ "$v" != *"'"* ]]; then
        printf "'%s'" "$v"
    elif [[ "$v" != *'`'* ]]; then
        printf '`%s`' "$v"
    else
        echo "cannot quote $v for .local/dev.env" >&2
        return 1
    fi
}
ty_seller="$(fake_const trendyol_fake TEST_SELLER_ID)"
ty_key="$(fake_const trendyol_fake TEST_API_KEY)"
ty_secret="$(fake_const trendyol_fake TEST_API_SECRET)"
hb_merchant="$(fake_const hepsiburada_fake TEST_MERCHANT_ID)"
hb_key="$(fake_const hepsiburada_fake TEST_SERVICE_KEY)"
hb_user="$(fake_const hepsiburada_fake TEST_INTEGRATOR_USERNAME)"
aras_base="http://127.0.0.1:$FAKE_ARAS_PORT"
aras_order_url="$aras_base$(fake_const aras_fake ORDER_PATH)"
aras_query_url="$aras_base$(fake_const aras_fake QUERY_PATH)"
aras_env_const() { local v; v="$(fake_const aras_fake "$1")" && env_value "$v"; }
aras_user="$(aras_env_const USERNAME)"
aras_password="$(aras_env_const PASSWORD)"
aras_query_user="$(aras_env_const QUERY_USERNAME)"
aras_query_password="$(aras_env_const QUERY_PASSWORD)"
aras_customer="$(aras_env_const CUSTOMER_CODE)"
aras_tariff="$(env_value "$ARAS_TARIFF_JSON")"

cat > "$LOCAL/dev.env" <<ENV
TABLE_NAME=$table
AWS_ENDPOINT_URL=$MOTO_URL
AWS_ACCESS_KEY_ID=local
AWS_SECRET_ACCESS_KEY=local
AWS_REGION=eu-central-1
AWS_EC2_METADATA_DISABLED=true
STRIPE_API_BASE=$stripe_base
STRIPE_SECRET_KEY=$stripe_key
EVENT_BUS_NAME=$bus
STRIPE_WEBHOOK_SECRETS=$STRIPE_WEBHOOK_SECRET
IYZICO_API_BASE=http://127.0.0.1:$FAKE_IYZICO_PORT
IYZICO_API_KEY=sandbox-fake-api-key
IYZICO_SECRET_KEY=sandbox-fake-secret-key
IYZICO_CALLBACK_URL=http://127.0.0.1:$WATCH_PORT/lambda-url/payments/payments/iyzico/callback
IYZICO_RESULT_URL=-
CHECKOUT_TOKEN_SECRET=local-checkout-secret
TRENDYOL_WEBHOOK_USERNAME=local-hook
TRENDYOL_WEBHOOK_PASSWORD=local-hook-password
TRENDYOL_WEBHOOK_API_KEY=-
HEPSIBURADA_WEBHOOK_USERNAME=local-hook
HEPSIBURADA_WEBHOOK_PASSWORD=local-hook-password
MARKETPLACE_PERSONAL_DATA_RETENTION_DAYS=30
CATALOG_QUEUE_URL=$catalog_queue
STOCK_SYNC_QUEUE_URL=$stock_sync_queue
OUTBOUND_QUEUE_URL=$outbound_queue
OUTBOUND_ALLOW_LOOPBACK=true
OUTBOUND_LOG_DAYS=30
CATALOG_CHECK_DELAY_SECS=2
TRENDYOL_API_BASE=http://127.0.0.1:$FAKE_TRENDYOL_PORT
TRENDYOL_SELLER_ID=$ty_seller
TRENDYOL_API_KEY=$ty_key
TRENDYOL_API_SECRET=$ty_secret
HEPSIBURADA_LISTING_BASE=http://127.0.0.1:$FAKE_HEPSIBURADA_LISTING_PORT
HEPSIBURADA_CATALOG_BASE=http://127.0.0.1:$FAKE_HEPSIBURADA_MPOP_PORT
HEPSIBURADA_MERCHANT_ID=$hb_merchant
HEPSIBURADA_SERVICE_KEY=$hb_key
HEPSIBURADA_USER_AGENT=$hb_user
HEPSIBURADA_OMS_BASE=http://127.0.0.1:$FAKE_HEPSIBURADA_OMS_PORT
HEPSIBURADA_FINANCE_BASE=http://127.0.0.1:$FAKE_HEPSIBURADA_OMS_PORT
ARAS_USERNAME=$aras_user
ARAS_PASSWORD=$aras_password
ARAS_QUERY_USERNAME=$aras_query_user
ARAS_QUERY_PASSWORD=$aras_query_password
ARAS_CUSTOMER_CODE=$aras_customer
ARAS_ORDER_SERVICE_URL=$aras_order_url
ARAS_QUERY_SERVICE_URL=$aras_query_url
ARAS_TARIFF_JSON=$aras_tariff
# Accounting off locally (no Paraşüt fake in dev.sh): the accounting function
# acknowledges deliveries and says so once (README § Accounting).
PARASUT_COMPANY_ID=-
PARASUT_CLIENT_ID=-
PARASUT_CLIENT_SECRET=-
PARASUT_USERNAME=-
PARASUT_PASSWORD=-
RUST_LOG=info
ENV
# Where the functions' events can be seen locally (tools/dev_peek.py events).
"$VENV/bin/python" tools/dev_peek.py tap

step "starting cargo lambda watch on 127.0.0.1:$WATCH_PORT (first build takes a few minutes)"
setsid "$VENV/bin/cargo-lambda" lambda watch --invoke-address 127.0.0.1 --invoke-port "$WATCH_PORT" \
    --env-file "$LOCAL/dev.env" > "$LOCAL/watch.log" 2>&1 &
PIDS+=($!)
base="http://127.0.0.1:$WATCH_PORT/lambda-url"
wait_for_http "http://127.0.0.1:$WATCH_PORT/" "cargo lambda watch"

step "seeding the demo order demo-order-1 through the orders function"
for i in $(seq 1 600); do
    code="$(curl -s -o "$LOCAL/seed.json" -w '%{http_code}' -X PUT "$base/orders/orders/demo-order-1" \
        -H 'content-type: application/json' --data-binary @events/demo-order.json || true)"
    case "$code" in 200|201) break ;; esac
    sleep 1
done
cat "$LOCAL/seed.json"; echo

# The platform's checkout token for the demo order (README § Checkout tokens).
checkout_token=$("$VENV/bin/python" -c '
import hashlib, hmac, time
e = int(time.time()) + 23 * 3600
m = hmac.new(b"local-checkout-secret", f"ayaztrade-checkout:v1:demo-order-1:{e}".encode(), hashlib.sha256)
print(f"demo-order-1.{e}.{m.hexdigest()}")')

cat <<MSG

Ready. Create a Stripe payment intent for the demo order (the storefront sends the
platform's checkout token for the order):

  curl -s -X POST $base/payments/payments/stripe/intents \\
       -H 'content-type: application/json' -H 'x-checkout-token: $checkout_token' \\
       -d '{"orderId":"demo-order-1"}'

Then tell us Stripe collected it (a signed payment_intent.succeeded webhook):

  .venv/bin/python tools/send_webhook.py demo-order-1 --watch-port $WATCH_PORT

Other things to try:
  curl -s $base/orders/orders/demo-order-1
  .venv/bin/cargo-lambda lambda invoke payments --invoke-address 127.0.0.1 --invoke-port $WATCH_PORT \\
      --data-file events/create-stripe-intent.json   # 401: the event carries no checkout token

Catalog sync to the Trendyol and Hepsiburada fakes: store the three demo products,
plan a sync (what the 30-minute schedule does), then run the worker on the queued
jobs (this plays Lambda's SQS trigger: batches are sent, then their results read):

  curl -s -X POST $base/catalog/catalog/products \\
       -H 'content-type: application/json' --data-binary @events/demo-products.json
  .venv/bin/cargo-lambda lambda invoke product-sync --invoke-address 127.0.0.1 --invoke-port $WATCH_PORT \\
      --data-file events/product-sync-schedule.json
  .venv/bin/python tools/drain_catalog_queue.py --watch-port $WATCH_PORT
  curl -s $base/catalog/catalog/products/DEMO-TSHIRT-M

Marketplace orders: the fakes hold a Trendyol and a Hepsiburada order for the demo
products ($LOCAL/fakes.log). After the catalog sync above, run order-poll (what its
5-minute schedule does): it takes both in and moves their stock. Then see the orders,
the stock left, and the events they put on the local bus:

  .venv/bin/cargo-lambda lambda invoke order-poll --invoke-address 127.0.0.1 --invoke-port $WATCH_PORT \\
      --data-file events/order-poll-schedule.json
  .venv/bin/python tools/dev_peek.py orders
  curl -s $base/catalog/catalog/products/DEMO-TSHIRT-S
  .venv/bin/python tools/dev_peek.py events

Reconciliation (README § Reconciliation): today's Stripe and iyzico payments at the
fakes against the ledgers (what the nightly run does for yesterday); the answer is the
day's report (differences, healed facts, requests per provider):

  .venv/bin/cargo-lambda lambda invoke reconcile --invoke-address 127.0.0.1 --invoke-port $WATCH_PORT \\
      --data-ascii "{\"source\":\"ayaztrade.integrations\",\"detail-type\":\"reconciliation.requested\",\"detail\":{\"day\":\"\$(TZ=Europe/Istanbul date +%F)\",\"runId\":\"local-\$(date +%s)\"}}"

A sale on one marketplace is stock gone on the other: the next catalog sync pushes the
new figures to both fakes (catalog.sync.completed, push "stock", on the bus):

  .venv/bin/cargo-lambda lambda invoke product-sync --invoke-address 127.0.0.1 --invoke-port $WATCH_PORT \\
      --data-file events/product-sync-schedule.json
  .venv/bin/python tools/drain_catalog_queue.py --watch-port $WATCH_PORT
  .venv/bin/python tools/dev_peek.py events

Shipping with the Aras Kargo fake: register a shipment for the demo order (its id,
Aras's IntegrationCode, comes from the order id and reference: AYZ440897277558871C0FCA2),
track it, price a parcel with the demo tariff (ARAS_TARIFF_JSON):

  curl -s -X POST $base/shipment/shipping/aras/shipments \\
       -H 'content-type: application/json' --data-binary @events/demo-shipment.json
  curl -s $base/shipment/shipping/aras/tracking/AYZ440897277558871C0FCA2
  curl -s -X POST $base/shipment/shipping/aras/rates \\
       -H 'content-type: application/json' \\
       -d '{"region":"near","parcels":[{"weightKg":1.5,"widthCm":30,"heightCm":20,"lengthCm":10}]}'

The same through cargo lambda invoke (a create repeated with the same reference answers
the same shipment; likewise events/get-tracking.json, events/shipment-rates.json and
events/cancel-shipment.json):

  .venv/bin/cargo-lambda lambda invoke shipment --invoke-address 127.0.0.1 --invoke-port $WATCH_PORT \\
      --data-file events/create-shipment.json

The tracking poll (what its EventBridge schedule does) asks Aras about every open
shipment; then cancel the demo shipment:

  .venv/bin/cargo-lambda lambda invoke shipment-tracking --invoke-address 127.0.0.1 --invoke-port $WATCH_PORT \\
      --data-file events/shipment-tracking-schedule.json
  curl -s -X DELETE $base/shipment/shipping/aras/shipments/AYZ440897277558871C0FCA2

Operations (IAM routes when deployed): every provider's health, each checked by a cheap
authenticated read of its API and cached 60 s; and a catalog sync on demand for one SKU (it
is put back on the work list and sync.requested published: deployed, a rule runs
product-sync with it; here, invoke product-sync as above):

  curl -s $base/operations/integrations/health
  curl -s -X POST $base/operations/integrations/trendyol/sync \\
       -H 'content-type: application/json' -d '{"kind":"catalog","skus":["DEMO-TSHIRT-S"]}'

Logs: $LOCAL/watch.log, $LOCAL/moto.log, $LOCAL/fakes.log.  Ctrl-C stops everything.
MSG
wait
