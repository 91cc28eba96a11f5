"""The failover command (issue 14, item 5), on a DR region seeded like a real one: moto for S3 and STS (the
replica bucket and its RabbitMQ definitions); botocore's Stubber for DescribeDBInstanceAutomatedBackups, whose
answer moto 5.2.5 gives without DBInstanceAutomatedBackupsArn and RestoreWindow (the fields the command reads;
the stubbed answer is checked against botocore's model of the real API)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from silhouette_infra.aws.naming import Naming
from silhouette_infra.failover.command import FailoverError, Sources, config_lines, find_sources, main, runbook
from tests.ops_account import boto3_session
from tests.support import config_with, synth
from tests.variants import (
    BACKUP_REPLICA,
    DR_KEY,
    DR_REGION,
    FAILED_OVER_SOURCES,
    MOTO_ACCOUNT,
    REDIS_REPLICA,
    dr_failed_over,
)

ARN = FAILED_OVER_SOURCES["postgres_automated_backups_arn"]
# The replica's DR key (DR_KEY) is set by ARN only: S3 takes a default-encryption key without looking it up, and
# the command reads the bucket's encryption, never KMS (moto's CreateKey makes an RSA key pair, 50 ms a test).
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@pytest.fixture
def dr_region(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The DR region as production leaves it: the backup bucket's replica with two definitions exports and two
    Neo4j exports, the Redis export bucket's replica with two exported snapshots."""
    for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    with mock_aws():
        s3 = boto3_session().client("s3", region_name=DR_REGION)
        s3.create_bucket(Bucket=BACKUP_REPLICA, CreateBucketConfiguration={"LocationConstraint": DR_REGION})
        s3.put_bucket_encryption(
            Bucket=BACKUP_REPLICA,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": DR_KEY}}]
            },
        )
        for stamp in ("20261128T0900Z", "20261128T0930Z"):
            s3.put_object(Bucket=BACKUP_REPLICA, Key=f"rabbitmq-definitions/production/{stamp}.json", Body=b"{}")
        for stamp in ("20261128T0000Z", "20261128T0600Z"):
            s3.put_object(Bucket=BACKUP_REPLICA, Key=f"neo4j/production/{stamp}.cypher.gz", Body=b"\x1f\x8b")
        s3.create_bucket(Bucket=REDIS_REPLICA, CreateBucketConfiguration={"LocationConstraint": DR_REGION})
        for day in ("2026-11-27", "2026-11-28"):
            s3.put_object(Bucket=REDIS_REPLICA, Key=f"silhouette-production-redis-{day}-03-00-0001.rdb", Body=b"REDIS")
        yield s3


def _rds(latest: datetime | None) -> tuple[Any, Stubber]:
    rds = boto3_session().client("rds", region_name=DR_REGION)
    stub = Stubber(rds)
    backups = (
        [
            {
                "DBInstanceAutomatedBackupsArn": ARN,
                "DBInstanceIdentifier": "silhouette-production-postgres",
                "Region": DR_REGION,
                "Status": "replicating",
                "RestoreWindow": {"EarliestTime": latest - timedelta(days=14), "LatestTime": latest},
            }
        ]
        if latest
        else []
    )
    stub.add_response(
        "describe_db_instance_automated_backups",
        {"DBInstanceAutomatedBackups": backups},
        {"DBInstanceIdentifier": "silhouette-production-postgres"},
    )
    stub.activate()
    return rds, stub


def _find(s3: Any, latest: datetime | None) -> Sources:
    rds, stub = _rds(latest)
    try:
        production = synth("production").settings
        return find_sources(rds, s3, settings=production, naming=Naming("production"), account_id=MOTO_ACCOUNT, now=NOW)
    finally:
        stub.assert_no_pending_responses()


def test_finds_the_latest_restorable_points_in_the_dr_region(dr_region: Any) -> None:
    sources = _find(dr_region, NOW - timedelta(minutes=5))
    assert sources.automated_backups_arn == ARN and sources.region == DR_REGION
    assert sources.definitions_object == FAILED_OVER_SOURCES["rabbitmq_definitions_object"], "the newest export"
    assert sources.definitions_key_arn == DR_KEY, "the replica bucket's default encryption key"
    assert sources.neo4j_dump_object == FAILED_OVER_SOURCES["neo4j_dump_object"], "the newest Neo4j export"
    assert sources.redis_rdb_object == FAILED_OVER_SOURCES["redis_rdb_object"], "the newest Redis export"


