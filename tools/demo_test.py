#!/usr/bin/env python3
"""Every demo command `make dev` prints does what it says.

Starts tools/dev.sh (moto, the provider fakes with their demo marketplace
orders, `cargo lambda watch`) on free ports, reads the commands it prints
after "Ready." (indented lines starting with `curl` or `.venv/`, with their
`\\` continuations), runs each one in the order printed, as printed, and
checks its answer against CHECKS below: one check per printed command, in
the same order, so a command added to dev.sh without a check here fails.

    .venv/bin/python tools/demo_test.py        # `make demo-test`

Its env file and logs go to .local/demo-test/ (DEV_LOCAL_DIR), so a `make dev`
running in the same checkout keeps its own. The first build of each function
by cargo lambda is the slow part: about 20 s for all of them once the
workspace's debug build is there (`make test` runs this after cargo test).
"""
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCAL_DIR = os.path.join(".local", "demo-test")
READY_TIMEOUT = int(os.environ.get("DEMO_READY_TIMEOUT", "1200"))
COMMAND_TIMEOUT = int(os.environ.get("DEMO_COMMAND_TIMEOUT", "900"))
PORTS = ["MOTO_PORT", "WATCH_PORT", "FAKE_STRIPE_PORT", "FAKE_IYZICO_PORT", "FAKE_TRENDYOL_PORT",
         "FAKE_HEPSIBURADA_LISTING_PORT", "FAKE_HEPSIBURADA_MPOP_PORT",
         "FAKE_HEPSIBURADA_OMS_PORT", "FAKE_ARAS_PORT"]
SHIPMENT_ID = "AYZ440897277558871C0FCA2"


def demo_products():
    with open(os.path.join(ROOT, "events", "demo-products.json")) as f:
        return json.load(f)["products"]


PRODUCTS = demo_products()
# The fakes' demo orders (tests/src/bin/fake_providers.rs): Trendyol 2 × the
# first product, Hepsiburada 1 × the first and 1 × the second.
FIRST, SECOND = PRODUCTS[0], PRODUCTS[1]


class Failed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failed(what)


def as_json(out):
    try:
        return json.loads(out)
    except ValueError:
        raise Failed(f"not JSON: {out[:500]!r}")


def invoked_http(out):
    """A `cargo lambda invoke` of an HTTP function prints the API Gateway
    response: its status and JSON body."""
    r = as_json(out)
    return r["statusCode"], json.loads(r["body"] or "null")


def events_printed(out):
    """`dev_peek.py events` lines: time, detail type, then key=value."""
    rows = []
    for line in out.splitlines():
        m = re.match(r"^\S+\s+(\S+)\s*(.*)$", line)
        if m and not line.endswith("event(s)"):
            rows.append((m.group(1), m.group(2)))
    return rows


def check_intent(out):
    r = as_json(out)
    expect(r.get("status") == "requires_payment_method" and r.get("amount") == 86920
           and r.get("clientSecret"), f"a payment intent for 86920: {r}")


def check_webhook(out):
    expect(out.startswith("200 "), out)
    expect(as_json(out[4:]).get("outcome") == "applied", out)


def check_paid_order(out):
    r = as_json(out)
    expect((r.get("orderId"), r.get("paymentStatus")) == ("demo-order-1", "paid"), r)


def check_intent_without_token(out):
    status, body = invoked_http(out)
    expect(status == 401 and body["error"]["code"] == "checkout_token_invalid", out)


def check_products_stored(out):
    r = as_json(out)
    expect(r.get("created") == len(PRODUCTS) and r.get("failed") == 0, r)


def check_sync_planned(push):
    def check(out):
        r = as_json(out)
        expect(r.get("skipped") is False, r)
        items = r.get("items", {})
        for marketplace in ("trendyol", "hepsiburada"):
            key = f"{marketplace}:{push}"
            expect(items.get(key, 0) >= 1, f"{key} items planned: {r}")
    return check


def check_drained(out):
    expect(re.search(r"queue empty: \d+ invocations, \d+ messages done", out), out)
    expect("dead-letter" not in out and "failed" not in out, out)


