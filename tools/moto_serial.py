#!/usr/bin/env python3
"""moto server, one request at a time.

`moto_server` always runs werkzeug threaded, and moto's backends take no lock
around a request: two concurrent conditional PutItems can both see "no item"
and both succeed, which real DynamoDB never allows. Our exactly-once tests
would then fail (or, worse, pass) for moto's reasons. Serving requests one at
a time gives DynamoDB's per-item atomicity back; werkzeug then speaks HTTP/1.0
and closes each connection, so an idle client cannot block the others.

    moto_serial.py --host 127.0.0.1 --port 5000
"""
import argparse

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    a = p.parse_args()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(a.host, a.port, app, threaded=False, use_reloader=False)


if __name__ == "__main__":
    main()
