"""scheduler:firing (PROVIDER_OVERRIDE_SCHEDULER=firing): due schedules are invoked.

Part 1 (no LocalStack): the expression math of ``cmp_localstack.scheduler_firing.timing``; skipped when the
plugin is not importable (run with the LocalStack venv's python).
Part 2 (live LocalStack at LOCALSTACK_ENDPOINT, started with PROVIDER_OVERRIDE_SCHEDULER=firing; skipped when
its scheduler does not fire): one-time schedules delivered to SQS on time, ActionAfterCompletion, DISABLED,
retries then the dead-letter queue with Scheduler's attributes, FIFO message groups, a non-UTC time zone, a
universal target. The live tests run in parallel threads of their own (a module-scoped fixture starts them
all at once) so the module takes ~15 s, not the sum of their waits.
"""

from __future__ import annotations

import concurrent.futures
import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

timing = pytest.importorskip("cmp_localstack.scheduler_firing.timing")

UTC = timezone.utc


# --------------------------------------------------------------------------------------------------------------
# Part 1: timing (pure)


def test_at_is_wall_clock_time_in_its_time_zone():
    utc = timing.parse("at(2030-01-15T09:30:00)")
    berlin = timing.parse("at(2030-01-15T09:30:00)", "Europe/Berlin")  # CET, UTC+1
    ny_summer = timing.parse("at(2030-07-15T09:30:00)", "America/New_York")  # EDT, UTC-4
    assert utc.at == datetime(2030, 1, 15, 9, 30, tzinfo=UTC)
    assert berlin.at == datetime(2030, 1, 15, 8, 30, tzinfo=UTC)
    assert ny_summer.at == datetime(2030, 7, 15, 13, 30, tzinfo=UTC)
    assert not utc.recurring
    assert utc.next_after(datetime(2030, 1, 15, 9, 29, 59, tzinfo=UTC)) == utc.at
    assert utc.next_after(utc.at) is None


def test_at_on_a_daylight_saving_change():
    # 2030-03-31 02:30 does not exist in Berlin (02:00 -> 03:00): first reading, CET -> 01:30 UTC (03:30 CEST)
    gap = timing.parse("at(2030-03-31T02:30:00)", "Europe/Berlin")
    # 2030-10-27 02:30 exists twice: the first one (CEST) -> 00:30 UTC
    fold = timing.parse("at(2030-10-27T02:30:00)", "Europe/Berlin")
    assert gap.at == datetime(2030, 3, 31, 1, 30, tzinfo=UTC)
    assert fold.at == datetime(2030, 10, 27, 0, 30, tzinfo=UTC)


def test_rate_counts_from_its_anchor():
    anchor = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
    plan = timing.parse("rate(5 minutes)", anchor=anchor)
    assert plan.recurring
    assert plan.next_after(anchor - timedelta(seconds=1)) == anchor
    assert plan.next_after(anchor) == anchor + timedelta(minutes=5)
    assert plan.next_after(anchor + timedelta(minutes=12)) == anchor + timedelta(minutes=15)
    assert timing.parse("rate(1 day)", anchor=anchor).next_after(anchor) == anchor + timedelta(days=1)


def test_cron_day_of_week_is_aws_numbering_and_in_the_time_zone():
    after = datetime(2030, 1, 1, 0, 0, tzinfo=UTC)  # a Tuesday
    # AWS: 2 = Monday
    monday_noon = timing.parse("cron(0 12 ? * 2 *)").next_after(after)
    assert monday_noon == datetime(2030, 1, 7, 12, 0, tzinfo=UTC)
    assert timing.parse("cron(0 12 ? * MON *)").next_after(after) == monday_noon
    # 08:00 in Tokyo (UTC+9) is 23:00 UTC the day before
    assert timing.parse("cron(0 8 * * ? *)", "Asia/Tokyo").next_after(after) == datetime(2030, 1, 1, 23, 0, tzinfo=UTC)
    # last Friday (AWS 6L) of January 2030: the 25th
    assert timing.parse("cron(0 0 ? * 6L *)").next_after(after) == datetime(2030, 1, 25, tzinfo=UTC)
    # every 15 minutes; a year in the past never comes
    assert timing.parse("cron(0/15 * * * ? *)").next_after(after) == after + timedelta(minutes=15)
    assert timing.parse("cron(0 0 1 1 ? 2020)").next_after(after) is None


