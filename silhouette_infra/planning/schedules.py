"""Cron schedules, pure: the longest gap between two runs of a daily schedule, for the recovery points
(planning/recovery.py) and the ages the operators' tool allows (planning/operations.py)."""

from __future__ import annotations

import itertools

MINUTES_PER_DAY = 24 * 60


def cron_interval_minutes(schedule: str) -> int:
    """The longest gap between two runs of a five-field cron schedule that runs every day
    (``0 */6 * * *`` -> 360). Minutes and hours may be ``*``, a number, a list, a range or a step; the three
    day fields must be ``*`` (a schedule that skips days has no daily cadence to check a backup against)."""
    fields = schedule.split()
    if len(fields) != 5 or fields[2:] != ["*", "*", "*"]:
        raise ValueError(f"cron schedule {schedule!r}: expected minute and hour fields followed by '* * *'")
    minutes, hours = _cron_values(fields[0], 60, schedule), _cron_values(fields[1], 24, schedule)
    runs = sorted(hour * 60 + minute for hour in hours for minute in minutes)
    gaps = [later - earlier for earlier, later in itertools.pairwise(runs)]
    gaps.append(runs[0] + MINUTES_PER_DAY - runs[-1])  # from the last run of a day to the first of the next
    return max(gaps)


def _cron_values(field: str, size: int, schedule: str) -> list[int]:
    values: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            first, last = 0, size - 1
        elif "-" in base:
            first, last = (int(bound) for bound in base.split("-", 1))
        else:
            first = int(base)
            last = first if not step_text else size - 1
        if not (0 <= first <= last < size) or step < 1:
            raise ValueError(f"cron schedule {schedule!r}: {part!r} is out of range 0-{size - 1}")
        values.update(range(first, last + 1, step))
    return sorted(values)
