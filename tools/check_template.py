#!/usr/bin/env python3
"""Template check: `sam validate --lint`, cfn-lint on template.yaml, and cfn-lint
on the SAM-transformed template; and the operations rules (check_operations):
every DLQ, function, scheduled run, provider and integration.error reaches a
person through the alert topic.

Since cfn-lint 1.57 the SAM transform is no longer run in full, so a dangling
!Ref / !GetAtt or a bad property *inside* an AWS::Serverless::Function passes
both cfn-lint and `sam validate --lint` silently. Transforming offline with
aws-sam-translator and linting the resulting CloudFormation closes that gap.
Exit status is non-zero on any error.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE = os.path.join(ROOT, "template.yaml")
BIN = os.path.dirname(sys.executable)


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !GetAtt, !Sub …) as the
    long-form dicts the SAM translator expects."""


def _construct_tag(loader, tag_suffix, node):
    name = "Ref" if tag_suffix == "Ref" else "Fn::" + tag_suffix
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path=None):
    with open(path or TEMPLATE) as f:
        return yaml.load(f, Loader=CfnLoader)


def transform(template):
    from samtranslator.translator.transform import transform as sam_transform
    from samtranslator.public.translator import ManagedPolicyLoader  # noqa: F401

    class NoManagedPolicies:
        def load(self):
            return {}

    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
    template = json.loads(json.dumps(template))
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and "CodeUri" in props:
            # The translator wants a deployable location; `sam build` makes one.
            props["CodeUri"] = "s3://ayaztrade-build/placeholder.zip"
    return sam_transform(template, {}, NoManagedPolicies())


ALERT_TOPIC = "AlertTopic"
SHARED_SRC = os.path.join(ROOT, "shared", "src")


def _rust_sources():
    for folder, _, files in os.walk(SHARED_SRC):
        for name in files:
            if name.endswith(".rs"):
                with open(os.path.join(folder, name)) as f:
                    yield f.read()


def _dimensions(alarm_props):
    """{name: value} of a single-metric alarm, or of its first MetricStat."""
    props = alarm_props
    if "Metrics" in props:
        stats = [m["MetricStat"]["Metric"] for m in props["Metrics"] if "MetricStat" in m]
        props = stats[0] if stats else {}
    return {d["Name"]: d["Value"] for d in props.get("Dimensions", [])}


def _metric_name(alarm_props):
    if "Metrics" in alarm_props:
        names = {m["MetricStat"]["Metric"]["MetricName"]
                 for m in alarm_props["Metrics"] if "MetricStat" in m}
        return names.pop() if len(names) == 1 else None
    return alarm_props.get("MetricName")


def _namespace(alarm_props):
    if "Metrics" in alarm_props:
        spaces = {m["MetricStat"]["Metric"]["Namespace"]
                  for m in alarm_props["Metrics"] if "MetricStat" in m}
        return spaces.pop() if len(spaces) == 1 else None
    return alarm_props.get("Namespace")


def _rate_seconds(expression):
    # A daily cron at a fixed time (`cron(M H * * ? *)`) is a one-day rate.
    if re.fullmatch(r"cron\(\d{1,2} \d{1,2} \* \* \? \*\)", expression):
        return 86400
    m = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
    if not m:
        return None
    unit = {"minute": 60, "hour": 3600, "day": 86400}[m.group(2).rstrip("s")]
    return int(m.group(1)) * unit


