"""Regional recovery (issue 14): every stateful service of production can be rebuilt in the DR region, losing at
most ``recovery.rpo_minutes`` of data (the design's RPO 1 h)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from silhouette_infra.backup import EBS_VOLUMES, HOURLY_SCHEDULE, PVC_NAMESPACE_TAG
from silhouette_infra.planning.recovery import recovery_table
from silhouette_infra.synth.engine import SynthResult
from silhouette_infra.synth.recovery import recovery_sources, rpo_lines
from silhouette_infra.validation.loader import SettingsError, load_settings
from tests.support import config_with, synth

PLAN = "aws:backup/plan:Plan"
SELECTION = "aws:backup/selection:Selection"
VAULT = "aws:backup/vault:Vault"


@pytest.fixture(scope="module")
def production() -> SynthResult:
    return synth("production")


# --------------------------------------------------------------------------------------------- the RPO
def test_every_stateful_service_of_production_loses_at_most_the_rpo(production: SynthResult) -> None:
    settings = production.settings
    for row in recovery_table(settings):
        if row.cache:
            assert row.service == "Redis", f"{row.service}: only the cache may go without a recovery source"
            continue
        assert row.rpo_minutes is not None, f"{row.service}: no recovery source in {settings.aws.dr_region}"
        assert row.rpo_minutes <= settings.recovery.rpo_minutes == 60, (
            f"{row.service}: RPO {row.rpo_minutes} min in {settings.aws.dr_region} above the design's 1 h"
        )


def test_neo4j_rpo_comes_from_hourly_snapshots_not_the_six_hourly_dumps(production: SynthResult) -> None:
    (neo4j,) = [row for row in recovery_table(production.settings) if row.service == "Neo4j"]
    by_name = {source.name.split(" ")[0]: source.rpo_minutes for source in neo4j.sources}
    assert by_name == {"hourly": 60, "dump": 6 * 60 + 15}, f"Neo4j sources: {by_name}"


def test_synth_prints_the_rpo_of_every_service(production: SynthResult) -> None:
    lines = rpo_lines(production.settings)
    assert lines[0].startswith("recovery points in us-west-2") and "objective 60 min" in lines[0], lines[0]
    for service, rpo in [("PostgreSQL", 5), ("RabbitMQ", 45), ("Neo4j", 60), ("backup bucket", 15)]:
        assert any(line.strip().startswith(f"{service}: RPO {rpo} min") for line in lines), (
            f"synth's RPO table has no '{service}: RPO {rpo} min' line:\n" + "\n".join(lines)
        )


def test_the_cache_is_listed_but_not_counted(production: SynthResult) -> None:
    (redis,) = [line for line in rpo_lines(production.settings) if line.strip().startswith("Redis")]
    assert "not counted against the objective" in redis and "PostgreSQL" in redis, redis


def test_a_single_region_stack_says_it_has_nothing_in_the_dr_region() -> None:
    settings = synth("staging").settings
    assert all(row.rpo_minutes is None for row in recovery_table(settings)), "staging copies nothing to us-west-2"
    assert "no objective outside production" in rpo_lines(settings)[0]


# ------------------------------------------------------------------------------------ the settings rule
@pytest.mark.parametrize(
    ("overrides", "service"),
    [
        ({"recovery": {"rpo_minutes": 30}}, "Neo4j"),
        ({"recovery": {"export_interval_minutes": 60}}, "RabbitMQ"),
        ({"backup": {"copy_to_dr_region": False}}, "PostgreSQL"),
    ],
)
def test_production_above_its_rpo_is_refused_naming_the_service(overrides: dict[str, Any], service: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings("production", config_with("production", **overrides))
    message = str(raised.value)
    assert "silhouette:recovery.rpo_minutes: " in message and service in message, (
        f"production with {overrides}: the error must name recovery.rpo_minutes and {service}:\n{message}"
    )


def test_staging_has_no_rpo_objective() -> None:
    load_settings("staging", config_with("staging", recovery={"rpo_minutes": 5}))


# -------------------------------------------------------------------------- Neo4j's hourly snapshots
def test_neo4j_volume_is_snapshotted_hourly_and_copied_to_the_dr_vault(production: SynthResult) -> None:
    """AWS Backup runs a rule at most hourly; the copy action sends each point to the DR vault
    (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupRule.html)."""
    plan = production.named(PLAN, "backup-hourly-plan")
    (rule,) = plan.inputs["rules"]
    assert rule["schedule"] == HOURLY_SCHEDULE == "cron(0 */1 * * ? *)", f"{plan.name}: hourly schedule"
    assert rule["startWindow"] == 60 and rule["completionWindow"] == 120, f"{plan.name}: windows"
    assert rule["lifecycle"]["deleteAfter"] == production.settings.backup.hourly_retention_days
    dr_vault = production.named(VAULT, "backup-dr-vault")
    (copy,) = rule["copyActions"]
    assert copy["destinationVaultArn"] == dr_vault.outputs["arn"], f"{plan.name}: copies go to the DR vault"

    selection = production.named(SELECTION, "backup-hourly-selection")
    assert selection.inputs["planId"] == plan.id and selection.inputs["resources"] == [EBS_VOLUMES]
    (condition,) = selection.inputs["conditions"]
    assert {(c["key"], c["value"]) for c in condition["stringEquals"]} == {
        ("aws:ResourceTag/Backup", "silhouette-production"),
        (f"aws:ResourceTag/{PVC_NAMESPACE_TAG}", "neo4j"),
    }, f"{selection.name}: only the stack's volumes in the neo4j namespace"


def test_vault_lock_allows_the_hourly_retention(production: SynthResult) -> None:
    for lock in production.of_type("aws:backup/vaultLockConfiguration:VaultLockConfiguration"):
        assert lock.inputs["minRetentionDays"] <= production.settings.backup.hourly_retention_days, (
            f"{lock.name}: a minimum above the hourly rule's retention fails its jobs"
        )


# ---------------------------------------------------------------------- sources kept in the DR region
def test_audit_history_is_replicated_to_the_dr_region_under_its_own_key(production: SynthResult) -> None:
    """Closes the README's former gap: the audit bucket (CloudTrail, AWS Config) reaches the DR region within
    15 minutes (Replication Time Control), encrypted there with an audit key of its own."""
    replica = production.named("aws:s3/bucket:Bucket", "audit-replica-bucket")
    assert replica.inputs["bucket"].startswith("silhouette-production-audit-us-west-2-"), replica.inputs["bucket"]
    assert replica.protect, "audit-replica-bucket: protected like the audit bucket"
    config = production.named("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "audit-replication")
    assert config.inputs["bucket"] == production.named("aws:s3/bucket:Bucket", "audit-bucket").id
    (rule,) = config.inputs["rules"]
    destination = rule["destination"]
    assert destination["bucket"] == replica.outputs["arn"], "audit-replication: to the DR replica"
    dr_key = production.named("aws:kms/key:Key", "audit-dr-key")
    assert destination["encryptionConfiguration"] == {"replicaKmsKeyId": dr_key.outputs["arn"]}
    assert destination["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}
    lifecycles = {
        r.name: r.inputs["rules"][0]["expiration"]["days"]
        for r in production.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        if r.name.startswith("audit-")
    }
    assert set(lifecycles.values()) == {2557}, f"the replica keeps the audit logs as long (7 years): {lifecycles}"


def test_images_are_replicated_to_the_dr_region(production: SynthResult) -> None:
    """ECR registry replication (https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html): the dr
    stack pulls the same digests in us-west-2, limited to this stack's repositories."""
    config = production.named("aws:ecr/replicationConfiguration:ReplicationConfiguration", "registry-replication")
    (rule,) = config.inputs["replicationConfiguration"]["rules"]
    assert [d["region"] for d in rule["destinations"]] == ["us-west-2"], "registry-replication: to the DR region"
    assert rule["repositoryFilters"] == [{"filter": "silhouette/production/", "filterType": "PREFIX_MATCH"}]
    staging = synth("staging")
    assert not staging.of_type("aws:ecr/replicationConfiguration:ReplicationConfiguration"), (
        "staging replicates nothing (and one configuration per registry belongs to production)"
    )


