"""Delivering a matched event to a rule target with the target's RetryPolicy and DeadLetterConfig.

LocalStack 4.13.1 stores both and never reads them: a failed delivery is logged and the event is lost. EventBridge
(user guide, "Event retry policy and using dead-letter queues"):

* only retriable errors are retried - throttling (HTTP 429), service errors (5xx), connection failures and
  timeouts - with exponential backoff and jitter, by default up to 185 times within 24 hours; a target's
  ``RetryPolicy`` lowers ``MaximumRetryAttempts`` and ``MaximumEventAgeInSeconds``, whichever runs out first;
* other errors are not retried: a target that does not exist (``NO_RESOURCE``), missing permissions
  (``NO_PERMISSIONS``), an invalid request (``INVALID_PARAMETER``, other 4xx ``SDK_CLIENT_ERROR``);
* then the event - as the rule matched it, not the target's Input/InputPath/InputTransformer output - goes to
  ``DeadLetterConfig.Arn`` (a standard SQS queue) with the message attributes ``RULE_ARN``, ``TARGET_ARN``,
  ``ERROR_CODE``, ``ERROR_MESSAGE``, ``RETRY_ATTEMPTS`` and, when a retry limit ended the delivery,
  ``EXHAUSTED_RETRY_CONDITION`` (``MaximumRetryAttempts`` | ``MaximumEventAgeInSeconds``); without one it is dropped.

A Lambda target is invoked asynchronously (``InvocationType=Event``, as LocalStack and AWS do): an error of the
function itself is not a delivery failure but Lambda's asynchronous retries and destinations.

Locally the n-th retry waits ``d/2 + random(0, d/2)`` with ``d = min(base * 2^(n-1), max)``:
``CMP_EVENTS_TARGET_RETRY_BASE_SECONDS`` (default 0.2) and ``CMP_EVENTS_TARGET_RETRY_MAX_SECONDS`` (default 3).
The first attempt runs on the thread that matched the rule (LocalStack's, not PutEvents' own); retries wait in one
timer thread ("cmp-events-retry") and run on a pool of 4 threads. Retries live in memory: a restart or a state reset
forgets them.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import logging
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

LOG = logging.getLogger(__name__)

DEFAULT_MAX_RETRIES = 185
DEFAULT_MAX_AGE = 86400

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "ProvisionedThroughputExceededException",
        "KMSThrottlingException",
    }
)
NOT_FOUND_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "NotFound",
        "NotFoundException",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "StateMachineDoesNotExist",
    }
)
PERMISSION_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "AuthorizationError", "KMSAccessDeniedException", "KMSDisabledException"}
)
INVALID_PARAMETER_CODES = frozenset(
    {
        "InvalidParameter",
        "InvalidParameterException",
        "InvalidParameterValue",
        "InvalidParameterValueException",
        "MissingParameter",
        "InvalidMessageContents",
        "InvalidRequestContentException",
        "InvalidExecutionInput",
        "InvalidArn",
        "ValidationException",
        "ValidationError",
    }
)


@dataclass(frozen=True)
class Failure:
    code: str  # EventBridge's ERROR_CODE
    message: str
    retryable: bool


def _env_seconds(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, "") or default)
    except ValueError:
        return default
    return value if value >= 0 else default


def classify(error: BaseException) -> Failure:
    """The EventBridge error code of a failed target call, and whether EventBridge retries it."""
    from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError, ReadTimeoutError
    from requests.exceptions import ConnectionError as RequestsConnectionError, Timeout

    from localstack.aws.api import ServiceException

    if isinstance(error, (ReadTimeoutError, Timeout)):
        return Failure("TIMEOUT", str(error), True)
    if isinstance(error, (BotoConnectionError, RequestsConnectionError)):
        return Failure("CONNECTION_FAILURE", str(error), True)
    if isinstance(error, ClientError):
        err = error.response.get("Error", {})
        code, message = err.get("Code") or "", err.get("Message") or str(error)
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    elif isinstance(error, ServiceException):  # raised inside LocalStack, e.g. by a target's input validation
        code, message, status = error.code, error.message, error.status_code
    elif isinstance(error, NotImplementedError):  # a target type LocalStack community does not deliver to
        return Failure("INTERNAL_ERROR", str(error) or "target type not supported", False)
    else:
        return Failure("INTERNAL_ERROR", f"{type(error).__name__}: {error}", True)
    if status == 429 or code in THROTTLING_CODES:
        return Failure("THROTTLING", message, True)
    if status >= 500:
        return Failure("INTERNAL_ERROR", message, True)
    if status == 404 or code in NOT_FOUND_CODES:
        return Failure("NO_RESOURCE", message, False)
    if status == 403 or code in PERMISSION_CODES:
        return Failure("NO_PERMISSIONS", message, False)
    if code in INVALID_PARAMETER_CODES:
        return Failure("INVALID_PARAMETER", message, False)
    return Failure("SDK_CLIENT_ERROR", f"{code}: {message}" if code else message, False)


@dataclass
class Delivery:
    sender: object  # LocalStack's TargetSender of the rule's target
    event: dict  # the event as the rule matched it
    trace_header: object
    started: float  # clock() at the first attempt
    attempts: int = 0
    seq: int = field(default_factory=itertools.count().__next__)


class Deliverer:
    def __init__(self, clock=time.monotonic, dead_letter=None):
        self.clock = clock
        self.base = _env_seconds("CMP_EVENTS_TARGET_RETRY_BASE_SECONDS", 0.2)
        self.max = max(self.base, _env_seconds("CMP_EVENTS_TARGET_RETRY_MAX_SECONDS", 3.0))
        self.dead_letter = dead_letter or send_dead_letter
        self._due: list[tuple[float, int, Delivery]] = []
        self._wake = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    def deliver(self, sender, event: dict, trace_header) -> None:
        self.attempt(Delivery(sender, event, trace_header, started=self.clock()))

    def attempt(self, delivery: Delivery) -> None:
        delivery.attempts += 1
        try:
            # process_event applies Input/InputPath/InputTransformer and pops the bus-name helper field: a copy each time
            delivery.sender.process_event(copy.deepcopy(delivery.event), delivery.trace_header)
            return
        except Exception as e:  # noqa: BLE001 - every failure is classified
            failure = classify(e)
        target = delivery.sender.target
        exhausted = None
        if failure.retryable:
            policy = target.get("RetryPolicy") or {}
            max_retries = policy.get("MaximumRetryAttempts", DEFAULT_MAX_RETRIES)
            max_age = policy.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE)
            delay = self.backoff(delivery.attempts)
            if delivery.attempts > max_retries:
                exhausted = "MaximumRetryAttempts"
            elif self.clock() + delay - delivery.started > max_age:
                exhausted = "MaximumEventAgeInSeconds"
            else:
                LOG.info(
                    "events:parity: %s -> %s attempt %d failed (%s: %s); retry in %.2fs",
                    delivery.sender.rule_arn, target["Arn"], delivery.attempts, failure.code, failure.message, delay,
                )
                self._schedule(delivery, delay)
                return
        self.dead_letter(delivery, failure, exhausted)

    def backoff(self, attempt: int) -> float:
        d = min(self.base * 2 ** (attempt - 1), self.max)
        return d / 2 + random.uniform(0, d / 2)

    # --- the retry timer -------------------------------------------------------------------------------------
    def _schedule(self, delivery: Delivery, delay: float) -> None:
        with self._wake:
            if self._stopped:
                return
            if self._thread is None:
                self._pool = ThreadPoolExecutor(4, thread_name_prefix="cmp-events-retry-attempt")
                self._thread = threading.Thread(target=self._run, name="cmp-events-retry", daemon=True)
                self._thread.start()
            heapq.heappush(self._due, (self.clock() + delay, delivery.seq, delivery))
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopped and (not self._due or self._due[0][0] > self.clock()):
                    self._wake.wait(self._due[0][0] - self.clock() if self._due else None)
                if self._stopped:
                    return
                _, _, delivery = heapq.heappop(self._due)
            self._pool.submit(self._attempt_logged, delivery)

    def _attempt_logged(self, delivery: Delivery) -> None:
        try:
            self.attempt(delivery)
        except Exception:  # noqa: BLE001 - never lose the pool thread
            LOG.exception("events:parity: retry of %s failed", delivery.sender.target.get("Arn"))

    def clear(self) -> None:
        with self._wake:
            self._due.clear()

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._due.clear()
            self._wake.notify()
        if self._pool:
            self._pool.shutdown(wait=False)


def send_dead_letter(delivery: Delivery, failure: Failure, exhausted: str | None) -> None:
    """Sends the event to the target's dead-letter queue with EventBridge's attributes, or logs that it is dropped."""
    from localstack.aws.connect import connect_to
    from localstack.services.events.utils import to_json_str
    from localstack.utils.aws.arns import parse_arn

    sender = delivery.sender
    target = sender.target
    dlq_arn = (target.get("DeadLetterConfig") or {}).get("Arn")
    if not dlq_arn:
        LOG.warning(
            "events:parity: %s -> %s failed after %d attempt(s) (%s: %s), no dead-letter queue: event dropped",
            sender.rule_arn, target["Arn"], delivery.attempts, failure.code, failure.message,
        )
        return
    event = {k: v for k, v in delivery.event.items() if k != "event-bus-name"}
    attributes = {
        "RULE_ARN": sender.rule_arn,
        "TARGET_ARN": target["Arn"],
        "ERROR_CODE": failure.code,
        "ERROR_MESSAGE": failure.message or failure.code,
        "RETRY_ATTEMPTS": str(delivery.attempts - 1),
    }
    if exhausted:
        attributes["EXHAUSTED_RETRY_CONDITION"] = exhausted
    try:
        arn = parse_arn(dlq_arn)
        sqs = connect_to(aws_access_key_id=arn["account"], region_name=arn["region"]).sqs.request_metadata(
            service_principal="events", source_arn=sender.rule_arn
        )
        url = sqs.get_queue_url(QueueName=arn["resource"], QueueOwnerAWSAccountId=arn["account"])["QueueUrl"]
        sqs.send_message(
            QueueUrl=url,
            MessageBody=to_json_str(event),
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )
    except Exception as e:  # noqa: BLE001 - AWS counts it in InvocationsFailedToBeSentToDlq; the event is lost
        LOG.error("events:parity: could not send the dead letter of %s to %s, event lost: %s", target["Arn"], dlq_arn, e)
        return
    LOG.info(
        "events:parity: %s -> %s dead-lettered to %s after %d attempt(s) (%s%s)",
        sender.rule_arn, target["Arn"], dlq_arn, delivery.attempts, failure.code, f", {exhausted}" if exhausted else "",
    )
