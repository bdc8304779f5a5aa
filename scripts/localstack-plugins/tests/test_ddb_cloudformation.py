"""T13/T14: CloudFormation AWS::DynamoDB::Table and AWS::DynamoDB::GlobalTable deploy inside LocalStack, whose
resource providers call the (moto-backed) dynamodb provider through the gateway."""

import json
import time

import pytest
from botocore.exceptions import ClientError
from test_ddb_helpers import ACCOUNT, REGION, client, require_localstack, unique

TERMINAL = ("_COMPLETE", "_FAILED")


@pytest.fixture(scope="module")
def cfn():
    require_localstack()
    return client("cloudformation")


@pytest.fixture(scope="module")
def ddb():
    return client("dynamodb")


def wait_stack(cfn, name: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if status.endswith(TERMINAL) and "IN_PROGRESS" not in status:
            return stack
        assert time.monotonic() < deadline, f"stack {name} stuck in {status}"
        time.sleep(0.3)


def failure_events(cfn, name: str) -> list[str]:
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    return [
        f"{e['LogicalResourceId']}: {e['ResourceStatus']} {e.get('ResourceStatusReason', '')}"
        for e in events
        if "FAILED" in e["ResourceStatus"]
    ]


def deploy(cfn, name: str, template: dict) -> dict:
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    stack = wait_stack(cfn, name)
    assert stack["StackStatus"] == "CREATE_COMPLETE", failure_events(cfn, name)
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def delete(cfn, name: str) -> str:
    cfn.delete_stack(StackName=name)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        except ClientError:
            return "DELETE_COMPLETE"  # stack gone
        if status in ("DELETE_COMPLETE", "DELETE_FAILED"):
            return status
        time.sleep(0.3)
    return "TIMEOUT"


def test_t13_table_with_gsi_ttl_stream(cfn, ddb):
    stack = unique("ddb-cfn")
    table_name = unique("cfn-orders")
    template = {
        "Resources": {
            "Orders": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "TableName": table_name,
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [
                        {"AttributeName": "pk", "AttributeType": "S"},
                        {"AttributeName": "sk", "AttributeType": "S"},
                        {"AttributeName": "status", "AttributeType": "S"},
                    ],
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                    "GlobalSecondaryIndexes": [
                        {
                            "IndexName": "by-status",
                            "KeySchema": [
                                {"AttributeName": "status", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"},
                            ],
                            "Projection": {"ProjectionType": "ALL"},
                        }
                    ],
                    "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
                    "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True},
                    "Tags": [{"Key": "project", "Value": "cdk-messaging-patterns"}],
                },
            },
            # PROVISIONED (the default BillingMode), throughput as strings like CDK synthesises them.
            # (Without ProvisionedThroughput it fails like on AWS: LocalStack's resource provider only
            # defaults 5/5 when the property is present, so CreateTable gets no throughput.)
            "Provisioned": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                    "ProvisionedThroughput": {"ReadCapacityUnits": "3", "WriteCapacityUnits": "2"},
                },
            },
        },
        "Outputs": {
            "TableName": {"Value": {"Ref": "Orders"}},
            "TableArn": {"Value": {"Fn::GetAtt": ["Orders", "Arn"]}},
            "StreamArn": {"Value": {"Fn::GetAtt": ["Orders", "StreamArn"]}},
            "ProvisionedName": {"Value": {"Ref": "Provisioned"}},
        },
    }
    outputs = deploy(cfn, stack, template)
    try:
        assert outputs["TableName"] == table_name
        desc = ddb.describe_table(TableName=table_name)["Table"]
        assert outputs["TableArn"] == desc["TableArn"] == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table_name}"
        assert outputs["StreamArn"] == desc["LatestStreamArn"]
        assert desc["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        assert [g["IndexName"] for g in desc["GlobalSecondaryIndexes"]] == ["by-status"]
        assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        ttl = ddb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}
        tags = ddb.list_tags_of_resource(ResourceArn=desc["TableArn"])["Tags"]
        assert {"Key": "project", "Value": "cdk-messaging-patterns"} in tags

        prov = ddb.describe_table(TableName=outputs["ProvisionedName"])["Table"]
        assert prov["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
        assert prov["ProvisionedThroughput"]["WriteCapacityUnits"] == 2
        assert prov["BillingModeSummary"]["BillingMode"] == "PROVISIONED"

        # the deployed table is usable: GSI query, stream
        ddb.put_item(TableName=table_name, Item={"pk": {"S": "o1"}, "sk": {"S": "1"}, "status": {"S": "OPEN"}})
        r = ddb.query(
            TableName=table_name,
            IndexName="by-status",
            KeyConditionExpression="#s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "OPEN"}},
        )
        assert [i["pk"]["S"] for i in r["Items"]] == ["o1"]
        streams = client("dynamodbstreams")
        sd = streams.describe_stream(StreamArn=outputs["StreamArn"])["StreamDescription"]
        assert sd["StreamStatus"] == "ENABLED"
    finally:
        status = delete(cfn, stack)
    assert status == "DELETE_COMPLETE"
    for name in (table_name, outputs["ProvisionedName"]):
        with pytest.raises(ClientError) as e:
            ddb.describe_table(TableName=name)
        assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_t14_global_table_single_region(cfn, ddb):
    """What CDK TableV2 emits. LocalStack's handler reads TableDescription.TableId (moto has none: injected)."""
    stack = unique("ddb-gt")
    table_name = unique("cfn-global")
    template = {
        "Resources": {
            "Global": {
                "Type": "AWS::DynamoDB::GlobalTable",
                "Properties": {
                    "TableName": table_name,
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [
                        {"AttributeName": "pk", "AttributeType": "S"},
                        {"AttributeName": "gpk", "AttributeType": "S"},
                    ],
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "GlobalSecondaryIndexes": [
                        {
                            "IndexName": "by-gpk",
                            "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"}],
                            "Projection": {"ProjectionType": "KEYS_ONLY"},
                        }
                    ],
                    "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
                    "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
                    "Replicas": [{"Region": REGION}],
                },
            }
        },
        "Outputs": {
            "Name": {"Value": {"Ref": "Global"}},
            "Arn": {"Value": {"Fn::GetAtt": ["Global", "Arn"]}},
            "StreamArn": {"Value": {"Fn::GetAtt": ["Global", "StreamArn"]}},
            "TableId": {"Value": {"Fn::GetAtt": ["Global", "TableId"]}},
        },
    }
    outputs = deploy(cfn, stack, template)
    try:
        desc = ddb.describe_table(TableName=table_name)["Table"]
        assert outputs["Name"] == table_name
        assert outputs["Arn"] == desc["TableArn"]
        assert outputs["StreamArn"] == desc["LatestStreamArn"]
        assert outputs["TableId"] == desc["TableId"]
        assert ddb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
    finally:
        status = delete(cfn, stack)
    assert status == "DELETE_COMPLETE"
    with pytest.raises(ClientError):
        ddb.describe_table(TableName=table_name)
