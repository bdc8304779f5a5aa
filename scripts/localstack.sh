#!/usr/bin/env bash
# LocalStack for the integration tests: an endpoint you already run, a Docker container, or
# LocalStack 4.13.1 in host mode (no Docker) with this repo's plugins (Lambda as local Node.js
# processes, DynamoDB on moto, a firing Scheduler, EventBridge replays/retries/dead-letter queues, Amazon MSK /
# Amazon MQ backed by the brokers of scripts/brokers.sh, whose addresses -- `brokers.sh env` -- are passed to LocalStack).
#
# usage: scripts/localstack.sh start|stop|status|logs [-f]|install|env
#
#   start    use/start LocalStack and wait until it is healthy (idempotent)
#   stop     stop what `start` started (nothing else)
#   status   mode, endpoint, health
#   logs     last lines of the log (-f to follow)
#   install  only build/refresh the host-mode venv (.venv-localstack)
#   env      print the `export` lines a test process (SDK, cdklocal) needs: eval "$(... env)"
#
# Environment:
#   LOCALSTACK_MODE=endpoint|docker|host   default: automatic, in that order
#   LOCALSTACK_ENDPOINT / AWS_ENDPOINT_URL  an endpoint you run yourself (endpoint mode)
#   LOCALSTACK_PORT=4566                    port for docker/host mode
#   LOCALSTACK_START_TIMEOUT=120            seconds to wait for health
#   LOCALSTACK_STOP_TIMEOUT=10              seconds `stop` waits before it kills (host mode)
#   LOCALSTACK_AUTH_TOKEN                   passed to the container in docker mode, when set
#   LOCALSTACK_PYTHON                       interpreter for the venv (default: the first of python3.13,
#                                           python3.11, python3.12, python3 that runs and is 3.10-3.13)
#   LOCALSTACK_VENV, LOCALSTACK_STATE_DIR   override .venv-localstack / .localstack
#   LAMBDA_KEEPALIVE_MS, LS_LOG, DEBUG, LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT  passed through (host mode)
#   CMP_* (plugin settings, scripts/localstack-plugins/README.md)           inherited (host mode)
#   LOCALSTACK_JAVA21_HOME                  JDK >= 21 for Step Functions JSONata (default: the highest
#                                           /usr/lib/jvm/temurin-2x-jdk*, else java-2x-openjdk*)
#   KINESIS_LATENCY=0                       ms kinesis-mock waits in CreateStream, RegisterStreamConsumer, ...
#                                           (LocalStack's default 500; AWS takes seconds: tests poll anyway)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LS_VERSION="4.13.1"
IMAGE="localstack/localstack:${LS_VERSION}"
PORT="${LOCALSTACK_PORT:-4566}"
HOST="127.0.0.1"
START_TIMEOUT="${LOCALSTACK_START_TIMEOUT:-120}"
VENV="${LOCALSTACK_VENV:-$ROOT/.venv-localstack}"
if [[ -n "${LOCALSTACK_STATE_DIR:-}" ]]; then
  STATE_DIR="$LOCALSTACK_STATE_DIR"
elif [[ "$PORT" == "4566" ]]; then
  STATE_DIR="$ROOT/.localstack"
else
  STATE_DIR="$ROOT/.localstack/port-$PORT" # a second instance must not share (and wipe) state
