#!/usr/bin/env python3
"""Regenerates events/*.json: HTTP API (payload v2) events produced by
`sam local generate-event apigateway http-api-proxy`, adapted to our routes
(route key, path parameters, JSON content type, IAM authorizer context).
Run after changing a route: `.venv/bin/python tools/gen_events.py`."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAM = os.path.join(os.path.dirname(sys.executable), "sam")

DEMO_ORDER = open(os.path.join(ROOT, "events", "demo-order.json")).read()

EVENTS = {
    # name: (method, route, path, path parameters, body, IAM-authorized)
    "create-payment-intent": ("POST", "/payments/stripe/intents", "/payments/stripe/intents", None,
                              '{"orderId":"demo-order-1"}', False),
    "put-order": ("PUT", "/orders/{orderId}", "/orders/demo-order-1", {"orderId": "demo-order-1"},
                  DEMO_ORDER, True),
    "get-order": ("GET", "/orders/{orderId}", "/orders/demo-order-1", {"orderId": "demo-order-1"},
                  None, True),
}


def generate(method, path, body):
    cmd = [SAM, "local", "generate-event", "apigateway", "http-api-proxy",
           "--method", method, "--path", path.lstrip("/"), "--body", body or ""]
    out = subprocess.check_output(cmd, env={**os.environ, "SAM_CLI_TELEMETRY": "0"})
    return json.loads(out)


def main():
    for name, (method, route, path, params, body, iam) in EVENTS.items():
        event = generate(method, path, body)
        event["routeKey"] = f"{method} {route}"
        event["rawPath"] = path
        event["rawQueryString"] = ""
        event.pop("queryStringParameters", None)
        event.pop("cookies", None)
        event["headers"] = {"content-type": "application/json", "user-agent": "curl/8.5.0"}
        event["requestContext"]["routeKey"] = event["routeKey"]
        event["requestContext"]["http"]["path"] = path
        event["requestContext"]["http"]["method"] = method
        event["requestContext"].pop("authentication", None)
        if iam:
            event["requestContext"]["authorizer"] = {"iam": {
                "accessKey": "ASIAEXAMPLE", "accountId": "123456789012",
                "callerId": "AROAEXAMPLE:platform-backend", "principalOrgId": None,
                "userArn": "arn:aws:sts::123456789012:assumed-role/platform-backend/session",
                "userId": "AROAEXAMPLE:platform-backend"}}
        else:
            event["requestContext"].pop("authorizer", None)
        event.pop("stageVariables", None)
        if params:
            event["pathParameters"] = params
        else:
            event.pop("pathParameters", None)
        if body is None:
            event.pop("body", None)
            event["isBase64Encoded"] = False
        with open(os.path.join(ROOT, "events", f"{name}.json"), "w") as f:
            json.dump(event, f, indent=2, ensure_ascii=False)
            f.write("\n")
        print(f"events/{name}.json")


if __name__ == "__main__":
    main()
