#!/usr/bin/env python3
"""Creates the stack's stateful resources in a local AWS emulator (moto) from
the definitions in template.yaml, so local runs and tests use exactly the
table, queues, bus and rules that `sam deploy` creates.

    local_aws.py up --endpoint http://127.0.0.1:5000 --stage local

prints a JSON object with the physical names (TableName, EventBusName, queue
URLs) on stdout. Idempotent: resources that already exist are left alone.
Only the resource types the emulator needs are handled; functions and the
HTTP API are served by `cargo lambda watch` instead.
"""
import argparse
import json
import os
import re
import sys

import boto3
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_template import load_template  # noqa: E402

REGION = "eu-central-1"
ACCOUNT = "123456789012"  # moto's default account


class Resolver:
    """Resolves the intrinsic functions our stateful resources use."""

    def __init__(self, template, parameters):
        self.template = template
        self.params = {
            name: spec.get("Default")
            for name, spec in template.get("Parameters", {}).items()
        }
        self.params.update(parameters)
        self.params.update({"AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                            "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"})
        self.physical = {}  # logical id -> name
        self.arns = {}  # logical id -> ARN
        self.refs = {}  # logical id -> value of !Ref

    def __call__(self, value):
        if isinstance(value, dict) and len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                if arg in self.params:
                    return self.params[arg]
                return self.refs[arg]
            if key == "Fn::GetAtt":
                logical, attribute = arg
                if attribute != "Arn":
                    raise ValueError(f"unsupported GetAtt {logical}.{attribute}")
                return self.arns[logical]
            if key == "Fn::Sub":
                return re.sub(r"\$\{([^}]+)\}", lambda m: str(self({"Ref": m.group(1)})), arg)
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        return value


def ordered(resources, kind_order):
    for kind in kind_order:
        for logical, res in resources.items():
            if res["Type"] == kind:
                yield logical, res


def create_queue(sqs, r, logical, props):
    name = r(props["QueueName"])
    attributes = {}
    for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds",
                "ReceiveMessageWaitTimeSeconds"):
        if key in props:
            attributes[key] = str(r(props[key]))
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(r(props["RedrivePolicy"]))
    if props.get("FifoQueue"):
        attributes["FifoQueue"] = "true"
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    r.refs[logical], r.arns[logical] = url, arn
    return url


def create_table(ddb, r, logical, props):
    name = r(props["TableName"])
    args = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    try:
        arn = ddb.create_table(**args)["TableDescription"]["TableArn"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
                "AttributeName": ttl["AttributeName"], "Enabled": True})
    except ClientError as e:
        if e.response["Error"]["Code"] != "ResourceInUseException":
            raise
        arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    r.refs[logical], r.arns[logical] = name, arn
    return name


def create_bus(events, r, logical, props):
    name = r(props["Name"])
    try:
        arn = events.create_event_bus(Name=name)["EventBusArn"]
    except ClientError as e:
        if e.response["Error"]["Code"] != "ResourceAlreadyExistsException":
            raise
        arn = events.describe_event_bus(Name=name)["Arn"]
    r.refs[logical], r.arns[logical] = name, arn
    return name


def target_type(template, arn):
    """The resource type a target's !Ref / !GetAtt names (None otherwise)."""
    if not isinstance(arn, dict):
        return None
    logical = arn.get("Ref") or (arn.get("Fn::GetAtt") or [None])[0]
    return template["Resources"].get(logical, {}).get("Type")


def create_rule(events, r, logical, props):
    bus = r(props["EventBusName"])
    name = f"{bus}-{logical}"
    arn = events.put_rule(Name=name, EventBusName=bus,
                          EventPattern=json.dumps(r(props["EventPattern"])))["RuleArn"]
    # Only queue targets: moto's EventBridge cannot deliver to SNS (the alert
    # topic's rules are created here with no target), and locally the
    # functions run under cargo lambda or in the tests, which hand them the
    # event themselves. Tests read the events from queues.
    targets = [{"Id": t["Id"], "Arn": r(t["Arn"])} for t in props.get("Targets", [])
               if target_type(r.template, t["Arn"]) == "AWS::SQS::Queue"]
    if targets:
        events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
    r.refs[logical], r.arns[logical] = name, arn
    return name


def up(endpoint, stage):
    template = load_template()
    r = Resolver(template, {"Stage": stage})
    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                    region_name=REGION)
    clients = {name: session.client(name, endpoint_url=endpoint)
               for name in ("sqs", "dynamodb", "events")}
    resources = template["Resources"]
    out = {"Region": REGION, "Queues": {}}
    # DLQs first: a queue's RedrivePolicy names its DLQ's ARN.
    queues = [(l, p) for l, p in ordered(resources, ["AWS::SQS::Queue"])]
    queues.sort(key=lambda lp: "RedrivePolicy" in lp[1].get("Properties", {}))
    for logical, res in queues:
        out["Queues"][logical] = create_queue(clients["sqs"], r, logical, res["Properties"])
    for logical, res in ordered(resources, ["AWS::DynamoDB::Table"]):
        out["TableName"] = create_table(clients["dynamodb"], r, logical, res["Properties"])
    for logical, res in ordered(resources, ["AWS::Events::EventBus"]):
        out["EventBusName"] = create_bus(clients["events"], r, logical, res["Properties"])
    for logical, res in ordered(resources, ["AWS::Events::Rule"]):
        create_rule(clients["events"], r, logical, res["Properties"])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="create the resources")
    p_up.add_argument("--endpoint", required=True)
    p_up.add_argument("--stage", default="local")
    args = parser.parse_args()
    if args.command == "up":
        print(json.dumps(up(args.endpoint, args.stage)))


if __name__ == "__main__":
    main()
