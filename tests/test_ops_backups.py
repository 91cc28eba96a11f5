"""`silhouette-ops backups verify` (issue 13): every backup against the age the stack's ``recovery`` output
allows; each breach names the service, the age, the limit and the likely cause."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from silhouette_infra.ops import backups
from silhouette_infra.ops.report import Report
from tests.ops_account import Account, SharedAccount, lent_accounts, neo4j_volume_arn, postgres_arn, recovery_points


@pytest.fixture(scope="module")
def shared() -> Iterator[SharedAccount]:
    """Production's moto account, seeded once for this module. Read as seeded (``production``) by every
    test that only stubs its own tool clients (AWS Backup, the DR region's RDS) and hooks their answers; the
    three that change moto ask for ``production_to_change`` (they delete the Neo4j export, disable the
    replication rule, delete the Redis snapshot)."""
    with SharedAccount("production") as account:
        yield account


production, production_to_change = lent_accounts()


def healthy_aws_backup(
    account: Account,
    *,
    age: timedelta = timedelta(hours=2),
    copy_age: timedelta | None = None,
    neo4j_age: timedelta = timedelta(minutes=40),
) -> None:
    """Recovery points of the RDS instance and of Neo4j's volume (hourly) in both vaults, and replicated automated
    backups in the DR region."""
    outputs, arn, volume = account.outputs, postgres_arn(account), neo4j_volume_arn(account)
    # moto 5.2.5 lacks AWS Backup ListRecoveryPointsByBackupVault: stubbed in both regions. The primary vault is
    # listed twice in a run: by the aws-backup section, then by Neo4j's.
    primary = recovery_points(
        account, age=age, vault=outputs["backup_vault_name"], resource_arn=arn, more={volume: neo4j_age}
    )
    stub = account.stub("backup")
    for _ in range(2):
        stub.add_response("list_recovery_points_by_backup_vault", primary)
    account.stub("backup", outputs["dr_region"]).add_response(
        "list_recovery_points_by_backup_vault",
        recovery_points(
            account, age=copy_age or age, vault=outputs["dr_backup_vault_name"], resource_arn=arn, more={volume: age}
        ),
    )
    replicated(account, timedelta(minutes=10))


def replicated(account: Account, age: timedelta | None) -> None:
    # moto 5.2.5 lacks StartDBInstanceAutomatedBackupsReplication, so the DR region has no replicated backups:
    # DescribeDBInstanceAutomatedBackups there is stubbed.
    backups_in_dr: list[dict[str, Any]] = (
        []
        if age is None
        else [
            {
                "DBInstanceIdentifier": account.outputs["postgres_identifier"],
                "Status": "replicating",
                "RestoreWindow": {"EarliestTime": account.now - timedelta(days=7), "LatestTime": account.now - age},
            }
        ]
    )
    source = account.client("rds").describe_db_instances(DBInstanceIdentifier=account.outputs["postgres_identifier"])
    account.stub("rds", account.outputs["dr_region"]).add_response(
        "describe_db_instance_automated_backups",
        {"DBInstanceAutomatedBackups": backups_in_dr},
        expected_params={"DbiResourceId": source["DBInstances"][0]["DbiResourceId"]},
    )


def replication_status(account: Account, status: str) -> None:
    """moto 5.2.5 sets no ReplicationStatus on objects: added to its HeadObject answer (botocore's after-call)."""

    def add_status(parsed: dict[str, Any], **_: Any) -> None:
        parsed["ReplicationStatus"] = status

    account.clients.get("s3", account.outputs["region"]).meta.events.register("after-call.s3.HeadObject", add_status)


def verify(account: Account, later: timedelta = timedelta(0)) -> Report:
    return backups.verify(account.stack_outputs, account.clients, account.now + later)


def breaches(report: Report) -> dict[str, str]:
    return {check.subject: check.detail for check in report.checks if check.level != "ok"}


def test_fresh_backups_of_every_service_pass(production: Account) -> None:
    healthy_aws_backup(production)
    replication_status(production, "COMPLETED")
    report = verify(production)
    assert breaches(report) == {}
    assert {check.area for check in report.checks} == {"postgres", "aws-backup", "s3-replication", "neo4j", "redis"}
    assert report.exit_code == 0


def test_a_stale_point_in_time_restore_is_critical_and_names_age_rpo_and_cause(production: Account) -> None:
    healthy_aws_backup(production)
    replication_status(production, "COMPLETED")
    report = verify(production, later=timedelta(hours=2, minutes=10))
    detail = breaches(report)[production.outputs["postgres_identifier"]]
    assert "2 h" in detail and "limit 1 h 0 min" in detail and "likely" in detail, detail
    assert report.exit_code == 2


def test_missing_replicated_backups_in_the_dr_region_are_critical(production: Account) -> None:
    healthy_aws_backup(production)
    replicated(production, None)
    replication_status(production, "COMPLETED")
    detail = breaches(verify(production))[f"{production.outputs['postgres_identifier']} (us-west-2)"]
    assert "no replicated automated backups in us-west-2" in detail, detail


def test_an_old_recovery_point_and_a_missing_dr_copy_are_critical(production: Account) -> None:
    healthy_aws_backup(production, age=timedelta(hours=8), copy_age=timedelta(hours=13))
    replication_status(production, "COMPLETED")
    found = breaches(verify(production))
    arn = postgres_arn(production)
    assert "latest recovery point 8 h" in found[arn] and "limit 7 h 0 min, RPO 1 h 0 min" in found[arn], found
    assert "latest DR copy 13 h" in found[f"{arn} (DR copy)"], found


def test_failed_bucket_replication_is_critical(production: Account) -> None:
    healthy_aws_backup(production)
    replication_status(production, "FAILED")
    found = breaches(verify(production))
    key = f"{production.outputs['backup_bucket']}/{production.outputs['neo4j_backup_prefix']}"
    assert any(subject.startswith(key) and "replication FAILED" in detail for subject, detail in found.items()), found


def test_an_old_neo4j_export_and_an_old_redis_snapshot_are_critical(production: Account) -> None:
    healthy_aws_backup(production, age=timedelta(days=2))
    replication_status(production, "COMPLETED")
    found = breaches(verify(production, later=timedelta(days=2, minutes=10)))
    assert any(subject.startswith("s3://") and "newest dump 2 d" in detail for subject, detail in found.items()), found
    assert "newest snapshot 2 d" in found[production.outputs["redis_replication_group_id"]], found


def test_neo4j_is_held_to_its_hourly_snapshots_not_to_its_six_hourly_export(production: Account) -> None:
    """The RPO table's Neo4j source is the hourly snapshot of its volume (planning/recovery.py): 2 h 30 min without
    one is a breach (limit 2 h: the hour plus AWS Backup's start window), while the export of the same age is
    within its own 7 h."""
    healthy_aws_backup(production, neo4j_age=timedelta(hours=2, minutes=30))
    replication_status(production, "COMPLETED")
    found = breaches(verify(production))
    detail = found[neo4j_volume_arn(production)]
    assert "latest hourly snapshot 2 h 30 min old, over its limit 2 h 0 min, RPO 1 h 0 min" in detail, detail
    assert not any(subject.startswith("s3://") for subject in found), f"the export is within its bound: {found}"


def test_no_neo4j_export_at_all_is_critical(production_to_change: Account) -> None:
    healthy_aws_backup(production_to_change)
    replication_status(production_to_change, "COMPLETED")
    s3, bucket = production_to_change.client("s3"), production_to_change.outputs["backup_bucket"]
    for item in s3.list_objects_v2(Bucket=bucket)["Contents"]:
        s3.delete_object(Bucket=bucket, Key=item["Key"])
    found = breaches(verify(production_to_change))
    assert "no Neo4j dump" in found[f"s3://{bucket}/{production_to_change.outputs['neo4j_backup_prefix']}"], found


def test_replication_pending_past_its_limit_and_a_disabled_rule_are_critical(production_to_change: Account) -> None:
    replication_status(production_to_change, "PENDING")
    healthy_aws_backup(production_to_change)  # the stubs answer one run each
    assert not breaches(verify(production_to_change)), "a fresh PENDING object is on its way, not a breach"
    healthy_aws_backup(production_to_change, age=timedelta(minutes=5))
    found = breaches(verify(production_to_change, later=timedelta(hours=2, minutes=10)))
    assert any("replication PENDING for 2 h" in detail for detail in found.values()), found

    bucket, s3 = production_to_change.outputs["backup_bucket"], production_to_change.client("s3")
    configuration = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
    configuration["Rules"][0]["Status"] = "Disabled"
    s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=configuration)
    healthy_aws_backup(production_to_change)
    assert "no enabled replication rule" in breaches(verify(production_to_change))[bucket]


def test_an_object_outside_the_replication_rule_is_a_warning(production: Account) -> None:
    healthy_aws_backup(production)
    report = verify(production)  # moto sets no ReplicationStatus: read as not covered by the rule
    warnings = [check for check in report.checks if check.level == "warning"]
    assert [check.detail for check in warnings] == ["not covered by the replication rule"], report.checks
    assert report.exit_code == 1


def test_a_cache_without_any_snapshot_is_critical(production_to_change: Account) -> None:
    healthy_aws_backup(production_to_change)
    replication_status(production_to_change, "COMPLETED")
    group = production_to_change.outputs["redis_replication_group_id"]
    production_to_change.client("elasticache").delete_snapshot(SnapshotName=f"{group}-daily")
    assert "no available snapshot" in breaches(verify(production_to_change))[group]
