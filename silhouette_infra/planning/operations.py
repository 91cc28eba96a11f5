"""What the operators' tool (``silhouette-ops``) holds the stack to, as plain data for the stack outputs: the
age each backup may reach and the credential rotation policy. Pure: no Pulumi, no AWS.

A backup's age limit is the recovery point objective (``recovery.rpo_minutes``) where its schedule can meet
it, else the schedule's own worst case (interval plus the slack its job needs to start and finish): a
6-hourly backup cannot be held to one hour, and the README's RPO table says which services fall short.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from silhouette_infra.settings.models import SecretsSettings, Settings

MINUTES_PER_DAY = 24 * 60
# The Neo4j export runs in its CronJob's slot and takes time to dump and upload: an hour of slack, as the
# AWS Backup start window allows its jobs.
NEO4J_EXPORT_SLACK_MINUTES = 60
# ElastiCache takes its daily snapshot somewhere in the one-hour snapshot_window.
REDIS_SNAPSHOT_WINDOW_MINUTES = 60


@dataclass(frozen=True)
class BackupSchedule:
    """The backup layer's figures (``backup.py``), handed over by the program: this module cannot import a layer."""

    aws_backup_interval_minutes: int
    aws_backup_start_window_minutes: int
    aws_backup_completion_window_minutes: int
    database_pitr_lag_minutes: int
    bucket_replication_minutes: int


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


def _bound(rpo_minutes: int, interval_minutes: int, slack_minutes: int) -> dict[str, Any]:
    worst_case = interval_minutes + slack_minutes
    return {
        "interval_minutes": interval_minutes,
        "max_age_minutes": max(rpo_minutes, worst_case),
        "meets_rpo": worst_case <= rpo_minutes,
    }


def recovery_outputs(settings: Settings, schedule: BackupSchedule) -> dict[str, Any]:
    """The ``recovery`` stack output: the RPO and, per backup the stack keeps, its interval and age limit."""
    rpo = settings.recovery.rpo_minutes
    aws_backup_slack = schedule.aws_backup_start_window_minutes
    services: dict[str, Any] = {
        "postgres": _bound(rpo, schedule.database_pitr_lag_minutes, 0),
        "aws_backup": _bound(rpo, schedule.aws_backup_interval_minutes, aws_backup_slack),
        "neo4j": _bound(rpo, cron_interval_minutes(settings.neo4j.backup_schedule), NEO4J_EXPORT_SLACK_MINUTES),
    }
    if settings.redis.snapshot_retention_days > 0:
        services["redis"] = _bound(rpo, MINUTES_PER_DAY, REDIS_SNAPSHOT_WINDOW_MINUTES)
    if settings.backup.copy_to_dr_region:
        # The data layer replicates automated backups to the DR region whenever copies go there.
        services["postgres_dr"] = _bound(rpo, schedule.database_pitr_lag_minutes, 0)
        services["aws_backup_dr_copy"] = _bound(
            rpo,
            schedule.aws_backup_interval_minutes,
            aws_backup_slack + schedule.aws_backup_completion_window_minutes,
        )
    if settings.backup.replicate_bucket_to_dr_region:
        services["backup_bucket_replication"] = _bound(rpo, schedule.bucket_replication_minutes, 0)
    return {"rpo_minutes": rpo, "services": services}


def secret_policy(policy: SecretsSettings, secret_id: Any, rotated_by: str) -> dict[str, Any]:
    """One entry of the ``secrets`` stack output: the secret (ARN or name), who rotates it and the policy."""
    return {
        "id": secret_id,
        "rotated_by": rotated_by,
        "max_age_days": policy.max_age_days,
        "warning_days": policy.warning_days,
    }
