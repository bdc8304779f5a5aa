"""``dynamodbstreams:moto``: DynamoDB Streams served from moto's per-table ``StreamShard``.

moto's own DescribeStream/GetShardIterator/GetRecords answer anything unexpected with a Python exception
(``KeyError``/``AssertionError``/``AttributeError`` -> HTTP 500, which LocalStack's ESM poller retries with the
same iterator forever). This provider validates first and answers like AWS:

* unknown or pruned shard iterator -> ``ExpiredIteratorException`` (the poller re-initialises its shards);
* unknown stream ARN, deleted table, superseded stream label, ARN of another account/region
  -> ``ResourceNotFoundException``; wrong ShardId -> ``ResourceNotFoundException``;
* a disabled stream is ``DISABLED`` with a closed shard (``EndingSequenceNumber``); reading a closed shard
  (stream disabled/replaced, table deleted) returns its remaining records, then an empty page without
  ``NextShardIterator``.

ListStreams falls through to moto (under the lock).
"""

import itertools
import os

from localstack.aws.api import CommonServiceException, RequestContext, handler
from localstack.aws.api.dynamodbstreams import (
    DynamodbstreamsApi,
    ExpiredIteratorException,
    ResourceNotFoundException,
    TrimmedDataAccessException,
)
from localstack.services.plugins import ServiceLifecycleHook
from localstack.state import StateVisitor

from .common import MOTO_DDB_LOCK, call_moto_locked

# moto stores every iterator forever (one new iterator per GetRecords call): keep the newest N.
MAX_SHARD_ITERATORS = int(os.environ.get("CMP_DDB_MAX_SHARD_ITERATORS") or 10000)

_ITERATOR_TYPES = ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")


class ValidationException(CommonServiceException):
    def __init__(self, message: str):
        super().__init__("ValidationException", message, status_code=400, sender_fault=True)


