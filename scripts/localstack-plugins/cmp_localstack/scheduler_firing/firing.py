"""The firing loop: finds due schedules in moto's scheduler backends and invokes their targets.

One daemon thread ("cmp-scheduler-firing"), woken just after every whole second (``at()`` times are whole
seconds), or every ``CMP_SCHEDULER_TICK_SECONDS``, and when a retry is due. Each tick:

1. under ``SCHEDULER_LOCK`` (the lock every Scheduler API call of the provider also holds), walks every
   account/region backend of moto's ``scheduler_backends`` and every schedule; each schedule carries its own
   firing state (``_cmp_firing``: the fingerprint of its timing fields and a cursor, the last occurrence
   handled). Every occurrence after the cursor and not after now is handled exactly once: fired when the
   schedule is ENABLED then, skipped when DISABLED (a one-time schedule disabled at its time does not fire
   later when enabled again, unless its expression changes). A slow tick therefore fires late, never twice
   and never not at all (a recurring schedule catches up at most ``MAX_CATCH_UP`` occurrences per tick).
   Changing the expression, time zone, StartDate or EndDate resets the state.
2. outside the lock, attempts every invocation that is due (new ones, and retries whose backoff has passed).

An invocation that fails with a retryable error is retried after min(base * 2^(n-1), max) seconds
(``CMP_SCHEDULER_RETRY_BASE_SECONDS``, default 1; ``CMP_SCHEDULER_RETRY_MAX_SECONDS``, default 60), until
``RetryPolicy.MaximumRetryAttempts`` retries were made (default 185) or the next attempt would be more than
``RetryPolicy.MaximumEventAgeInSeconds`` after the scheduled time (default 86400); then, as after a permanent
error, it goes to ``DeadLetterConfig.Arn`` (if any) with Scheduler's attributes, else it is dropped (logged).

``ActionAfterCompletion: DELETE``: the schedule is deleted once its last invocation is finished (delivered or
dead-lettered) - for ``at()`` its only one, for rate/cron the last before EndDate - provided it is still the
same schedule (not deleted and re-created, not re-timed) by then. Otherwise one-time schedules stay, as on AWS.

Retries in progress live in memory only: a restart forgets them (the firing state on the schedules persists
with LocalStack's state, so a fired one-time schedule does not fire again after a restore).
"""

from __future__ import annotations

import copy
import logging
import os
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from . import timing
from .delivery import Deliverer, DeliveryError, dedup_id

LOG = logging.getLogger(__name__)

# Held by every Scheduler API call (see providers.py) and by the loop while it reads or changes moto's models.
SCHEDULER_LOCK = threading.RLock()

STATE_ATTR = "_cmp_firing"
MAX_CATCH_UP = 10
DEFAULT_MAX_RETRIES = 185
DEFAULT_MAX_AGE = 86400


def _env_float(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, "") or default)
        return value if value > 0 else default
    except ValueError:
        return default


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class FiringState:
    fingerprint: tuple
    cursor: datetime  # occurrences at or before it are handled
    plan: timing.Plan | None = None
    error: str | None = None  # the expression cannot be evaluated (logged once)
    completed: bool = False  # no occurrence left (a completed schedule without a final invocation stays)

    def __getstate__(self):  # persistence: the plan (a crontab object) is rebuilt on demand
        state = dict(self.__dict__)
        state["plan"] = None
        return state


@dataclass
class Invocation:
    account_id: str
    region: str
    schedule: object  # the moto Schedule (identity matters for ActionAfterCompletion)
    schedule_arn: str
    group_name: str
    name: str
    fingerprint: tuple
    target: dict
    scheduled_time: datetime
    delete_after: bool  # ActionAfterCompletion DELETE and this is the last invocation
    execution_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    attempts: int = 0
    next_attempt: datetime = field(default_factory=_now)


def _fingerprint(schedule) -> tuple:
    return (
        schedule.schedule_expression,
        schedule.schedule_expression_timezone or "UTC",
        str(schedule.start_date),
        str(schedule.end_date),
    )


def _changed_at(schedule) -> datetime:
    value = getattr(schedule, "last_modified_date", None) or getattr(schedule, "creation_date", None)
    try:
        return timing.EPOCH + timedelta(seconds=float(value))
    except (TypeError, ValueError):
        return _now()


