"""What the operators' tool (``silhouette-ops``) holds the stack to, as plain data for the stack outputs: the
age each backup may reach and the credential rotation policy. Pure: no Pulumi, no AWS. Neo4j is held to its
hourly volume snapshots (the RPO table's source), its 6-hourly export to the export's schedule.

A backup's age limit is the recovery point objective (``recovery.rpo_minutes``) where its schedule can meet
it, else the schedule's own worst case (interval plus the slack its job needs to start and finish): a
6-hourly backup cannot be held to one hour, and the README's RPO table says which services fall short.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from silhouette_infra.planning.recovery import START_WINDOW_MINUTES, neo4j_snapshot_source
from silhouette_infra.planning.schedules import MINUTES_PER_DAY, cron_interval_minutes
from silhouette_infra.settings.models import SecretsSettings, Settings

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


def _bound(rpo_minutes: int, interval_minutes: int, slack_minutes: int) -> dict[str, Any]:
    worst_case = interval_minutes + slack_minutes
    return {
        "interval_minutes": interval_minutes,
        "max_age_minutes": max(rpo_minutes, worst_case),
        "meets_rpo": worst_case <= rpo_minutes,
    }


def _neo4j_bound(settings: Settings, rpo: int) -> dict[str, Any]:
    """Neo4j's freshest recovery point: the hourly AWS Backup snapshots of its volume (backup.py's hourly plan), the
    RPO table's source (planning/recovery.py, one definition for both). Its age is allowed the interval plus the
    job's start window, like every AWS Backup job; whether it meets the RPO is the table's answer, which names the
    start window beside the figure as a delay rather than folding it in."""
    snapshots = neo4j_snapshot_source(settings.aws.dr_region)
    return {
        **_bound(rpo, round(snapshots.interval_minutes), START_WINDOW_MINUTES),
        "meets_rpo": snapshots.rpo_minutes <= rpo,
    }


def recovery_outputs(settings: Settings, schedule: BackupSchedule) -> dict[str, Any]:
    """The ``recovery`` stack output: the RPO and, per backup the stack keeps, its interval and age limit."""
    rpo = settings.recovery.rpo_minutes
    aws_backup_slack = schedule.aws_backup_start_window_minutes
    services: dict[str, Any] = {
        "postgres": _bound(rpo, schedule.database_pitr_lag_minutes, 0),
        "aws_backup": _bound(rpo, schedule.aws_backup_interval_minutes, aws_backup_slack),
        "neo4j": _neo4j_bound(settings, rpo),
        "neo4j_export": _bound(rpo, cron_interval_minutes(settings.neo4j.backup_schedule), NEO4J_EXPORT_SLACK_MINUTES),
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
