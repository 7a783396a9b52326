"""The environment `make dev` writes for its functions (`.local/dev.env`, or
`$DEV_LOCAL_DIR/dev.env`): KEY=VALUE lines, `#` comments. Shared by the
scripts that talk to the dev stack."""


def dev_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                env[key] = value
    return env
