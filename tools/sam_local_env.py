#!/usr/bin/env python3
"""`sam local invoke` against the local stack: writes the `--env-vars` JSON
for every function of template.yaml, pointing at what `make dev` runs (moto
and the provider fakes), as seen from inside SAM's Docker container.

    make dev                              # in one terminal: moto, fakes, .local/dev.env
    .venv/bin/python tools/sam_local_env.py   # writes .local/sam-env.json
    sam build && sam local invoke OrderPollFunction \\
        --env-vars .local/sam-env.json --event events/order-poll-schedule.json

Each function gets every variable the template gives it: from `.local/dev.env`
(the values `make dev` uses), else the template's own literal value or its
parameter's default. Loopback addresses become `host.docker.internal` (the
host from inside the container; on Linux add
`--add-host host.docker.internal:host-gateway` to `sam local invoke`).

`--check` (run by `make test` through tools/check_template.py) proves offline
that every variable of every function is covered, so the file cannot fall
behind the template. Docker is not on our CI machines: that check is what
keeps this path honest there.
"""
import argparse
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from check_template import load_template  # noqa: E402

DEV_SH = os.path.join(ROOT, "tools", "dev.sh")
DEV_ENV = os.path.join(ROOT, ".local", "dev.env")
OUT = os.path.join(ROOT, ".local", "sam-env.json")
# What a container needs beyond the template's variables to reach moto.
AWS_LOCAL = ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
             "AWS_REGION", "AWS_EC2_METADATA_DISABLED"]


def dev_env_keys():
    """The variables tools/dev.sh writes into .local/dev.env."""
    text = open(DEV_SH).read()
    block = re.search(r"cat > \"\$LOCAL/dev\.env\" <<ENV\n(.*?)\nENV\n", text, re.S)
    return {line.split("=", 1)[0] for line in block.group(1).splitlines() if "=" in line}


def functions(template):
    """{logical id: {variable: template value}}, the Globals included."""
    glob = template.get("Globals", {}).get("Function", {}).get("Environment", {})
    out = {}
    for name, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        variables = dict(glob.get("Variables", {}))
        variables.update(resource["Properties"].get("Environment", {}).get("Variables", {}))
        out[name] = variables
    return out


def local_default(template, value):
    """A value usable locally without dev.env: a literal, or a parameter's
    default that is not a secret. `None` otherwise."""
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, dict) and list(value) == ["Ref"]:
        param = template.get("Parameters", {}).get(value["Ref"])
        if param is not None and "Default" in param:
            return str(param["Default"])
    return None


def uncovered(template):
    keys = dev_env_keys()
    missing = []
    for name, variables in functions(template).items():
        for var, value in variables.items():
            if var not in keys and local_default(template, value) is None:
                missing.append(f"{name}.{var}")
    missing += [f"dev.env.{v}" for v in AWS_LOCAL if v not in keys]
    return missing


def to_container(value):
    return re.sub(r"//(127\.0\.0\.1|localhost)([:/])", r"//host.docker.internal\2", value)


def generate(template):
    env = {}
    with open(DEV_ENV) as f:
        for line in f:
            if "=" in line:
                key, value = line.rstrip("\n").split("=", 1)
                env[key] = value
    out = {}
    for name, variables in functions(template).items():
        values = {}
        for var, value in variables.items():
            local = env.get(var, local_default(template, value))
            if local is None:
                raise SystemExit(f"{name}.{var}: not in {DEV_ENV} and no local default")
            values[var] = to_container(local)
        for var in AWS_LOCAL:
            values[var] = to_container(env[var])
        out[name] = values
    return out


def main():
    parser = argparse.ArgumentParser(description="sam local invoke --env-vars for every function")
    parser.add_argument("--check", action="store_true", help="offline coverage check only")
    args = parser.parse_args()
    template = load_template()
    if args.check:
        missing = uncovered(template)
        for m in missing:
            print("sam local env: no local value for", m)
        print("sam local env check", "FAILED" if missing else "passed")
        return 1 if missing else 0
    if not os.path.exists(DEV_ENV):
        print(f"{DEV_ENV} is missing: run `make dev` first", file=sys.stderr)
        return 1
    out = generate(template)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=2)
    print(f"wrote {OUT} for {len(out)} functions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