@pytest.mark.parametrize(
    "expression,tz",
    [("at(2030-13-01T00:00:00)", None), ("rate(0 minutes)", None), ("cron(0 12 ? * 2#1 *)", None), ("every day", None),
     ("at(2030-01-01T00:00:00)", "Mars/Olympus")],
)
def test_unsupported_expressions_are_refused(expression, tz):
    with pytest.raises(timing.UnsupportedExpression):
        timing.parse(expression, tz)


def test_start_and_end_dates_parse_as_the_sdks_send_them():
    assert timing.to_utc(1893456000) == datetime(2030, 1, 1, tzinfo=UTC)
    assert timing.to_utc("1893456000.5") == datetime(2030, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)
    assert timing.to_utc("2030-01-01T00:00:00Z") == datetime(2030, 1, 1, tzinfo=UTC)
    assert timing.to_utc(None) is None
    assert timing.iso_z(datetime(2030, 1, 1, 1, 2, 3, 999, tzinfo=UTC)) == "2030-01-01T01:02:03Z"


# --------------------------------------------------------------------------------------------------------------
# Part 1b: the firing loop on a moto backend of its own, a fake clock and a fake deliverer (no LocalStack)


class FakeDeliverer:
    def __init__(self, clock):
        self.clock = clock
        self.delivered: list[tuple[datetime, dict]] = []  # (when, deliver kwargs)
        self.dead: list[dict] = []
        self.failures: list[Exception] = []  # raised by the next deliveries, in order

    def deliver(self, **kwargs):
        self.delivered.append((self.clock(), kwargs))
        if self.failures:
            raise self.failures.pop(0)

    def dead_letter(self, **kwargs):
        self.dead.append(kwargs)
        return True

    def clear(self):
        pass


class Offline:
    def __init__(self, start: datetime):
        from moto.scheduler.models import EventBridgeSchedulerBackend

        from cmp_localstack.scheduler_firing.firing import FiringLoop

        self.now = start
        self.backend = EventBridgeSchedulerBackend("us-east-1", "000000000000")
        backend = self.backend

        class Backends(dict):
            def iter_backends(self):
                yield "000000000000", "us-east-1", backend

        self.loop = FiringLoop(backends=Backends({"000000000000": {"us-east-1": backend}}), clock=lambda: self.now)
        self.loop.retry_base, self.loop.retry_max = 1.0, 60.0
        self.fake = FakeDeliverer(lambda: self.now)
        self.loop.deliverer = self.fake

    def create(self, name="s", expression=None, target=None, **kwargs):
        params = dict(
            description=None, end_date=None, flexible_time_window={"Mode": "OFF"}, group_name=None, kms_key_arn=None,
            name=name, schedule_expression=expression, schedule_expression_timezone=None, start_date=None,
            state=None, target={"Arn": "arn:aws:sqs:us-east-1:000000000000:q", "RoleArn": "arn:aws:iam::000000000000:role/r",
                                **(target or {})},
            action_after_completion=None,
        )
        params.update(kwargs)
        return self.backend.create_schedule(**params)

    def at(self, seconds: float) -> datetime:
        """Runs one tick at start + seconds."""
        self.now = self.start + timedelta(seconds=seconds)
        self.loop.run_once(self.now)
        return self.now

    def exists(self, name="s") -> bool:
        return name in self.backend.schedule_groups["default"].schedules


@pytest.fixture
def offline():
    pytest.importorskip("moto.scheduler.models")
    # a day ahead of the real clock: a schedule's last change (moto's real creation time) is before it
    start = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    o = Offline(start)
    o.start = start
    return o