# ------------------------------------------------------------------------------ the coverage walk (item 1)
def test_every_stateful_resource_of_production_has_a_recovery_source_in_the_dr_region(
    production: SynthResult,
) -> None:
    """Walks every stateful resource (synth/replacing.py's stateful types, and StatefulSets) of production: each
    has a copy kept in us-west-2, or a written reason it needs none (synth/recovery.py NOT_COPIED)."""
    sources = recovery_sources(production)
    missing = [urn for urn, source in sources.items() if source is None]
    assert not missing, f"production: no recovery source in us-west-2 for {missing}"
    names = {urn.rsplit("::", 1)[1]: source for urn, source in sources.items()}
    assert names["postgres"] == "automated backups replicated", names["postgres"]
    assert names["neo4j"] == "hourly volume snapshots copied to the DR vault", names["neo4j"]
    assert names["rabbitmq"] == "definitions exported to the replicated backup bucket", names["rabbitmq"]
    assert names["audit-bucket"] == names["backup-bucket"] == "replicated with Replication Time Control"
    assert names["neo4j-secret"] == names["alertmanager-receivers-secret"] == "secret replicated"


def test_the_walk_finds_a_stack_that_copies_nothing() -> None:
    """The same walk on staging (single region by design) names what it would lose: the walk can fail."""
    sources = {urn.rsplit("::", 1)[1]: source for urn, source in recovery_sources(synth("staging")).items()}
    for name in ("postgres", "backup-bucket", "audit-bucket", "backup-vault", "neo4j", "rabbitmq", "backend"):
        assert sources[name] is None, f"staging: {name} has no copy in us-west-2, the walk says {sources[name]!r}"