def check_operations(template, rust_sources=None):
    """Problems with the alerting rules of README § Operating it (empty = fine):
    - the alert topic exists and its policy lets CloudWatch and the alert rules publish;
    - every alarm notifies the alert topic;
    - every queue with a DLQ (RedrivePolicy) has an alarm on that DLQ's depth;
    - every function has an Errors and a Throttles alarm;
    - every scheduled function has a Heartbeat alarm (missing data breaching,
      period at most twice the schedule's) on a name its code emits;
    - every provider the code calls has a failure-ratio and an auth-failure alarm;
    - integration.error is routed by a rule to the alert topic;
    - the dashboard body is JSON and shows every alarm.
    """
    resources = template.get("Resources", {})
    sources = list(_rust_sources()) if rust_sources is None else rust_sources
    rust = "\n".join(sources)
    problems = []
    by_type = {}
    for logical, res in resources.items():
        by_type.setdefault(res.get("Type"), {})[logical] = res.get("Properties", {})
    alarms = by_type.get("AWS::CloudWatch::Alarm", {})
    topic_ref = {"Ref": ALERT_TOPIC}

    if resources.get(ALERT_TOPIC, {}).get("Type") != "AWS::SNS::Topic":
        problems.append(f"no SNS topic {ALERT_TOPIC}")
    for logical, props in alarms.items():
        if topic_ref not in props.get("AlarmActions", []):
            problems.append(f"alarm {logical} does not notify {ALERT_TOPIC}")

    def alarms_on(namespace, metric, **dims):
        return [logical for logical, props in alarms.items()
                if _namespace(props) == namespace and _metric_name(props) == metric
                and all(_dimensions(props).get(k) == v for k, v in dims.items())]

    # Every DLQ named by a queue's RedrivePolicy or a rule target's DeadLetterConfig.
    dlqs = set()
    for props in by_type.get("AWS::SQS::Queue", {}).values():
        target = props.get("RedrivePolicy", {}).get("deadLetterTargetArn", {})
        if "Fn::GetAtt" in target:
            dlqs.add(target["Fn::GetAtt"][0])
    for props in by_type.get("AWS::Events::Rule", {}).values():
        for t in props.get("Targets", []):
            arn = t.get("DeadLetterConfig", {}).get("Arn", {})
            if "Fn::GetAtt" in arn:
                dlqs.add(arn["Fn::GetAtt"][0])
    for dlq in sorted(dlqs):
        if not alarms_on("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                         QueueName={"Fn::GetAtt": [dlq, "QueueName"]}):
            problems.append(f"DLQ {dlq} has no alarm on ApproximateNumberOfMessagesVisible")

    functions = by_type.get("AWS::Serverless::Function", {})
    for logical in sorted(functions):
        for metric in ("Errors", "Throttles"):
            if not alarms_on("AWS/Lambda", metric, FunctionName={"Ref": logical}):
                problems.append(f"function {logical} has no {metric} alarm")

    namespace = re.search(r'METRICS_NAMESPACE: &str = "([^"]+)"', rust)
    namespace = namespace.group(1) if namespace else None
    if namespace is None:
        problems.append("shared/src/telemetry.rs: METRICS_NAMESPACE not found")
    for logical, props in sorted(functions.items()):
        rates = [_rate_seconds(e.get("Properties", {}).get("ScheduleExpression", ""))
                 for e in props.get("Events", {}).values()
                 if e.get("Type") in ("Schedule", "ScheduleV2")]
        if not rates:
            continue
        binary = resources[logical].get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        if f'emit_heartbeat("{binary}")' not in rust:
            problems.append(f"scheduled function {logical}: no emit_heartbeat(\"{binary}\") in shared/src")
        found = alarms_on(namespace, "Heartbeat", Function=binary)
        if not found:
            problems.append(f"scheduled function {logical} has no Heartbeat alarm (Function={binary})")
        for a in found:
            p = alarms[a]
            if p.get("TreatMissingData") != "breaching":
                problems.append(f"heartbeat alarm {a}: TreatMissingData must be breaching")
            window = int(p.get("Period", 0)) * int(p.get("EvaluationPeriods", 1))
            if None in rates or window > 2 * min(rates):
                problems.append(f"heartbeat alarm {a}: window {window} s is over twice the schedule")

    providers = sorted(set(re.findall(r'const PROVIDER: &str = "([a-z0-9_-]+)"', rust)))
    if not providers:
        problems.append("no `const PROVIDER` found in shared/src/providers")
    for provider in providers:
        if not alarms_on(namespace, "ProviderAuthFailures", Provider=provider):
            problems.append(f"provider {provider} has no ProviderAuthFailures alarm")
        ratio = [a for a in alarms_on(namespace, "ProviderCallFailures", Provider=provider)
                 if any("Expression" in m for m in alarms[a].get("Metrics", []))]
        if not ratio:
            problems.append(f"provider {provider} has no failure-ratio (metric math) alarm")

    rules = by_type.get("AWS::Events::Rule", {})
    alert_rules = {logical for logical, props in rules.items()
                   if any(t.get("Arn") == topic_ref for t in props.get("Targets", []))}
    routed = {dt for logical in alert_rules
              for dt in rules[logical].get("EventPattern", {}).get("detail-type", [])}
    for detail_type in ("integration.error", "payment.duplicate"):
        if detail_type not in routed:
            problems.append(f"no rule routes {detail_type} to {ALERT_TOPIC}")
    policies = [p for p in by_type.get("AWS::SNS::TopicPolicy", {}).values()
                if topic_ref in p.get("Topics", [])]
    statements = [st for p in policies for st in p["PolicyDocument"]["Statement"]]
    services = {st.get("Principal", {}).get("Service") for st in statements
                if st.get("Effect") == "Allow" and st.get("Action") == "sns:Publish"}
    for service in ("cloudwatch.amazonaws.com", "events.amazonaws.com"):
        if service not in services:
            problems.append(f"{ALERT_TOPIC}'s policy does not let {service} publish")
    allowed_rules = json.dumps(statements)
    for logical in sorted(alert_rules):
        if json.dumps({"Fn::GetAtt": [logical, "Arn"]}) not in allowed_rules:
            problems.append(f"{ALERT_TOPIC}'s policy does not let rule {logical} publish")

    dashboards = by_type.get("AWS::CloudWatch::Dashboard", {})
    if not dashboards:
        problems.append("no CloudWatch dashboard")
    for logical, props in dashboards.items():
        body = props.get("DashboardBody", {})
        body = body.get("Fn::Sub", body) if isinstance(body, dict) else body
        try:
            parsed = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))
        except (TypeError, ValueError) as e:
            problems.append(f"dashboard {logical}: body is not JSON ({e})")
            continue
        shown = set(re.findall(r"\$\{(\w+)\.Arn\}", body))
        for a in sorted(set(alarms) - shown):
            problems.append(f"dashboard {logical} does not show alarm {a}")
        if not parsed.get("widgets"):
            problems.append(f"dashboard {logical} has no widgets")
    return problems