fi
LOG_FILE="$STATE_DIR/localstack.log"
PID_FILE="$STATE_DIR/localstack.pid"
STARTED_FILE="$STATE_DIR/started-by-script" # mode=host|docker, written only when we started it
CONTAINER="cmp-localstack-$PORT"
SYS_TMP="/tmp/cmp-localstack-$(id -u)-$PORT" # LocalStack's tempdir (unzipped Lambda code), wiped by start/stop
CONSTRAINTS="$ROOT/scripts/localstack/constraints.txt"
TOOLS_CONSTRAINTS="$ROOT/scripts/localstack/tools-constraints.txt"
PLUGINS_DIR="$ROOT/scripts/localstack-plugins"
COMPAT_SRC="$ROOT/scripts/localstack/py311_compat.py"
MARKER="$VENV/.cmp-localstack-inputs"
# kinesis-mock's Node build, the version LocalStack 4.13.1 runs (localstack/services/kinesis/packages.py);
# installed with the venv, so the first Kinesis call does not run `npm install`
KINESIS_MOCK_VERSION="0.5.2"
KINESIS_MOCK_DIR="$VENV/cmp-libs/kinesis-local/$KINESIS_MOCK_VERSION"
BROKERS_SH="$ROOT/scripts/brokers.sh"
BROKER_CLIENTS="$ROOT/scripts/localstack/broker-clients.txt" # the MSK / Amazon MQ pollers' clients

usage() { echo "usage: $(basename "$0") start|stop|status|logs [-f]|install|env" >&2; }
log() { echo "[localstack] $*" >&2; }
die() { echo "[localstack] ERROR: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# HTTP helpers

http_get() { # url -> body on stdout; non-zero when unreachable or not 2xx
  if command -v curl >/dev/null 2>&1; then
    curl -fsS --max-time 3 --noproxy '*' "$1" 2>/dev/null
  else
    node -e 'fetch(process.argv[1],{signal:AbortSignal.timeout(3000)}).then(async r=>{if(!r.ok)process.exit(1);process.stdout.write(await r.text())}).catch(()=>process.exit(1))' "$1"
  fi
}

healthy() { # base-url: LocalStack's health endpoint answers with JSON that lists services
  local body
  body="$(http_get "${1%/}/_localstack/health")" || return 1
  [[ "$body" == *'"services"'* ]]
}

user_endpoint() { echo "${LOCALSTACK_ENDPOINT:-${AWS_ENDPOINT_URL:-}}"; }
local_endpoint() { echo "http://$HOST:$PORT"; }

# ---------------------------------------------------------------------------------------------
# state of what this script started

started_mode() { [[ -f "$STARTED_FILE" ]] && sed -n 's/^mode=//p' "$STARTED_FILE" || true; }

our_pid() { # pid of the host-mode LocalStack we started, if it is still alive
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

docker_ok() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

choose_mode() {
  local mode="${LOCALSTACK_MODE:-}" ep
  ep="$(user_endpoint)"
  case "$mode" in
    endpoint)
      [[ -n "$ep" ]] || die "LOCALSTACK_MODE=endpoint needs LOCALSTACK_ENDPOINT or AWS_ENDPOINT_URL"
      echo endpoint; return ;;
    docker | host) echo "$mode"; return ;;
    "") ;;
    *) die "LOCALSTACK_MODE must be endpoint, docker or host (got '$mode')" ;;
  esac
  # a LocalStack this script started keeps its mode (AWS_ENDPOINT_URL may point at it by now)
  local sm
  sm="$(started_mode)"
  if [[ -n "$sm" ]] && healthy "$(local_endpoint)"; then echo "$sm"; return; fi
  if [[ -n "$ep" ]] && healthy "$ep"; then echo endpoint; return; fi
  if docker_ok; then echo docker; return; fi
  echo host
}

# ---------------------------------------------------------------------------------------------
# host mode: the venv

pick_python() {
  # LocalStack 4.13.1 is built for Python 3.13 (its image); 3.11/3.12 work with py311_compat.py
  if [[ -n "${LOCALSTACK_PYTHON:-}" ]]; then echo "$LOCALSTACK_PYTHON"; return; fi
  local py
  for py in python3.13 python3.11 python3.12 python3; do
    if "$py" -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 13) else 1)' >/dev/null 2>&1; then
      echo "$py"
      return
    fi
  done
  die "no usable Python 3.10-3.13 found (set LOCALSTACK_PYTHON)"
}

