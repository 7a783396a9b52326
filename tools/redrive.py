#!/usr/bin/env python3
"""`make redrive QUEUE=<name> [ENV=dev]`: moves the messages of a queue's DLQ
back to the queue with SQS's own message-move API (StartMessageMoveTask), then
follows the task (ListMessageMoveTasks) until it ends.

QUEUE is the queue's short name in the stack (`catalog`, `payment-events`) or
its full name (`ayaztrade-dev-catalog`); naming the DLQ itself works too. A
queue without a DLQ is said so and nothing is moved.

Credentials and region are boto3's usual ones (AWS_PROFILE, AWS_REGION, …);
AWS_ENDPOINT_URL points it at a local stack. moto 5.2 does not implement
StartMessageMoveTask, so against moto this finds the DLQ and stops with
moto's NotImplemented error (README § Operating it)."""
import argparse
import json
import sys
import time

import boto3
from botocore.exceptions import ClientError


def queue_url(sqs, name):
    try:
        return sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as e:
        if e.response["Error"]["Code"] in ("AWS.SimpleQueueService.NonExistentQueue",
                                           "QueueDoesNotExist"):
            return None
        raise


def attributes(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def resolve(sqs, queue, stage):
    """(dlq arn, dlq name, source name, source arn) or exits with why not.

    The source is always named as the move's destination: messages an
    EventBridge rule put in a DLQ (stock-sync, payment-events) did not come
    through a redrive policy, and SQS moves such messages only to an explicit
    DestinationArn."""
    names = [queue] if queue.startswith("ayaztrade-") else [f"ayaztrade-{stage}-{queue}"]
    url = queue_url(sqs, names[0])
    if url is None:
        sys.exit(f"no queue named {names[0]} (QUEUE is the short name, e.g. catalog, "
                 f"or the full name; ENV={stage})")
    attrs = attributes(sqs, url)
    name = attrs["QueueArn"].rsplit(":", 1)[1]
    if "RedriveAllowPolicy" in attrs or name.endswith("-dlq"):
        # Named the DLQ itself: back to the queue it serves (`<name>-dlq`).
        source_url = queue_url(sqs, name[: -len("-dlq")]) if name.endswith("-dlq") else None
        if source_url is None:
            return attrs["QueueArn"], name, None, None
        source_arn = attributes(sqs, source_url)["QueueArn"]
        return attrs["QueueArn"], name, source_arn.rsplit(":", 1)[1], source_arn
    policy = attrs.get("RedrivePolicy")
    if not policy:
        sys.exit(f"{name} has no DLQ (no RedrivePolicy): there is nothing to redrive. "
                 f"Failed messages of this queue are not kept anywhere else.")
    dlq_arn = json.loads(policy)["deadLetterTargetArn"]
    return dlq_arn, dlq_arn.rsplit(":", 1)[1], name, attrs["QueueArn"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queue", required=True)
    parser.add_argument("--env", default="dev")
    parser.add_argument("--rate", type=int, default=None,
                        help="MaxNumberOfMessagesPerSecond (default: SQS's own)")
    args = parser.parse_args()
    import os
    sqs = boto3.client("sqs", region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    dlq_arn, dlq_name, source, source_arn = resolve(sqs, args.queue, args.env)
    dlq_url = queue_url(sqs, dlq_name)
    waiting = attributes(sqs, dlq_url).get("ApproximateNumberOfMessages", "?")
    print(f"{dlq_name}: about {waiting} message(s); moving them back to "
          f"{source or 'the queues they came from'}")
    request = {"SourceArn": dlq_arn}
    if source_arn:
        request["DestinationArn"] = source_arn
    if args.rate:
        request["MaxNumberOfMessagesPerSecond"] = args.rate
    try:
        handle = sqs.start_message_move_task(**request)["TaskHandle"]
    except ClientError as e:
        sys.exit(f"StartMessageMoveTask refused: {e.response['Error'].get('Code')}: "
                 f"{e.response['Error'].get('Message')}")
    print(f"started message move task {handle}")
    while True:
        tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=1)["Results"]
        task = tasks[0] if tasks else {}
        status = task.get("Status", "?")
        print(f"  {status}: {task.get('ApproximateNumberOfMessagesMoved', 0)} of "
              f"{task.get('ApproximateNumberOfMessagesToMove', '?')} moved")
        if status in ("COMPLETED", "CANCELLED", "FAILED"):
            if status == "FAILED":
                sys.exit(f"the move failed: {task.get('FailureReason', 'no reason given')}")
            return 0
        time.sleep(5)


if __name__ == "__main__":
    sys.exit(main())
