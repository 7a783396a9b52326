#!/usr/bin/env python3
"""Verifies one outbound webhook with the official Standard Webhooks Python library,
independently of our Rust signing code (tests/src/outbound_support.rs).

    verify_standard_webhook.py < {"secret": "whsec_…", "headers": {…}, "body": "…"}

Prints "ok", or the library's refusal. The library also checks that webhook-timestamp
is within five minutes of now.
"""
import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def main():
    data = json.load(sys.stdin)
    try:
        Webhook(data["secret"]).verify(data["body"], data["headers"])
    except WebhookVerificationError as e:
        print(f"refused: {e}")
        return
    print("ok")


if __name__ == "__main__":
    main()
