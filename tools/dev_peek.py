#!/usr/bin/env python3
"""Shows what `make dev`'s local stack holds: the events the functions put
on the local bus, and the marketplace orders taken in.

    .venv/bin/python tools/dev_peek.py events   # events since the last look
    .venv/bin/python tools/dev_peek.py orders   # MKTORDER items, with their lines

`make dev` runs `dev_peek.py tap` once: a queue that a rule on the local bus
fills with every event of ours (source ayaztrade.integrations). Deployed,
the bus has no such rule; it is how a newcomer sees events locally. `events`
prints one line per event (oldest first) and takes them off the queue; with
--keep they stay. `--json` prints the whole events, one per line.

moto's address, the table and the bus are read from .local/dev.env (written
by `make dev`).
"""
import argparse
import json
import os
import sys

import boto3

from devenv import dev_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVENT_SOURCE = "ayaztrade.integrations"


def client(env, name):
    return boto3.client(name, endpoint_url=env["AWS_ENDPOINT_URL"],
                        region_name=env.get("AWS_REGION", "eu-central-1"),
                        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", "local"),
                        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", "local"))


def tap_name(env):
    return f"{env['EVENT_BUS_NAME']}-dev-tap"


def tap(env):
    """The queue and the rule that copies every event of ours into it."""
    sqs, events = client(env, "sqs"), client(env, "events")
    bus, name = env["EVENT_BUS_NAME"], tap_name(env)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=bus,
                    EventPattern=json.dumps({"source": [EVENT_SOURCE]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "dev-tap", "Arn": arn}])
    print(f"every event on {bus} is copied to {url}")


def receive_all(sqs, url, keep):
    got = []
    while True:
        # No long polling: moto_serial.py serves one request at a time.
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       VisibilityTimeout=0 if keep else 30).get("Messages", [])
        if not messages:
            return got
        for m in messages:
            got.append(json.loads(m["Body"]))
            if not keep:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if keep:
            return got  # visibility 0: the same ones would come back


def summary(detail):
    """The fields a newcomer looks for first, in a fixed order."""
    keys = ("marketplace", "orderNumber", "orderId", "sku", "change", "status", "push",
            "acknowledged", "refused", "amount", "provider", "kind", "shipmentId", "message")
    parts = [f"{k}={json.dumps(detail[k], ensure_ascii=False)}" for k in keys if k in detail]
    if isinstance(detail.get("lines"), list):
        parts.append("lines=" + ",".join(
            f"{l.get('sku')}×{l.get('quantity')}({l.get('stock')})" for l in detail["lines"]))
    return " ".join(parts)


def show_events(env, keep, as_json):
    sqs = client(env, "sqs")
    url = sqs.get_queue_url(QueueName=tap_name(env))["QueueUrl"]
    got = sorted(receive_all(sqs, url, keep), key=lambda e: e.get("time", ""))
    for e in got:
        if as_json:
            print(json.dumps(e, ensure_ascii=False))
        else:
            print(f"{e.get('time', '?')}  {e.get('detail-type', '?'):34} {summary(e.get('detail') or {})}")
    if not as_json:
        print(f"{len(got)} event(s)")


def show_orders(env, as_json):
    ddb = client(env, "dynamodb")
    pages = ddb.get_paginator("scan").paginate(
        TableName=env["TABLE_NAME"],
        FilterExpression="begins_with(pk, :p) AND sk = :s",
        ExpressionAttributeValues={":p": {"S": "MKTORDER#"}, ":s": {"S": "MKTORDER"}})
    orders = [json.loads(item["order"]["S"]) for page in pages for item in page["Items"]]
    orders.sort(key=lambda o: (o.get("first_seen_ms", 0), o.get("order_number", "")))
    for o in orders:
        if as_json:
            print(json.dumps(o, ensure_ascii=False))
            continue
        lines = ", ".join(f"{l.get('sku')} × {l['quantity']} {l['status']} (stock {l['stock']})"
                          for l in o.get("lines", {}).values())
        print(f"{o['marketplace']:12} {o['order_number']:14} {lines}")
    if not as_json:
        print(f"{len(orders)} marketplace order(s)")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["events", "orders", "tap"])
    p.add_argument("--env-file", default=os.path.join(
        ROOT, os.environ.get("DEV_LOCAL_DIR", ".local"), "dev.env"))
    p.add_argument("--keep", action="store_true", help="events: leave them on the queue")
    p.add_argument("--json", action="store_true", help="whole items, one JSON per line")
    a = p.parse_args()
    env = dev_env(a.env_file)
    if a.what == "tap":
        tap(env)
    elif a.what == "events":
        show_events(env, a.keep, a.json)
    else:
        show_orders(env, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
