#!/usr/bin/env python3
"""Local init time of Lambda binaries, measured the way Lambda sees it.

For each run, a fresh process is exec'd with the Lambda environment and a
local Runtime API (this script). We record:
  init   = exec → the binary's first `GET /runtime/invocation/next`
           (the part of Lambda's Init Duration that our code controls);
  first  = exec → the `POST …/response` of the first invocation, where the
           event makes one DynamoDB call (a Query against moto), so work moved
           from init into the first request is counted too.
Binaries are run interleaved (A, B, C, A, B, C, …) so machine drift hits all
of them alike. Prints a JSON summary (median, p10, p90 in ms).

usage: init_time.py --runs 40 --moto URL --table T name=path[:event.json] ...
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import threading
import time

NEXT = b"GET /2018-06-01/runtime/invocation/next"


class RuntimeApi:
    """A minimal Lambda Runtime API serving one event per process."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.event = b"{}"
        self.first_next = None
        self.responded = None
        self.served = False
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def reset(self, event):
        self.event = event
        self.first_next = self.responded = None
        self.served = False
        self.done.clear()

    def _serve(self):
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        try:
            self._exchange(conn)
        except OSError:
            pass  # the benchmark killed the process mid-connection

    def _exchange(self, conn):
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, _, rest = buf.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        length = int(v.strip())
                while len(rest) < length:
                    rest += conn.recv(65536)
                buf = rest[length:]
                now = time.perf_counter()
                if head.startswith(NEXT):
                    if self.first_next is None:
                        self.first_next = now
                    if self.served:
                        return  # park the second poll: the process is killed next
                    self.served = True
                    body = self.event
                    headers = (
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Lambda-Runtime-Aws-Request-Id: bench-1\r\n"
                        b"Lambda-Runtime-Deadline-Ms: %d\r\n"
                        b"Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:eu-central-1:123456789012:function:bench\r\n"
                        b"Lambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793\r\n"
                        b"Content-Length: %d\r\n\r\n" % (int(time.time() * 1000) + 30000, len(body))
                    )
                    conn.sendall(headers + body)
                else:
                    if b"/response" in head.split(b"\r\n")[0] or b"/error" in head.split(b"\r\n")[0]:
                        self.responded = now
                        self.done.set()
                    conn.sendall(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}")


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--moto", required=True)
    parser.add_argument("--table", required=True)
    parser.add_argument("binaries", nargs="+", help="name=path[:event.json]")
    args = parser.parse_args()

    api = RuntimeApi()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.port}",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_REGION": "eu-central-1",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_ACCESS_KEY_ID": "ASIABENCHEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "bench-secret",
        "AWS_SESSION_TOKEN": "bench-token",
        "AWS_ENDPOINT_URL": args.moto,
        "TABLE_NAME": args.table,
        "EVENT_BUS_NAME": args.table,  # local_aws.py names the bus like the table
        "STRIPE_WEBHOOK_SECRETS": "whsec_bench",
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "LAMBDA_TASK_ROOT": "/var/task",
        "HOME": "/nonexistent",
    }
    binaries = []
    for spec in args.binaries:
        name, _, rest = spec.partition("=")
        path, _, event_file = rest.partition(":")
        event = open(event_file, "rb").read() if event_file else b"{}"
        binaries.append((name, path, event))
    results = {name: {"init": [], "first": []} for name, _, _ in binaries}
    devnull = open(os.devnull, "wb")
    for _ in range(args.runs):
        for name, path, event in binaries:
            api.reset(event)
            start = time.perf_counter()
            proc = subprocess.Popen([path], env=env, stdout=devnull, stderr=devnull)
            finished = api.done.wait(timeout=10)
            proc.kill()
            proc.wait()
            if api.first_next is None:
                raise SystemExit(f"{name}: never polled the Runtime API")
            results[name]["init"].append((api.first_next - start) * 1000)
            if finished:
                results[name]["first"].append((api.responded - start) * 1000)
    summary = {}
    for name, series in results.items():
        summary[name] = {}
        for kind, values in series.items():
            if values:
                summary[name][kind] = {
                    "median_ms": round(statistics.median(values), 2),
                    "p10_ms": round(percentile(values, 0.1), 2),
                    "p90_ms": round(percentile(values, 0.9), 2),
                    "runs": len(values),
                }
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
