"""When a schedule runs: EventBridge Scheduler expressions as occurrences in UTC (pure, no LocalStack imports).

* ``at(yyyy-mm-ddThh:mm:ss)``: one occurrence, the wall-clock time in ``ScheduleExpressionTimezone``
  (a time that does not exist or exists twice on a daylight-saving change takes its first reading).
* ``rate(N minute|minutes|hour|hours|day|days)``: every N units from ``StartDate`` (the first occurrence is
  ``StartDate`` itself) or, without one, from the last create/update of the schedule (first occurrence one
  interval later). Rates are fixed intervals, independent of the time zone.
* ``cron(min hour day-of-month month day-of-week year)``: evaluated in ``ScheduleExpressionTimezone`` with the
  ``crontab`` package LocalStack ships. Supported: numbers, names (JAN, MON), ``*``, ``?``, ``,``, ``-``, ``/``,
  ``L`` in day-of-month, ``nL`` (last weekday n of the month) in day-of-week. Not supported (the schedule never
  fires, a warning is logged): ``W`` and ``#``.

``StartDate``/``EndDate`` bound recurring schedules only; AWS ignores them for one-time schedules, and so does
this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo

AT_RE = re.compile(r"^\s*at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)\s*$")
RATE_RE = re.compile(r"^\s*rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)\s*$")
CRON_RE = re.compile(r"^\s*cron\((.+)\)\s*$")

_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
# AWS day-of-week: 1-7 = SUN-SAT; the crontab package: 0-6 = SUN-SAT
_DOW_NUMBER = re.compile(r"\d+")

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
BEGINNING = datetime(1, 1, 2, tzinfo=timezone.utc)


class UnsupportedExpression(ValueError):
    """The expression, or its time zone, cannot be evaluated here: the schedule never fires."""


def zone(name: str | None) -> tzinfo:
    """The tzinfo of an IANA time zone name (UTC when empty)."""
    if not name or name in ("UTC", "Etc/UTC", "GMT"):
        return timezone.utc
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # noqa: BLE001 - no tzdata, or an unknown name: try dateutil's
        pass
    try:
        from dateutil import tz

        found = tz.gettz(name)
    except Exception:  # noqa: BLE001
        found = None
    if found is None:
        raise UnsupportedExpression(f"unknown time zone {name!r}")
    return found


def to_utc(value) -> datetime | None:
    """A moto StartDate/EndDate (epoch seconds as sent by the SDKs, an ISO string, or a datetime) in UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if isinstance(value, (int, float)):
        return EPOCH + timedelta(seconds=float(value))
    text = str(value).strip()
    try:
        return EPOCH + timedelta(seconds=float(text))
    except ValueError:
        pass
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def iso_z(moment: datetime) -> str:
    """``2022-05-14T01:12:00Z`` (whole seconds, UTC), as Scheduler writes times."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _aws_cron_to_crontab(fields: list[str]) -> str:
    if len(fields) != 6:
        raise UnsupportedExpression(f"a cron expression has 6 fields, got {len(fields)}")
    minute, hour, dom, month, dow, year = fields
    for field in (dom, dow):
        if "W" in field.upper() or "#" in field:
            raise UnsupportedExpression(f"cron field {field!r}: W and # are not supported by this emulation")

    def shift(match: re.Match) -> str:
        n = int(match.group(0))
        if not 1 <= n <= 7:
            raise UnsupportedExpression(f"day-of-week {n} is not 1-7")
        return str(n - 1)

    converted = []
    for part in dow.split(","):
        upper = part.upper()
        if upper.endswith("L") and upper != "L":  # AWS "6L" (last Friday) -> crontab "L5"
            converted.append("L" + _DOW_NUMBER.sub(shift, upper[:-1]))
        elif "/" in part:  # "2/2": start is a day number, the step is not
            start, step = part.split("/", 1)
            converted.append(_DOW_NUMBER.sub(shift, start) + "/" + step)
        else:
            converted.append(_DOW_NUMBER.sub(shift, part))
    return " ".join([minute, hour, dom, month, ",".join(converted), year])


@dataclass(frozen=True)
class Plan:
    """A parsed schedule expression: ``next_after(t)`` is its first occurrence strictly after ``t`` (UTC)."""

    kind: str  # "at" | "rate" | "cron"
    expression: str
    tz: tzinfo
    at: datetime | None = None
    interval: timedelta | None = None
    anchor: datetime | None = None
    cron: object | None = None

    @property
    def recurring(self) -> bool:
        return self.kind != "at"

    def next_after(self, after: datetime) -> datetime | None:
        if self.kind == "at":
            return self.at if self.at > after else None
        if self.kind == "rate":
            if after < self.anchor:
                return self.anchor
            steps = int((after - self.anchor) / self.interval) + 1
            candidate = self.anchor + steps * self.interval
            while candidate <= after:  # float rounding guard
                candidate += self.interval
            return candidate
        local = after.astimezone(self.tz)
        nxt = self.cron.next(now=local, default_utc=True, return_datetime=True, delta=False)
        if nxt is None:
            return None
        if nxt.tzinfo is None:
            nxt = nxt.replace(tzinfo=self.tz)
        return nxt.astimezone(timezone.utc)


def parse(expression: str, timezone_name: str | None = None, anchor: datetime | None = None) -> Plan:
    """Parses a schedule expression. ``anchor``: where a rate() counts from (StartDate, or the last change)."""
    tz = zone(timezone_name)
    m = AT_RE.match(expression or "")
    if m:
        y, mo, d, h, mi, s = (int(g) for g in m.groups())
        try:
            local = datetime(y, mo, d, h, mi, s, tzinfo=tz)
        except ValueError as e:
            raise UnsupportedExpression(f"{expression}: {e}") from e
        # round-trip through UTC: a nonexistent wall time (spring forward) moves forward like AWS does
        return Plan("at", expression, tz, at=local.astimezone(timezone.utc))
    m = RATE_RE.match(expression or "")
    if m:
        value, unit = int(m.group(1)), m.group(2).rstrip("s")
        if value < 1:
            raise UnsupportedExpression(f"{expression}: the rate must be at least 1")
        return Plan(
            "rate",
            expression,
            tz,
            interval=timedelta(seconds=value * _RATE_UNITS[unit]),
            anchor=(anchor or datetime.now(timezone.utc)).astimezone(timezone.utc),
        )
    m = CRON_RE.match(expression or "")
    if m:
        spec = _aws_cron_to_crontab(m.group(1).split())
        try:
            from crontab import CronTab

            cron = CronTab(spec)
        except Exception as e:  # noqa: BLE001 - the crontab package's own validation
            raise UnsupportedExpression(f"{expression}: {e}") from e
        return Plan("cron", expression, tz, cron=cron)
    raise UnsupportedExpression(f"not a schedule expression: {expression!r}")
