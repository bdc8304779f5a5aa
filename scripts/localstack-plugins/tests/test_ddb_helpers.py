"""Shared helpers and fixtures for the test_ddb_* suites (no tests in here). Import with ``from test_ddb_helpers import ...``
(pytest's default rootdir/prepend import mode puts this directory on sys.path; tests/ has no __init__.py).

Every suite runs against a live LocalStack started with PROVIDER_OVERRIDE_DYNAMODB=moto and
PROVIDER_OVERRIDE_DYNAMODBSTREAMS=moto; endpoint from LOCALSTACK_ENDPOINT (default http://127.0.0.1:4566).
"""

import json
import os
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ.get("LOCALSTACK_ENDPOINT", "").strip().rstrip("/") or "http://127.0.0.1:4566"  # as conftest.py
REGION = "eu-west-1"
ACCOUNT = "000000000000"

_BOTO_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=64)


def client(service: str, region: str = REGION, account: str = ACCOUNT, **config):
    cfg = _BOTO_CONFIG.merge(Config(**config)) if config else _BOTO_CONFIG
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=region,
        aws_access_key_id=account,  # LocalStack derives the account from a 12-digit access key id
        aws_secret_access_key="test",
        config=cfg,
    )


def http(method: str, path: str, body: bytes | None = None) -> tuple[int, dict | str]:
    req = urllib.request.Request(ENDPOINT + path, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode(errors="replace")


def require_localstack() -> None:
    try:
        status, health = http("GET", "/_localstack/health")
    except OSError as e:
        pytest.fail(f"LocalStack is not reachable at {ENDPOINT}: {e}", pytrace=False)
    assert status == 200, health


@pytest.fixture(scope="module")
def ddb():
    """A DynamoDB client for the live LocalStack (fails the module when it is not reachable)."""
    require_localstack()
    return client("dynamodb")


@pytest.fixture
def table(ddb):
    """hash-key table with a NEW_AND_OLD_IMAGES stream, deleted afterwards"""
    desc = create_table(ddb)
    yield desc
    try:
        ddb.delete_table(TableName=desc["TableName"])
    except ClientError:
        pass


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_table(
    ddb,
    name: str | None = None,
    *,
    range_key: str | None = None,
    stream: str | None = "NEW_AND_OLD_IMAGES",
    gsi: bool = False,
):
    name = name or unique("t")
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    if range_key:
        attrs.append({"AttributeName": range_key, "AttributeType": "S"})
        keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
    params = dict(
        TableName=name, AttributeDefinitions=attrs, KeySchema=keys, BillingMode="PAY_PER_REQUEST"
    )
    if gsi:
        attrs += [
            {"AttributeName": "gsi_pk", "AttributeType": "S"},
            {"AttributeName": "gsi_sk", "AttributeType": "N"},
        ]
        params["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "by-gsi",
                "KeySchema": [
                    {"AttributeName": "gsi_pk", "KeyType": "HASH"},
                    {"AttributeName": "gsi_sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
    if stream:
        params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream}
    return ddb.create_table(**params)["TableDescription"]


def shard_iterator(streams, stream_arn: str, kind: str = "TRIM_HORIZON", **kwargs) -> str:
    shard_id = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    return streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType=kind, **kwargs
    )["ShardIterator"]


def drain(streams, iterator: str, max_calls: int = 20) -> tuple[list[dict], str | None]:
    """GetRecords until an empty page; -> (records, next iterator or None if the shard is closed)."""
    records = []
    for _ in range(max_calls):
        resp = streams.get_records(ShardIterator=iterator)
        records += resp["Records"]
        nxt = resp.get("NextShardIterator")
        if nxt is None:
            return records, None
        iterator = nxt
        if not resp["Records"]:
            break
    return records, iterator

