#!/usr/bin/env python3
"""Plays Lambda's SQS event source for catalog-worker under `make dev`.

Receives up to 10 messages from the local (moto) catalog queue, invokes
catalog-worker through `cargo lambda watch` with an SQS event of the shape
`sam local generate-event sqs receive-message` prints, deletes the messages
not listed in the answer's batchItemFailures, and repeats until the queue
is empty (delayed check jobs included). Failed messages come back after
--visibility seconds, and go to the DLQ after the template's maxReceiveCount,
as deployed.

    .venv/bin/python tools/drain_catalog_queue.py [--watch-port 9000]

The queue and moto's address are read from .local/dev.env (written by
`make dev`).
"""
import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request

import boto3

from devenv import dev_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def invoke(url, event):
    """The worker's answer, or None when the invocation itself failed."""
    request = urllib.request.Request(url, data=json.dumps(event).encode(),
                                     headers={"content-type": "application/json"})
    try:
        # The first invocation may wait for cargo lambda to build the worker.
        with urllib.request.urlopen(request, timeout=900) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as e:
        print(f"  invocation failed: HTTP {e.code} {e.read().decode()[:500]}")
        return None
    answer = json.loads(text) if text else {}
    if not isinstance(answer, dict) or "errorType" in answer or "errorMessage" in answer:
        print(f"  invocation failed: {text[:500]}")
        return None
    return answer


def report_dlq(sqs, queue_url):
    """Messages that failed maxReceiveCount times are in the queue's DLQ."""
    attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])
    policy = attrs.get("Attributes", {}).get("RedrivePolicy")
    if not policy:
        return
    dlq_name = json.loads(policy)["deadLetterTargetArn"].rsplit(":", 1)[1]
    dlq_url = sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"]
    count = int(sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=[
        "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
    if count:
        print(f"{count} message(s) in the dead-letter queue {dlq_url}")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env-file", default=os.path.join(
        ROOT, os.environ.get("DEV_LOCAL_DIR", ".local"), "dev.env"))
    p.add_argument("--watch-port", type=int, default=9000)
    p.add_argument("--function", default="catalog-worker")
    p.add_argument("--visibility", type=int, default=10,
                   help="seconds before a failed message is received again (default 10)")
    p.add_argument("--timeout", type=int, default=600,
                   help="give up after this many seconds (default 600)")
    a = p.parse_args()

    env = dev_env(a.env_file)
    queue_url = env["CATALOG_QUEUE_URL"]
    region = env.get("AWS_REGION", "eu-central-1")
    sqs = boto3.client("sqs", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=region,
                       aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", "local"),
                       aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", "local"))
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"]
                                         )["Attributes"]["QueueArn"]
    url = (f"http://127.0.0.1:{a.watch_port}/2015-03-31/functions/"
           f"{a.function}/invocations")

    deadline = time.monotonic() + a.timeout
    invocations = deleted = 0
    waiting = None
    while time.monotonic() < deadline:
        # No long polling: moto_serial.py serves one request at a time.
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                       VisibilityTimeout=a.visibility,
                                       AttributeNames=["All"]).get("Messages", [])
        if not messages:
            attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed"])["Attributes"]
            left = (int(attrs["ApproximateNumberOfMessages"]),
                    int(attrs["ApproximateNumberOfMessagesDelayed"]),
                    int(attrs["ApproximateNumberOfMessagesNotVisible"]))
            if not any(left):
                print(f"queue empty: {invocations} invocations, {deleted} messages done")
                report_dlq(sqs, queue_url)
                return 0
            if left != waiting:
                print(f"waiting for {left[1]} delayed and {left[2]} in-flight message(s)")
                waiting = left
            time.sleep(1)
            continue
        waiting = None
        event = {"Records": [{
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region,
        } for m in messages]}
        invocations += 1
        kinds = sorted({next(iter(json.loads(m["Body"])), "?") for m in messages})
        print(f"invocation {invocations}: {len(messages)} message(s) ({', '.join(kinds)})")
        answer = invoke(url, event)
        if answer is None:
            continue  # nothing deleted: all of them come back
        failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures") or []}
        for m in messages:
            if m["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
                deleted += 1
        if failed:
            print(f"  {len(failed)} failed (back in {a.visibility}s; see .local/watch.log)")
    print(f"gave up after {a.timeout}s; messages are still on {queue_url}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