def _not_found(stream_arn: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Requested resource not found: Stream: {stream_arn} not found")


def _streams_backend(context: RequestContext):
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    return dynamodbstreams_backends[context.account_id][context.region]


def _resolve_stream(context: RequestContext, stream_arn: str):
    """-> (table, shard, enabled) for a stream ARN of the caller's account and region. Call under the lock."""
    from moto.dynamodb.models import dynamodb_backends

    parts = (stream_arn or "").split(":", 5)  # the label (an ISO timestamp) contains ':'
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "dynamodb":
        raise _not_found(stream_arn)
    region, account, resource = parts[3], parts[4], parts[5].split("/")
    if len(resource) != 4 or resource[0] != "table" or resource[2] != "stream":
        raise _not_found(stream_arn)
    if region != context.region or account != context.account_id:
        raise _not_found(stream_arn)
    try:
        backend = dynamodb_backends[account][region]
    except KeyError:
        raise _not_found(stream_arn) from None
    table = backend.tables.get(resource[1])
    if table is None or not table.latest_stream_label or table.latest_stream_label != resource[3]:
        raise _not_found(stream_arn)
    shard = table.stream_shard if table.stream_shard is not None else getattr(table, "cmp_closed_shard", None)
    if shard is None:
        raise _not_found(stream_arn)
    return table, shard, table.stream_shard is not None


def _shard_is_open(shard) -> bool:
    """Open = the live shard of a live table (closed: stream disabled or replaced, table deleted)."""
    from moto.dynamodb.models import dynamodb_backends

    table = shard.table
    try:
        backend = dynamodb_backends[table.account_id][table.region_name]
    except KeyError:
        return False
    return backend.tables.get(table.name) is table and table.stream_shard is shard


def _prune_iterators(streams_backend) -> None:
    iterators = streams_backend.shard_iterators
    excess = len(iterators) - MAX_SHARD_ITERATORS
    if excess > 0:
        # dicts keep insertion order: oldest first; islice copies only the keys it evicts
        for key in list(itertools.islice(iterators, excess)):
            iterators.pop(key, None)


class MotoDynamoDBStreamsProvider(DynamodbstreamsApi, ServiceLifecycleHook):
    def accept_state_visitor(self, visitor: StateVisitor):
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        visitor.visit(dynamodbstreams_backends)

    @handler("DescribeStream", expand=False)
    def describe_stream(self, context: RequestContext, request):
        stream_arn = request.get("StreamArn")
        with MOTO_DDB_LOCK:
            table, shard, enabled = _resolve_stream(context, stream_arn)
            seq_range = {"StartingSequenceNumber": str(shard.starting_sequence_number)}
            if not enabled:
                seq_range["EndingSequenceNumber"] = str(
                    shard.starting_sequence_number + max(len(shard.items) - 1, 0)
                )
            shards = [{"ShardId": shard.id, "SequenceNumberRange": seq_range}]
            if request.get("ExclusiveStartShardId") == shard.id:
                shards = []
            view_type = (
                (table.stream_specification or {}).get("StreamViewType")
                if enabled
                else getattr(shard, "cmp_view_type", None)
            )
            description = {
                "StreamArn": stream_arn,
                "StreamLabel": table.latest_stream_label,
                "StreamStatus": "ENABLED" if enabled else "DISABLED",
                "CreationRequestDateTime": shard.created_on,
                "TableName": table.name,
                "KeySchema": table.schema,
                "Shards": shards,
            }
            if view_type:
                description["StreamViewType"] = view_type
        return {"StreamDescription": description}

    @handler("GetShardIterator", expand=False)
    def get_shard_iterator(self, context: RequestContext, request):
        from moto.dynamodbstreams.models import ShardIterator

        stream_arn = request.get("StreamArn")
        iterator_type = request.get("ShardIteratorType")
        if iterator_type not in _ITERATOR_TYPES:
            raise ValidationException(
                f"1 validation error detected: Value '{iterator_type}' at 'shardIteratorType' failed to satisfy "
                f"constraint: Member must satisfy enum value set: [{', '.join(_ITERATOR_TYPES)}]"
            )
        sequence_number = None
        if iterator_type in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            raw = request.get("SequenceNumber")
            if raw is None:
                raise ValidationException(f"SequenceNumber is required for ShardIteratorType {iterator_type}")
            try:
                sequence_number = int(raw)
            except (TypeError, ValueError):
                raise ValidationException(f"Invalid SequenceNumber: {raw}") from None
        with MOTO_DDB_LOCK:
            _table, shard, _enabled = _resolve_stream(context, stream_arn)
            if request.get("ShardId") != shard.id:
                raise ResourceNotFoundException(
                    f"Requested resource not found: Shard: {request.get('ShardId')} in Stream: {stream_arn} "
                    "does not exist"
                )
            if sequence_number is not None and sequence_number < shard.starting_sequence_number:
                raise TrimmedDataAccessException(
                    f"Sequence number {sequence_number} is before the trim horizon of shard {shard.id}"
                )
            backend = _streams_backend(context)
            iterator = ShardIterator(backend, shard, iterator_type, sequence_number)
            iterator_id = iterator.arn
            backend.shard_iterators[iterator_id] = iterator
            _prune_iterators(backend)
        return {"ShardIterator": iterator_id}

    @handler("GetRecords", expand=False)
    def get_records(self, context: RequestContext, request):
        iterator_id = request.get("ShardIterator")
        limit = request.get("Limit")
        if limit is not None and not 1 <= limit <= 1000:
            raise ValidationException(
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
                "Member must have value between 1 and 1000"
            )
        with MOTO_DDB_LOCK:
            backend = _streams_backend(context)
            iterator = backend.shard_iterators.get(iterator_id)
            if iterator is None:
                # unknown, pruned, or from before a restart/state reset: moto would raise KeyError -> 500
                raise ExpiredIteratorException("Iterator expired or unknown")
            response = call_moto_locked(context)
            shard = iterator.stream_shard
            if not _shard_is_open(shard):
                next_id = response.get("NextShardIterator")
                next_iterator = backend.shard_iterators.get(next_id) if next_id else None
                end = shard.starting_sequence_number + len(shard.items)
                if not response.get("Records") and (next_iterator is None or next_iterator.sequence_number >= end):
                    # closed shard read to its end: AWS omits NextShardIterator. Only on an empty page:
                    # LocalStack's poller re-initialises (DescribeStream) *before* forwarding the page's records
                    # and would drop them if that raises (table deleted).
                    response.pop("NextShardIterator", None)
                    if next_id:
                        backend.shard_iterators.pop(next_id, None)
            _prune_iterators(backend)
        return response
