#!/usr/bin/env python3
"""Signs webhook payloads for tests, independently of our Rust verification code.

    sign_webhook.py stripe --secret whsec_… [--timestamp T] < body   → Stripe-Signature header
    sign_webhook.py iyzico --secret KEY < body                      → X-IYZ-SIGNATURE-V3 value

Stripe uses Stripe's official Python library (`stripe.WebhookSignature.
generate_signature_header`, documented for tests). iyzico's official Python
library has no V3 helper, so this implements iyzico's documented algorithm
(docs/iyzico-wire.md I33–I34, iyzipay-php samples/webhook_Signature_Validation.php)
with Python's hmac.
"""
import argparse
import hashlib
import hmac
import json
import sys


def stripe_header(body, secret, timestamp):
    import stripe
    return stripe.WebhookSignature.generate_signature_header(body.decode("utf-8"), secret, timestamp)


def iyzico_v3(body, secret):
    n = json.loads(body)
    s = lambda k: "" if n.get(k) is None else str(n.get(k))  # noqa: E731
    if n.get("token"):
        fields = s("iyziEventType") + s("iyziPaymentId") + s("token") + s("paymentConversationId") + s("status")
    else:
        fields = s("iyziEventType") + s("paymentId") + s("paymentConversationId") + s("status")
    return hmac.new(secret.encode(), (secret + fields).encode(), hashlib.sha256).hexdigest()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("provider", choices=["stripe", "iyzico"])
    p.add_argument("--secret", required=True)
    p.add_argument("--timestamp", type=int)
    a = p.parse_args()
    body = sys.stdin.buffer.read()
    if a.provider == "stripe":
        print(stripe_header(body, a.secret, a.timestamp))
    else:
        print(iyzico_v3(body, a.secret))


if __name__ == "__main__":
    main()