plugin_hash() { # sources that end up in the installed plugin distribution
  (
    cd "$PLUGINS_DIR"
    find . -type f \( -name '*.py' -o -name '*.cjs' -o -name '*.mjs' -o -name '*.js' -o -name '*.json' -o -name 'pyproject.toml' -o -name 'setup.cfg' \) \
      -not -path './tests/*' -not -path '*/__pycache__/*' -not -path './build/*' -not -path '*.egg-info/*' -print0 |
      LC_ALL=C sort -z | xargs -0 sha256sum
  ) | sha256sum | cut -d' ' -f1
}

base_hash() { # everything that decides the venv's contents apart from the plugin
  local py="$1"
  {
    "$py" -c 'import sys; print(sys.version)'
    echo "localstack-core[runtime]==${LS_VERSION} pytest setuptools"
    cat "$CONSTRAINTS" "$TOOLS_CONSTRAINTS"
  } | sha256sum | cut -d' ' -f1
}

install_compat() { # Python < 3.13 only: see scripts/localstack/py311_compat.py
  local info site
  info="$("$VENV/bin/python" -c 'import sys, sysconfig; print(int(sys.version_info < (3, 13)), sysconfig.get_paths()["purelib"])')"
  site="${info#* }"
  if [[ "${info%% *}" == 1 ]]; then
    cmp -s "$COMPAT_SRC" "$site/cmp_localstack_py311_compat.py" || cp "$COMPAT_SRC" "$site/cmp_localstack_py311_compat.py"
    echo "import cmp_localstack_py311_compat" >"$site/cmp_localstack_py311_compat.pth"
  fi
}

install_kinesis_mock() { # the npm package LocalStack would install on the first Kinesis call
  [[ -f "$KINESIS_MOCK_DIR/node_modules/kinesis-local/main.js" ]] && return
  command -v npm >/dev/null 2>&1 || die "npm not found: Kinesis (kinesis-local) needs it once, at install"
  log "installing kinesis-local@${KINESIS_MOCK_VERSION} (Kinesis engine) from the npm registry"
  rm -rf "$KINESIS_MOCK_DIR"
  mkdir -p "$KINESIS_MOCK_DIR"
  npm install --prefix "$KINESIS_MOCK_DIR" --no-audit --no-fund --no-save --loglevel=error \
    "kinesis-local@${KINESIS_MOCK_VERSION}" >&2 || die "npm install kinesis-local@${KINESIS_MOCK_VERSION} failed"
}

link_kinesis_mock() { # LocalStack finds a package in its static libs dir first: point it at the venv's copy
  local libs="$STATE_DIR/usr/lib/localstack/kinesis-local"
  mkdir -p "$libs"
  ln -sfn "$KINESIS_MOCK_DIR" "$libs/$KINESIS_MOCK_VERSION"
}

link_java21() { # Step Functions JSONata runs on a JVM LocalStack would download (Java 21): use a local JDK >= 21
  local jdk="${LOCALSTACK_JAVA21_HOME:-}" d
  if [[ -z "$jdk" ]]; then
    for d in /usr/lib/jvm/java-2[1-9]-openjdk* /usr/lib/jvm/temurin-2[1-9]-jdk*; do # the last found wins
      [[ -x "$d/bin/java" ]] && jdk="$d"
    done
  fi
  if [[ -z "$jdk" ]]; then
    log "no JDK >= 21 found (set LOCALSTACK_JAVA21_HOME): Step Functions JSONata would try to download Java"
    return 0
  fi
  mkdir -p "$STATE_DIR/usr/lib/localstack/java"
  ln -sfn "$jdk" "$STATE_DIR/usr/lib/localstack/java/21"
}

marker_get() { [[ -f "$MARKER" ]] && sed -n "s/^$1=//p" "$MARKER" || true; }