# ------------------------------------------------------------------------- the RabbitMQ definitions export
def test_rabbitmq_definitions_are_exported_without_users_on_the_schedule(production: SynthResult) -> None:
    (job,) = [r for r in production.of_type("kubernetes:batch/v1:CronJob") if r.name == "exports-rabbitmq-definitions"]
    spec = job.inputs["spec"]
    assert spec["schedule"] == "*/30 * * * *" and spec["concurrencyPolicy"] == "Forbid", spec["schedule"]
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    (fetch,) = pod["initContainers"]
    script = fetch["command"][-1]
    assert "/api/definitions/" in script, "exports-rabbitmq-definitions: the vhost's definitions"
    for private in ("users", "permissions"):
        assert f'"{private}"' in script, f"exports-rabbitmq-definitions: {private} are dropped before upload"
    assert not any("env" in c and any("valueFrom" in e for e in c["env"]) for c in pod["initContainers"]), (
        "exports-rabbitmq-definitions: the broker's password is a mounted file, never an environment variable"
    )
    (upload,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in upload["env"]}
    assert env["BACKUP_PREFIX"] == "rabbitmq-definitions/production/", env
    assert env["BACKUP_BUCKET"] == production.named("aws:s3/bucket:Bucket", "backup-bucket").outputs["bucket"]


def test_definitions_role_may_only_write_its_prefix(production: SynthResult) -> None:
    role = production.named("aws:iam/role:Role", "rabbitmq-definitions-role")
    (inline,) = [p for p in production.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id]
    statements = json.loads(inline.inputs["policy"])["Statement"]
    bucket = production.named("aws:s3/bucket:Bucket", "backup-bucket").outputs["arn"]
    assert statements[0]["Action"] == ["s3:PutObject", "s3:AbortMultipartUpload"], statements[0]
    assert statements[0]["Resource"] == f"{bucket}/rabbitmq-definitions/production/*", statements[0]


# ------------------------------------------------------------------------------------ the Redis export
def _bucket_policy(result: SynthResult, bucket: str) -> dict[str, Any]:
    policy = result.named("aws:s3/bucketPolicy:BucketPolicy", f"{bucket}-policy")
    return dict(json.loads(policy.inputs["policy"]))


def test_redis_snapshots_are_exported_hourly_to_the_export_bucket(production: SynthResult) -> None:
    """The issue: "the latest snapshot exported to the backup bucket on a schedule, then replicated". The job finds
    the newest automatic snapshot of this cache and exports it (CopySnapshot with a target bucket) unless it is
    already there (S3 refuses a second copy under the same key)."""
    (job,) = [r for r in production.of_type("kubernetes:batch/v1:CronJob") if r.name == "exports-redis-export"]
    spec = job.inputs["spec"]
    assert spec["schedule"] == "15 * * * *" and spec["concurrencyPolicy"] == "Forbid", f"{job.name}: hourly"
    (container,) = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["REPLICATION_GROUP"] == "silhouette-production-redis", env
    bucket = production.named("aws:s3/bucket:Bucket", "redis-export-bucket")
    assert env["EXPORT_BUCKET"] == bucket.outputs["bucket"], f"{job.name}: exports to the Redis export bucket"
    script = container["command"][-1]
    for step in ("describe-snapshots", "--snapshot-source system", "list-objects-v2", "copy-snapshot --source"):
        assert step in script, f"{job.name}: the script has no '{step}' step"


