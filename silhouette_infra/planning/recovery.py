"""The recovery point of every stateful service, pure: how much data a stack loses when its region is lost.

For each service the sources it can be rebuilt from in the DR region are listed with what bounds their age:
how often a recovery point is taken (from the settings: schedules, export intervals) and how long it takes to
reach the DR region where AWS documents a bound (S3 Replication Time Control). A service's RPO is that of its
freshest source. Delays that AWS does not bound (a job's start inside its start window, a cross-region copy,
an export's duration) are named beside the figure, never folded into it as a guess: they are what a restore
drill measures.

Figures and their sources:

* RDS uploads the transaction logs of an instance to S3 every 5 minutes, the bound of a point-in-time restore
  (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIT.html); replicated automated backups carry
  them to the DR region (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReplicateBackups.html).
* S3 Replication Time Control replicates 99.99 % of objects within 15 minutes
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html).
* ElastiCache takes one automatic backup a day, in the cache's backup window
  (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/backups-automatic.html); the exports layer copies the
  newest one to the Redis export bucket within the hour (``exports.py``), which replicates with Replication Time
  Control.
* AWS Backup runs a rule at most hourly, starts a job within its start window (at least 60 minutes) and
  starts a copy to another region when the backup completes
  (https://docs.aws.amazon.com/aws-backup/latest/devguide/creating-a-backup-plan.html,
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupRule.html).
"""

from __future__ import annotations

from dataclasses import dataclass

from silhouette_infra.aws.replication import REPLICATION_TIME_MINUTES
from silhouette_infra.planning.schedules import cron_interval_minutes
from silhouette_infra.settings.models import ClusterSettings, Settings

# RDS: transaction logs uploaded every 5 minutes (USER_PIT.html).
DATABASE_PITR_RPO_MINUTES = 5
# AWS Backup: the plan's 6-hourly rule, the hourly rule of Neo4j's volume, and the smallest start window.
SNAPSHOT_INTERVAL_HOURS = 6
HOURLY_INTERVAL_MINUTES = 60
START_WINDOW_MINUTES = 60
# ElastiCache: one automatic snapshot a day; the export job looks for a new one every hour.
REDIS_SNAPSHOT_INTERVAL_MINUTES = 24 * 60
REDIS_EXPORT_INTERVAL_MINUTES = 60


@dataclass(frozen=True)
class Source:
    """One way to rebuild a service in the DR region."""

    name: str
    interval_minutes: float  # the longest time between two recovery points
    transfer_minutes: float  # the documented bound on reaching the DR region (0 where it is written there)
    unbounded: tuple[str, ...] = ()  # delays AWS does not bound, for the table

    @property
    def rpo_minutes(self) -> float:
        return self.interval_minutes + self.transfer_minutes


@dataclass(frozen=True)
class ServiceRecovery:
    """A stateful service, its sources in the DR region (none: nothing there) and what a recovery loses."""

    service: str
    sources: tuple[Source, ...]
    key: str  # the setting that shortens the freshest source's interval
    note: str = ""
    cache: bool = False  # holds nothing that is not elsewhere: not counted against the objective

    @property
    def best(self) -> Source | None:
        return min(self.sources, key=lambda source: source.rpo_minutes, default=None)

    @property
    def rpo_minutes(self) -> float | None:
        best = self.best
        return best.rpo_minutes if best is not None else None


def neo4j_snapshot_source(dr_region: str) -> Source:
    """Neo4j's hourly AWS Backup snapshots of its volume (backup.py's hourly plan), copied to the DR vault: the RPO
    table's source for Neo4j, and the bound `silhouette-ops backups verify` holds them to (planning/operations.py)."""
    return Source(
        f"hourly AWS Backup snapshots of the volume copied to the {dr_region} vault",
        HOURLY_INTERVAL_MINUTES,
        0,
        (f"the job's start window ({START_WINDOW_MINUTES} min)", "the cross-region copy"),
    )


