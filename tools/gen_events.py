#!/usr/bin/env python3
"""Regenerates events/*.json from `sam local generate-event`:
- HTTP API (payload v2) events (`apigateway http-api-proxy`), adapted to our
  routes (route key, path parameters, JSON content type, IAM authorizer context);
- product-sync-schedule.json, order-poll-schedule.json and
  shipment-tracking-schedule.json (`cloudwatch scheduled-event`; the functions
  ignore the payload, any event runs one sync / poll);
- catalog-worker-sqs.json (`sqs receive-message`) carrying one real catalog
  job: a Check of a batch, as catalog-worker queues it after a send.
Bodies come from events/demo-order.json, events/demo-products.json and
events/demo-shipment.json.
Run after changing a route: `.venv/bin/python tools/gen_events.py`."""
import hashlib
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAM = os.path.join(os.path.dirname(sys.executable), "sam")

REGION = "eu-central-1"

DEMO_ORDER = open(os.path.join(ROOT, "events", "demo-order.json")).read()
DEMO_PRODUCTS = open(os.path.join(ROOT, "events", "demo-products.json")).read()
DEMO_SHIPMENT = open(os.path.join(ROOT, "events", "demo-shipment.json")).read()
_shipment = json.loads(DEMO_SHIPMENT)
DEMO_RATES = json.dumps({"region": "near", "parcels": _shipment["parcels"]})
# The shipment id the demo create makes (domain::shipment::shipment_id).
DEMO_SHIPMENT_ID = "AYZ" + hashlib.sha256(
    f"{_shipment['orderId']}\n{_shipment['reference']}".encode()).hexdigest().upper()[:21]
# PUT /catalog/products/{sku} takes one product with the sku in the path.
_product = dict(json.loads(DEMO_PRODUCTS)["products"][1])
DEMO_SKU = _product.pop("sku")
DEMO_PRODUCT = json.dumps(_product, indent=2, ensure_ascii=False)

# What catalog-worker finds on its queue (CatalogJob: externally tagged, camelCase).
CATALOG_JOB = {"check": {"planId": "demo-plan", "marketplace": "trendyol", "push": "stock",
                         "batchId": "demo-batch", "attempt": 1}}

EVENTS = {
    # name: (method, route, path, path parameters, body, IAM-authorized)
    "create-stripe-intent": ("POST", "/payments/stripe/intents", "/payments/stripe/intents", None,
                             '{"orderId":"demo-order-1"}', False),
    "put-order": ("PUT", "/orders/{orderId}", "/orders/demo-order-1", {"orderId": "demo-order-1"},
                  DEMO_ORDER, True),
    "get-order": ("GET", "/orders/{orderId}", "/orders/demo-order-1", {"orderId": "demo-order-1"},
                  None, True),
    "put-product": ("PUT", "/catalog/products/{sku}", f"/catalog/products/{DEMO_SKU}",
                    {"sku": DEMO_SKU}, DEMO_PRODUCT, True),
    "put-products": ("POST", "/catalog/products", "/catalog/products", None, DEMO_PRODUCTS, True),
    "get-product": ("GET", "/catalog/products/{sku}", f"/catalog/products/{DEMO_SKU}",
                    {"sku": DEMO_SKU}, None, True),
    "create-shipment": ("POST", "/shipping/aras/shipments", "/shipping/aras/shipments", None,
                        DEMO_SHIPMENT, True),
    "get-tracking": ("GET", "/shipping/aras/tracking/{code}",
                     f"/shipping/aras/tracking/{DEMO_SHIPMENT_ID}", {"code": DEMO_SHIPMENT_ID},
                     None, True),
    "shipment-rates": ("POST", "/shipping/aras/rates", "/shipping/aras/rates", None, DEMO_RATES,
                       True),
    "cancel-shipment": ("DELETE", "/shipping/aras/shipments/{id}",
                        f"/shipping/aras/shipments/{DEMO_SHIPMENT_ID}", {"id": DEMO_SHIPMENT_ID},
                        None, True),
}


def sam_event(*args):
    cmd = [SAM, "local", "generate-event", *args]
    out = subprocess.check_output(cmd, env={**os.environ, "SAM_CLI_TELEMETRY": "0"})
    return json.loads(out)


def generate(method, path, body):
    return sam_event("apigateway", "http-api-proxy",
                     "--method", method, "--path", path.lstrip("/"), "--body", body or "")


def write(name, event):
    with open(os.path.join(ROOT, "events", f"{name}.json"), "w") as f:
        json.dump(event, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"events/{name}.json")


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
        write(name, event)

    schedule = sam_event("cloudwatch", "scheduled-event", "--region", REGION)
    write("product-sync-schedule", schedule)
    write("order-poll-schedule", schedule)
    write("shipment-tracking-schedule", schedule)

    # sam pastes --body into its template unescaped: a JSON body breaks it,
    # so the placeholder body is replaced afterwards.
    body = json.dumps(CATALOG_JOB, separators=(",", ":"))
    event = sam_event("sqs", "receive-message", "--region", REGION,
                      "--queue-name", "ayaztrade-local-catalog")
    for record in event["Records"]:
        record["body"] = body
        record["md5OfBody"] = hashlib.md5(body.encode()).hexdigest()
    write("catalog-worker-sqs", event)


if __name__ == "__main__":
    main()
