"""AWS::CloudWatch::Dashboard resource provider (cmp_localstack.cloudwatch_dashboard_cfn), through the CloudFormation
API of a live LocalStack at LOCALSTACK_ENDPOINT started by scripts/localstack.sh (CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES=0).

Create with a generated name (as CDK renders a dashboard without dashboardName) and a given one, Ref, update of the
body in place, delete. ~5 s.
"""

from __future__ import annotations

import json
import time

import pytest


def dashboard_template(title: str) -> str:
    body = {"widgets": [{"type": "text", "x": 0, "y": 0, "width": 24, "height": 1, "properties": {"markdown": title}}]}
    return json.dumps(
        {
            "Resources": {
                "OpsDashboard": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {"DashboardBody": json.dumps(body)}},
                "Named": {
                    "Type": "AWS::CloudWatch::Dashboard",
                    "Properties": {"DashboardName": {"Fn::Sub": "${AWS::StackName}-named"}, "DashboardBody": json.dumps(body)},
                },
            },
            "Outputs": {"OpsRef": {"Value": {"Ref": "OpsDashboard"}}},
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


def markdown(cloudwatch, name: str) -> str:
    return json.loads(cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"])["widgets"][0]["properties"]["markdown"]


def test_dashboard_stack_create_update_delete(aws_client):
    cfn = aws_client("cloudformation")
    cloudwatch = aws_client("cloudwatch")
    stack = f"cmp-dash-{time.time_ns() % 10**8}"
    cfn.create_stack(StackName=stack, TemplateBody=dashboard_template("first"))
    wait_for(cfn, stack, "stack_create_complete")
    name = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]}["OpsRef"]
    assert name.startswith(f"{stack}-OpsDashboard-")
    assert markdown(cloudwatch, name) == "first"
    assert markdown(cloudwatch, f"{stack}-named") == "first"

    cfn.update_stack(StackName=stack, TemplateBody=dashboard_template("second"))
    wait_for(cfn, stack, "stack_update_complete")
    assert markdown(cloudwatch, name) == "second"  # in place: same name

    cfn.delete_stack(StackName=stack)
    wait_for(cfn, stack, "stack_delete_complete")
    left = [d["DashboardName"] for d in cloudwatch.list_dashboards(DashboardNamePrefix=stack)["DashboardEntries"]]
    assert left == []
