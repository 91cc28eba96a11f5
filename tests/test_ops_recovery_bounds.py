"""The ``recovery`` stack output that `silhouette-ops backups verify` holds the backups to
(planning/operations.py): the RPO where a backup's schedule meets it, else the schedule's worst case."""

from __future__ import annotations

import pytest

from silhouette_infra.planning.operations import BackupSchedule, recovery_outputs
from silhouette_infra.planning.recovery import recovery_table
from silhouette_infra.planning.schedules import cron_interval_minutes
from silhouette_infra.synth.engine import stack_config
from silhouette_infra.validation.loader import load_settings

SCHEDULE = BackupSchedule(
    aws_backup_interval_minutes=360,
    aws_backup_start_window_minutes=60,
    aws_backup_completion_window_minutes=300,
    database_pitr_lag_minutes=5,
    bucket_replication_minutes=15,
)


@pytest.mark.parametrize(
    ("schedule", "minutes"),
    [("0 */6 * * *", 360), ("30 2 * * *", 1440), ("*/15 * * * *", 15), ("0 1,5 * * *", 1200), ("0 8-20/4 * * *", 720)],
)
def test_the_longest_gap_of_a_daily_cron_schedule(schedule: str, minutes: int) -> None:
    assert cron_interval_minutes(schedule) == minutes, schedule


@pytest.mark.parametrize("schedule", ["0 3 * * SUN", "0 */6 * *", "61 * * * *"])
def test_a_schedule_without_a_daily_cadence_is_refused_by_name(schedule: str) -> None:
    with pytest.raises(ValueError, match="cron schedule"):
        cron_interval_minutes(schedule)


def test_production_bounds_hold_postgres_to_the_rpo_and_six_hourly_backups_to_seven_hours() -> None:
    settings = load_settings("production", stack_config("production"))
    services = recovery_outputs(settings, SCHEDULE)["services"]
    assert services["postgres"] == {"interval_minutes": 5, "max_age_minutes": 60, "meets_rpo": True}
    assert services["aws_backup"] == {"interval_minutes": 360, "max_age_minutes": 420, "meets_rpo": False}
    assert services["aws_backup_dr_copy"]["max_age_minutes"] == 720
    assert services["redis"]["max_age_minutes"] == 1500
    assert {"postgres_dr", "backup_bucket_replication", "neo4j"} <= set(services)


def test_neo4j_is_held_to_its_hourly_snapshots_as_the_rpo_table_says_not_to_its_six_hourly_export() -> None:
    """One fact, two readers: the RPO table's Neo4j source (hourly volume snapshots) is what `backups verify`
    holds Neo4j to (interval plus AWS Backup's start window); the 6-hourly export keeps its own, looser bound."""
    settings = load_settings("production", stack_config("production"))
    services = recovery_outputs(settings, SCHEDULE)["services"]
    (neo4j,) = [row for row in recovery_table(settings) if row.service == "Neo4j"]
    assert neo4j.best is not None and services["neo4j"]["interval_minutes"] == neo4j.best.interval_minutes == 60
    assert services["neo4j"] == {"interval_minutes": 60, "max_age_minutes": 120, "meets_rpo": True}, services
    assert services["neo4j_export"] == {"interval_minutes": 360, "max_age_minutes": 420, "meets_rpo": False}


def test_staging_keeps_no_dr_bounds() -> None:
    settings = load_settings("staging", stack_config("staging"))
    services = recovery_outputs(settings, SCHEDULE)["services"]
    assert not {"postgres_dr", "aws_backup_dr_copy", "backup_bucket_replication"} & set(services), services
