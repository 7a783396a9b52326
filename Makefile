# AyazTrade Integrations — the two commands you need are `make dev` and `make test`.
.PHONY: dev demo-test test soak deploy venv build bench bench-catalog bench-orders bench-reconcile template-check events redrive backfill-order-list clean

## Run everything locally, offline: moto, the provider fakes, cargo lambda watch.
dev:
	bash tools/dev.sh

## Every demo command `make dev` prints, run against the local stack and its answer checked.
demo-test: venv
	.venv/bin/python tools/demo_test.py

## The whole suite: cargo test, clippy, rustfmt, template check (what CI runs).
test:
	bash tools/test.sh

## Long runs kept out of CI: the catalog fault test at 10,000 products (~9 min).
soak:
	bash tools/soak.sh

## Secrets from deploy/$(ENV).secrets.json into Secrets Manager, then sam build + deploy.
ENV ?= dev
deploy: venv
	PATH="$(CURDIR)/.venv/bin:$$PATH" .venv/bin/python tools/deploy.py --env $(ENV)

## Install the pinned Python tools into .venv.
venv:
	bash -c 'source tools/common.sh && ensure_venv'

## Release build of every function for Lambda (arm64), as `sam build` does.
build: venv
	PATH="$(CURDIR)/.venv/bin:$$PATH" cargo lambda build --release --arm64

## Binary size and init-time benchmarks (writes the figures quoted in BENCHMARKS.md).
bench: venv
	bash bench/run.sh

## Catalog sync: requests and planning time for 10,000 products, rate vs Trendyol's limit.
bench-catalog: venv
	bash bench/catalog.sh

## Marketplace-order import and lost-webhook latency figures (BENCHMARKS.md).
bench-orders: venv
	bash bench/orders.sh

## Reconciliation: provider requests, wall time and memory for a day of payments (BENCHMARKS.md).
bench-reconcile: venv
	bash bench/reconcile.sh

## Move a queue's DLQ messages back (SQS StartMessageMoveTask): make redrive QUEUE=catalog [ENV=prod].
redrive: venv
	@test -n "$(QUEUE)" || { echo "usage: make redrive QUEUE=<catalog|payment-events|full queue name> [ENV=dev]"; exit 2; }
	.venv/bin/python tools/redrive.py --queue "$(QUEUE)" --env "$(ENV)"

## Add the gsi2 list keys to marketplace orders stored before the index (resumable, idempotent): make backfill-order-list ENV=prod [AFTER=<cursor>].
backfill-order-list:
	TABLE_NAME="$${TABLE_NAME:-ayaztrade-$(ENV)}" cargo run --release -p ayaztrade-tests --bin backfill-order-list -- $(if $(AFTER),--after $(AFTER),)

template-check: venv
	.venv/bin/python tools/check_template.py

## Regenerate events/*.json with `sam local generate-event`.
events: venv
	.venv/bin/python tools/gen_events.py

clean:
	cargo clean
	rm -rf .local .aws-sam
