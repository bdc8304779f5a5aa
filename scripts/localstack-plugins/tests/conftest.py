"""Shared fixtures for the LocalStack plugin tests (run against a live LocalStack).

Start one with `bash scripts/localstack.sh start`, then run the tests with the venv's python:
`.venv-localstack/bin/python -m pytest scripts/localstack-plugins/tests -q`.

Endpoint: LOCALSTACK_ENDPOINT (default http://127.0.0.1:4566). Clients use dummy credentials and
region us-east-1. Keep this file generic: it is shared by the test modules of all plugins.
"""

from __future__ import annotations

import os
import time
import urllib.request
import uuid

import boto3
import pytest
from botocore.config import Config

REGION = "us-east-1"
ACCOUNT_ID = "000000000000"


def _endpoint() -> str:
    return os.environ.get("LOCALSTACK_ENDPOINT", "").strip().rstrip("/") or "http://127.0.0.1:4566"


@pytest.fixture(scope="session")
def endpoint() -> str:
    """The LocalStack endpoint; fails the session early when it is not healthy."""
    url = _endpoint()
    try:
        with urllib.request.urlopen(f"{url}/_localstack/health", timeout=5) as resp:
            body = resp.read().decode()
    except OSError as e:
        pytest.exit(
            f"LocalStack is not reachable at {url} ({e}); start it: bash scripts/localstack.sh start", 2
        )
    if '"services"' not in body:
        pytest.exit(f"{url}/_localstack/health does not look like LocalStack: {body[:200]}", 2)
    return url


@pytest.fixture(scope="session")
def aws_client(endpoint):
    """Factory: aws_client("sqs") -> a boto3 client for LocalStack (cached per service)."""
    cache: dict[str, object] = {}
    config = Config(retries={"max_attempts": 2, "mode": "standard"}, read_timeout=120, connect_timeout=5)

    def make(service: str):
        if service not in cache:
            cache[service] = boto3.client(
                service,
                endpoint_url=endpoint,
                region_name=REGION,
                aws_access_key_id="test",
                aws_secret_access_key="test",
                config=config,
            )
        return cache[service]

    return make


@pytest.fixture
def unique_name(request) -> str:
    """A resource name unique per test: cmp-<test name>-<8 hex>, at most 60 chars."""
    base = request.node.name.replace("test_", "").replace("[", "-").replace("]", "")
    safe = "".join(c if c.isalnum() or c == "-" else "-" for c in base)[:40].strip("-")
    return f"cmp-{safe}-{uuid.uuid4().hex[:8]}"


def _wait_until(predicate, timeout: float = 30.0, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {message} (last value: {last!r})")


@pytest.fixture(scope="session")
def wait_until():
    """wait_until(predicate, timeout=30, interval=0.2, message=...): poll until truthy, return the
    value, or fail the test after ``timeout`` seconds."""
    return _wait_until


def _drain(sqs, url: str, wait: float = 2.0, expect: int | None = None) -> list[dict]:
    messages, deadline = [], time.monotonic() + wait
    while time.monotonic() < deadline and (expect is None or len(messages) < expect):
        res = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        for m in res.get("Messages", []):
            messages.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return messages


@pytest.fixture(scope="session")
def drain():
    """drain(sqs, url, wait=2, expect=None): receives and deletes messages (all attributes) for ``wait`` seconds or
    until ``expect`` arrived; returns them. Use it to assert that nothing (more) arrives, too."""
    return _drain