def test_a_stack_without_redis_exports_gets_no_seed(dr_region: Any) -> None:
    for item in dr_region.list_objects_v2(Bucket=REDIS_REPLICA)["Contents"]:
        dr_region.delete_object(Bucket=REDIS_REPLICA, Key=item["Key"])
    dr_region.delete_bucket(Bucket=REDIS_REPLICA)
    sources = _find(dr_region, NOW - timedelta(minutes=5))
    assert sources.redis_rdb_object is None, "no export bucket: the cache starts empty"
    assert not any("redis_rdb_object" in line for line in config_lines("dr", sources))


def test_a_restore_point_older_than_the_rpo_is_refused(dr_region: Any) -> None:
    with pytest.raises(FailoverError, match=r"90 min old: above recovery.rpo_minutes \(60\)"):
        _find(dr_region, NOW - timedelta(minutes=90))


def test_no_replicated_backups_is_refused(dr_region: Any) -> None:
    with pytest.raises(FailoverError, match="no replicated automated backups of silhouette-production-postgres"):
        _find(dr_region, None)


def test_the_command_is_one_line_and_exit_2_when_aws_has_no_usable_backups(
    dr_region: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """main() against moto alone: moto knows no replicated backups with an ARN, so the command refuses."""
    assert main(["--source", "production"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("failover: no replicated automated backups") and "\n" not in error, error


def _apply(lines: list[str], config: dict[str, str]) -> dict[str, str]:
    """What `pulumi config set --path` writes, applied to a stack's config: ``silhouette:a.b.c value``."""
    for line in lines:
        words = shlex.split(line)
        assert words[:6] == ["pulumi", "config", "set", "--path", "--stack", "dr"], line
        path, value = words[6], words[7]
        namespace_key, *rest = path.split(".")
        document = json.loads(config.get(namespace_key, "{}"))
        node = document
        for part in rest[:-1]:
            node = node.setdefault(part, {})
        node[rest[-1]] = value
        config[namespace_key] = json.dumps(document)
    return config


def test_end_to_end_seed_failover_and_synthesise_the_dr_stack(dr_region: Any) -> None:
    sources = _find(dr_region, NOW - timedelta(minutes=5))
    lines = config_lines("dr", sources)
    config = config_with("dr")
    config["silhouette:recovery"] = json.dumps({"mode": "cold"})  # the section before the failover
    applied = _apply(lines, config)
    written = json.loads(applied["silhouette:recovery"])
    assert written == {"mode": "cold", "sources": FAILED_OVER_SOURCES}, f"the command wrote {written}"
    result = synth("dr", applied)
    assert result is dr_failed_over(), "the dr stack's tests read this run (variants.dr_failed_over)"
    restore = result.named("aws:rds/instance:Instance", "postgres").inputs["restoreToPointInTime"]
    assert restore == {"sourceDbInstanceAutomatedBackupsArn": ARN, "useLatestRestorableTime": True}, restore
    jobs = {r.name: r for r in result.of_type("kubernetes:batch/v1:Job")}
    assert "exports-rabbitmq-definitions-import" in jobs, "the written sources make the dr stack import the definitions"
    assert "neo4j-restore" in jobs, "the written sources make the dr stack replay the newest Neo4j export"
    (download,) = jobs["neo4j-restore"].inputs["spec"]["template"]["spec"]["initContainers"]
    assert {e["name"]: e.get("value") for e in download["env"]}["SOURCE"] == (
        f"s3://{BACKUP_REPLICA}/neo4j/production/20261128T0600Z.cypher.gz"
    )
    redis = result.named("aws:elasticache/replicationGroup:ReplicationGroup", "redis")
    assert redis.inputs["snapshotArns"] == [sources.redis_rdb_object], "the cache is seeded from the newest export"
    steps = runbook("dr", result.settings, sources)
    assert any("2026-11-28T09:55:00Z" in step for step in steps) and any("objective 240 min" in s for s in steps)
