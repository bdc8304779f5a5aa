"""What the broker pollers share."""

from __future__ import annotations

import base64
import json
import logging
import os
import time
import uuid
from datetime import datetime, timezone

from localstack.services.lambda_.event_source_mapping.event_processor import (
    BatchFailureError,
    PartialBatchFailureError,
)
from localstack.services.lambda_.event_source_mapping.pipe_utils import get_internal_client
from localstack.services.lambda_.event_source_mapping.pollers.poller import EmptyPollResultsException, Poller
from localstack.utils.aws.arns import parse_arn, s3_bucket_name, sqs_queue_url_for_arn

LOG = logging.getLogger(__name__)

DEFAULT_BATCHING_WINDOW = 0.5  # seconds: AWS's default for Kafka and Amazon MQ when the mapping sets none


def env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name) or default)
    except ValueError:
        return default


def b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


def access_configs(esm_config: dict) -> dict[str, str]:
    """``SourceAccessConfigurations`` as {Type: URI} (VPC_SUBNET/VPC_SECURITY_GROUP appear more than once: unused)."""
    return {c["Type"]: c.get("URI", "") for c in esm_config.get("SourceAccessConfigurations") or []}


def secret_credentials(secret_arn: str) -> tuple[str, str]:
    """``{"username", "password"}`` of a Secrets Manager secret in LocalStack (how AWS's pollers authenticate)."""
    value = get_internal_client(secret_arn).get_secret_value(SecretId=secret_arn)["SecretString"]
    secret = json.loads(value)
    return secret["username"], secret["password"]


def batching_window(esm_config: dict) -> float:
    return float(esm_config.get("MaximumBatchingWindowInSeconds") or DEFAULT_BATCHING_WINDOW)


class Invocation:
    """The outcome of one invoke: ``ok``, or ``failed`` with LocalStack's error payload (for on-failure records) and,
    for a partial batch response, the function's payload."""

    def __init__(self, ok: bool, error: dict | None = None, partial: dict | None = None):
        self.ok = ok
        self.error = error or {}
        self.partial = partial


def invoke(processor, event: dict) -> Invocation:
    try:
        processor.process_events_batch(event)
        return Invocation(True)
    except PartialBatchFailureError as e:
        return Invocation(False, e.error, e.partial_failure_payload or {})
    except BatchFailureError as e:
        return Invocation(False, e.error)
    except Exception as e:  # noqa: BLE001 - the function could not be invoked at all (e.g. deleted): retried like an error
        LOG.warning("invoking %s failed: %s", processor.sender.target_arn, e)
        return Invocation(False, {"functionError": type(e).__name__})


class BrokerPoller(Poller):
    """A poller that reads a broker, not an AWS API. ``poll_events`` never raises anything but
    ``EmptyPollResultsException`` (LocalStack's worker backs off 1 -> LAMBDA_EVENT_SOURCE_MAPPING_MAX_BACKOFF_ON_EMPTY_POLL_SEC
    s): its error path parses ``EventSourceArn``, which a self-managed Kafka mapping does not have, and the polling
    thread would die. Broker errors are logged and the connection rebuilt at the next poll."""

    def __init__(self, esm_config: dict, arn: str | None, client, processor):
        super().__init__(
            source_arn=arn or None,
            source_parameters={"FilterCriteria": esm_config.get("FilterCriteria") or {}},
            source_client=client,
            processor=processor,
        )
        if not arn:
            self.source_arn = None
            self.aws_region = None
        self.esm_config = esm_config
        self.last_error = ""  # logged once until it changes (a wrong password would log every back-off)
        # AWS sends Kafka and MQ events as they are, not wrapped in {"Records": [...]}
        processor.sender.payload_dict = False

    @property
    def label(self) -> str:
        return self.source_arn or ",".join(self.bootstrap_servers_of_config())

    def bootstrap_servers_of_config(self) -> list[str]:
        return (self.esm_config.get("SelfManagedEventSource") or {}).get("Endpoints", {}).get("KAFKA_BOOTSTRAP_SERVERS", [])

    def poll_events(self) -> None:
        try:
            self.poll_broker()
        except EmptyPollResultsException:
            raise
        except Exception as e:  # noqa: BLE001
            error = f"{type(e).__name__}: {e}"
            log = LOG.debug if error == self.last_error else LOG.warning
            log("event source mapping %s (%s): %s", self.esm_config.get("UUID"), self.label, error,
                exc_info=LOG.isEnabledFor(logging.DEBUG))
            self.last_error = error
            self.disconnect()
            raise EmptyPollResultsException(service=self.event_source(), source_arn=self.label) from e
        self.last_error = ""

    def empty(self) -> EmptyPollResultsException:
        return EmptyPollResultsException(service=self.event_source(), source_arn=self.label)

    def close(self) -> None:
        self.disconnect()

    def poll_broker(self) -> None:
        raise NotImplementedError

    def disconnect(self) -> None:
        raise NotImplementedError

    def matching(self, items: list[dict], view) -> list[dict]:
        """The items whose ``view(item)`` (the item with its payload decoded as JSON: what AWS filters on) matches
        the mapping's FilterCriteria. The others count as processed, as on AWS."""
        if not self.filter_patterns:
            return items
        return [item for item in items if self.filter_events([view(item)])]


def json_view(data_b64: str | None):
    """A base64 payload as AWS's filters see it: parsed JSON when it is JSON, else the plain string."""
    if data_b64 is None:
        return None
    raw = base64.b64decode(data_b64)
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------------------------------
# retries and on-failure destinations (Kafka)


def retry_delay(failures: int) -> float:
    """Back-off before retry ``failures`` (1, 2, 4 ... s, at most CMP_BROKERS_ESM_RETRY_MAX_SECONDS, default 10)."""
    base = env_float("CMP_BROKERS_ESM_RETRY_BASE_SECONDS", 1.0)
    return min(base * 2 ** (failures - 1), env_float("CMP_BROKERS_ESM_RETRY_MAX_SECONDS", 10.0))


def iso_millis(epoch_ms: float) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def send_to_destination(destination_arn: str, record: dict, s3_key: str, payload: dict) -> None:
    """An on-failure record to SQS, SNS or S3 (S3 objects also carry the invocation payload), as Lambda sends it."""
    service = parse_arn(destination_arn)["service"]
    client = get_internal_client(destination_arn)
    if service == "sqs":
        client.send_message(QueueUrl=sqs_queue_url_for_arn(destination_arn), MessageBody=json.dumps(record))
    elif service == "sns":
        client.publish(TopicArn=destination_arn, Message=json.dumps(record))
    elif service == "s3":
        client.put_object(Bucket=s3_bucket_name(destination_arn), Key=s3_key, Body=json.dumps({**record, "payload": payload}))
    else:
        LOG.warning("unsupported on-failure destination %s: record dropped", destination_arn)


def s3_failure_key(esm_uuid: str, part: str) -> str:
    now = datetime.now(timezone.utc)
    return f"aws/lambda/{esm_uuid}/{part}/{now:%Y/%m/%d/%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}"


def now_ms() -> int:
    return int(time.time() * 1000)