def test_offline_one_time_schedule_fires_once_even_when_the_loop_is_late(offline):
    o = offline
    o.create(expression=at_expression(o.start + timedelta(seconds=10)),
             target={"Input": "at <aws.scheduler.scheduled-time> #<aws.scheduler.attempt-number>"})
    o.at(9)
    assert o.fake.delivered == []
    o.at(40)  # the loop was 30 s late
    o.at(41)
    o.at(500)
    assert len(o.fake.delivered) == 1
    when, call = o.fake.delivered[0]
    expected = (o.start + timedelta(seconds=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert call["body"] == f"at {expected} #1"
    assert when == o.start + timedelta(seconds=40)
    assert o.exists()  # ActionAfterCompletion unset (NONE): kept


def test_offline_disabled_at_its_time_is_skipped_for_good_until_retimed(offline):
    o = offline
    schedule = o.create(expression=at_expression(o.start + timedelta(seconds=10)), state="DISABLED")
    o.at(11)
    schedule.state = "ENABLED"
    o.at(12)
    assert o.fake.delivered == []
    schedule.schedule_expression = at_expression(o.start + timedelta(seconds=20))
    o.at(21)
    assert len(o.fake.delivered) == 1


def test_offline_rate_catches_up_each_occurrence_once_and_deletes_after_the_last_before_end_date(offline):
    o = offline
    o.create(
        expression="rate(1 minute)",
        target={"Input": "<aws.scheduler.scheduled-time>"},
        start_date=o.start.timestamp(),
        end_date=(o.start + timedelta(minutes=3)).timestamp(),
        action_after_completion="DELETE",
    )
    o.at(150)  # late: three occurrences due (start, +1 min, +2 min)
    o.at(151)
    iso = lambda minutes: (o.start + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    assert [c["body"] for _, c in o.fake.delivered] == [iso(0), iso(1), iso(2)]
    assert o.exists()
    o.at(185)  # +3 min: the last one (EndDate is inclusive), then deleted
    assert [c["body"] for _, c in o.fake.delivered][3:] == [iso(3)]
    assert not o.exists()


def test_offline_retries_back_off_until_the_event_is_too_old_then_dead_letter(offline):
    from cmp_localstack.scheduler_firing.delivery import DeliveryError

    o = offline
    o.fake.failures = [DeliveryError("ThrottlingException", "slow down") for _ in range(100)]
    schedule = o.create(
        expression=at_expression(o.start + timedelta(seconds=10)),
        target={"Input": "x", "RetryPolicy": {"MaximumRetryAttempts": 100, "MaximumEventAgeInSeconds": 60},
                "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:000000000000:dlq"}},
        action_after_completion="DELETE",
    )
    for tenth in range(100, 800, 5):  # ticks every 0.5 s
        o.at(tenth / 10)
    attempts = [(when - o.start).total_seconds() for when, _ in o.fake.delivered]
    # backoff 1, 2, 4, 8, 16 s; the next (32 s) would be 63 s after the scheduled time
    assert attempts == [10, 11, 13, 17, 25, 41]
    assert len(o.fake.dead) == 1
    attrs = o.fake.dead[0]["attributes"]
    assert attrs["EXHAUSTED_RETRY_CONDITION"] == "MaximumEventAgeInSeconds"
    assert attrs["RETRY_ATTEMPTS"] == "5"
    assert attrs["ERROR_CODE"] == "ThrottlingException"
    assert attrs["SCHEDULE_ARN"] == schedule.arn
    assert o.fake.dead[0]["dlq_arn"].endswith(":dlq")
    assert not o.exists()  # the last invocation is finished


def test_offline_permanent_error_is_dead_lettered_at_once_without_a_retry_condition(offline):
    from cmp_localstack.scheduler_firing.delivery import DeliveryError

    o = offline
    o.fake.failures = [DeliveryError("AccessDeniedException", "no", retryable=False)]
    o.create(expression=at_expression(o.start + timedelta(seconds=10)),
             target={"DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:000000000000:dlq"}})
    o.at(10.5)
    o.at(30)
    assert len(o.fake.delivered) == 1
    attrs = o.fake.dead[0]["attributes"]
    assert "EXHAUSTED_RETRY_CONDITION" not in attrs
    assert attrs["RETRY_ATTEMPTS"] == "0"


def test_offline_delete_after_completion_spares_a_schedule_created_anew_under_the_name(offline):
    from cmp_localstack.scheduler_firing.delivery import DeliveryError

    o = offline
    o.fake.failures = [DeliveryError("ThrottlingException", "slow down")]
    o.create(expression=at_expression(o.start + timedelta(seconds=10)), action_after_completion="DELETE")
    o.at(10.5)  # fails, retry in 1 s
    o.backend.delete_schedule(None, "s")
    o.create(expression=at_expression(o.start + timedelta(seconds=1000)), action_after_completion="DELETE")
    o.at(11.5)  # the retry succeeds: the first schedule's last invocation is done
    assert len(o.fake.delivered) == 2
    assert o.exists()  # the new one stays


# --------------------------------------------------------------------------------------------------------------
# Part 2: live


def at_expression(moment: datetime, tz: str = "UTC") -> str:
    local = moment.astimezone(timing.zone(tz))
    return f"at({local.strftime('%Y-%m-%dT%H:%M:%S')})"


def next_whole_second(seconds_ahead: float) -> datetime:
    t = datetime.now(UTC) + timedelta(seconds=seconds_ahead)
    return (t + timedelta(seconds=1)).replace(microsecond=0)


class Live:
    """Clients and helpers for the live tests (one per module)."""

    def __init__(self, aws_client):
        self.sqs = aws_client("sqs")
        self.scheduler = aws_client("scheduler")
        self.run = uuid.uuid4().hex[:8]
        self.queues: list[str] = []
        self.group = f"cmp-firing-{self.run}"
        self.scheduler.create_schedule_group(Name=self.group)
        self.role = "arn:aws:iam::000000000000:role/cmp-scheduler-firing"

    def queue(self, name: str, fifo: bool = False) -> tuple[str, str]:
        attrs = {"FifoQueue": "true"} if fifo else {}
        url = self.sqs.create_queue(QueueName=f"cmp-{name}-{self.run}" + (".fifo" if fifo else ""), Attributes=attrs)["QueueUrl"]
        self.queues.append(url)
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def schedule(self, name: str, expression: str, target: dict, **kwargs) -> str:
        params = dict(
            Name=name,
            GroupName=self.group,
            ScheduleExpression=expression,
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={"RoleArn": self.role, **target},
        )
        params.update(kwargs)
        return self.scheduler.create_schedule(**params)["ScheduleArn"]

    def exists(self, name: str) -> bool:
        try:
            self.scheduler.get_schedule(Name=name, GroupName=self.group)
            return True
        except self.scheduler.exceptions.ResourceNotFoundException:
            return False

    def receive(self, url: str, timeout: float, count: int = 1) -> list[tuple[dict, float]]:
        """(message, received at epoch seconds) until ``count`` arrived or ``timeout`` passed."""
        got: list[tuple[dict, float]] = []
        deadline = time.time() + timeout
        while len(got) < count and time.time() < deadline:
            res = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                MessageAttributeNames=["All"],
                AttributeNames=["All"],
            )
            for m in res.get("Messages", []):
                got.append((m, time.time()))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return got

    def cleanup(self):
        try:
            self.scheduler.delete_schedule_group(Name=self.group)
        except Exception:  # noqa: BLE001
            pass
        for url in self.queues:
            try:
                self.sqs.delete_queue(QueueUrl=url)
            except Exception:  # noqa: BLE001
                pass


