"""Replaying archived events as EventBridge does (LocalStack 4.13.1's StartReplay fails with a TypeError on any
archive that holds events, and would ignore ``Destination.FilterArns``).

EventBridge (API reference StartReplay/Replay, user guide "Replaying archived events"):

* the events replayed are those whose ``time`` is in ``[EventStartTime, EventEndTime)``; they are processed one
  minute of event time after the other, oldest minute first;
* they go to the rules of the archive's bus - only those listed in ``Destination.FilterArns`` when it is given -
  and carry ``"replay-name": "<ReplayName>"`` (after ``region``); the archive's own rule ignores them;
* ``StartReplay`` answers ``STARTING`` at once; ``DescribeReplay`` then shows ``RUNNING`` and, after the last
  event, ``COMPLETED`` with ``ReplayEndTime``; ``EventLastReplayedTime`` is the time of the last event replayed
  so far (absent when none was); ``CancelReplay`` -> ``CANCELLING`` -> ``CANCELLED``.

Locally the events keep their ``id`` (not verified against AWS), the window's start is compared at whole seconds
(event times have no fraction, so an event put in the same second as ``EventStartTime`` is replayed), and each
minute of events is preceded by a pause of ``CMP_EVENTS_REPLAY_STEP_SECONDS`` (default 0.2; AWS takes minutes),
so that the states can be observed. The replay runs on a daemon thread of its own ("cmp-events-replay").
"""

from __future__ import annotations

import copy
import logging
import os
import threading
import time
from datetime import UTC, datetime
from itertools import groupby

LOG = logging.getLogger(__name__)

EVENT_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def step_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get("CMP_EVENTS_REPLAY_STEP_SECONDS", "") or 0.2))
    except ValueError:
        return 0.2


def event_time(event: dict) -> datetime:
    return datetime.strptime(event["time"], EVENT_TIME_FORMAT).replace(tzinfo=UTC)


def events_in_window(archived: list[dict], start: datetime, end: datetime) -> list[dict]:
    """Archived events with ``start <= time < end`` (start taken at the second), oldest first."""
    start = start.replace(microsecond=0)
    return sorted((e for e in archived if start <= event_time(e) < end), key=event_time)


def as_replayed(event: dict, replay_name: str) -> dict:
    """A copy of the archived event with ``replay-name`` where EventBridge puts it (after ``region``)."""
    out = {}
    for key, value in copy.deepcopy(event).items():
        out[key] = value
        if key == "region":
            out["replay-name"] = replay_name
    out.setdefault("replay-name", replay_name)
    return out


class ReplayRun(threading.Thread):
    """Replays ``events`` to ``rules`` through ``process_rule(rule, event)`` and keeps the replay's state."""

    def __init__(self, replay, events: list[dict], rules: list, process_rule, step: float):
        super().__init__(name="cmp-events-replay", daemon=True)
        self.replay, self.events, self.rules, self.process_rule, self.step = replay, events, rules, process_rule, step

    def run(self) -> None:
        from localstack.aws.api.events import ReplayState

        replay = self.replay
        try:
            for _, minute in groupby(self.events, key=lambda e: event_time(e).replace(second=0)):
                time.sleep(self.step)
                if replay.state == ReplayState.CANCELLING:
                    return self._finish(ReplayState.CANCELLED)
                replay.state = ReplayState.RUNNING
                for event in minute:
                    if replay.state == ReplayState.CANCELLING:
                        return self._finish(ReplayState.CANCELLED)
                    replayed = as_replayed(event, replay.name)
                    for rule in self.rules:
                        self.process_rule(rule, replayed)
                    replay.event_last_replayed_time = event_time(event)
            if replay.state == ReplayState.CANCELLING:
                return self._finish(ReplayState.CANCELLED)
            self._finish(ReplayState.COMPLETED)
        except Exception as e:  # noqa: BLE001 - a replay that cannot go on is FAILED, as on AWS
            LOG.exception("events:parity: replay %s failed", replay.name)
            replay.state_reason = str(e)[:512]
            self._finish(ReplayState.FAILED)

    def _finish(self, state) -> None:
        self.replay.state = state
        self.replay.replay_end_time = datetime.now(UTC)
