"""The Amazon MQ for ActiveMQ poller, over STOMP (stomp.py): ``Queues`` (one queue) as the ``BASIC_AUTH`` secret's
user.

As AWS documents it (with-mq, services-mq-errors): a batch is up to ``BatchSize`` messages gathered for at most
``MaximumBatchingWindowInSeconds`` (default 0.5 s), sent as ``aws:amq`` ``messages`` (``jms/text-message`` or
``jms/bytes-message``, base64 ``data``); the messages are acked after the function succeeded. A failed batch is
redelivered with ActiveMQ's default redelivery policy, which Lambda uses and which cannot be changed
(maximumRedeliveries 6, initialRedeliveryDelay 1 s, no back-off): after the 6th redelivery fails each message is
poison-acked (STOMP NACK) and the broker moves it to its dead-letter queue (``ActiveMQ.DLQ`` unless the broker's
``deadLetterStrategy`` says otherwise). Redelivery is the consumer's job in ActiveMQ (the JMS client's
RedeliveryPolicy), so the poller keeps the batch and invokes again with ``redelivered: true``.

A STOMP frame without ``content-length`` is a TextMessage in ActiveMQ, one with it a BytesMessage.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

from .. import config
from .common import BrokerPoller, access_configs, b64, batching_window, invoke, json_view, now_ms, secret_credentials

logging.getLogger("stomp.py").setLevel(logging.WARNING)

MAXIMUM_REDELIVERIES = 6
REDELIVERY_DELAY = 1.0
STANDARD_HEADERS = {
    "message-id", "destination", "subscription", "ack", "content-length", "content-type", "expires", "priority",
    "timestamp", "persistent", "redelivered", "correlation-id", "reply-to", "type",
}


class ActiveMqPoller(BrokerPoller):
    def __init__(self, esm_config: dict, arn: str | None, client, processor):
        super().__init__(esm_config, arn, client, processor)
        self.queue = (esm_config.get("Queues") or [""])[0]
        self.connection = None
        self.frames: deque = deque()
        self.lost = threading.Event()
        self.held: list = []  # a failed batch: (frame, received_ms) pairs, redelivered by the poller
        self.failures = 0
        self.retry_at = 0.0
        self.session = None  # the STOMP session id: the event's connectionId

    def event_source(self) -> str:
        return "aws:amq"

    def connect(self) -> None:
        import stomp

        poller = self

        class Listener(stomp.ConnectionListener):
            def on_message(self, frame):
                poller.frames.append((frame, now_ms()))

            def on_connected(self, frame):
                poller.session = frame.headers.get("session")

            def on_disconnected(self):
                poller.lost.set()

        host, port = config.host_port(config.activemq_endpoints()[2])
        username, password = secret_credentials(access_configs(self.esm_config)["BASIC_AUTH"])
        connection = stomp.Connection([(host, port)], auto_decode=False, heartbeats=(10000, 10000))
        connection.set_listener("esm", Listener())
        self.lost.clear()
        connection.connect(username, password, wait=True)
        prefetch = str(int(self.esm_config.get("BatchSize") or 100))
        connection.subscribe(f"/queue/{self.queue}", id="esm", ack="client-individual",
                             headers={"activemq.prefetchSize": prefetch})
        self.connection = connection

    def disconnect(self) -> None:
        # unacked messages (also a held batch) go back to the queue; the broker marks them redelivered
        connection, self.connection = self.connection, None
        self.frames.clear()
        self.held, self.failures = [], 0
        if connection is not None:
            try:
                connection.disconnect()
            except Exception:  # noqa: BLE001
                pass

    def poll_broker(self) -> None:
        if self.connection is None or self.lost.is_set():
            self.disconnect()
            self.connect()
        if self.held:
            if time.monotonic() < self.retry_at:
                raise self.empty()
            batch = self.held
        else:
            batch = self.collect()
        messages = [self.message_shape(frame, received, redelivered=self.failures > 0) for frame, received in batch]
        view = lambda m: {**m, "data": json_view(m["data"])}  # noqa: E731
        live = self.matching(messages, view)
        if not live or invoke(self.processor, self.event(live)).ok:
            for frame, _ in batch:
                self.connection.ack(frame.headers["message-id"], frame.headers["subscription"])
            self.held, self.failures = [], 0
            return
        self.failures += 1
        if self.failures > MAXIMUM_REDELIVERIES:
            for frame, _ in batch:
                self.connection.nack(frame.headers["message-id"], frame.headers["subscription"])
            self.held, self.failures = [], 0
        else:
            self.held, self.retry_at = batch, time.monotonic() + REDELIVERY_DELAY
        raise self.empty()

    def collect(self) -> list:
        size = int(self.esm_config.get("BatchSize") or 100)
        if not self.frames:
            raise self.empty()
        deadline = time.monotonic() + batching_window(self.esm_config)
        batch = []
        while len(batch) < size:
            if self.frames:
                batch.append(self.frames.popleft())
            elif time.monotonic() >= deadline:
                break
            else:
                time.sleep(0.05)
        return batch

    def message_shape(self, frame, received_ms: int, redelivered: bool) -> dict:
        h = frame.headers
        timestamp = int(h.get("timestamp") or received_ms)
        shaped = {
            "messageID": h["message-id"],
            "messageType": "jms/bytes-message" if "content-length" in h else "jms/text-message",
            "deliveryMode": 2 if h.get("persistent") == "true" else 1,
            "correlationID": h.get("correlation-id"),
            "replyTo": h.get("reply-to"),
            "type": h.get("type"),
            "expiration": int(h.get("expires") or 0),
            "priority": int(h.get("priority") or 4),
            "data": b64(frame.body or b""),
            "connectionId": self.session,
            "redelivered": redelivered or h.get("redelivered") == "true",
            "persistent": h.get("persistent") == "true",
            "destination": {"physicalName": h["destination"].split("/", 2)[-1]},
            "timestamp": timestamp,
            "brokerInTime": timestamp,
            "brokerOutTime": received_ms,
            "properties": {k: v for k, v in h.items() if k not in STANDARD_HEADERS},
        }
        return {k: v for k, v in shaped.items() if v is not None}

    def event(self, messages: list[dict]) -> dict:
        return {"eventSource": self.event_source(), "eventSourceArn": self.source_arn, "messages": messages}
