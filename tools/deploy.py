#!/usr/bin/env python3
"""The one deploy path: `make deploy` (dev) or `make deploy ENV=prod`.

1. Reads the secrets for the stage from a local, git-ignored file
   (`deploy/<env>.secrets.json`, shaped like `deploy/secrets.example.json`).
2. Creates or updates every Secrets Manager secret the template reads, under
   the names the samconfig profile gives (`<X>SecretName`), refusing to start
   if the file lacks a key the template resolves.
3. Runs `sam build` and `sam deploy --config-env <env>`.

`--check` only checks, offline, that this path provides everything the
template needs (run by `make test` through tools/check_template.py).
Secret values are never printed.
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE = os.path.join(ROOT, "template.yaml")
SAMCONFIG = os.path.join(ROOT, "samconfig.toml")
EXAMPLE = os.path.join(ROOT, "deploy", "secrets.example.json")
RESOLVE = re.compile(r"resolve:secretsmanager:\$\{(\w+)SecretName\}:SecretString:(\w+)")


def template_secret_keys(template_text):
    """{kind: {keys}}: every key the template resolves, per secret parameter
    (`StripeSecretName` → kind `stripe`)."""
    kinds = {}
    for param, key in RESOLVE.findall(template_text):
        kinds.setdefault(param.lower(), set()).add(key)
    return kinds


def profile_parameters(samconfig_text, env):
    """The parameter overrides of a samconfig profile (`default` for dev)."""
    import tomllib

    config = tomllib.loads(samconfig_text)
    section = "default" if env == "dev" else env
    overrides = config[section]["deploy"]["parameters"].get("parameter_overrides", "")
    return dict(part.split("=", 1) for part in shlex.split(overrides))


def secret_names(template_text, samconfig_text, env):
    """{kind: secret name} for a profile: it must name every secret itself,
    under its own stage (a prod profile must not read dev secrets)."""
    params = profile_parameters(samconfig_text, env)
    stage = params.get("Stage", env)
    names, problems = {}, []
    for kind in sorted(template_secret_keys(template_text)):
        param = next(p for p in re.findall(r"^  (\w+SecretName):", template_text, re.M)
                     if p.lower() == kind + "secretname")
        name = params.get(param)
        if name is None:
            problems.append(f"samconfig profile {env!r} does not set {param}")
        elif f"/{stage}/" not in name:
            problems.append(f"samconfig profile {env!r}: {param}={name!r} is not a {stage} secret")
        names[kind] = name
    return names, problems


def missing_keys(template_text, secrets):
    """Keys the template resolves that `secrets` ({kind: {key: value}}) lacks."""
    missing = []
    for kind, keys in sorted(template_secret_keys(template_text).items()):
        for key in sorted(keys):
            if key not in secrets.get(kind, {}):
                missing.append(f"{kind}.{key}")
    return missing


def check():
    """Offline: every profile names every secret for its stage, and the
    example file has every key (so a file made from it is complete)."""
    template_text = open(TEMPLATE).read()
    samconfig_text = open(SAMCONFIG).read()
    problems = []
    for env in ("dev", "prod"):
        problems += secret_names(template_text, samconfig_text, env)[1]
    with open(EXAMPLE) as f:
        problems += [f"{EXAMPLE} lacks {k}" for k in missing_keys(template_text, json.load(f))]
    for p in problems:
        print("deploy check:", p)
    print("deploy check", "FAILED" if problems else "passed")
    return 1 if problems else 0


def put_secrets(names, secrets, region):
    import boto3

    client = boto3.client("secretsmanager", region_name=region)
    for kind, name in sorted(names.items()):
        value = json.dumps(secrets[kind])
        try:
            client.create_secret(Name=name, SecretString=value)
            print(f"created secret {name}")
        except client.exceptions.ResourceExistsException:
            client.put_secret_value(SecretId=name, SecretString=value)
            print(f"updated secret {name}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="dev", choices=["dev", "prod"])
    parser.add_argument("--secrets", help="default: deploy/<env>.secrets.json")
    parser.add_argument("--check", action="store_true", help="only the offline check")
    parser.add_argument("--secrets-only", action="store_true", help="no sam build/deploy")
    args = parser.parse_args()
    if args.check:
        return check()
    template_text = open(TEMPLATE).read()
    samconfig_text = open(SAMCONFIG).read()
    names, problems = secret_names(template_text, samconfig_text, args.env)
    path = args.secrets or os.path.join(ROOT, "deploy", f"{args.env}.secrets.json")
    if not os.path.exists(path):
        problems.append(f"{path} does not exist: copy deploy/secrets.example.json and fill it in")
        secrets = {}
    else:
        with open(path) as f:
            secrets = json.load(f)
        problems += [f"{path} lacks {k}" for k in missing_keys(template_text, secrets)]
    if problems:
        for p in problems:
            print("deploy:", p, file=sys.stderr)
        return 1
    import tomllib

    section = "default" if args.env == "dev" else args.env
    region = tomllib.loads(samconfig_text)[section]["deploy"]["parameters"].get("region")
    put_secrets(names, secrets, region)
    if args.secrets_only:
        return 0
    for cmd in (["sam", "build"], ["sam", "deploy", "--config-env", section]):
        print("+", " ".join(cmd), flush=True)
        code = subprocess.call(cmd, cwd=ROOT)
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
