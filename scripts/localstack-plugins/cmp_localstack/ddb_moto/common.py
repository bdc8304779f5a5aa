"""Shared pieces of the moto-backed DynamoDB / DynamoDB Streams providers: the lock and the locked moto call."""

import contextlib
import logging
import os
import threading

from localstack.aws.api import RequestContext, ServiceRequest, ServiceResponse
from localstack.aws.forwarder import dispatch_to_backend
from localstack.http import Response
from localstack.services.moto import dispatch_to_moto

LOG = logging.getLogger(__name__)

# Test-only switch: run without the lock to show that moto alone is not atomic (never set it otherwise).
LOCK_DISABLED = os.environ.get("CMP_DDB_MOTO_UNSAFE_NO_LOCK", "").strip().lower() in ("1", "true", "yes")

# One lock for every DynamoDB and DynamoDB Streams call into moto. moto has no locking at all in
# moto/dynamodb (a conditional write is check-then-set in plain Python) while LocalStack serves each
# request on its own thread. RLock: provider methods hold it across several moto calls.
MOTO_DDB_LOCK = contextlib.nullcontext() if LOCK_DISABLED else threading.RLock()

if LOCK_DISABLED:
    LOG.warning("CMP_DDB_MOTO_UNSAFE_NO_LOCK is set: DynamoDB writes on moto are NOT atomic")


def locked_dispatch_to_moto(context: RequestContext) -> Response:
    """Raw in-process moto call (``DynamoHandler.dispatch`` / ``DynamoDBStreamsHandler.dispatch``) under the lock.
    Only the moto call is serialised; parsing/serialising the response happens outside the lock."""
    with MOTO_DDB_LOCK:
        return dispatch_to_moto(context)


def call_moto_locked(context: RequestContext) -> ServiceResponse:
    """Like ``localstack.services.moto.call_moto`` but with the moto call under ``MOTO_DDB_LOCK``."""
    return dispatch_to_backend(context, locked_dispatch_to_moto)


def forward_to_moto(context: RequestContext, service_request: ServiceRequest) -> ServiceResponse:
    """``ServiceRequestHandler`` used as the fall-through of every operation the providers do not override."""
    return call_moto_locked(context)
