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
# The API report: the public surface as jsii sees it. A change to it must be committed with the
# change that causes it (npm run api), so reviewers see it.
step "API report"
api_tmp="$(mktemp -d)"
JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 npx jsii-docgen -o "$api_tmp/API.md"
if ! diff -u API.md "$api_tmp/API.md" >"$api_tmp/api.diff"; then
  head -60 "$api_tmp/api.diff"
  echo "API.md is out of date with the public API: run 'npm run api' and commit API.md" >&2
  exit 1
fi
rm -rf "$api_tmp"
step "unit tests";  npx jest --selectProjects unit
# Gates over every synthesized template: the showcase (`cdk synth`, each set of context flags) and
# one stack per public construct. cfn-lint (pinned, in .venv-tools/, built here on first use by
# scripts/gates/tools.sh: needs PyPI or pip's cache once), cdk-nag AwsSolutions and Serverless,
# acknowledgement reasons, secure defaults. No emulator. See test/gates/gates.gate.ts.
step "gates";       npx jest --selectProjects gates --runInBand
# Smoke: the packed kit in fresh CDK apps at the lowest aws-cdk-lib and constructs the peer ranges
# allow and at the newest on npm (type check with skipLibCheck off, synth of every construct), and
# the Python wheel (jsii-pacmak) synthesizing a WorkQueue through the binding, compared with the
# TypeScript template. Needs the npm registry and PyPI, or their caches (the virtualenv is cached in
# node_modules/.cache/cdk-messaging-patterns/python-smoke/).
step "smoke test";  npx jest --selectProjects smoke --runInBand

step "brokers"
# Kafka, RabbitMQ and ActiveMQ on this machine (scripts/brokers.sh), behind LocalStack's MSK and Amazon MQ:
# started first, so LocalStack is given their addresses.
brokers_started_here=0
if ! bash scripts/brokers.sh status >/dev/null 2>&1; then
  bash scripts/brokers.sh start
  brokers_started_here=1
fi
eval "$(bash scripts/brokers.sh env)"

step "emulator"
started_here=0
if ! bash scripts/localstack.sh status >/dev/null 2>&1; then
  bash scripts/localstack.sh start
  started_here=1
fi
stop_emulator() {
  if [[ $started_here == 1 ]]; then bash scripts/localstack.sh stop || true; fi
  if [[ $brokers_started_here == 1 ]]; then bash scripts/brokers.sh stop || true; fi
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
