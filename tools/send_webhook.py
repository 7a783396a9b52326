#!/usr/bin/env python3
"""Sends a signed Stripe `payment_intent.succeeded` webhook for an order, to
`make dev` (default) or to your deployed WebhookUrl.

    send_webhook.py ORDER_ID [--amount 86920] [--secret whsec_…] [--watch-port 9000 | --url …/webhooks/stripe]

The event is tests/fixtures/stripe/payment_intent.succeeded.json, signed with
Stripe's official library (see sign_webhook.py).
"""
import argparse
import os
import secrets
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sign_webhook import stripe_header  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("order_id")
    p.add_argument("--amount", type=int, default=86920)
    p.add_argument("--secret", default=os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_local_dev_0123456789"))
    p.add_argument("--watch-port", type=int, default=9000, help="cargo lambda watch's port (make dev: 9000)")
    p.add_argument("--url", help="default: the webhook function under cargo lambda watch")
    p.add_argument("--event-id", default=f"evt_{secrets.token_hex(12)}")
    a = p.parse_args()
    a.url = a.url or f"http://127.0.0.1:{a.watch_port}/lambda-url/webhook/webhooks/stripe"
    with open(os.path.join(ROOT, "tests/fixtures/stripe/payment_intent.succeeded.json")) as f:
        body = (f.read().replace("{{EVENT_ID}}", a.event_id).replace("{{PI_ID}}", f"pi_{secrets.token_hex(12)}")
                .replace("{{ORDER_ID}}", a.order_id).replace("{{AMOUNT}}", str(a.amount))
                .replace("{{CREATED}}", str(int(time.time())))).encode()
    req = urllib.request.Request(a.url, data=body, method="POST", headers={
        "content-type": "application/json", "stripe-signature": stripe_header(body, a.secret, None)})
    try:
        with urllib.request.urlopen(req) as r:
            print(r.status, r.read().decode())
    except urllib.error.HTTPError as e:
        print(e.code, e.read().decode())
        sys.exit(1)


if __name__ == "__main__":
    main()
