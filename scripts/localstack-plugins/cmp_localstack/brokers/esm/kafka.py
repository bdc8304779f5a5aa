"""The Kafka poller: Amazon MSK (``EventSourceArn`` arn:aws:kafka) and self-managed Apache Kafka
(``SelfManagedEventSource``), with kafka-python.

As AWS documents it (with-msk-configure, kafka-retry-configurations, kafka-on-failure):

* one consumer group per mapping (``ConsumerGroupId`` of ``AmazonManagedKafkaEventSourceConfig`` /
  ``SelfManagedKafkaEventSourceConfig``, else the mapping's UUID); ``StartingPosition`` TRIM_HORIZON, LATEST or
  AT_TIMESTAMP for partitions the group has no offset for; offsets are committed only after the function succeeded;
* a batch holds up to ``BatchSize`` records of any of the mapping's partitions, gathered for at most
  ``MaximumBatchingWindowInSeconds`` (default 0.5 s); the event is keyed ``<topic>-<partition>``, with base64 key and
  value and headers as byte arrays;
* a failed batch is retried (back-off 1, 2, 4 ... s, ``common.retry_delay``) while the mapping's partitions are paused,
  until it succeeds, ``MaximumRetryAttempts`` retries were made (-1: forever; 10 when an on-failure destination is
  set) or its records are older than ``MaximumRecordAgeInSeconds``; then it goes to ``DestinationConfig.OnFailure``
  (SQS, SNS, S3) and the offsets move on;
* ``BisectBatchOnFunctionError`` splits a failed batch in two halves, retried one after the other;
* ``FunctionResponseTypes: [ReportBatchItemFailures]``: ``{"batchItemFailures": [{"itemIdentifier": {"partition":
  "<topic>-<partition>", "offset": n}}]}`` retries each listed partition from its lowest failed offset and commits
  the rest; an identifier that is not in the batch fails the whole batch.

Local differences: no TLS and no IAM (MSK mappings without SASL/SCRAM read the PLAINTEXT listener); one poller per
mapping (no scaling); the on-failure record's fields are those of AWS's example on the kafka-on-failure page.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from .common import (
    BrokerPoller,
    access_configs,
    b64,
    batching_window,
    invoke,
    iso_millis,
    json_view,
    now_ms,
    retry_delay,
    s3_failure_key,
    secret_credentials,
    send_to_destination,
)

LOG = logging.getLogger(__name__)
logging.getLogger("kafka").setLevel(logging.WARNING)  # kafka-python logs every connection at INFO

MAX_RETRIES_WITH_DESTINATION = 10  # AWS: infinite retries plus an on-failure destination means 10 retries
SCRAM = {"SASL_SCRAM_512_AUTH": "SCRAM-SHA-512", "SASL_SCRAM_256_AUTH": "SCRAM-SHA-256", "BASIC_AUTH": "PLAIN"}
TIMESTAMP_TYPES = {0: "CREATE_TIME", 1: "LOG_APPEND_TIME"}


@dataclass
class Batch:
    records: list  # kafka-python ConsumerRecords
    failures: int = 0
    retry_at: float = 0.0


@dataclass
class Inflight:
    """Records fetched and not yet done with: the partitions are paused until ``pending`` is empty."""

    ends: dict  # TopicPartition -> the offset after the last fetched record
    pending: list = field(default_factory=list)  # Batches still to deliver, in order


def record_shape(r) -> dict:
    shaped = {
        "topic": r.topic,
        "partition": r.partition,
        "offset": r.offset,
        "timestamp": r.timestamp,
        "timestampType": TIMESTAMP_TYPES.get(r.timestamp_type, "CREATE_TIME"),
        "key": b64(r.key),
        "value": b64(r.value),
        "headers": [{k: list(v or b"")} for k, v in (r.headers or [])],
    }
    return {k: v for k, v in shaped.items() if v is not None}  # no key (or value) when the record has none


class KafkaPoller(BrokerPoller):
    def __init__(self, esm_config: dict, arn: str | None, client, processor):
        super().__init__(esm_config, arn, client, processor)
        self.consumer = None
        self.bootstrap = ""
        self.inflight: Inflight | None = None
        self.newly_assigned: set = set()  # AT_TIMESTAMP: partitions to position before their records count

    def event_source(self) -> str:
        return "aws:kafka" if self.source_arn else "aws:SelfManagedKafka"

    # --- connection -----------------------------------------------------------------------------------------

    def connection_settings(self) -> dict:
        auth = access_configs(self.esm_config)
        mechanism_type = next((t for t in SCRAM if t in auth), None)
        if self.source_arn:
            brokers = self.source_client.get_bootstrap_brokers(ClusterArn=self.source_arn)
            if mechanism_type == "SASL_SCRAM_512_AUTH":
                self.bootstrap = brokers.get("BootstrapBrokerStringSaslScram", "")
            else:  # IAM (AWS's default for MSK) or mTLS: neither exists locally, the PLAINTEXT listener stands in
                mechanism_type = None
                self.bootstrap = next(
                    (brokers[k] for k in ("BootstrapBrokerStringSaslIam", "BootstrapBrokerStringTls", "BootstrapBrokerString") if brokers.get(k)),
                    "",
                )
            if not self.bootstrap:
                raise ValueError(f"cluster {self.source_arn} has no bootstrap brokers for this mapping's authentication")
        else:
            self.bootstrap = ",".join(self.bootstrap_servers_of_config())
        settings = {"bootstrap_servers": self.bootstrap.split(",")}
        if mechanism_type:
            username, password = secret_credentials(auth[mechanism_type])
            settings.update(
                security_protocol="SASL_PLAINTEXT",  # AWS: SASL_SSL; no TLS locally
                sasl_mechanism=SCRAM[mechanism_type],
                sasl_plain_username=username,
                sasl_plain_password=password,
            )
        return settings

    def group_id(self) -> str:
        for key in ("AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig"):
            if group := (self.esm_config.get(key) or {}).get("ConsumerGroupId"):
                return group
        return self.esm_config["UUID"]

    def connect(self) -> None:
        from kafka import ConsumerRebalanceListener, KafkaConsumer

        position = self.esm_config.get("StartingPosition") or "TRIM_HORIZON"
        consumer = KafkaConsumer(
            group_id=self.group_id(),
            enable_auto_commit=False,
            auto_offset_reset="latest" if position == "LATEST" else "earliest",
            max_poll_records=int(self.esm_config.get("BatchSize") or 100),
            max_poll_interval_ms=910_000,  # a batch may take an invoke of 15 minutes (Lambda's maximum)
            client_id=f"lambda-esm-{self.esm_config['UUID']}",
            **self.connection_settings(),
        )
        poller = self

        class AtTimestamp(ConsumerRebalanceListener):
            # no broker calls in here: kafka-python runs it inside poll(); ``positioned`` seeks afterwards
            def on_partitions_revoked(self, revoked):
                pass

            def on_partitions_assigned(self, assigned):
                poller.newly_assigned.update(assigned)

        try:
            consumer.subscribe(
                topics=list(self.esm_config.get("Topics") or []),
                listener=AtTimestamp() if position == "AT_TIMESTAMP" else None,
            )
        except Exception:
            consumer.close(autocommit=False)
            raise
        self.consumer = consumer

    def disconnect(self) -> None:
        # uncommitted records come back to the group's next member (or to this poller after reconnecting)
        self.inflight = None
        if self.consumer is not None:
            try:
                self.consumer.close(autocommit=False)
            except Exception:  # noqa: BLE001
                pass
            self.consumer = None

    # --- polling --------------------------------------------------------------------------------------------

    def poll_broker(self) -> None:
        if self.consumer is None:
            self.connect()
        if self.inflight:
            batch = self.inflight.pending[0]
            if time.monotonic() < batch.retry_at:
                self.consumer.poll(timeout_ms=0)  # stays in the group; the partitions are paused
                raise self.empty()
            self.deliver(batch)
            return
        records = self.fetch()
        if not records:
            raise self.empty()
        ends = {}
        for r in records:
            ends[self.tp(r)] = max(ends.get(self.tp(r), 0), r.offset + 1)
        self.inflight = Inflight(ends=ends, pending=[Batch(records)])
        self.consumer.pause(*ends)
        self.deliver(self.inflight.pending[0])

    def fetch(self) -> list:
        size = int(self.esm_config.get("BatchSize") or 100)
        deadline = time.monotonic() + batching_window(self.esm_config)
        records: list = []
        while len(records) < size:
            remaining = deadline - time.monotonic()
            polled = self.positioned(self.consumer.poll(timeout_ms=max(int(remaining * 1000), 0), max_records=size - len(records)))
            for part in polled.values():
                records.extend(part)
            if remaining <= 0 or (not polled and records):
                break
        return records

    def positioned(self, polled: dict) -> dict:
        """AT_TIMESTAMP: seek newly assigned partitions to their committed offset or, for a partition the group has
        none for, to the first record at or after ``StartingPositionTimestamp``; drop what was polled from them."""
        if not self.newly_assigned:
            return polled
        assigned, self.newly_assigned = self.newly_assigned, set()
        committed = {tp: self.consumer.committed(tp) for tp in assigned}
        at = self.esm_config.get("StartingPositionTimestamp") or 0  # LocalStack hands over a datetime
        at_ms = int((at.timestamp() if hasattr(at, "timestamp") else float(at)) * 1000)
        found = self.consumer.offsets_for_times({tp: at_ms for tp, offset in committed.items() if offset is None}) or {}
        for tp, offset in committed.items():
            if offset is not None:
                self.consumer.seek(tp, offset)
            elif found.get(tp) is not None:
                self.consumer.seek(tp, found[tp].offset)
            else:
                self.consumer.seek_to_end(tp)
        return {tp: records for tp, records in polled.items() if tp not in assigned}

    @staticmethod
    def tp(record):
        from kafka import TopicPartition

        return TopicPartition(record.topic, record.partition)

    def event(self, records: list) -> dict:
        event = {"eventSource": self.event_source()}
        if self.source_arn:
            event["eventSourceArn"] = self.source_arn
        event["bootstrapServers"] = self.bootstrap
        grouped: dict[str, list] = {}
        for r in records:
            grouped.setdefault(f"{r.topic}-{r.partition}", []).append(record_shape(r))
        event["records"] = grouped
        return event

    def deliver(self, batch: Batch) -> None:
        max_age = int(self.esm_config.get("MaximumRecordAgeInSeconds") or -1)
        if max_age >= 0:
            oldest_ok = now_ms() - max_age * 1000
            expired = [r for r in batch.records if r.timestamp < oldest_ok]
            if expired:
                self.discard(expired, "RecordAgeExceeded", {}, batch.failures)
                batch.records = [r for r in batch.records if r.timestamp >= oldest_ok]
        live = [r for r in batch.records if self.matching([record_shape(r)], self.filter_view)]
        failed: list = []
        if live:
            outcome = invoke(self.processor, self.event(live))
            if not outcome.ok:
                failed = live if outcome.partial is None else self.partially_failed(live, outcome.partial)
        if not failed:
            self.done(batch)
            return
        batch.failures += 1
        if self.retries_exhausted(batch.failures):
            self.discard(failed, "RetryAttemptsExhausted", outcome.error, batch.failures)
            self.done(batch)
            return
        retry_at = time.monotonic() + retry_delay(batch.failures)
        if self.esm_config.get("BisectBatchOnFunctionError") and len(failed) > 1:
            half = len(failed) // 2
            halves = [Batch(failed[:half], batch.failures, retry_at), Batch(failed[half:], batch.failures, retry_at)]
        else:
            halves = [Batch(failed, batch.failures, retry_at)]
        self.inflight.pending[0:1] = halves
        self.commit()

    @staticmethod
    def filter_view(shaped: dict) -> dict:
        return {**shaped, "value": json_view(shaped.get("value"))}

    def partially_failed(self, records: list, response: dict) -> list:
        """The records to retry for a partial batch response: per listed partition, from its lowest failed offset."""
        lowest: dict[str, int] = {}
        in_batch = {(f"{r.topic}-{r.partition}", r.offset) for r in records}
        for failure in response.get("batchItemFailures") or []:
            item = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not isinstance(item, dict):
                return records
            part = item.get("partition", item.get("topic-partition"))
            try:
                offset = int(item.get("offset"))
            except (TypeError, ValueError):
                return records
            if (part, offset) not in in_batch:
                return records  # AWS: an identifier that is not in the batch fails the whole batch
            lowest[part] = min(offset, lowest.get(part, offset))
        return [r for r in records if f"{r.topic}-{r.partition}" in lowest and r.offset >= lowest[f"{r.topic}-{r.partition}"]]

    def retries_exhausted(self, failures: int) -> bool:
        configured = self.esm_config.get("MaximumRetryAttempts")
        maximum = -1 if configured is None else int(configured)
        if maximum < 0 and self.destination():
            maximum = MAX_RETRIES_WITH_DESTINATION
        return 0 <= maximum < failures

    def destination(self) -> str | None:
        return ((self.esm_config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")

    def done(self, batch: Batch) -> None:
        self.inflight.pending.remove(batch)
        self.commit()

    def commit(self) -> None:
        """Commit every fetched partition up to its first record still pending; resume them all once none is."""
        from kafka.structs import OffsetAndMetadata

        offsets = {}
        for tp, end in self.inflight.ends.items():
            pending = [r.offset for b in self.inflight.pending for r in b.records if self.tp(r) == tp]
            offsets[tp] = OffsetAndMetadata(min(pending) if pending else end, "", -1)
        self.consumer.commit(offsets)
        if not self.inflight.pending:
            self.consumer.resume(*self.inflight.ends)
            self.inflight = None

    def discard(self, records: list, condition: str, error: dict, failures: int) -> None:
        destination = self.destination()
        LOG.info("event source mapping %s: %d record(s) discarded (%s)%s", self.esm_config["UUID"], len(records),
                 condition, f", sent to {destination}" if destination else "")
        if not destination:
            return
        infos = {}
        for r in records:
            info = infos.setdefault(f"{r.topic}-{r.partition}", {"first": r, "last": r})
            if r.offset < info["first"].offset:
                info["first"] = r
            if r.offset > info["last"].offset:
                info["last"] = r
        context = self.processor.generate_event_failure_context(condition, error=error, attempts_count=failures) if error else {}
        record = {
            **context,
            "version": "1.0",
            "timestamp": iso_millis(now_ms()),
            "KafkaBatchInfo": {
                "batchSize": len(records),
                "bootstrapServers": self.bootstrap,
                "payloadSize": sum(len(r.value or b"") + len(r.key or b"") for r in records),
                "recordsInfo": {
                    part: {
                        "firstRecordOffset": str(i["first"].offset),
                        "firstRecordTimestamp": iso_millis(i["first"].timestamp),
                        "lastRecordOffset": str(i["last"].offset),
                        "lastRecordTimestamp": iso_millis(i["last"].timestamp),
                    }
                    for part, i in infos.items()
                },
            },
        }
        try:
            send_to_destination(destination, record, s3_failure_key(self.esm_config["UUID"], next(iter(infos))), self.event(records))
        except Exception as e:  # noqa: BLE001 - AWS drops the record too when it cannot deliver it
            LOG.warning("event source mapping %s: on-failure destination %s: %s", self.esm_config["UUID"], destination, e)