def _firing_provider_loaded(endpoint: str) -> bool:
    """Whether LocalStack runs the project's scheduler:firing provider (then a silent Scheduler is a bug)."""
    import json
    import urllib.request

    with urllib.request.urlopen(f"{endpoint}/_localstack/plugins", timeout=5) as res:  # noqa: S310 (loopback)
        plugins = json.load(res).get("localstack.aws.provider", [])
    return any(p.get("name") == "scheduler:firing" and p.get("is_loaded") for p in plugins)


@pytest.fixture(scope="module")
def live(aws_client, endpoint):
    lv = Live(aws_client)
    # Is it the firing provider? A schedule due now must arrive within a few seconds.
    url, arn = lv.queue("probe")
    lv.schedule("probe", at_expression(datetime.now(UTC) - timedelta(seconds=1)), {"Arn": arn, "Input": "probe"})
    if not lv.receive(url, timeout=5):
        lv.cleanup()
        if _firing_provider_loaded(endpoint):
            pytest.fail("the scheduler:firing provider is loaded but a due schedule did not fire within 5 s")
        pytest.skip("this LocalStack's Scheduler does not fire schedules: start it with PROVIDER_OVERRIDE_SCHEDULER=firing")
    yield lv
    lv.cleanup()


# Each scenario: prepare (create queues and schedules) returns a check that waits and returns the findings.
# The module fixture prepares all of them, then waits for all of them in parallel.


