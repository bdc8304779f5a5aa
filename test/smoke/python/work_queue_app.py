"""The Python twin of WORK_QUEUE_APP (scripts/smoke/apps.ts): one WorkQueue through the jsii binding.

Run by test/smoke/python-binding.test.ts in a virtualenv with aws-cdk-lib, constructs and the kit's
wheel. Writes what it saw of the binding (attributes, the error of rejected props) as JSON to
$SMOKE_REPORT; the template goes to $CDK_OUTDIR.
"""

import json
import os
from importlib.metadata import version

from aws_cdk import App, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from cdk_messaging_patterns import MessagingPattern, WorkQueue

app = App()  # the output folder comes from CDK_OUTDIR, as under `cdk synth`
stack = Stack(app, "SmokeStack")
consumer = lambda_.Function(
    stack,
    "Consumer",
    runtime=lambda_.Runtime.NODEJS_22_X,
    handler="index.handler",
    code=lambda_.Code.from_inline("exports.handler = async () => ({ batchItemFailures: [] })"),
    timeout=Duration.seconds(15),
)
queue = WorkQueue(stack, "Jobs", consumer=consumer, max_concurrency=5)
grant = queue.grant_send(consumer)

# Rejected props, in an app of their own: the kit's error arrives as the RuntimeError jsii raises
# for a JavaScript exception, with the kit's message.
rejected = Stack(App(), "Rejected")
try:
    WorkQueue(rejected, "Queue", consumer=consumer, batch_size=0)
    error = None
except Exception as e:
    error = {"type": f"{type(e).__module__}.{type(e).__qualname__}", "message": str(e)}

app.synth()

with open(os.environ["SMOKE_REPORT"], "w", encoding="utf-8") as f:
    json.dump(
        {
            "versions": {name: version(name) for name in ("aws-cdk-lib", "constructs", "jsii", "cdk-messaging-patterns")},
            "isMessagingPattern": isinstance(queue, MessagingPattern),
            "visibilityTimeoutSeconds": queue.visibility_timeout.to_seconds(),
            "maxReceiveCount": queue.max_receive_count,
            "alarms": len(queue.alarms),
            "grantIsIamGrant": isinstance(grant, iam.Grant),
            "hasDeadLetterQueue": queue.dead_letter_queue is not None,
            "rejected": error,
        },
        f,
    )
