"""Kinesis in host mode: the kinesis-mock engine installed with the venv (no npm at the first Kinesis call),
KINESIS_LATENCY=0, and CloudFormation AWS::Kinesis::Stream / StreamConsumer as AWS creates them (cmp Kinesis
CloudFormation patch).

    .venv-localstack/bin/python -m pytest scripts/localstack-plugins/tests/test_kinesis_setup.py -q
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from test_ddb_cloudformation import delete, deploy

REPO = Path(__file__).resolve().parents[3]
KINESIS_MOCK = "kinesis-local/0.5.2"


def state_dir(endpoint: str) -> Path:
    """The state dir scripts/localstack.sh uses for this endpoint's port."""
    if os.environ.get("LOCALSTACK_STATE_DIR"):
        return Path(os.environ["LOCALSTACK_STATE_DIR"])
    port = urlparse(endpoint).port or 4566
    return REPO / ".localstack" / ("" if port == 4566 else f"port-{port}")


def test_kinesis_engine_comes_from_the_venv_and_runs_without_latency(aws_client, endpoint, unique_name):
    state = state_dir(endpoint)
    if not (state / "started-by-script").is_file():
        pytest.skip(f"no host-mode LocalStack started by scripts/localstack.sh in {state}")
    kinesis = aws_client("kinesis")
    kinesis.list_streams()  # the first call per account starts the engine (~2 s)
    t0 = time.monotonic()
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    while kinesis.describe_stream_summary(StreamName=unique_name)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        time.sleep(0.02)
    active_after = time.monotonic() - t0
    kinesis.delete_stream(StreamName=unique_name)

    # LocalStack's static libs dir points at the venv's copy; nothing was installed at runtime (var libs)
    link = state / "usr/lib/localstack" / KINESIS_MOCK
    assert link.is_symlink() and (link / "node_modules/kinesis-local/main.js").is_file()
    assert ".venv-localstack" in os.readlink(link) or "cmp-libs" in os.readlink(link)
    assert not (state / "var/lib/localstack/lib/kinesis-local").exists(), "LocalStack installed kinesis-local itself"
    # the running engine is that copy, started with 0 ms stream-operation latency
    pids = subprocess.run(["pgrep", "-f", str(link / "node_modules")], capture_output=True, text=True).stdout.split()
    assert pids, "no kinesis-mock process from the venv's copy"
    environ = dict(
        kv.split("=", 1) for kv in Path(f"/proc/{pids[0]}/environ").read_bytes().decode().split("\0") if "=" in kv
    )
    assert environ["CREATE_STREAM_DURATION"] == "0ms" and environ["REGISTER_STREAM_CONSUMER_DURATION"] == "0ms"
    assert active_after < 0.45, f"CreateStream -> ACTIVE took {active_after:.2f} s (LocalStack's default latency: 500 ms)"


def test_cloudformation_streams_and_consumer(aws_client, unique_name):
    cfn, kinesis = aws_client("cloudformation"), aws_client("kinesis")
    template = {
        "Resources": {
            "OnDemand": {"Type": "AWS::Kinesis::Stream", "Properties": {"StreamModeDetails": {"StreamMode": "ON_DEMAND"}}},
            "Provisioned": {
                "Type": "AWS::Kinesis::Stream",
                "Properties": {
                    "StreamModeDetails": {"StreamMode": "PROVISIONED"},
                    "ShardCount": 2,
                    "RetentionPeriodHours": 48,
                    "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
                    "Tags": [{"Key": "team", "Value": "cmp"}],
                },
            },
            "Default": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}},  # CDK's new Stream()
            "Consumer": {
                "Type": "AWS::Kinesis::StreamConsumer",
                "Properties": {"ConsumerName": "fanout", "StreamARN": {"Fn::GetAtt": ["Provisioned", "Arn"]}},
            },
        },
        "Outputs": {
            "OnDemand": {"Value": {"Fn::GetAtt": ["OnDemand", "Arn"]}},
            "Provisioned": {"Value": {"Fn::GetAtt": ["Provisioned", "Arn"]}},
            "Default": {"Value": {"Fn::GetAtt": ["Default", "Arn"]}},
            "Consumer": {"Value": {"Fn::GetAtt": ["Consumer", "ConsumerARN"]}},
        },
    }
    out = deploy(cfn, unique_name, template)
    try:
        summary = lambda arn: kinesis.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]  # noqa: E731
        od, prov, default = summary(out["OnDemand"]), summary(out["Provisioned"]), summary(out["Default"])
        assert (od["StreamModeDetails"]["StreamMode"], od["OpenShardCount"]) == ("ON_DEMAND", 4)  # AWS starts with 4
        assert (prov["StreamModeDetails"]["StreamMode"], prov["OpenShardCount"]) == ("PROVISIONED", 2)
        assert prov["RetentionPeriodHours"] == 48
        assert (prov["EncryptionType"], prov["KeyId"]) == ("KMS", "alias/aws/kinesis")
        assert kinesis.list_tags_for_stream(StreamARN=out["Provisioned"])["Tags"] == [{"Key": "team", "Value": "cmp"}]
        assert (default["StreamModeDetails"]["StreamMode"], default["OpenShardCount"]) == ("PROVISIONED", 1)
        consumer = kinesis.describe_stream_consumer(ConsumerARN=out["Consumer"])["ConsumerDescription"]
        assert consumer["ConsumerStatus"] == "ACTIVE" and consumer["StreamARN"] == out["Provisioned"]
    finally:
        assert delete(cfn, unique_name) == "DELETE_COMPLETE"
    assert not [s for s in kinesis.list_streams()["StreamNames"] if s.startswith(unique_name)]