def check_product_synced(out):
    r = as_json(out)
    expect(r.get("sku") == "DEMO-TSHIRT-M", r)
    for marketplace in ("trendyol", "hepsiburada"):
        states = {k: v["state"] for k, v in r["sync"][marketplace].items()}
        expect(set(states.values()) == {"synced"}, f"{marketplace}: {states}")


def check_orders_polled(out):
    r = as_json(out)
    got = {m["marketplace"]: m for m in r["marketplaces"]}
    for marketplace in ("trendyol", "hepsiburada"):
        m = got.get(marketplace)
        expect(m is not None, f"no {marketplace} in {r}")
        expect(m["created"] == 1 and m["caughtUp"] and m["windows"] >= 1 and "error" not in m,
               f"{marketplace}: one order taken in, caught up: {m}")


def check_orders_listed(out):
    expect("2 marketplace order(s)" in out, out)
    rows = {line.split()[0]: line for line in out.splitlines()[:-1]}
    expect(f"{FIRST['sku']} × 2 created (stock taken)" in rows.get("trendyol", ""), out)
    hb = rows.get("hepsiburada", "")
    expect(f"{FIRST['sku']} × 1 created (stock taken)" in hb
           and f"{SECOND['sku']} × 1 created (stock taken)" in hb, out)


def check_stock_moved(out):
    r = as_json(out)
    expect(r.get("sku") == FIRST["sku"] == "DEMO-TSHIRT-S", r)
    expect(r.get("stock") == FIRST["stock"] - 3, f"stock {FIRST['stock']} - 3: {r.get('stock')}")
    for marketplace in ("trendyol", "hepsiburada"):
        expect(r["sync"][marketplace]["stock"]["state"] == "pending",
               f"the new stock waits for the next sync on {marketplace}: {r['sync']}")


def check_order_events(out):
    rows = events_printed(out)
    types = [t for t, _ in rows]
    expect("payment.completed" in types, f"the demo payment's event: {out}")
    expect(types.count("marketplace.order.created") == 2, out)
    moves = sorted(d for t, d in rows if t == "marketplace.stock.updated")
    expect(len(moves) == 3, out)
    expect(any('"trendyol"' in d and f'sku="{FIRST["sku"]}" change=-2' in d for d in moves), out)
    expect(any('"hepsiburada"' in d and f'sku="{SECOND["sku"]}" change=-1' in d for d in moves), out)


def check_stock_pushed(out):
    rows = events_printed(out)
    pushed = [d for t, d in rows if t == "catalog.sync.completed" and 'push="stock"' in d]
    for marketplace in ("trendyol", "hepsiburada"):
        expect(any(f'marketplace="{marketplace}"' in d and "acknowledged=2" in d and "refused=0" in d
                   for d in pushed), f"2 stock figures pushed to {marketplace}: {out}")


def check_shipment(state):
    def check(out):
        r = as_json(out)
        expect((r.get("shipmentId"), r.get("state")) == (SHIPMENT_ID, state), r)
    return check


def check_tracking(out):
    r = as_json(out)
    expect((r.get("code"), r.get("carrier")) == (SHIPMENT_ID, "aras") and r.get("status"), r)


def check_rates(out):
    r = as_json(out)
    # The demo tariff (tools/dev.sh): up to 5 desi, near = 110.00 TRY.
    expect(r.get("price") == {"currency": "TRY", "minor": 11000}, r)


def check_invoked_shipment(out):
    status, body = invoked_http(out)
    expect(status in (200, 201) and body.get("shipmentId") == SHIPMENT_ID
           and body.get("state") == "created", f"the same shipment: {out}")


def check_tracking_poll(out):
    r = as_json(out)
    expect(r.get("open", 0) >= 1 and r.get("left") == 0 and r.get("failed") == 0,
           f"every open shipment asked about: {r}")


# (what the printed command looks like, what its answer must be), in the
# order dev.sh prints them.
def check_health(out):
    r = as_json(out)
    statuses = {p["provider"]: p["status"] for p in r.get("providers", [])}
    expect(statuses == {p: "healthy" for p in
                        ("stripe", "iyzico", "trendyol", "hepsiburada", "aras")}
           and r.get("status") == "healthy", f"every provider healthy: {r}")


