#!/usr/bin/env bash
# `npm test`: everything, in order, with no second command needed —
# lint, type check, build, unit tests, the consumer smoke test, then the emulator suites
# (LocalStack plugin tests and the integration tests). LocalStack is started here when none is
# running, and stopped at the end only if this script started it.
set -euo pipefail
cd "$(dirname "$0")/.."

# This machine runs Node.js 20 on purpose (the lockfile keeps AWS SDK versions that support it).
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

SECONDS=0
step() { printf '\n== %s (%ss)\n' "$1" "$SECONDS"; }

step "lint";        npx eslint .
step "format";      npx prettier --check .
step "type check";  npx tsc -p tsconfig.json --noEmit
step "build";       node scripts/build.mjs
step "unit tests";  npx jest --selectProjects unit
step "smoke test";  npx jest --selectProjects smoke --runInBand

step "emulator"
started_here=0
if ! bash scripts/localstack.sh status >/dev/null 2>&1; then
  bash scripts/localstack.sh start
  started_here=1
fi
stop_emulator() {
  if [[ $started_here == 1 ]]; then bash scripts/localstack.sh stop || true; fi
}
trap stop_emulator EXIT
eval "$(bash scripts/localstack.sh env)"

# The plugin tests need the project's plugins, which only a host-mode LocalStack started by
# scripts/localstack.sh loads; an endpoint you run or a Docker LocalStack has none of them.
mode="$(bash scripts/localstack.sh status 2>/dev/null | awk '/^mode:/ {print $2}' || true)"
if [[ $mode == host ]]; then
  step "LocalStack plugin tests"
  LOCALSTACK_ENDPOINT="$AWS_ENDPOINT_URL" .venv-localstack/bin/python -m pytest scripts/localstack-plugins/tests -q
else
  step "LocalStack plugin tests: not run (LocalStack mode '${mode:-?}' has no project plugins; they run in host mode)"
fi

step "integration tests"; npx jest --selectProjects integration --runInBand
step "done"
