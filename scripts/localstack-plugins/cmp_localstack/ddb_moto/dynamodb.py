"""``dynamodb:moto``: DynamoDB served by moto in-process. Every operation not overridden here falls through to moto
(``common.forward_to_moto``, under ``MOTO_DDB_LOCK``)."""

import logging
import os
import threading
import time
import uuid

from localstack import config
from localstack.aws.api import CommonServiceException, RequestContext, handler
from localstack.aws.api.dynamodb import DynamodbApi, ResourceNotFoundException
from localstack.http import Request, route
from localstack.services.edge import ROUTER
from localstack.services.plugins import ServiceLifecycleHook
from localstack.state import StateVisitor

from .common import MOTO_DDB_LOCK, call_moto_locked

LOG = logging.getLogger(__name__)

TTL_SWEEP_PERIOD_ENV = "CMP_DDB_TTL_SWEEP_SECONDS"  # period of the sweeper when DYNAMODB_REMOVE_EXPIRED_ITEMS=1
TTL_PRINCIPAL = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}


def _fix_table_description(desc: dict | None) -> None:
    """Parity fixes on a TableDescription moto returned (after LocalStack parsed it)."""
    if not desc:
        return
    if "TableId" not in desc and "TableArn" in desc:
        # moto has no TableId (CloudFormation's AWS::DynamoDB::GlobalTable handler indexes it). Derived, so it
        # is stable for the life of the table and differs for a re-created table of the same name.
        created = desc.get("CreationDateTime")
        stamp = created.timestamp() if hasattr(created, "timestamp") else created
        desc["TableId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{desc['TableArn']}#{stamp}"))
    # moto always lists empty index arrays, AWS omits them
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if key in desc and not desc[key]:
            del desc[key]


def _validate_stream_specification(request: dict) -> None:
    """moto accepts StreamEnabled=true without StreamViewType and then fails every write with
    KeyError('StreamViewType') (HTTP 500); AWS rejects the request."""
    spec = request.get("StreamSpecification") or {}
    if spec.get("StreamEnabled") and not spec.get("StreamViewType"):
        raise CommonServiceException(
            "ValidationException",
            "One or more parameter values were invalid: StreamViewType is required when StreamEnabled is true",
        )


def _expired_items(table, attr: str, now: float):
    """The items of ``table`` whose TTL attribute ``attr`` (type N, epoch seconds) is <= now."""
    for item in table.all_items():  # a sorted list: deleting while iterating is safe
        value = item.attrs.get(attr)
        if value is None or value.type != "N":
            continue
        try:
            if float(value.value) <= now:
                yield item
        except (TypeError, ValueError):
            continue


def delete_expired_items(now: float | None = None) -> int:
    """Delete every item whose TTL attribute (type N, epoch seconds) is <= now, in every table with TTL enabled,
    in every account and region. Writes REMOVE stream records with the TTL service identity, like AWS.
    Same contract as LocalStack's ``localstack.services.dynamodb.provider.delete_expired_items``."""
    from moto.dynamodb.models import dynamodb_backends

    now = time.time() if now is None else now
    deleted = 0
    with MOTO_DDB_LOCK:
        for _, _, backend in list(dynamodb_backends.iter_backends()):
            for table in list(backend.tables.values()):
                ttl = table.ttl or {}
                attr = ttl.get("AttributeName")
                if ttl.get("TimeToLiveStatus") != "ENABLED" or not attr:
                    continue
                for item in list(_expired_items(table, attr, now)):
                    if table.delete_item(item.hash_key, item.range_key) is not None:
                        deleted += 1
                        shard = table.stream_shard
                        if shard is not None and shard.items:
                            shard.items[-1].record["userIdentity"] = dict(TTL_PRINCIPAL)
    if deleted:
        LOG.debug("TTL sweeper deleted %d expired items", deleted)
    return deleted


class DynamoDBDeveloperEndpoints:
    """``DELETE /_aws/dynamodb/expired`` -> ``{"ExpiredItems": n}`` (same route and answer as LocalStack's)."""

    @route("/_aws/dynamodb/expired", methods=["DELETE"])
    def delete_expired(self, _request: Request):
        return {"ExpiredItems": delete_expired_items()}


class _PeriodicSweeper:
    def __init__(self, period: float):
        self.period = period
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self):
        def run():
            while not self._stop.wait(self.period):
                try:
                    delete_expired_items()
                except Exception:  # noqa: BLE001
                    LOG.exception("TTL sweeper failed")

        self._thread = threading.Thread(target=run, name="cmp-ddb-ttl-sweeper", daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()


class MotoDynamoDBProvider(DynamodbApi, ServiceLifecycleHook):
    def __init__(self):
        self._router_rules = []
        self._sweeper: _PeriodicSweeper | None = None

    def accept_state_visitor(self, visitor: StateVisitor):
        from moto.dynamodb.models import dynamodb_backends

        visitor.visit(dynamodb_backends)

    def on_before_start(self):
        self._router_rules = ROUTER.add(DynamoDBDeveloperEndpoints())
        if config.DYNAMODB_REMOVE_EXPIRED_ITEMS:
            period = float(os.environ.get(TTL_SWEEP_PERIOD_ENV) or 3600)
            self._sweeper = _PeriodicSweeper(period)
            self._sweeper.start()

    def on_before_stop(self):
        if self._sweeper:
            self._sweeper.stop()
            self._sweeper = None
        ROUTER.remove(self._router_rules)
        self._router_rules = []

    # --- table descriptions -------------------------------------------------------------------------

    @staticmethod
    def _described(context: RequestContext, key: str) -> dict:
        """moto's answer with its table description (under ``key``) made AWS-shaped."""
        response = call_moto_locked(context)
        _fix_table_description(response.get(key))
        return response

    @handler("CreateTable", expand=False)
    def create_table(self, context: RequestContext, request):
        _validate_stream_specification(request)
        return self._described(context, "TableDescription")

    @handler("DescribeTable", expand=False)
    def describe_table(self, context: RequestContext, request):
        return self._described(context, "Table")

    @handler("UpdateTable", expand=False)
    def update_table(self, context: RequestContext, request):
        _validate_stream_specification(request)
        return self._described(context, "TableDescription")

    @handler("DeleteTable", expand=False)
    def delete_table(self, context: RequestContext, request):
        response = self._described(context, "TableDescription")
        if response.get("TableDescription"):
            response["TableDescription"]["TableStatus"] = "DELETING"
        return response

    # --- TTL: moto answers a missing table with code "ResourceNotFound" ------------------------------

    def _ttl_call(self, context: RequestContext, table_name: str):
        try:
            return call_moto_locked(context)
        except CommonServiceException as e:
            if e.code == "ResourceNotFound":
                raise ResourceNotFoundException(
                    f"Requested resource not found: Table: {table_name} not found"
                ) from e
            raise

    @handler("UpdateTimeToLive", expand=False)
    def update_time_to_live(self, context: RequestContext, request):
        return self._ttl_call(context, request.get("TableName"))

    @handler("DescribeTimeToLive", expand=False)
    def describe_time_to_live(self, context: RequestContext, request):
        return self._ttl_call(context, request.get("TableName"))