def check_reconciled(out):
    # The demo's payment was told by a hand-made webhook (its intent is not
    # the one at the fake), so today's lists hold nothing to heal or report.
    r = as_json(out)
    report = r.get("report") or {}
    providers = {p["provider"]: p for p in report.get("providers", [])}
    expect(r.get("outcome") == "completed" and report.get("differences") == []
           and providers.get("stripe", {}).get("done") is True
           and providers.get("iyzico", {}).get("done") is True,
           f"today reconciled, nothing different: {r}")


def check_sync_requested(out):
    r = as_json(out)
    expect(r.get("event") == "sync.requested" and r.get("marketplace") == "trendyol"
           and r.get("kind") == "catalog" and r.get("skus") == ["DEMO-TSHIRT-S"],
           f"a catalog sync of DEMO-TSHIRT-S queued: {r}")


CHECKS = [
    (r"^curl .* -X POST \S+/payments/payments/stripe/intents ", check_intent),
    (r"^\.venv/bin/python tools/send_webhook\.py demo-order-1 ", check_webhook),
    (r"^curl -s \S+/orders/orders/demo-order-1$", check_paid_order),
    (r"^\.venv/bin/cargo-lambda lambda invoke payments .*create-stripe-intent\.json", check_intent_without_token),
    (r"^curl .* -X POST \S+/catalog/catalog/products .*demo-products\.json", check_products_stored),
    (r"^\.venv/bin/cargo-lambda lambda invoke product-sync ", check_sync_planned("create")),
    (r"^\.venv/bin/python tools/drain_catalog_queue\.py ", check_drained),
    (r"^curl -s \S+/catalog/catalog/products/DEMO-TSHIRT-M$", check_product_synced),
    (r"^\.venv/bin/cargo-lambda lambda invoke order-poll ", check_orders_polled),
    (r"^\.venv/bin/python tools/dev_peek\.py orders$", check_orders_listed),
    (r"^curl -s \S+/catalog/catalog/products/DEMO-TSHIRT-S$", check_stock_moved),
    (r"^\.venv/bin/python tools/dev_peek\.py events$", check_order_events),
    (r"^\.venv/bin/cargo-lambda lambda invoke reconcile ", check_reconciled),
    (r"^\.venv/bin/cargo-lambda lambda invoke product-sync ", check_sync_planned("stock")),
    (r"^\.venv/bin/python tools/drain_catalog_queue\.py ", check_drained),
    (r"^\.venv/bin/python tools/dev_peek\.py events$", check_stock_pushed),
    (r"^curl .* -X POST \S+/shipment/shipping/aras/shipments .*demo-shipment\.json", check_shipment("created")),
    (rf"^curl -s \S+/shipment/shipping/aras/tracking/{SHIPMENT_ID}$", check_tracking),
    (r"^curl .* -X POST \S+/shipment/shipping/aras/rates ", check_rates),
    (r"^\.venv/bin/cargo-lambda lambda invoke shipment .*create-shipment\.json", check_invoked_shipment),
    (r"^\.venv/bin/cargo-lambda lambda invoke shipment-tracking ", check_tracking_poll),
    (rf"^curl -s -X DELETE \S+/shipment/shipping/aras/shipments/{SHIPMENT_ID}$", check_shipment("cancelled")),
    (r"^curl -s \S+/operations/integrations/health$", check_health),
    (r"^curl .* -X POST \S+/operations/integrations/trendyol/sync ", check_sync_requested),
]


def printed_commands(lines):
    """The commands of dev.sh's message: indented lines that start with
    `curl` or `.venv/`, joined with their continuation lines."""
    commands, current = [], None
    for line in lines:
        if current is not None:
            current.append(line.strip())
            if not line.rstrip().endswith("\\"):
                commands.append(current)
                current = None
            continue
        if re.match(r"^ {2,}(curl |\.venv/)", line):
            current = [line.strip()]
            if not line.rstrip().endswith("\\"):
                commands.append(current)
                current = None
    return ["\n".join(c) for c in commands]