ensure_venv() {
  local py base plugin t0
  py="$(pick_python)"
  base="$(base_hash "$py")"
  plugin="$(plugin_hash)"
  if [[ ! -x "$VENV/bin/python" || "$(marker_get base)" != "$base" ]]; then
    t0=$SECONDS
    log "creating $VENV with $("$py" --version 2>&1) (localstack-core[runtime]==${LS_VERSION}; takes ~1-2 min)"
    rm -rf "$VENV"
    "$py" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
      -c "$CONSTRAINTS" -c "$TOOLS_CONSTRAINTS" \
      "localstack-core[runtime]==${LS_VERSION}" pytest setuptools
    printf 'base=%s\nplugin=\nclients=\n' "$base" >"$MARKER"
    log "venv ready in $((SECONDS - t0)) s"
  fi
  install_compat
  install_kinesis_mock
  local clients
  clients="$(sha256sum "$BROKER_CLIENTS" | cut -d' ' -f1)"
  if [[ "$(marker_get clients)" != "$clients" ]]; then
    log "installing the broker clients (${BROKER_CLIENTS#"$ROOT"/})"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c "$CONSTRAINTS" -r "$BROKER_CLIENTS"
    printf 'base=%s\nplugin=%s\nclients=%s\n' "$base" "$(marker_get plugin)" "$clients" >"$MARKER"
  fi
  if [[ "$(marker_get plugin)" != "$plugin" ]]; then
    t0=$SECONDS
    log "installing the LocalStack plugins from ${PLUGINS_DIR#"$ROOT"/}"
    # build from a copy: an in-tree build leaves build/ and *.egg-info behind, and a stale build/lib
    # would ship files that were deleted from the sources
    local src
    src="$(mktemp -d)"
    cp -R "$PLUGINS_DIR" "$src/plugins"
    rm -rf "$src/plugins/build" "$src/plugins"/*.egg-info "$src/plugins/tests"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation \
      --force-reinstall "$src/plugins"
    rm -rf "$src"
    printf 'base=%s\nplugin=%s\nclients=%s\n' "$base" "$plugin" "$clients" >"$MARKER"
    log "plugins installed in $((SECONDS - t0)) s"
  fi
}

# prints "lambda=yes|no ddb=yes|no scheduler=yes|no events=yes|no archive=yes|no dashboard=yes|no snsbatch=yes|no brokers=yes|no" for the plugins
# as LocalStack's own loaders see them
plugin_report() {
  "$VENV/bin/python" - <<'EOF' 2>/dev/null || echo "lambda=no ddb=no scheduler=no events=no archive=no dashboard=no snsbatch=no brokers=no"
from localstack.runtime.hooks import on_infra_start
from localstack.services.lambda_.hooks import create_event_source_poller, set_event_source_config_defaults
from localstack.services.cloudformation.resource_provider import plugin_manager as cfn
from localstack.services.lambda_.invocation.runtime_executor import EXECUTOR_PLUGIN_MANAGER as m
from localstack.services.plugins import SERVICE_PLUGINS as S
found = {
    "lambda": "process" in m.list_names(),
    "ddb": "moto" in S.api_provider_specs.get("dynamodb", []) and "moto" in S.api_provider_specs.get("dynamodbstreams", []),
    "scheduler": "firing" in S.api_provider_specs.get("scheduler", []),
    "events": "parity" in S.api_provider_specs.get("events", []),
    "archive": "AWS::Events::Archive" in cfn.list_names(),
    "dashboard": "AWS::CloudWatch::Dashboard" in cfn.list_names(),
    "snsbatch": "cmp_sns_batch_dlq" in on_infra_start.manager.list_names(),
    "brokers": "local" in S.api_provider_specs.get("kafka", [])
    and "local" in S.api_provider_specs.get("mq", [])
    and {"AWS::MSK::Cluster", "AWS::MSK::ServerlessCluster", "AWS::AmazonMQ::Broker"} <= set(cfn.list_names())
    and "cmp-brokers" in create_event_source_poller.manager.list_names()
    and "cmp-brokers" in set_event_source_config_defaults.manager.list_names(),
}
print(" ".join(f"{k}={'yes' if v else 'no'}" for k, v in found.items()))
EOF
}

# ---------------------------------------------------------------------------------------------
# start

wait_healthy() { # pid-or-empty: wait for health (and the Ready. line in host mode)
  local pid="$1" deadline=$((SECONDS + START_TIMEOUT)) ep
  ep="$(local_endpoint)"
  while ((SECONDS < deadline)); do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      log "LocalStack exited during start-up; last 80 log lines:"
      tail -n 80 "$LOG_FILE" >&2 || true
      return 1
    fi
    if healthy "$ep"; then
      if [[ -z "$pid" ]] || grep -q '^Ready\.' "$LOG_FILE" 2>/dev/null; then return 0; fi
    fi
    sleep 0.5
  done
  log "LocalStack not healthy after ${START_TIMEOUT} s; last 80 log lines:"
  if [[ -n "$pid" ]]; then tail -n 80 "$LOG_FILE" >&2 || true; else docker logs --tail 80 "$CONTAINER" >&2 || true; fi
  return 1
}

start_host() {
  local pid report
  if pid="$(our_pid)"; then
    log "host-mode LocalStack (pid $pid) is already running; waiting for health"
    wait_healthy "$pid" || die "LocalStack (pid $pid) is not healthy"
    return 0
  fi
  if healthy "$(local_endpoint)"; then
    log "a LocalStack this script did not start answers on $(local_endpoint); using it (not ours to stop)"
    return 0
  fi
  if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
    die "port $PORT is in use by something that is not a healthy LocalStack (set LOCALSTACK_PORT)"
  fi
  command -v node >/dev/null 2>&1 || die "node not found: the Lambda process executor needs Node.js"

  ensure_venv
  report="$(plugin_report)"
  [[ "$report" == *"lambda=yes"* ]] || die "the 'process' Lambda executor plugin is not visible to LocalStack (try: rm -rf ~/.cache/plux; $0 install)"

  # DynamoDB must come from the moto providers: LocalStack's default needs DynamoDB Local, a
  # vendor download that fails here. A missing plugin, or a moto whose DynamoDB differs from what
  # the patches expect, stops the start instead of falling back.
  [[ "$report" == *"ddb=yes"* ]] || die "the dynamodb:moto / dynamodbstreams:moto providers are not visible to LocalStack (try: rm -rf ~/.cache/plux; $0 install)"
  "$VENV/bin/python" "$ROOT/scripts/localstack/check-moto-parity.py" >&2 ||
    die "the installed moto does not match what the DynamoDB patches expect (scripts/localstack/check-moto-parity.py)"
  local -a provider_env=(PROVIDER_OVERRIDE_DYNAMODB=moto PROVIDER_OVERRIDE_DYNAMODBSTREAMS=moto)
  # EventBridge Scheduler that fires its schedules (LocalStack's only stores them).
  [[ "$report" == *"scheduler=yes"* ]] || die "the scheduler:firing provider is not visible to LocalStack (try: rm -rf ~/.cache/plux; $0 install)"
  provider_env+=(PROVIDER_OVERRIDE_SCHEDULER=firing)
  # EventBridge with replays that work, target retries and dead-letter queues, disabled rules that stay quiet;
  # CloudFormation AWS::Events::Archive; SNS PublishBatch dead letters of the failed entries only. The EventBridge
  # and SNS plugins change LocalStack 4.13.1 code: a LocalStack that differs stops the start.
  [[ "$report" == *"events=yes"* ]] || die "the events:parity provider is not visible to LocalStack (try: rm -rf ~/.cache/plux; $0 install)"
  [[ "$report" == *"archive=yes"* ]] || die "the AWS::Events::Archive resource provider is not visible to LocalStack (try: rm -rf ~/.cache/plux; $0 install)"
  [[ "$report" == *"dashboard=yes"* ]] || die "the AWS::CloudWatch::Dashboard resource provider is not visible to LocalStack (try: rm -rf ~/.cache/plux; $0 install)"
  [[ "$report" == *"snsbatch=yes"* ]] || die "the cmp_sns_batch_dlq hook is not visible to LocalStack (try: rm -rf ~/.cache/plux; $0 install)"
  "$VENV/bin/python" -m cmp_localstack.localstack_shapes >&2 ||
    die "the installed LocalStack is not what the EventBridge/SNS plugins expect (cmp_localstack/localstack_shapes.py)"
  provider_env+=(PROVIDER_OVERRIDE_EVENTS=parity)
  # Patches of LocalStack's own code (stream event source mappings, Step Functions): each checks at
  # LocalStack's start that the code it patches is what it was written for; check before starting too.
  "$VENV/bin/python" "$ROOT/scripts/localstack/check-patches.py" >&2 ||
    die "the LocalStack patches do not match the installed LocalStack (scripts/localstack/check-patches.py)"
  # Amazon MSK and Amazon MQ on moto, backed by the local brokers of scripts/brokers.sh (their addresses: the
  # CMP_* lines of `brokers.sh env`); event source mappings from them through the pollers' hooks.
  [[ "$report" == *"brokers=yes"* ]] || die "the kafka:local / mq:local providers, the AWS::MSK::* / AWS::AmazonMQ::Broker resource providers or the cmp-brokers ESM hooks are not visible to LocalStack (try: rm -rf ~/.cache/plux; $0 install)"
  provider_env+=(PROVIDER_OVERRIDE_KAFKA=local PROVIDER_OVERRIDE_MQ=local)
  local line
  while IFS= read -r line; do
    [[ "$line" == "export CMP_"* ]] && provider_env+=("${line#export }")
  done < <(bash "$BROKERS_SH" env)

  # What the emulated Node.js runtime offers functions besides their code: the AWS SDK v3 only.
  node "$ROOT/scripts/localstack/lambda-runtime-modules.mjs" "$STATE_DIR/lambda-runtime" >&2

  mkdir -p "$STATE_DIR"
  link_kinesis_mock
  link_java21
  rm -rf "$STATE_DIR/tmp" "$STATE_DIR/systmp" "$SYS_TMP"
  mkdir -p "$SYS_TMP"
  [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.1"
  : >"$LOG_FILE"

  local t0=$SECONDS
  log "starting LocalStack ${LS_VERSION} (host mode) on $(local_endpoint); log: ${LOG_FILE#"$ROOT"/}"
  (
    cd "$STATE_DIR"
    exec 9>&- # do not hand the start/stop lock to LocalStack
    # own session/process group (setsid), so `stop` can take the whole group; a scrubbed env so a
    # shell pointed at AWS does not leak into LocalStack's internal clients. TEMP (not TMPDIR, which
    # LocalStack flags as deprecated) gives Python a tempdir of our own, where LocalStack unzips
    # Lambda code; it must be outside the repo, or Node would resolve the repo's node_modules from
    # the function's code by walking up its parent directories.
    exec setsid env -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_S3 -u AWS_PROFILE -u AWS_SESSION_TOKEN \
      -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u LOCALSTACK_ENDPOINT \
      OVERRIDE_IN_DOCKER=0 \
      DNS_ADDRESS=0 \
      GATEWAY_LISTEN="$HOST:$PORT" \
      LOCALSTACK_HOST="$HOST:$PORT" \
      SQS_ENDPOINT_STRATEGY=path \
      FILESYSTEM_ROOT="$STATE_DIR" \
      TEMP="$SYS_TMP" \
      SKIP_SSL_CERT_DOWNLOAD=1 \
      DISABLE_EVENTS=1 \
      PERSISTENCE=0 \
      CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES=0 \
      LAMBDA_RUNTIME_EXECUTOR=process \
      PROCESS_EXECUTOR_EXTRA_NODE_PATH="$STATE_DIR/lambda-runtime/node_modules" \
      LAMBDA_KEEPALIVE_MS="${LAMBDA_KEEPALIVE_MS:-600000}" \
      LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT="${LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT:-20}" \
      LAMBDA_EVENT_SOURCE_MAPPING_MAX_BACKOFF_ON_EMPTY_POLL_SEC="${LAMBDA_EVENT_SOURCE_MAPPING_MAX_BACKOFF_ON_EMPTY_POLL_SEC:-2}" \
      KINESIS_MOCK_VERSION="$KINESIS_MOCK_VERSION" \
      KINESIS_LATENCY="${KINESIS_LATENCY:-0}" \
      LS_LOG="${LS_LOG:-info}" \
      DEBUG="${DEBUG:-0}" \
      "${provider_env[@]}" \
      "$VENV/bin/python" -m localstack.runtime.main
  ) >>"$LOG_FILE" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PID_FILE"
  printf 'mode=host\npid=%s\nport=%s\n' "$pid" "$PORT" >"$STARTED_FILE"
  if ! wait_healthy "$pid"; then
    stop_host
    exit 1
  fi
  log "healthy after $((SECONDS - t0)) s (pid $pid)"
}

start_docker() {
  if docker ps --format '{{.Names}}' | grep -qx "$CONTAINER"; then
    log "container $CONTAINER is already running; waiting for health"
    wait_healthy "" || die "container $CONTAINER is not healthy"
    return 0
  fi
  if healthy "$(local_endpoint)"; then
    log "a LocalStack this script did not start answers on $(local_endpoint); using it (not ours to stop)"
    return 0
  fi
  docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
  local -a args=(
    run -d --name "$CONTAINER"
    -p "$HOST:$PORT:4566"
    -e SQS_ENDPOINT_STRATEGY=path
    -e DISABLE_EVENTS=1
    -e CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES=0
    -e LOCALSTACK_HOST="$HOST:$PORT"
    -e LAMBDA_KEEPALIVE_MS="${LAMBDA_KEEPALIVE_MS:-600000}"
    -v /var/run/docker.sock:/var/run/docker.sock # the Docker Lambda executor starts containers
  )
  [[ -n "${LOCALSTACK_AUTH_TOKEN:-}" ]] && args+=(-e LOCALSTACK_AUTH_TOKEN)
  mkdir -p "$STATE_DIR"
  local t0=$SECONDS
  log "starting $IMAGE as container $CONTAINER on $(local_endpoint)"
  docker "${args[@]}" "$IMAGE" >/dev/null
  printf 'mode=docker\ncontainer=%s\nport=%s\n' "$CONTAINER" "$PORT" >"$STARTED_FILE"
  if ! wait_healthy ""; then
    stop_docker
    exit 1
  fi
  log "healthy after $((SECONDS - t0)) s"
}

cmd_start() {
  local mode
  mode="$(choose_mode)"
  case "$mode" in
    endpoint)
      local ep
      ep="$(user_endpoint)"
      healthy "$ep" || die "endpoint $ep is not healthy (GET /_localstack/health failed)"
      log "using the LocalStack at $ep (endpoint mode; nothing started)"
      ;;
    docker) start_docker ;;
    host) start_host ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# stop

runner_pids() { # node runner processes that are children of pid $1
  pgrep -P "$1" -f 'lambda_process/runner/runner\.cjs' 2>/dev/null || true
}

stop_host() {
  local pid runners=() r
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    mapfile -t runners < <(runner_pids "$pid")
    log "stopping host-mode LocalStack (pid $pid, ${#runners[@]} Lambda runner process(es))"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    # no persistence (PERSISTENCE=0), so a kill after the grace period loses nothing; LocalStack's
    # own shutdown can take long after many functions were deleted (it stops them one by one)
    local grace="${LOCALSTACK_STOP_TIMEOUT:-10}" deadline
    deadline=$((SECONDS + grace))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      log "LocalStack did not exit within ${grace} s; killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    # each runner leads its own process group (with whatever the handler spawned); they go down
    # with LocalStack (the runner watches its parent); make sure of it
    deadline=$((SECONDS + 3))
    for r in "${runners[@]}"; do
      while kill -0 "$r" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
      kill -KILL -- "-$r" 2>/dev/null || true
    done
  else
    log "host-mode LocalStack is not running"
  fi
  rm -rf "$SYS_TMP"
  rm -f "$PID_FILE" "$STARTED_FILE"
}

stop_docker() {
  log "removing container $CONTAINER"
  docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
  rm -f "$STARTED_FILE"
}

cmd_stop() {
  case "$(started_mode)" in
    host) stop_host ;;
    docker) stop_docker ;;
    *)
      if our_pid >/dev/null; then stop_host; else log "nothing to stop (this script started nothing on port $PORT)"; fi
      ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# status, logs, env

active_endpoint() { # the endpoint tests should use
  local sm ep
  sm="$(started_mode)"
  ep="$(user_endpoint)"
  if [[ -z "$sm" && -n "$ep" && "${LOCALSTACK_MODE:-}" != host && "${LOCALSTACK_MODE:-}" != docker ]] && healthy "$ep"; then
    echo "${ep%/}"
  else
    local_endpoint
  fi
}

cmd_status() {
  local sm ep pid
  sm="$(started_mode)"
  ep="$(active_endpoint)"
  if [[ -n "$sm" ]]; then
    echo "mode:     $sm (started by this script)"
    pid="$(our_pid || true)"
    [[ "$sm" == host ]] && echo "pid:      ${pid:-not running}"
  elif [[ "$ep" != "$(local_endpoint)" ]]; then
    echo "mode:     endpoint (not started by this script)"
  else
    echo "mode:     - (this script started nothing)"
  fi
  echo "endpoint: $ep"
  local body
  if body="$(http_get "$ep/_localstack/health")"; then
    echo "health:   ok"
    echo "$body" | python3 -c 'import json,sys
d=json.load(sys.stdin); s=d.get("services",{})
print("version:  "+str(d.get("version")))
print("services: "+", ".join(f"{k}={v}" for k,v in sorted(s.items()) if v!="disabled"))' 2>/dev/null || echo "$body"
  else
    echo "health:   unreachable"
    return 1
  fi
}

cmd_logs() {
  if [[ "$(started_mode)" == docker ]]; then
    docker logs --tail 200 ${1:+--follow} "$CONTAINER"
  elif [[ "${1:-}" == "-f" ]]; then
    tail -n 200 -f "$LOG_FILE"
  else
    tail -n 200 "$LOG_FILE"
  fi
}

cmd_env() {
  local ep hostport host port
  ep="$(active_endpoint)"
  hostport="${ep#*://}"
  hostport="${hostport%%/*}"
  host="${hostport%:*}"
  port="${hostport##*:}"
  [[ "$port" == "$hostport" ]] && port=4566
  cat <<EOF
export AWS_ENDPOINT_URL=$ep
export AWS_ENDPOINT_URL_S3=$ep
export AWS_S3_FORCE_PATH_STYLE=1
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export LOCALSTACK_HOSTNAME=$host
export EDGE_PORT=$port
unset AWS_PROFILE AWS_SESSION_TOKEN
EOF
}

cmd_install() {
  local t0=$SECONDS
  ensure_venv
  log "venv up to date: $VENV ($(plugin_report)) in $((SECONDS - t0)) s"
}

with_lock() { # serialise start/stop/install of one state dir (parallel CI steps, two terminals)
  mkdir -p "$STATE_DIR"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$STATE_DIR/.lock"
    flock -w 600 9 || die "could not lock $STATE_DIR/.lock"
  fi
  "$@"
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    start) with_lock cmd_start ;;
    stop) with_lock cmd_stop ;;
    status) cmd_status ;;
    logs) cmd_logs "$@" ;;
    install) with_lock cmd_install ;;
    env) cmd_env ;;
    -h | --help | help) usage ;;
    *) usage; exit 2 ;;
  esac
}

main "$@"
