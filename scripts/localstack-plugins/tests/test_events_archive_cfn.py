"""AWS::Events::Archive resource provider (cmp_localstack.events_archive_cfn), through the CloudFormation API of a live
LocalStack at LOCALSTACK_ENDPOINT started by scripts/localstack.sh (CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES=0).

Create (named, and with a generated name from CDK's rendering of ``new events.Archive`` / ``bus.archive``:
``KmsKeyIdentifier: ""``, ``RetentionDays: 0``), Ref/GetAtt, update in place, delete; an unsupported type still
fails the stack, so the archive's success is not the flag ignoring it. ~10 s.
"""

from __future__ import annotations

import json
import time

import pytest


def archive_template(retention: int, description: str, pattern: dict) -> str:
    bus_arn = {"Fn::GetAtt": ["Bus", "Arn"]}
    return json.dumps(
        {
            "Resources": {
                "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": {"Fn::Sub": "${AWS::StackName}-bus"}}},
                # as CDK renders new events.Archive(this, 'Orders', {sourceEventBus, eventPattern, retention})
                "OrdersArchive": {
                    "Type": "AWS::Events::Archive",
                    "Properties": {
                        "SourceArn": bus_arn,
                        "EventPattern": pattern,
                        "RetentionDays": retention,
                        "Description": description,
                        "KmsKeyIdentifier": "",
                    },
                },
                # as CDK renders bus.archive('All', {archiveName, eventPattern: {account: [...]}})
                "AllArchive": {
                    "Type": "AWS::Events::Archive",
                    "Properties": {
                        "ArchiveName": {"Fn::Sub": "${AWS::StackName}-all"},
                        "SourceArn": bus_arn,
                        "EventPattern": {"account": [{"Ref": "AWS::AccountId"}]},
                        "RetentionDays": 0,
                        "KmsKeyIdentifier": "",
                    },
                },
            },
            "Outputs": {
                "OrdersRef": {"Value": {"Ref": "OrdersArchive"}},
                "OrdersArn": {"Value": {"Fn::GetAtt": ["OrdersArchive", "Arn"]}},
                "AllArn": {"Value": {"Fn::GetAtt": ["AllArchive", "Arn"]}},
            },
        }
    )


def wait_for(cfn, stack: str, waiter: str) -> None:
    try:
        cfn.get_waiter(waiter).wait(StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    except Exception:  # noqa: BLE001 - show why
        reasons = [
            (e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason"))
            for e in cfn.describe_stack_events(StackName=stack)["StackEvents"][:6]
        ]
        pytest.fail(f"{stack}: {waiter} not reached: {reasons}")


def outputs(cfn, stack: str) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]}


@pytest.fixture
def cfn(aws_client, endpoint):
    return aws_client("cloudformation")


def test_archive_stack_create_update_delete(cfn, aws_client):
    events = aws_client("events")
    stack = f"cmp-arc-{time.time_ns() % 10**8}"
    cfn.create_stack(StackName=stack, TemplateBody=archive_template(2, "orders", {"source": ["orders"]}))
    wait_for(cfn, stack, "stack_create_complete")
    out = outputs(cfn, stack)
    name = out["OrdersRef"]
    assert name.startswith(f"{stack}-OrdersArchive-") and len(name) <= 48
    orders = events.describe_archive(ArchiveName=name)
    assert orders["ArchiveArn"] == out["OrdersArn"]
    assert orders["EventSourceArn"].endswith(f":event-bus/{stack}-bus")
    assert (orders["RetentionDays"], orders["Description"], orders["State"]) == (2, "orders", "ENABLED")
    assert json.loads(orders["EventPattern"]) == {"source": ["orders"]}
    all_ = events.describe_archive(ArchiveName=f"{stack}-all")
    assert all_["ArchiveArn"] == out["AllArn"] and json.loads(all_["EventPattern"]) == {"account": ["000000000000"]}

    cfn.update_stack(StackName=stack, TemplateBody=archive_template(7, "orders v2", {"source": ["orders", "refunds"]}))
    wait_for(cfn, stack, "stack_update_complete")
    updated = events.describe_archive(ArchiveName=name)  # in place: same name
    assert (updated["RetentionDays"], updated["Description"]) == (7, "orders v2")
    assert json.loads(updated["EventPattern"]) == {"source": ["orders", "refunds"]}
    # what the archive's rule archives follows the new pattern
    rule = events.describe_rule(Name=f"Events-Archive-{name}", EventBusName=f"{stack}-bus")
    assert json.loads(rule["EventPattern"])["source"] == ["orders", "refunds"]

    cfn.delete_stack(StackName=stack)
    wait_for(cfn, stack, "stack_delete_complete")
    left = [a["ArchiveName"] for a in events.list_archives(NamePrefix=stack)["Archives"]]
    assert left == []
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_archive(ArchiveName=name)


def test_an_unsupported_resource_type_still_fails_the_stack(cfn):
    stack = f"cmp-arc-neg-{time.time_ns() % 10**8}"
    pipe = {"RoleArn": "arn:aws:iam::000000000000:role/r", "Source": "arn:aws:sqs:us-east-1:000000000000:a",
            "Target": "arn:aws:sqs:us-east-1:000000000000:b"}
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps(
        {"Resources": {"Pipe": {"Type": "AWS::Pipes::Pipe", "Properties": pipe}}}))
    with pytest.raises(Exception):
        cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert described["StackStatus"] == "CREATE_FAILED"
    assert "AWS::Pipes::Pipe" in described["StackStatusReason"]
