"""``KinesisStreamProvider.create`` (CloudFormation ``AWS::Kinesis::Stream``), replaced at start.

LocalStack 4.13.1's provider sends ``CreateStream`` with ``Name``, ``ShardCount`` (default 1) and
``StreamModeDetails`` (default ON_DEMAND) and nothing else. AWS (and the resource schema LocalStack ships):
- no ``StreamModeDetails`` means PROVISIONED (CDK's ``new Stream()`` emits none): LocalStack made such a stream
  ON_DEMAND;
- an ON_DEMAND stream starts with 4 shards: LocalStack passed ``ShardCount=1`` along, so kinesis-mock made one;
- ``RetentionPeriodHours`` (default 24), ``StreamEncryption`` and ``Tags`` are applied: LocalStack dropped them
  (DescribeStreamSummary said 24 h, encryption NONE, no tags).
Here: create as AWS, wait for ACTIVE, then ``IncreaseStreamRetentionPeriod`` / ``StartStreamEncryption`` /
``AddTagsToStream`` and wait for ACTIVE again. Updates stay LocalStack's (NotImplementedError: deploy anew).
"""

from __future__ import annotations

import logging
import threading

from cmp_localstack import ls_shapes

LOG = logging.getLogger(__name__)

_MOD = "localstack.services.kinesis.resource_providers.aws_kinesis_stream"
EXPECTED_SHAPES = {
    f"{_MOD}:KinesisStreamProvider.create": "57afbab05fd167c5",
    f"{_MOD}:KinesisStreamProvider.delete": "ba45ec52fbe80deb",
}
CREATED, CONFIGURED = "repeated_invocation", "cmp_configured"  # custom_context keys (the first is LocalStack's)

_lock = threading.Lock()


def create(self, request):
    from localstack.services.cloudformation import provider_utils as util
    from localstack.services.cloudformation.resource_provider import OperationStatus, ProgressEvent

    model, ctx = request.desired_state, request.custom_context
    kinesis = request.aws_client_factory.kinesis

    def progress(status=OperationStatus.IN_PROGRESS):
        return ProgressEvent(status=status, resource_model=model, custom_context=ctx)

    if not ctx.get(CREATED):
        if not model.get("Name"):
            model["Name"] = util.generate_default_name(
                stack_name=request.stack_name, logical_resource_id=request.logical_resource_id
            )
        mode = model.setdefault("StreamModeDetails", {"StreamMode": "PROVISIONED"})
        kwargs = {"StreamModeDetails": mode}
        if mode.get("StreamMode") != "ON_DEMAND":
            kwargs["ShardCount"] = model.setdefault("ShardCount", 1)
        kinesis.create_stream(StreamName=model["Name"], **kwargs)
        summary = kinesis.describe_stream_summary(StreamName=model["Name"])["StreamDescriptionSummary"]
        model["Arn"] = summary["StreamARN"]
        ctx[CREATED] = True
        return progress()

    if kinesis.describe_stream_summary(StreamARN=model["Arn"])["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        return progress()
    if not ctx.get(CONFIGURED):
        ctx[CONFIGURED] = True
        if (hours := int(model.get("RetentionPeriodHours") or 24)) > 24:
            kinesis.increase_stream_retention_period(StreamARN=model["Arn"], RetentionPeriodHours=hours)
        if (enc := model.get("StreamEncryption")) and enc.get("EncryptionType", "NONE") != "NONE":
            kinesis.start_stream_encryption(
                StreamARN=model["Arn"], EncryptionType=enc["EncryptionType"], KeyId=enc["KeyId"]
            )
        if tags := model.get("Tags"):
            kinesis.add_tags_to_stream(StreamARN=model["Arn"], Tags={t["Key"]: t["Value"] for t in tags})
        return progress()  # encryption makes the stream UPDATING for a moment: wait for ACTIVE again
    return progress(OperationStatus.SUCCESS)


def apply() -> None:
    from localstack.services.kinesis.resource_providers.aws_kinesis_stream import KinesisStreamProvider

    with _lock:
        if ls_shapes.is_patched(KinesisStreamProvider.create):
            return
        ls_shapes.require(EXPECTED_SHAPES, "cmp Kinesis CloudFormation patch")
        KinesisStreamProvider.create = ls_shapes.mark(create, KinesisStreamProvider.create)
        LOG.info("cmp Kinesis CloudFormation patch applied (stream mode, retention, encryption, tags)")