def self_test_operations(template):
    """The operations check must fail when a rule is broken: each mutation of
    the real template below must produce a problem (empty list = fine)."""
    import copy

    def first(kind, pred=lambda logical, props: True):
        return next(l for l, r in template["Resources"].items()
                    if r.get("Type") == kind and pred(l, r.get("Properties", {})))

    heartbeat = first("AWS::CloudWatch::Alarm", lambda l, p: p.get("MetricName") == "Heartbeat")
    dlq_alarm = first("AWS::CloudWatch::Alarm", lambda l, p: p.get("Namespace") == "AWS/SQS")
    mutations = {
        "a DLQ alarm removed": lambda r: r.pop(dlq_alarm),
        "an alarm without the topic": lambda r: r[heartbeat]["Properties"].update(AlarmActions=[]),
        "a heartbeat not breaching": lambda r: r[heartbeat]["Properties"].update(
            TreatMissingData="notBreaching"),
        "a heartbeat window too long": lambda r: r[heartbeat]["Properties"].update(Period=86400),
        "a new queue with a DLQ": lambda r: r.update(
            ZQueue={"Type": "AWS::SQS::Queue", "Properties": {"RedrivePolicy": {
                "deadLetterTargetArn": {"Fn::GetAtt": ["ZDLQ", "Arn"]}}}},
            ZDLQ={"Type": "AWS::SQS::Queue", "Properties": {}}),
        "a new function": lambda r: r.update(ZFunction={
            "Type": "AWS::Serverless::Function", "Properties": {}}),
        "integration.error unrouted": lambda r: [
            r.pop(l) for l in [l for l, x in r.items() if "integration.error" in json.dumps(
                x.get("Properties", {}).get("EventPattern", {}))]],
    }
    failures = []
    for name, mutate in mutations.items():
        mutated = copy.deepcopy(template)
        mutate(mutated["Resources"])
        if not check_operations(mutated):
            failures.append(f"self-test: {name} was not caught")
    return failures


def run(cmd, lint=False):
    print("+", " ".join(cmd), flush=True)
    code = subprocess.call(cmd, env={**os.environ, "SAM_CLI_TELEMETRY": "0"})
    if lint:
        # cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational.
        # Warnings are printed for a human to read; only errors fail the check.
        return code & 3
    return code


def main():
    failures = 0
    print("+ operations checks (alarms, alert topic, heartbeats, alert rules)", flush=True)
    problems = check_operations(load_template())
    problems += self_test_operations(load_template())
    for p in problems:
        print("operations check:", p)
    failures += bool(problems)
    failures += run([os.path.join(BIN, "sam"), "validate", "--lint", "--template", TEMPLATE,
                     "--region", "eu-central-1"]) != 0
    failures += run([os.path.join(BIN, "cfn-lint"), TEMPLATE], lint=True) != 0
    transformed = transform(load_template())
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(transformed, f, indent=1)
        path = f.name
    print(f"SAM-transformed template: {len(transformed['Resources'])} resources -> {path}")
    # W2001: the offline transform inlines parameter defaults (e.g. the CORS
    # origin), leaving those parameters "unused" in its output only.
    failures += run([os.path.join(BIN, "cfn-lint"), "--ignore-checks", "W2001", "--", path],
                    lint=True) != 0
    # The deploy path provides every secret the template reads, per profile.
    failures += run([sys.executable, os.path.join(ROOT, "tools", "deploy.py"), "--check"]) != 0
    # `sam local invoke --env-vars` covers every variable of every function.
    failures += run([sys.executable, os.path.join(ROOT, "tools", "sam_local_env.py"), "--check"]) != 0
    if failures:
        print(f"template check FAILED ({failures} step(s))")
        return 1
    print("template check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