def flat(command):
    """One line, comments dropped: what the CHECKS patterns look at."""
    text = " ".join(part.rstrip("\\").strip() for part in command.split("\n"))
    return re.sub(r"\s+#.*$", "", re.sub(r"\s+", " ", text)).strip()


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def start_dev(env):
    """dev.sh, its output up to the end of its message."""
    os.makedirs(os.path.join(ROOT, LOCAL_DIR), exist_ok=True)
    dev = subprocess.Popen(["bash", "tools/dev.sh"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines, ended = queue.Queue(), object()

    def read():
        for line in dev.stdout:
            lines.put(line)
        lines.put(ended)

    threading.Thread(target=read, daemon=True).start()
    started, seen = time.monotonic(), []
    while True:
        try:
            line = lines.get(timeout=max(1, READY_TIMEOUT - (time.monotonic() - started)))
        except queue.Empty:
            stop_dev(dev)
            raise Failed(f"dev.sh printed no demo after {READY_TIMEOUT}s:\n" + "".join(seen[-30:]))
        if line is ended:
            raise Failed(f"dev.sh ended (exit {dev.wait()}):\n" + "".join(seen[-30:]))
        seen.append(line)
        if line.startswith("==> "):
            print(f"   dev.sh {line[4:].rstrip()}", flush=True)
        if line.startswith("Logs: ") and any(l.startswith("Ready.") for l in seen):
            return dev, seen, time.monotonic() - started


def stop_dev(dev):
    # dev.sh's trap stops every service it started (each in its own group).
    if dev.poll() is None:
        dev.send_signal(signal.SIGTERM)
        try:
            dev.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(dev.pid, signal.SIGKILL)
            dev.wait()


def main():
    # A fresh shell's: not the AWS settings of tools/test.sh's own moto.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    for name in ("STRIPE_SECRET_KEY", "STRIPE_API_BASE", "ARAS_TARIFF_JSON", "STRIPE_WEBHOOK_SECRET"):
        env.pop(name, None)  # the fakes and the demo tariff, as a fresh clone has them
    env.update(zip(PORTS, map(str, free_ports(len(PORTS)))))
    env["DEV_LOCAL_DIR"] = LOCAL_DIR
    print(f"==> starting tools/dev.sh (watch port {env['WATCH_PORT']})", flush=True)
    dev, lines, ready_s = start_dev(env)
    failures = 0
    try:
        print(f"==> dev.sh ready after {ready_s:.0f}s", flush=True)
        ready = next(i for i, l in enumerate(lines) if l.startswith("Ready."))
        commands = printed_commands(lines[ready:])
        if len(commands) != len(CHECKS):
            print(f"FAIL dev.sh printed {len(commands)} commands, {len(CHECKS)} are checked:")
            for c in commands:
                print(f"     {flat(c)}")
            return 1
        for n, (command, (pattern, check)) in enumerate(zip(commands, CHECKS), 1):
            one_line = flat(command)
            if not re.search(pattern, one_line):
                print(f"FAIL command {n} is not the one checked here ({pattern}):\n     {one_line}")
                return 1
            started = time.monotonic()
            run = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True,
                                 text=True, timeout=COMMAND_TIMEOUT)
            took = time.monotonic() - started
            out = run.stdout.strip()
            try:
                expect(run.returncode == 0, f"exit {run.returncode}: {run.stderr[-1500:]}")
                check(out)
                print(f"ok   {n:2} {took:5.1f}s  {one_line[:110]}", flush=True)
            except Failed as e:
                failures += 1
                print(f"FAIL {n:2} {took:5.1f}s  {one_line}\n     {e}\n     answer: {out[:1500]}",
                      flush=True)
    finally:
        stop_dev(dev)
    if failures:
        print(f"{failures} of {len(CHECKS)} demo commands failed; logs in {LOCAL_DIR}/ "
              "(watch.log, fakes.log, moto.log)")
        return 1
    print(f"all {len(CHECKS)} demo commands did what dev.sh says")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failed as e:
        print(f"FAIL {e}")
        sys.exit(1)
