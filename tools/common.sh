# Shared by tools/test.sh and tools/dev.sh. Everything started here is
# recorded by pid and stopped on exit.
VENV="${VENV:-$PWD/.venv}"
PIDS=()

# Each step says how long the one before it took, so the slow phase shows.
STEP_STARTED=$SECONDS
step() {
    printf '\n==> %s  (previous step: %ss, total: %ss)\n' "$*" "$((SECONDS - STEP_STARTED))" "$SECONDS"
    STEP_STARTED=$SECONDS
}

cleanup() {
    local pid
    # Each service runs in its own process group (setsid): stop the whole
    # group, so children such as cargo-lambda's function processes go too.
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] && { kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; }
    done
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The project venv with pinned Python tools (moto, cargo-lambda, SAM CLI, cfn-lint).
ensure_venv() {
    local stamp="$VENV/.requirements.sha256"
    local want
    want="$(sha256sum tools/requirements.txt | cut -d' ' -f1)"
    if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        step "installing Python tools into $VENV"
        python3 -m venv "$VENV"
        # uv installs the same pinned requirements in about 10 s where pip
        # takes about 90 s (parallel downloads, no per-package resolver
        # passes): most of that was CI's fresh-clone time. pip stays the
        # fallback where uv cannot be installed.
        if "$VENV/bin/pip" install --quiet uv; then
            "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" -r tools/requirements.txt
        else
            "$VENV/bin/pip" install --quiet -r tools/requirements.txt
        fi
        echo "$want" > "$stamp"
    fi
    export PATH="$VENV/bin:$PATH"
}

free_port() {
    "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_for_http() { # url, what
    local i
    for i in $(seq 1 100); do
        curl -s -o /dev/null "$1" && return 0
        sleep 0.1
    done
    echo "$2 did not start at $1" >&2
    return 1
}

# The SDK settings that point the tests at the moto started above (dummy
# credentials; generous SDK timeouts so a busy emulator is not asked to redo
# abandoned work).
use_local_aws() {
    export AWS_ENDPOINT_URL="$MOTO_URL" AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
           AWS_REGION=eu-central-1 AWS_EC2_METADATA_DISABLED=true \
           AWS_SDK_ATTEMPT_TIMEOUT_MS=60000 AWS_SDK_OPERATION_TIMEOUT_MS=180000
}

start_moto() {
    local port="${MOTO_PORT:-$(free_port)}"
    MOTO_URL="http://127.0.0.1:$port"
    step "starting moto on $MOTO_URL"
    local dir="${DEV_LOCAL_DIR:-.local}"
    mkdir -p "$dir"
    # Serialized: see tools/moto_serial.py for why not plain `moto_server`.
    setsid "$VENV/bin/python" tools/moto_serial.py --host 127.0.0.1 --port "$port" > "$dir/moto.log" 2>&1 &
    PIDS+=($!)
    wait_for_http "$MOTO_URL/moto-api/" "moto"
}
