"""events:parity (PROVIDER_OVERRIDE_EVENTS=parity): archives and replays as EventBridge has them.

Part 1 (no LocalStack): the window and the replayed event shape of ``cmp_localstack.events_parity.replay``.
Part 2 (live LocalStack at LOCALSTACK_ENDPOINT, started by scripts/localstack.sh): only events matching the
archive's pattern are archived (also after UpdateArchive), StartReplay replays ``[EventStartTime, EventEndTime)``
to the rules of Destination.FilterArns (or all) with ``replay-name``, STARTING -> RUNNING -> COMPLETED with
EventLastReplayedTime, CancelReplay, replays through target retries/dead-letter queues. ~15 s.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

replay = pytest.importorskip("cmp_localstack.events_parity.replay")


# --------------------------------------------------------------------------------------------------------------
# Part 1: pure


def archived(t: datetime, n: int) -> dict:
    return {
        "version": "0", "id": f"id-{n}", "detail-type": "d", "source": "s", "account": "000000000000",
        "time": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "us-east-1", "resources": [], "detail": {"n": n},
        "event-bus-name": "b",
    }


def test_window_is_start_inclusive_at_the_second_end_exclusive_oldest_first():
    t = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
    events = [archived(t + timedelta(seconds=s), s) for s in (30, -1, 0, 59, 60)]
    picked = replay.events_in_window(events, t + timedelta(microseconds=500_000), t + timedelta(seconds=60))
    assert [e["detail"]["n"] for e in picked] == [0, 30, 59]  # 12:00:00 counts for a start at 12:00:00.5


def test_replayed_event_carries_replay_name_after_region_and_leaves_the_archive_alone():
    event = archived(datetime(2030, 1, 1, tzinfo=UTC), 1)
    out = replay.as_replayed(event, "r1")
    assert list(out)[:8] == ["version", "id", "detail-type", "source", "account", "time", "region", "replay-name"]
    assert out["replay-name"] == "r1" and out["id"] == "id-1"
    out["detail"]["n"] = 2
    assert "replay-name" not in event and event["detail"] == {"n": 1}


# --------------------------------------------------------------------------------------------------------------
# Part 2: live



class Bus:
    def __init__(self, aws_client, name: str):
        self.events, self.sqs, self.name = aws_client("events"), aws_client("sqs"), name
        self.arn = self.events.create_event_bus(Name=name)["EventBusArn"]

    def queue(self, suffix: str) -> tuple[str, str]:
        url = self.sqs.create_queue(QueueName=f"{self.name}-{suffix}")["QueueUrl"]
        return url, self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def rule(self, name: str, pattern: dict, target: dict) -> str:
        arn = self.events.put_rule(Name=name, EventBusName=self.name, EventPattern=json.dumps(pattern))["RuleArn"]
        self.events.put_targets(Rule=name, EventBusName=self.name, Targets=[{"Id": "t", **target}])
        return arn

    def archive(self, pattern: dict | None = None) -> tuple[str, str]:
        name = f"{self.name}-archive"
        kwargs = {"EventPattern": json.dumps(pattern)} if pattern else {}
        return name, self.events.create_archive(ArchiveName=name, EventSourceArn=self.arn, **kwargs)["ArchiveArn"]

    def put(self, source: str, times: list[datetime | None]) -> list[str]:
        entries = []
        for n, t in enumerate(times):
            entry = {"Source": source, "DetailType": "test", "Detail": json.dumps({"n": n}), "EventBusName": self.name}
            if t is not None:
                entry["Time"] = t
            entries.append(entry)
        res = self.events.put_events(Entries=entries)
        assert res["FailedEntryCount"] == 0
        return [e["EventId"] for e in res["Entries"]]

    def event_count(self, archive_name: str) -> int:
        return self.events.describe_archive(ArchiveName=archive_name)["EventCount"]

    def replay(self, archive_arn: str, start: datetime, end: datetime, filter_arns: list[str] | None = None) -> str:
        name = f"{self.name}-r{time.monotonic_ns() % 10**6}"
        destination = {"Arn": self.arn, **({"FilterArns": filter_arns} if filter_arns else {})}
        res = self.events.start_replay(
            ReplayName=name, EventSourceArn=archive_arn, EventStartTime=start, EventEndTime=end, Destination=destination
        )
        assert res["State"] == "STARTING" and res["ReplayStartTime"]
        return name

    def states_until_done(self, replay_name: str, timeout: float = 15) -> tuple[list[str], dict]:
        states, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            d = self.events.describe_replay(ReplayName=replay_name)
            if not states or states[-1] != d["State"]:
                states.append(d["State"])
            if d["State"] in ("COMPLETED", "CANCELLED", "FAILED"):
                return states, d
            time.sleep(0.02)
        pytest.fail(f"replay {replay_name} not done after {timeout}s: {states}")


@pytest.fixture
def bus(aws_client, endpoint, request):
    return Bus(aws_client, f"cmp-evr-{request.node.name[5:25].replace('_', '-')}-{time.time_ns() % 10**6}")


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def test_only_events_matching_the_archive_pattern_are_archived_also_after_update(bus, wait_until):
    name, _ = bus.archive({"source": ["keep"]})
    bus.put("keep", [None] * 3)
    bus.put("other", [None] * 2)
    wait_until(lambda: bus.event_count(name) == 3, timeout=5, message="3 archived events")
    bus.events.update_archive(ArchiveName=name, EventPattern=json.dumps({"source": ["other"]}))
    assert json.loads(bus.events.describe_archive(ArchiveName=name)["EventPattern"]) == {"source": ["other"]}
    bus.put("keep", [None])
    bus.put("other", [None] * 2)
    wait_until(lambda: bus.event_count(name) == 5, timeout=5, message="5 archived events")
    time.sleep(0.5)
    assert bus.event_count(name) == 5


def test_replay_sends_the_window_to_the_filtered_rules_with_replay_name(bus, wait_until, drain):
    t = now()
    url1, q1 = bus.queue("q1")
    url2, q2 = bus.queue("q2")
    r1 = bus.rule("r1", {"source": ["app"]}, {"Arn": q1})
    bus.rule("r2", {"source": ["app"]}, {"Arn": q2})
    archive_name, archive_arn = bus.archive()
    times = [t - timedelta(minutes=30), t - timedelta(minutes=20), t - timedelta(minutes=19), t - timedelta(minutes=10)]
    ids = bus.put("app", times)
    wait_until(lambda: bus.event_count(archive_name) == 4, timeout=5, message="4 archived events")
    assert len(drain(bus.sqs, url1, wait=3, expect=4)) == 4  # the live deliveries
    drain(bus.sqs, url2, wait=3, expect=4)

    name = bus.replay(archive_arn, t - timedelta(minutes=25), t - timedelta(minutes=10), filter_arns=[r1])
    states, described = bus.states_until_done(name)
    assert states == ["STARTING", "RUNNING", "COMPLETED"]
    assert described["EventLastReplayedTime"] == t - timedelta(minutes=19)
    assert described["ReplayEndTime"] >= described["ReplayStartTime"]
    assert described["Destination"] == {"Arn": bus.arn, "FilterArns": [r1]}

    bodies = [json.loads(m["Body"]) for m in drain(bus.sqs, url1, wait=2)]
    assert [b["id"] for b in bodies] == ids[1:3]  # [start, end): -20 and -19 min; -10 min is the end, excluded
    assert all(b["replay-name"] == name for b in bodies)
    assert list(bodies[0])[6:9] == ["region", "replay-name", "resources"]
    assert drain(bus.sqs, url2, wait=1) == []  # not in FilterArns
    assert bus.event_count(archive_name) == 4  # replayed events are not archived again


def test_replay_without_filter_reaches_every_rule_and_rules_can_tell_replays(bus, aws_client, wait_until, drain):
    url_all, q_all = bus.queue("all")
    url_replays, q_replays = bus.queue("replays")
    dlq_url, dlq = bus.queue("dlq")
    bus.rule("all", {"source": ["app"]}, {"Arn": q_all})
    bus.rule("replays", {"source": ["app"], "replay-name": [{"exists": True}]}, {"Arn": q_replays})
    gone = f"arn:aws:sqs:us-east-1:000000000000:{bus.name}-gone"
    bus.rule("broken", {"source": ["app"]}, {"Arn": gone, "DeadLetterConfig": {"Arn": dlq}})
    archive_name, archive_arn = bus.archive({"source": ["app"]})
    start = now()
    [event_id] = bus.put("app", [None])
    wait_until(lambda: bus.event_count(archive_name) == 1, timeout=5, message="1 archived event")
    assert len(drain(bus.sqs, url_all, wait=3, expect=1)) == 1
    assert len(drain(bus.sqs, dlq_url, wait=3, expect=1)) == 1
    assert drain(bus.sqs, url_replays, wait=0.5) == []

    name = bus.replay(archive_arn, start, datetime.now(UTC) + timedelta(seconds=1))
    assert bus.states_until_done(name)[0][-1] == "COMPLETED"
    for url in (url_all, url_replays, dlq_url):
        [message] = drain(bus.sqs, url, wait=3, expect=1)
        body = json.loads(message["Body"])
        assert (body["id"], body["replay-name"]) == (event_id, name)
    dead = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert dead["ERROR_CODE"] == "NO_RESOURCE"


def test_replay_of_an_empty_window_completes_without_last_replayed_time(bus):
    _, archive_arn = bus.archive()
    t = now()
    name = bus.replay(archive_arn, t - timedelta(hours=2), t - timedelta(hours=1))
    states, described = bus.states_until_done(name)
    assert states[-1] == "COMPLETED" and "EventLastReplayedTime" not in described


def test_cancel_replay_stops_it_and_a_finished_replay_cannot_be_cancelled(bus, wait_until, drain):
    url, q = bus.queue("q")
    bus.rule("r", {"source": ["app"]}, {"Arn": q})
    archive_name, archive_arn = bus.archive()
    t = now()
    bus.put("app", [t - timedelta(minutes=m) for m in range(10, 0, -1)])  # one event in each of 10 minutes
    wait_until(lambda: bus.event_count(archive_name) == 10, timeout=5, message="10 archived events")
    drain(bus.sqs, url, wait=3, expect=10)

    name = bus.replay(archive_arn, t - timedelta(minutes=11), t)
    time.sleep(0.5)  # ~2 of 10 minutes replayed (0.2 s pause before each)
    assert bus.events.cancel_replay(ReplayName=name)["State"] == "CANCELLING"
    states, _ = bus.states_until_done(name)
    assert states[-1] == "CANCELLED"
    assert 0 < len(drain(bus.sqs, url, wait=1.5)) < 10
    with pytest.raises(bus.events.exceptions.IllegalStatusException):
        bus.events.cancel_replay(ReplayName=name)


def test_replay_errors_are_those_of_eventbridge(bus, aws_client):
    _, archive_arn = bus.archive()
    t = now()
    name = bus.replay(archive_arn, t - timedelta(minutes=2), t - timedelta(minutes=1))
    other = Bus(aws_client, f"{bus.name}-x")

    def start(replay_name: str, start: datetime, end: datetime, destination: str):
        bus.events.start_replay(ReplayName=replay_name, EventSourceArn=archive_arn, EventStartTime=start,
                                EventEndTime=end, Destination={"Arn": destination})

    with pytest.raises(bus.events.exceptions.ResourceAlreadyExistsException):
        start(name, t - timedelta(minutes=2), t - timedelta(minutes=1), bus.arn)
    with pytest.raises(bus.events.exceptions.ClientError, match="Cross event bus replay is not permitted"):
        start(f"{name}-x", t - timedelta(minutes=2), t - timedelta(minutes=1), other.arn)
    with pytest.raises(bus.events.exceptions.ClientError, match="EventStartTime must be before EventEndTime"):
        start(f"{name}-y", t, t - timedelta(minutes=1), bus.arn)