def scenario_on_time(lv: Live):
    url, arn = lv.queue("on-time")
    due = next_whole_second(4)
    lv.schedule(
        "on-time",
        at_expression(due),
        {"Arn": arn, "Input": '{"hello":"world"}', "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 60}},
        ScheduleExpressionTimezone="UTC",
        ActionAfterCompletion="DELETE",
    )

    def check():
        early = lv.receive(url, timeout=max(0.0, (due - datetime.now(UTC)).total_seconds() - 1.5))
        got = lv.receive(url, timeout=15)
        time.sleep(1.5)  # the deletion follows the delivery
        return {"due": due, "early": early, "got": got, "exists": lv.exists("on-time")}

    return check


def scenario_keep(lv: Live):
    url, arn = lv.queue("keep")
    due = next_whole_second(3)
    lv.schedule("keep", at_expression(due), {"Arn": arn, "Input": "kept"}, ActionAfterCompletion="NONE")

    def check():
        got = lv.receive(url, timeout=15)
        more = lv.receive(url, timeout=3)  # fired once, not at every tick
        schedule = lv.scheduler.get_schedule(Name="keep", GroupName=lv.group)
        return {"got": got, "more": more, "schedule": schedule}

    return check


def scenario_disabled(lv: Live):
    url, arn = lv.queue("disabled")
    due = next_whole_second(3)
    lv.schedule("disabled", at_expression(due), {"Arn": arn, "Input": "never"}, State="DISABLED", ActionAfterCompletion="DELETE")

    def check():
        wait = (due - datetime.now(UTC)).total_seconds() + 5
        got = lv.receive(url, timeout=wait)
        return {"got": got, "exists": lv.exists("disabled")}

    return check


def scenario_dead_letter(lv: Live):
    dlq_url, dlq_arn = lv.queue("dlq")
    missing = f"arn:aws:sqs:us-east-1:000000000000:cmp-missing-{lv.run}"
    due = next_whole_second(3)
    schedule_arn = lv.schedule(
        "dead-letter",
        at_expression(due),
        {
            "Arn": missing,
            "Input": '{"order":42}',
            "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 60},
            "DeadLetterConfig": {"Arn": dlq_arn},
        },
        ActionAfterCompletion="DELETE",
    )

    def check():
        # attempts at due, due+1 s, due+3 s (backoff 1 s, 2 s), then the dead letter
        got = lv.receive(dlq_url, timeout=20)
        time.sleep(1.5)
        return {"due": due, "got": got, "missing": missing, "schedule_arn": schedule_arn, "exists": lv.exists("dead-letter")}

    return check


def scenario_fifo(lv: Live):
    url, arn = lv.queue("fifo", fifo=True)
    due = next_whole_second(3)
    lv.schedule("fifo", at_expression(due), {"Arn": arn, "Input": "in order", "SqsParameters": {"MessageGroupId": "customer-7"}})

    def check():
        return {"got": lv.receive(url, timeout=15)}

    return check


def scenario_time_zone(lv: Live):
    url, arn = lv.queue("tz")
    due = next_whole_second(4)
    tz = "Asia/Kolkata"  # UTC+05:30: a wrong zone would be hours (and a half) off
    lv.schedule("time-zone", at_expression(due, tz), {"Arn": arn, "Input": "namaste"}, ScheduleExpressionTimezone=tz)

    def check():
        return {"due": due, "got": lv.receive(url, timeout=15)}

    return check


def scenario_universal(lv: Live):
    url, _ = lv.queue("universal")
    due = next_whole_second(3)
    lv.schedule(
        "universal",
        at_expression(due),
        {"Arn": "arn:aws:scheduler:::aws-sdk:sqs:sendMessage", "Input": json.dumps({"QueueUrl": url, "MessageBody": "via sdk"})},
    )

    def check():
        return {"got": lv.receive(url, timeout=15)}

    return check


SCENARIOS = {
    "on_time": scenario_on_time,
    "keep": scenario_keep,
    "disabled": scenario_disabled,
    "dead_letter": scenario_dead_letter,
    "fifo": scenario_fifo,
    "time_zone": scenario_time_zone,
    "universal": scenario_universal,
}


@pytest.fixture(scope="module")
def results(live):
    checks = {name: prepare(live) for name, prepare in SCENARIOS.items()}
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(checks)) as pool:
        futures = {name: pool.submit(check) for name, check in checks.items()}
        return {name: f.result() for name, f in futures.items()}