class FiringLoop:
    def __init__(self, backends=None, clock=None):
        self._backends = backends  # default: moto's scheduler_backends
        self.clock = clock or _now  # tests drive the loop with run_once(now) and a clock of their own
        self.tick = _env_float("CMP_SCHEDULER_TICK_SECONDS", 1.0)
        self.retry_base = _env_float("CMP_SCHEDULER_RETRY_BASE_SECONDS", 1.0)
        self.retry_max = _env_float("CMP_SCHEDULER_RETRY_MAX_SECONDS", 60.0)
        self.deliverer = Deliverer()
        self._pending: list[Invocation] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    @property
    def backends(self):
        if self._backends is None:
            from moto.scheduler.models import scheduler_backends

            self._backends = scheduler_backends
        return self._backends

    # --- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> None:
        with self._start_lock:
            if self._thread and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="cmp-scheduler-firing", daemon=True)
            self._thread.start()
            LOG.info("scheduler:firing: firing loop started (tick %.2fs)", self.tick)

    def stop(self, timeout: float = 5.0) -> None:
        with self._start_lock:
            self._stop.set()
            thread, self._thread = self._thread, None
        if thread and thread is not threading.current_thread():
            thread.join(timeout)

    def reset(self) -> None:
        """State reset: forget retries in progress and cached clients."""
        with SCHEDULER_LOCK:
            self._pending.clear()
        self.deliverer.clear()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once(self.clock())
            except Exception:  # noqa: BLE001 - never let the loop die
                LOG.exception("scheduler:firing: tick failed")
            self._stop.wait(self._wait(self.clock()))

    def _wait(self, now: datetime) -> float:
        """Until 20 ms after the next whole second (tick 1) or one tick, or the first retry due before that."""
        wait = 1.0 - now.microsecond / 1e6 + 0.02 if self.tick == 1.0 else self.tick
        with SCHEDULER_LOCK:
            retries = [inv.next_attempt for inv in self._pending]
        if retries:
            wait = min(wait, max(0.0, (min(retries) - now).total_seconds()) + 0.001)
        return wait

    # --- one tick -------------------------------------------------------------------------------------------
    def run_once(self, now: datetime) -> None:
        with SCHEDULER_LOCK:
            self._collect(now)
            ready = [inv for inv in self._pending if inv.next_attempt <= now]
        for invocation in ready:
            if self._stop.is_set():
                return
            self._attempt(invocation)

    def _collect(self, now: datetime) -> None:
        for account_id, region, backend in list(self.backends.iter_backends()):
            for group in list(getattr(backend, "schedule_groups", {}).values()):
                for schedule in list(group.schedules.values()):
                    try:
                        self._collect_schedule(account_id, region, group.name, schedule, now)
                    except Exception:  # noqa: BLE001
                        LOG.exception("scheduler:firing: schedule %s", getattr(schedule, "arn", "?"))

    def _state(self, schedule, now: datetime) -> FiringState:
        fp = _fingerprint(schedule)
        state: FiringState | None = getattr(schedule, STATE_ATTR, None)
        if state is not None and state.fingerprint == fp:
            if state.plan is None and state.error is None:
                self._plan(schedule, state)
            return state
        state = FiringState(fingerprint=fp, cursor=timing.BEGINNING)
        self._plan(schedule, state)
        if state.plan is not None and state.plan.recurring:
            # recurring schedules run from their last change on (no backfill)
            state.cursor = min(_changed_at(schedule), now)
        setattr(schedule, STATE_ATTR, state)
        return state

    def _plan(self, schedule, state: FiringState) -> None:
        try:
            start = timing.to_utc(schedule.start_date)
            state.plan = timing.parse(
                schedule.schedule_expression,
                schedule.schedule_expression_timezone,
                anchor=start or _changed_at(schedule),
            )
        except (timing.UnsupportedExpression, ValueError, TypeError) as e:
            state.error = str(e)
            LOG.warning("scheduler:firing: schedule %s will not fire: %s", schedule.arn, e)

    def _collect_schedule(self, account_id: str, region: str, group_name: str, schedule, now: datetime) -> None:
        state = self._state(schedule, now)
        plan = state.plan
        if plan is None or state.completed:
            return
        start = end = None
        if plan.recurring:
            start = timing.to_utc(schedule.start_date)
            end = timing.to_utc(schedule.end_date)
        caught_up = 0
        while True:
            after = state.cursor
            if start is not None and after < start:
                after = start - timedelta(microseconds=1)
            occurrence = plan.next_after(after)
            if occurrence is None or (end is not None and occurrence > end):
                state.completed = True
                return
            if occurrence > now:
                return
            if caught_up >= MAX_CATCH_UP:
                LOG.warning("scheduler:firing: %s is behind; skipping occurrences up to %s", schedule.arn, now)
                state.cursor = now
                return
            caught_up += 1
            state.cursor = occurrence
            if (schedule.state or "ENABLED") != "ENABLED":
                continue
            following = plan.next_after(occurrence)
            last = following is None or (end is not None and following > end)
            self._pending.append(
                Invocation(
                    account_id=account_id,
                    region=region,
                    schedule=schedule,
                    schedule_arn=schedule.arn,
                    group_name=group_name,
                    name=schedule.name,
                    fingerprint=state.fingerprint,
                    target=copy.deepcopy(schedule.target or {}),
                    scheduled_time=occurrence,
                    delete_after=last and (schedule.action_after_completion or "NONE") == "DELETE",
                    next_attempt=now,
                )
            )
            LOG.debug("scheduler:firing: %s due at %s (lag %.3fs)", schedule.arn, occurrence, (now - occurrence).total_seconds())

    # --- attempts -------------------------------------------------------------------------------------------
    def _body(self, inv: Invocation) -> str:
        body = inv.target.get("Input")
        if body is None or body == "":
            body = "{}"
        for placeholder, value in (
            ("<aws.scheduler.schedule-arn>", inv.schedule_arn),
            ("<aws.scheduler.scheduled-time>", timing.iso_z(inv.scheduled_time)),
            ("<aws.scheduler.execution-id>", inv.execution_id),
            ("<aws.scheduler.attempt-number>", str(inv.attempts)),
        ):
            body = body.replace(placeholder, value)
        return body

    def _attempt(self, inv: Invocation) -> None:
        inv.attempts += 1
        body = self._body(inv)
        try:
            self.deliverer.deliver(
                target=inv.target,
                body=body,
                schedule_arn=inv.schedule_arn,
                account_id=inv.account_id,
                region=inv.region,
                dedup=dedup_id(inv.schedule_arn, timing.iso_z(inv.scheduled_time)),
            )
        except DeliveryError as error:
            self._failed(inv, body, error)
            return
        lag = (self.clock() - inv.scheduled_time).total_seconds()
        LOG.info(
            "scheduler:firing: %s invoked %s (scheduled %s, attempt %d, lag %.3fs)",
            inv.schedule_arn, inv.target.get("Arn"), timing.iso_z(inv.scheduled_time), inv.attempts, lag,
        )
        self._finish(inv)

    def _failed(self, inv: Invocation, body: str, error: DeliveryError) -> None:
        policy = inv.target.get("RetryPolicy") or {}
        max_retries = policy.get("MaximumRetryAttempts")
        max_retries = DEFAULT_MAX_RETRIES if max_retries is None else int(max_retries)
        max_age = policy.get("MaximumEventAgeInSeconds")
        max_age = DEFAULT_MAX_AGE if max_age is None else int(max_age)
        retries = inv.attempts - 1
        exhausted = None
        if error.retryable:
            if retries >= max_retries:
                exhausted = "MaximumRetryAttempts"
            else:
                delay = min(self.retry_base * (2**retries), self.retry_max)
                next_attempt = self.clock() + timedelta(seconds=delay)
                if (next_attempt - inv.scheduled_time).total_seconds() > max_age:
                    exhausted = "MaximumEventAgeInSeconds"
                else:
                    LOG.info(
                        "scheduler:firing: %s attempt %d failed (%s: %s); retry in %.1fs",
                        inv.schedule_arn, inv.attempts, error.code, error.message, delay,
                    )
                    inv.next_attempt = next_attempt
                    return
        self._dead_letter(inv, body, error, exhausted)
        self._finish(inv)

    def _dead_letter(self, inv: Invocation, body: str, error: DeliveryError, exhausted: str | None) -> None:
        dlq = (inv.target.get("DeadLetterConfig") or {}).get("Arn")
        if not dlq:
            LOG.warning(
                "scheduler:firing: %s failed after %d attempt(s) (%s: %s) and has no dead-letter queue: dropped",
                inv.schedule_arn, inv.attempts, error.code, error.message,
            )
            return
        attributes = {
            "ERROR_CODE": error.code,
            "ERROR_MESSAGE": error.message,
            "EXECUTION_ID": inv.execution_id,
            "RETRY_ATTEMPTS": str(inv.attempts - 1),
            "SCHEDULED_TIME": timing.iso_z(inv.scheduled_time),
            "SCHEDULE_ARN": inv.schedule_arn,
            "TARGET_ARN": inv.target.get("Arn") or "",
        }
        if exhausted:
            attributes["EXHAUSTED_RETRY_CONDITION"] = exhausted
        sent = self.deliverer.dead_letter(
            dlq_arn=dlq,
            role_arn=inv.target.get("RoleArn"),
            body=body,
            attributes=attributes,
            account_id=inv.account_id,
            region=inv.region,
            schedule_arn=inv.schedule_arn,
        )
        if sent:
            LOG.info(
                "scheduler:firing: %s dead-lettered to %s after %d attempt(s) (%s%s)",
                inv.schedule_arn, dlq, inv.attempts, error.code, f", {exhausted}" if exhausted else "",
            )

    def _finish(self, inv: Invocation) -> None:
        with SCHEDULER_LOCK:
            try:
                self._pending.remove(inv)
            except ValueError:
                pass  # reset in between
            if not inv.delete_after:
                return
            try:
                backend = self.backends[inv.account_id][inv.region]
                group = backend.schedule_groups.get(inv.group_name)
            except Exception:  # noqa: BLE001
                return
            if group is None or group.schedules.get(inv.name) is not inv.schedule:
                return  # deleted, or deleted and created anew: not ours to delete
            if _fingerprint(inv.schedule) != inv.fingerprint:
                return  # re-timed since: it has invocations to come
            group.schedules.pop(inv.name, None)
            LOG.info("scheduler:firing: %s deleted after completion (ActionAfterCompletion DELETE)", inv.schedule_arn)
