#!/usr/bin/env bash
# `npm start`: the demo on the embedded LocalStack. Starts LocalStack (host mode: a project
# virtualenv, no Docker; or the endpoint/Docker engine scripts/localstack.sh finds), builds the
# kit, bootstraps cdklocal, deploys the showcase app and drives messages through every pattern.
# LocalStack keeps running afterwards; `bash scripts/localstack.sh stop` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

[[ -d node_modules ]] || npm ci --no-audit --no-fund
bash scripts/localstack.sh start
eval "$(bash scripts/localstack.sh env)"
node scripts/build.mjs
if ! node -e "
  const { CloudFormationClient, DescribeStacksCommand } = require('@aws-sdk/client-cloudformation');
  new CloudFormationClient({}).send(new DescribeStacksCommand({ StackName: 'CDKToolkit' }))
    .then(() => process.exit(0), () => process.exit(1));" 2>/dev/null; then
  node node_modules/aws-cdk-local/bin/cdklocal bootstrap "aws://000000000000/${AWS_REGION}" --ci
fi
npx ts-node --prefer-ts-exts scripts/demo.ts
