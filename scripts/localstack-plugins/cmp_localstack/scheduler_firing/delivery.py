"""Sending a due schedule's payload to its target, and dead letters to its DLQ, with LocalStack's internal clients.

Clients: with the target's ``RoleArn`` assumed through LocalStack's STS (``connect_to.with_assumed_role``, as
LocalStack's EventBridge does for targets with a role, service principal ``scheduler``), so calls are made in
the role's account; with ``CMP_SCHEDULER_ASSUME_ROLE=0``, plain clients in the schedule's account. The
assumed-role factories are cached per role and region for 10 minutes.

Targets (templated, by ARN service):
  sqs      SendMessage(Input; SqsParameters.MessageGroupId; a FIFO queue also gets a MessageDeduplicationId
           derived from the schedule ARN and the scheduled time, so a retry is not a duplicate)
  lambda   Invoke(InvocationType=Event, Payload=Input)
  sns      Publish(Message=Input)
  events   PutEvents on the bus (EventBridgeParameters.Source / DetailType, Detail=Input)
  states   StartExecution(input=Input)
  kinesis  PutRecord(Data=Input, KinesisParameters.PartitionKey)
Universal targets ``arn:aws:scheduler:::aws-sdk:<service>:<apiAction>``: the action with Input as its JSON
parameters.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time

from botocore.config import Config
from botocore.exceptions import ClientError

LOG = logging.getLogger(__name__)

INTERNAL_ERROR_CODE = "AWS.Scheduler.InternalServerError"
INTERNAL_ERROR_MESSAGE = "Unexpected error occurred while processing the request"

# Errors that retrying cannot fix: dead-lettered at once, without EXHAUSTED_RETRY_CONDITION (as AWS documents for
# permanent errors). Everything else, a missing queue included (AWS's own DLQ example retries it), is retried.
PERMANENT_ERROR_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "AuthorizationError",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidParameterValue",
        "InvalidParameterException",
        "InvalidParameterCombination",
        "InvalidRequestContentException",
        "InvalidMessageContents",
        "MissingParameter",
        "ValidationException",
        "ValidationError",
        "AWS.SimpleQueueService.UnsupportedOperation",
        "KMSAccessDeniedException",
    }
)

# SQS's limit for a dead letter (body plus attributes); Scheduler truncates and flags IS_PAYLOAD_TRUNCATED
DLQ_BODY_LIMIT = 256 * 1024 - 8 * 1024

_CLIENT_CONFIG = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=60)
_UNIVERSAL_SERVICES = {"sfn": "stepfunctions"}
_FACTORY_TTL = 600.0


class DeliveryError(Exception):
    def __init__(self, code: str, message: str, retryable: bool = True):
        super().__init__(f"{code}: {message}")
        self.code = code or INTERNAL_ERROR_CODE
        self.message = message or INTERNAL_ERROR_MESSAGE
        self.retryable = retryable


def _arn_parts(arn: str) -> list[str]:
    parts = (arn or "").split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        raise DeliveryError(INTERNAL_ERROR_CODE, f"not an ARN: {arn!r}", retryable=False)
    return parts


class Deliverer:
    def __init__(self):
        self._factories: dict[tuple[str, str, str], tuple[float, object]] = {}
        self._lock = threading.Lock()
        self.assume_role = os.environ.get("CMP_SCHEDULER_ASSUME_ROLE", "1").strip().lower() not in ("0", "false", "no")

    # --- clients --------------------------------------------------------------------------------------------
    def _factory(self, role_arn: str | None, account_id: str, region: str):
        from localstack.aws.connect import connect_to

        if not (self.assume_role and role_arn):
            return connect_to(aws_access_key_id=account_id, region_name=region, config=_CLIENT_CONFIG)
        key = (role_arn, region, account_id)
        now = time.monotonic()
        with self._lock:
            cached = self._factories.get(key)
            if cached and now - cached[0] < _FACTORY_TTL:
                return cached[1]
        try:
            factory = connect_to.with_assumed_role(
                role_arn=role_arn, service_principal="scheduler", region_name=region, config=_CLIENT_CONFIG
            )
        except ClientError as e:
            err = e.response.get("Error", {})
            code = err.get("Code") or "AccessDenied"
            raise DeliveryError(code, err.get("Message") or str(e), retryable=code not in PERMANENT_ERROR_CODES) from e
        with self._lock:
            self._factories[key] = (now, factory)
        return factory

    def _client(self, service: str, role_arn: str | None, account_id: str, region: str, source_arn: str):
        client = getattr(self._factory(role_arn, account_id, region), service)
        return client.request_metadata(service_principal="scheduler", source_arn=source_arn)

    def clear(self) -> None:
        with self._lock:
            self._factories.clear()

    # --- target ---------------------------------------------------------------------------------------------
    def deliver(self, *, target: dict, body: str, schedule_arn: str, account_id: str, region: str, dedup: str) -> None:
        """Sends ``body`` to the target; raises DeliveryError."""
        try:
            self._deliver(target, body, schedule_arn, account_id, region, dedup)
        except DeliveryError:
            raise
        except ClientError as e:
            err = e.response.get("Error", {})
            code = err.get("Code") or INTERNAL_ERROR_CODE
            raise DeliveryError(code, err.get("Message") or str(e), retryable=code not in PERMANENT_ERROR_CODES) from e
        except Exception as e:  # noqa: BLE001 - connection errors and the like: Scheduler's own failure
            LOG.warning("schedule %s: target %s failed: %r", schedule_arn, target.get("Arn"), e)
            raise DeliveryError(INTERNAL_ERROR_CODE, INTERNAL_ERROR_MESSAGE, retryable=True) from e

    def _deliver(self, target: dict, body: str, schedule_arn: str, account_id: str, region: str, dedup: str) -> None:
        arn = target.get("Arn") or ""
        role = target.get("RoleArn")
        parts = _arn_parts(arn)
        service, t_region, t_account, resource = parts[2], parts[3] or region, parts[4] or account_id, parts[5]

        def client(name: str, reg: str = t_region):
            return self._client(name, role, t_account, reg, schedule_arn)

        if service == "scheduler" and resource.startswith("aws-sdk:"):
            return self._universal(resource, body, role, account_id, region, schedule_arn)
        if service == "sqs":
            sqs = client("sqs")
            url = sqs.get_queue_url(QueueName=resource, QueueOwnerAWSAccountId=t_account)["QueueUrl"]
            kwargs = {"QueueUrl": url, "MessageBody": body}
            group = (target.get("SqsParameters") or {}).get("MessageGroupId")
            if group:
                kwargs["MessageGroupId"] = group
            if resource.endswith(".fifo"):
                kwargs["MessageDeduplicationId"] = dedup
            sqs.send_message(**kwargs)
            return None
        if service == "lambda":
            client("lambda").invoke(FunctionName=arn, InvocationType="Event", Payload=body.encode("utf-8"))
            return None
        if service == "sns":
            client("sns").publish(TopicArn=arn, Message=body)
            return None
        if service == "events":
            params = target.get("EventBridgeParameters") or {}
            res = client("events").put_events(
                Entries=[
                    {
                        "EventBusName": arn,
                        "Source": params.get("Source") or "aws.scheduler",
                        "DetailType": params.get("DetailType") or "Scheduled Event",
                        "Detail": body,
                        "Resources": [schedule_arn],
                    }
                ]
            )
            if res.get("FailedEntryCount"):
                entry = (res.get("Entries") or [{}])[0]
                raise DeliveryError(entry.get("ErrorCode") or INTERNAL_ERROR_CODE, entry.get("ErrorMessage") or "")
            return None
        if service == "states":
            client("stepfunctions").start_execution(stateMachineArn=arn, input=body)
            return None
        if service == "kinesis":
            key = (target.get("KinesisParameters") or {}).get("PartitionKey") or dedup
            client("kinesis").put_record(StreamARN=arn, Data=body.encode("utf-8"), PartitionKey=key)
            return None
        raise DeliveryError(
            INTERNAL_ERROR_CODE, f"target service {service!r} is not supported by the LocalStack firing plugin", False
        )

    def _universal(self, resource: str, body: str, role, account_id: str, region: str, schedule_arn: str) -> None:
        from botocore import xform_name

        _, service, action = (resource.split(":") + ["", ""])[:3]
        service = _UNIVERSAL_SERVICES.get(service.lower(), service.lower())
        try:
            params = json.loads(body) if body.strip() else {}
        except ValueError as e:
            raise DeliveryError("ValidationException", f"Input is not JSON: {e}", retryable=False) from e
        if not isinstance(params, dict):
            raise DeliveryError("ValidationException", "Input must be a JSON object", retryable=False)
        client = self._client(service, role, account_id, region, schedule_arn)
        method = getattr(client, xform_name(action), None)
        if method is None:
            raise DeliveryError("ValidationException", f"unknown action {service}:{action}", retryable=False)
        method(**params)

    # --- dead letters ---------------------------------------------------------------------------------------
    def dead_letter(
        self,
        *,
        dlq_arn: str,
        role_arn: str | None,
        body: str,
        attributes: dict[str, str],
        account_id: str,
        region: str,
        schedule_arn: str,
    ) -> bool:
        """Sends a dead letter with Scheduler's attributes; False (and an error log) when it cannot."""
        truncated = len(body.encode("utf-8")) > DLQ_BODY_LIMIT
        if truncated:
            body = body.encode("utf-8")[:DLQ_BODY_LIMIT].decode("utf-8", errors="ignore")
        attrs = dict(attributes, IS_PAYLOAD_TRUNCATED="true" if truncated else "false")
        message_attributes = {
            k: {"DataType": "String", "StringValue": str(v) if str(v) != "" else "-"} for k, v in attrs.items()
        }
        try:
            parts = _arn_parts(dlq_arn)
            d_region, d_account, name = parts[3] or region, parts[4] or account_id, parts[5]
            sqs = self._client("sqs", role_arn, d_account, d_region, schedule_arn)
            url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=d_account)["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=body or "{}", MessageAttributes=message_attributes)
            return True
        except Exception as e:  # noqa: BLE001
            LOG.error("schedule %s: could not send the dead letter to %s, the event is lost: %s", schedule_arn, dlq_arn, e)
            return False


def dedup_id(schedule_arn: str, scheduled_time: str) -> str:
    return hashlib.sha256(f"{schedule_arn}|{scheduled_time}".encode()).hexdigest()[:64]
