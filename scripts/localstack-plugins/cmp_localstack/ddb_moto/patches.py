"""Fixes applied to moto(-ext 5.1.20.post22) DynamoDB models when the ``dynamodb:moto`` / ``dynamodbstreams:moto``
providers load. Every function touched here is fingerprinted in ``parity.py``; the install-time guard
(``scripts/localstack/check-moto-parity.py``) fails when moto changes under us.

1. ``DynamoDBBackend.transact_write_items``: moto rolls a cancelled transaction back by replacing each involved
   ``Table`` with a deep copy taken before the transaction. Open shard iterators keep pointing at the *old*
   ``StreamShard`` (which still holds the phantom records of the cancelled writes) and never see later writes:
   a stream consumer/ESM stalls forever. Fix: put the original ``Table`` objects back, restore their items from
   the snapshot and drop the stream records the cancelled transaction appended.
2. ``DynamoDBBackend.update_table_streams``: disabling a stream left ``stream_shard`` in place with a
   specification without ``StreamViewType`` -> every later write raised ``KeyError('StreamViewType')`` (HTTP 500).
   Fix: close the shard (kept readable as ``table.cmp_closed_shard``), keep the label (DescribeTable keeps
   ``LatestStreamArn``, DescribeStream answers ``DISABLED``); re-enabling creates a new stream/label.
3. ``StreamRecord.__init__``: records shaped like AWS's: ``awsRegion`` of the table (moto: hard-coded
   ``us-east-1``), no empty ``OldImage`` on INSERT / ``NewImage`` on REMOVE, ``eventVersion`` ``1.1``,
   ``ApproximateCreationDateTime`` rounded down to the second, ``SizeBytes`` of keys+images.
"""

import json
import logging
import threading

LOG = logging.getLogger(__name__)

_patch_lock = threading.Lock()
_patched = False


def _restore_after_rollback(original, snapshot) -> None:
    """``snapshot`` is moto's pre-transaction deep copy of ``original``: take its data, keep the identities."""
    original.items = snapshot.items
    shard, snap_shard = original.stream_shard, snapshot.stream_shard
    if shard is not None and snap_shard is not None:
        del shard.items[len(snap_shard.items) :]


def apply_moto_patches() -> None:
    global _patched
    with _patch_lock:
        if _patched:
            return
        from moto.dynamodb.exceptions import (
            StreamAlreadyEnabledException,
            TransactWriteSingleOpException,
        )
        from moto.dynamodb.models import DynamoDBBackend
        from moto.dynamodb.models.table import StreamRecord

        from cmp_localstack.ddb_moto import parity

        # scripts/localstack/check-moto-parity.py (run by `localstack.sh start`) is the gate and also
        # fingerprints the patched functions; at runtime only the cheap version check, and only a log
        problems = parity.check_moto_version()
        if problems:
            LOG.error("moto does not match what cmp_localstack.ddb_moto patches expect: %s", problems)

        # ---- 1. cancelled TransactWriteItems must not detach stream iterators --------------------------
        orig_twi = DynamoDBBackend.transact_write_items

        def transact_write_items(self, transact_items):
            # moto checks "one operation per item" only when it reaches the item, i.e. after applying the
            # earlier ones and without rolling them back: check up front.
            for item in transact_items or []:
                if len(item) > 1:
                    raise TransactWriteSingleOpException()
            before = dict(self.tables)
            try:
                return orig_twi(self, transact_items)
            except BaseException:
                for name, original in before.items():
                    current = self.tables.get(name)
                    if current is not None and current is not original:
                        _restore_after_rollback(original, current)
                        self.tables[name] = original
                raise

        transact_write_items.__wrapped__ = orig_twi
        DynamoDBBackend.transact_write_items = transact_write_items

        # ---- 2. disabling a stream must not break later writes ----------------------------------------
        orig_uts = DynamoDBBackend.update_table_streams

        def update_table_streams(self, table, stream_specification):
            spec = stream_specification or {}
            enabling = spec.get("StreamEnabled") is not False and bool(
                spec.get("StreamEnabled") or spec.get("StreamViewType")
            )
            if not enabling:
                if table.stream_shard is not None:
                    shard = table.stream_shard
                    shard.cmp_view_type = (table.stream_specification or {}).get("StreamViewType")
                    table.cmp_closed_shard = shard
                    table.stream_shard = None
                table.stream_specification = {"StreamEnabled": False}
                return
            if table.stream_shard is not None:
                raise StreamAlreadyEnabledException()
            # moto refuses to enable when a label exists; the old (disabled) stream is superseded
            table.latest_stream_label = None
            table.cmp_closed_shard = None
            return orig_uts(self, table, stream_specification)

        update_table_streams.__wrapped__ = orig_uts
        DynamoDBBackend.update_table_streams = update_table_streams

        # ---- 3. stream records as AWS sends them -------------------------------------------------------
        orig_sr_init = StreamRecord.__init__

        def stream_record_init(self, table, stream_type, event_name, old, new, seq):
            orig_sr_init(self, table, stream_type, event_name, old, new, seq)
            rec = self.record
            rec["awsRegion"] = table.region_name
            rec["eventVersion"] = "1.1"
            ddb = rec["dynamodb"]
            if event_name == "INSERT":
                ddb.pop("OldImage", None)
            elif event_name == "REMOVE":
                ddb.pop("NewImage", None)
            created = ddb.get("ApproximateCreationDateTime")
            if isinstance(created, str) and "." in created:
                ddb["ApproximateCreationDateTime"] = created.split(".", 1)[0]
            ddb["SizeBytes"] = len(
                json.dumps(
                    [ddb.get("Keys"), ddb.get("NewImage"), ddb.get("OldImage")], separators=(",", ":")
                )
            )

        stream_record_init.__wrapped__ = orig_sr_init
        StreamRecord.__init__ = stream_record_init

        _patched = True
        LOG.debug("moto DynamoDB patches applied")