def attr(message: dict, name: str) -> str | None:
    value = message.get("MessageAttributes", {}).get(name)
    return value["StringValue"] if value else None


def test_at_schedule_delivers_on_time_then_is_deleted(results):
    r = results["on_time"]
    assert r["early"] == []
    assert len(r["got"]) == 1
    message, received = r["got"][0]
    assert message["Body"] == '{"hello":"world"}'
    sent_lag = int(message["Attributes"]["SentTimestamp"]) / 1000 - r["due"].timestamp()
    receive_lag = received - r["due"].timestamp()
    print(f"scheduler:firing lag: sent {sent_lag * 1000:.0f} ms after the due time, received after {receive_lag * 1000:.0f} ms")
    assert -0.05 <= sent_lag < 1.5
    assert r["exists"] is False  # ActionAfterCompletion DELETE


def test_action_after_completion_none_keeps_the_schedule_and_fires_once(results):
    r = results["keep"]
    assert [m["Body"] for m, _ in r["got"]] == ["kept"]
    assert r["more"] == []
    assert r["schedule"]["State"] == "ENABLED"
    assert r["schedule"]["ActionAfterCompletion"] == "NONE"


def test_disabled_schedule_does_not_fire(results):
    r = results["disabled"]
    assert r["got"] == []
    assert r["exists"] is True  # nothing ran, so nothing to delete


def test_failing_target_is_retried_then_dead_lettered_with_schedulers_attributes(results):
    r = results["dead_letter"]
    assert len(r["got"]) == 1
    message, received = r["got"][0]
    assert message["Body"] == '{"order":42}'
    assert attr(message, "ERROR_CODE") == "AWS.SimpleQueueService.NonExistentQueue"
    assert attr(message, "ERROR_MESSAGE")
    assert attr(message, "EXHAUSTED_RETRY_CONDITION") == "MaximumRetryAttempts"
    assert attr(message, "RETRY_ATTEMPTS") == "2"
    assert attr(message, "TARGET_ARN") == r["missing"]
    assert attr(message, "SCHEDULE_ARN") == r["schedule_arn"]
    assert attr(message, "SCHEDULED_TIME") == r["due"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert attr(message, "IS_PAYLOAD_TRUNCATED") == "false"
    assert len(attr(message, "EXECUTION_ID") or "") >= 8
    # two backoffs (1 s + 2 s) happened before the dead letter
    assert received - r["due"].timestamp() >= 3
    assert r["exists"] is False  # the last invocation finished (dead-lettered): deleted


def test_fifo_target_gets_the_message_group(results):
    r = results["fifo"]
    assert len(r["got"]) == 1
    message, _ = r["got"][0]
    assert message["Body"] == "in order"
    assert message["Attributes"]["MessageGroupId"] == "customer-7"
    assert message["Attributes"].get("MessageDeduplicationId")


def test_time_zone_other_than_utc(results):
    r = results["time_zone"]
    assert len(r["got"]) == 1
    message, _ = r["got"][0]
    assert message["Body"] == "namaste"
    lag = int(message["Attributes"]["SentTimestamp"]) / 1000 - r["due"].timestamp()
    assert -0.05 <= lag < 1.5


def test_universal_target_calls_the_api_with_input_as_parameters(results):
    r = results["universal"]
    assert [m["Body"] for m, _ in r["got"]] == ["via sdk"]