def recovery_table(settings: Settings) -> list[ServiceRecovery]:
    """Every stateful service of the stack and its sources in the DR region (the production profile copies and
    replicates there; a single-region stack has none)."""
    backup, recovery, dr = settings.backup, settings.recovery, settings.aws.dr_region
    copies, replicated = backup.copy_to_dr_region, backup.replicate_bucket_to_dr_region
    export = recovery.export_interval_minutes

    def bucket_sources(name: str, interval: float, *unbounded: str) -> tuple[Source, ...]:
        """A source kept in the backup bucket, which reaches the DR region only when the bucket replicates."""
        return (Source(name, interval, REPLICATION_TIME_MINUTES, unbounded),) if replicated else ()

    return [
        ServiceRecovery(
            "PostgreSQL",
            (
                Source(
                    f"automated backups replicated to {dr} (point-in-time restore)",
                    DATABASE_PITR_RPO_MINUTES,
                    0,
                    ("cross-region replication of the transaction logs",),
                ),
            )
            if copies
            else (),
            "postgres.backup_retention_days",
        ),
        ServiceRecovery(
            "Redis",
            bucket_sources(
                f"daily automatic snapshot exported (within {REDIS_EXPORT_INTERVAL_MINUTES} min) to the Redis export "
                f"bucket, replicated to {dr}",
                REDIS_SNAPSHOT_INTERVAL_MINUTES + REDIS_EXPORT_INTERVAL_MINUTES,
                "the snapshot's and the export's duration",
            ),
            "redis.snapshot_window",
            note="a cache: seeded in the DR region from the newest export (or started empty) and refilled from "
            "PostgreSQL",
            cache=True,
        ),
        ServiceRecovery(
            "RabbitMQ",
            bucket_sources(
                f"definitions (queues, exchanges, policies; no users) exported every {export} min, replicated to {dr}",
                export,
            ),
            "recovery.export_interval_minutes",
            note="messages in flight are not recoverable: publishers retry, consumers are idempotent",
        ),
        ServiceRecovery(
            "Neo4j",
            (
                *((neo4j_snapshot_source(dr),) if copies else ()),
                *bucket_sources(
                    f"dump exported to the backup bucket on '{settings.neo4j.backup_schedule}', replicated to {dr}",
                    cron_interval_minutes(settings.neo4j.backup_schedule),
                    "the export's duration",
                ),
            ),
            "backup.hourly_retention_days",
        ),
        ServiceRecovery(
            "backup bucket",
            bucket_sources(f"replica in {dr} (Replication Time Control)", 0),
            "backup.replicate_bucket_to_dr_region",
        ),
    ]


def rpo_issues(settings: Settings) -> list[tuple[str, str]]:
    """A production stack must be able to rebuild every stateful service in the DR region within its RPO. A cache
    (Redis, whose every key is derived from PostgreSQL: docs/architecture.md, targets) is listed, not counted."""
    if not settings.is_production:
        return []
    target = settings.recovery.rpo_minutes
    issues: list[tuple[str, str]] = []
    for row in recovery_table(settings):
        rpo = row.rpo_minutes
        if row.cache:
            continue
        if rpo is None:
            issues.append(("recovery.rpo_minutes", f"{row.service} has no recovery source in {settings.aws.dr_region}"))
        elif rpo > target and row.best is not None:
            issues.append(
                (
                    "recovery.rpo_minutes",
                    f"{row.service} can lose {rpo:.0f} min of data in {settings.aws.dr_region} ({row.best.name}), "
                    f"above the {target} min objective: shorten it with {row.key}",
                )
            )
    return issues


def standby_cluster(settings: Settings) -> ClusterSettings:
    """The cluster of the DR region's standby (the pilot light): every node group at its minimum size, from which
    the cluster autoscaler grows it during a recovery (a node group's desired size is not managed after creation:
    cluster/eks.py)."""
    groups = [group.model_copy(update={"desired_size": group.min_size}) for group in settings.cluster.node_groups]
    return settings.cluster.model_copy(update={"node_groups": groups})