def test_redis_export_role_reaches_only_this_caches_snapshots_and_the_export_bucket(production: SynthResult) -> None:
    role = production.named("aws:iam/role:Role", "redis-export-role")
    (inline,) = [p for p in production.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id]
    statements = {s["Sid"]: s for s in json.loads(inline.inputs["policy"])["Statement"]}
    snapshots = statements["ExportTheCacheSnapshots"]
    assert snapshots["Action"] == ["elasticache:DescribeSnapshots", "elasticache:CopySnapshot"], snapshots
    prefix = "arn:aws:elasticache:us-east-1:123456789012:snapshot:"
    assert snapshots["Resource"] == [
        f"{prefix}automatic.silhouette-production-redis-*",
        f"{prefix}silhouette-production-redis-*",
    ], f"{role.name}: this cache's snapshots only"
    bucket = production.named("aws:s3/bucket:Bucket", "redis-export-bucket").outputs["arn"]
    assert statements["LocateAndListTheExportBucket"]["Resource"] == bucket, statements
    assert not any(
        "s3:GetObject" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]) for s in statements.values()
    ), f"{role.name}: never reads the exported data"


def test_elasticache_is_granted_the_export_bucket_by_policy_with_acls_off(production: SynthResult) -> None:
    """ElastiCache writes the export through its regional service principal in the bucket policy, the documented
    replacement for the canonical-ID ACL grant (S3 user guide, "Prerequisites for disabling ACLs"); its replica
    in us-west-2 grants only the reads a seeding needs (GetObject, ListBucket, GetBucketAcl). Both stay
    BucketOwnerEnforced, and SSE-S3: ElastiCache seeds only from an SSE-S3 .rdb."""
    for bucket, region, writes in [
        ("redis-export-bucket", "us-east-1", True),
        ("redis-export-replica-bucket", "us-west-2", False),
    ]:
        statements = {s["Sid"]: s for s in _bucket_policy(production, bucket)["Statement"]}
        grant = statements["ElastiCacheSnapshotExport" if writes else "ElastiCacheSeedRead"]
        assert grant["Principal"] == {"Service": f"{region}.elasticache-snapshot.amazonaws.com"}, grant
        assert ("s3:PutObject" in grant["Action"]) is writes, f"{bucket}: writes only in the cache's region"
        assert {"s3:GetObject", "s3:ListBucket", "s3:GetBucketAcl"} <= set(grant["Action"]), grant
        assert "DenyInsecureTransport" in statements, f"{bucket}: TLS only"
        ownership = production.named("aws:s3/bucketOwnershipControls:BucketOwnershipControls", f"{bucket}-ownership")
        assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced", f"{bucket}: ACLs stay off"
        encryption = production.named(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            f"{bucket}-encryption",
        )
        (rule,) = encryption.inputs["rules"]
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256", f"{bucket}: SSE-S3"


def test_redis_exports_are_replicated_to_the_dr_region(production: SynthResult) -> None:
    config = production.named("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "redis-export-replication")
    (rule,) = config.inputs["rules"]
    replica = production.named("aws:s3/bucket:Bucket", "redis-export-replica-bucket")
    assert rule["destination"]["bucket"] == replica.outputs["arn"], f"{config.name}: to the DR replica"
    assert rule["destination"]["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}
    assert "encryptionConfiguration" not in rule["destination"], f"{config.name}: SSE-S3 replicas, no KMS key"
    names = {urn.rsplit("::", 1)[1]: source for urn, source in recovery_sources(production).items()}
    assert names["redis"] == "snapshots exported to the replicated Redis export bucket", names["redis"]
    (redis,) = [row for row in recovery_table(production.settings) if row.service == "Redis"]
    assert redis.cache and redis.rpo_minutes == 24 * 60 + 60 + 15, f"Redis: {redis.rpo_minutes} min"


def test_a_single_region_stack_exports_no_snapshot() -> None:
    staging = synth("staging")
    assert not [r for r in staging.of_type("kubernetes:batch/v1:CronJob") if r.name == "exports-redis-export"]
    assert not [r for r in staging.of_type("aws:s3/bucket:Bucket") if r.name.startswith("redis-export")]
