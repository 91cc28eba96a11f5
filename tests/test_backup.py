"""Backup & DR layer (docs/architecture.md layer 6): the S3 backup bucket, AWS Backup, and copies in the DR
region in production. Seed targets: RPO 1 h, RTO 4 h, backups every 6 h, weekly kept 30 days."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from silhouette_infra.aws.buckets import access_log_bucket_policy, bucket_name, encrypted_bucket_policy
from silhouette_infra.aws.naming import BACKUP_TAG_KEY, Naming
from silhouette_infra.aws.replication import replication_role_policy
from silhouette_infra.backup import (
    BACKUP_SERVICE_POLICIES,
    COMPLETION_WINDOW_MINUTES,
    backup_rules,
    recovery_objectives,
    rpo_hours,
    vault_lock_min_retention_days,
)
from silhouette_infra.planning.recovery import START_WINDOW_MINUTES
from silhouette_infra.settings.models import BackupSettings
from silhouette_infra.synth.engine import MOCK_ACCOUNT_ID, CapturedResource, SynthResult

COMPONENT = "silhouette:backup:Backup"
BUCKET = "aws:s3/bucket:Bucket"
VAULT = "aws:backup/vault:Vault"
PLAN = "aws:backup/plan:Plan"
SELECTION = "aws:backup/selection:Selection"
LOCK = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
PROVIDER = "pulumi:providers:aws"

# Everything the layer places in the DR region: the DR key, the DR vault (and its lock), the replica bucket.
DR_NAMES = re.compile(r"^(backups-dr-key|backup-dr-vault|backup-replica-bucket|redis-export-replica-bucket)")


def _children(result: SynthResult) -> list[CapturedResource]:
    return [r for r in result.aws_resources() if (c := result.component_of(r)) is not None and c.type == COMPONENT]


def _of(result: SynthResult, type_token: str, name: str) -> dict[str, Any]:
    """The inputs of the one ``type_token`` resource that configures bucket ``name`` (``<name>-<suffix>``)."""
    (found,) = [r for r in _children(result) if r.type == type_token and r.name.startswith(f"{name}-")]
    return found.inputs


def _key_arn(result: SynthResult, name: str) -> str:
    return str(result.named(KEY, name).outputs["arn"])


def _policy(inputs: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(inputs["policy"]))


def _statement(policy: dict[str, Any], sid: str) -> dict[str, Any]:
    (found,) = [s for s in policy["Statement"] if s.get("Sid") == sid]
    return dict(found)


def _provider_ref(result: SynthResult, name: str) -> str:
    provider = result.named(PROVIDER, name)
    return f"{provider.urn}::{provider.id}"


# ---------------------------------------------------------------------------------------- the bucket
def _assert_private_versioned_kms_bucket(result: SynthResult, name: str, key_arn: str) -> None:
    bucket = result.named(BUCKET, name)
    arn = bucket.outputs["arn"]
    assert _of(result, "aws:s3/bucketVersioning:BucketVersioning", name)["versioningConfiguration"] == {
        "status": "Enabled"
    }, f"{name}: versioning"
    (rule,) = _of(
        result, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", name
    )["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key_arn}, name
    assert rule["bucketKeyEnabled"] is True, f"{name}: S3 Bucket Keys cut KMS requests (and cost) per object"
    assert rule["blockedEncryptionTypes"] == ["SSE-C"], f"{name}: no uploads with customer-provided keys"
    block = _of(result, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name)
    for setting in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert block[setting] is True, f"{name}: {setting}"
    assert _of(result, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", name)["rule"] == {
        "objectOwnership": "BucketOwnerEnforced"
    }, f"{name}: ACLs off"
    policy = _policy(_of(result, "aws:s3/bucketPolicy:BucketPolicy", name))
    tls = _statement(policy, "DenyInsecureTransport")
    assert (tls["Effect"], tls["Principal"], tls["Action"]) == ("Deny", "*", "s3:*"), f"{name}: TLS-only policy"
    assert tls["Resource"] == [arn, f"{arn}/*"]
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    other_keys = _statement(policy, "DenyOtherKmsKeys")
    assert other_keys["Condition"] == {
        "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn}
    }, f"{name}: uploads naming another key are refused"


def test_backup_bucket_is_versioned_encrypted_private_and_tls_only(stack: SynthResult) -> None:
    _assert_private_versioned_kms_bucket(stack, "backup-bucket", _key_arn(stack, "backups-key"))
    name = stack.named(BUCKET, "backup-bucket").inputs["bucket"]
    assert name == f"silhouette-{stack.stack}-backups-{stack.settings.aws.region}-{MOCK_ACCOUNT_ID}"
    assert stack.named(BUCKET, "backup-bucket").inputs["forceDestroy"] is False


def test_backup_bucket_moves_to_cheaper_storage_and_expires_old_versions(stack: SynthResult) -> None:
    """Standard-IA needs objects of at least 30 days, and Glacier Flexible Retrieval bills 90 days
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html)."""
    settings = stack.settings.backup
    (rule,) = _of(stack, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "backup-bucket")["rules"]
    assert rule["status"] == "Enabled" and rule["filter"] == {}, "the rule covers every object"
    assert rule["transitions"] == [
        {"days": settings.transition_to_ia_days, "storageClass": "STANDARD_IA"},
        {"days": settings.transition_to_glacier_days, "storageClass": "GLACIER"},
    ]
    assert settings.transition_to_ia_days >= 30
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": settings.noncurrent_version_expiration_days}
    assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}


def test_backup_bucket_access_is_logged_to_a_bucket_that_does_not_log_itself(stack: SynthResult) -> None:
    """S3 delivers server access logs only to a bucket with SSE-S3 default encryption, not SSE-KMS
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html)."""
    backups = stack.named(BUCKET, "backup-bucket")
    logs = stack.named(BUCKET, "backup-access-logs-bucket")
    loggings = stack.of_type("aws:s3/bucketLogging:BucketLogging")
    assert [(lg.inputs["bucket"], lg.inputs["targetBucket"]) for lg in loggings] == [(backups.id, logs.id)]
    (rule,) = _of(
        stack,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "backup-access-logs-bucket",
    )["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    delivery = _statement(
        _policy(_of(stack, "aws:s3/bucketPolicy:BucketPolicy", "backup-access-logs-bucket")),
        "S3ServerAccessLogDelivery",
    )
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Condition"] == {
        "ArnLike": {"aws:SourceArn": backups.outputs["arn"]},
        "StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT_ID},
    }, "only this account's backup bucket may deliver logs"


def test_every_backup_bucket_is_private_and_tls_only(stack: SynthResult) -> None:
    buckets = [r for r in _children(stack) if r.type == BUCKET]
    for bucket in buckets:
        policy = _policy(_of(stack, "aws:s3/bucketPolicy:BucketPolicy", bucket.name))
        assert _statement(policy, "DenyInsecureTransport")["Effect"] == "Deny", f"{bucket.name}: TLS only"
        block = _of(stack, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket.name)
        assert all(
            block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        ), bucket.name
        assert _of(stack, "aws:s3/bucketNotification:BucketNotification", bucket.name)["eventbridge"] is True


# ------------------------------------------------------------------------------------------- the plan
def test_backup_plan_runs_every_six_hours_daily_and_weekly_kept_30_days(stack: SynthResult) -> None:
    """AWS Backup cron has six fields with "?" in one day field
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/events/ScheduledEvents.html); a start window
    must be at least 60 minutes (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupRule.html)."""
    settings = stack.settings.backup
    rules = {rule["ruleName"]: rule for rule in stack.named(PLAN, "backup-plan").inputs["rules"]}
    assert {name: rule["schedule"] for name, rule in rules.items()} == {
        "six-hourly": "cron(0 */6 * * ? *)",
        "daily": "cron(0 0 * * ? *)",
        "weekly": "cron(0 0 ? * SUN *)",
    }
    assert {name: rule["lifecycle"]["deleteAfter"] for name, rule in rules.items()} == {
        "six-hourly": settings.six_hourly_retention_days,
        "daily": settings.daily_retention_days,
        "weekly": settings.weekly_retention_days,
    }
    assert rules["weekly"]["lifecycle"]["deleteAfter"] == 30, "seed: weekly backups kept 30 days"
    vault = stack.named(VAULT, "backup-vault")
    for name, rule in rules.items():
        assert rule["targetVaultName"] == vault.inputs["name"], name
        assert rule["scheduleExpressionTimezone"] == "Etc/UTC", name
        assert rule["startWindow"] == START_WINDOW_MINUTES >= 60, f"{name}: start window"
        assert rule["startWindow"] + rule["completionWindow"] <= 6 * 60, f"{name}: done before the next slot"


def test_no_rule_uses_cold_storage_or_continuous_backup(stack: SynthResult) -> None:
    """Cold storage keeps a recovery point at least 90 days, longer than any retention here
    (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_Lifecycle.html); RDS PITR is owned by
    the database's automated backups, which an AWS Backup continuous rule would take over
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/AutomatedBackups.AWSBackup.html)."""
    for rule in stack.named(PLAN, "backup-plan").inputs["rules"]:
        assert "coldStorageAfter" not in rule["lifecycle"], rule["ruleName"]
        assert rule["enableContinuousBackup"] is False, rule["ruleName"]
        for copy in rule.get("copyActions") or []:
            assert "coldStorageAfter" not in copy["lifecycle"], rule["ruleName"]


def test_backup_vault_is_encrypted_with_the_backups_key(stack: SynthResult) -> None:
    vault = stack.named(VAULT, "backup-vault")
    assert vault.inputs["kmsKeyArn"] == _key_arn(stack, "backups-key")
    assert vault.inputs["name"] == f"silhouette-{stack.stack}-backups"
    assert vault.inputs["forceDestroy"] is False, "a vault with recovery points is never emptied by Pulumi"


def test_backup_selection_picks_resources_by_tag(stack: SynthResult) -> None:
    selection = stack.named(SELECTION, "backup-selection")
    prefix = Naming(stack.stack).prefix
    assert selection.inputs["selectionTags"] == [{"type": "STRINGEQUALS", "key": BACKUP_TAG_KEY, "value": prefix}]
    assert selection.inputs["planId"] == stack.named(PLAN, "backup-plan").id
    assert selection.inputs["iamRoleArn"] == stack.named(ROLE, "backup-role").outputs["arn"]
    tagged = [r for r in stack.aws_resources() if BACKUP_TAG_KEY in (r.inputs.get("tags") or {})]
    for resource in tagged:
        assert resource.inputs["tags"][BACKUP_TAG_KEY] == prefix, f"{resource.name}: tag value the plan selects"


def test_backup_role_trusts_only_aws_backup(stack: SynthResult) -> None:
    role = stack.named(ROLE, "backup-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert [(s["Effect"], s["Principal"], s["Action"]) for s in trust["Statement"]] == [
        ("Allow", {"Service": "backup.amazonaws.com"}, "sts:AssumeRole")
    ]
    attached = {
        a.inputs["policyArn"]
        for a in stack.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == role.inputs["name"]
    }
    assert attached == set(BACKUP_SERVICE_POLICIES)
    assert not [p for p in stack.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id]


# -------------------------------------------------------------------------------------------- the DR region
def test_production_copies_recovery_points_to_the_dr_region(production: SynthResult) -> None:
    dr_vault = production.named(VAULT, "backup-dr-vault")
    dr_key = _key_arn(production, "backups-dr-key")
    assert dr_key.startswith(f"arn:aws:kms:{production.settings.aws.dr_region}:")
    assert dr_vault.inputs["kmsKeyArn"] == dr_key
    assert dr_vault.outputs["arn"].startswith("arn:aws:backup:us-west-2:")
    for rule in production.named(PLAN, "backup-plan").inputs["rules"]:
        assert rule["copyActions"] == [
            {
                "destinationVaultArn": dr_vault.outputs["arn"],
                "lifecycle": {"deleteAfter": rule["lifecycle"]["deleteAfter"]},
            }
        ], f"{rule['ruleName']}: copies keep the rule's retention in the DR region"


def test_production_replicates_the_backup_bucket_to_the_dr_region_under_its_own_key(production: SynthResult) -> None:
    """Replicating SSE-KMS objects needs the source selection criterion and a destination key
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html);
    RTC bounds replication to 15 minutes
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html)."""
    dr_key = _key_arn(production, "backups-dr-key")
    _assert_private_versioned_kms_bucket(production, "backup-replica-bucket", dr_key)
    replica = production.named(BUCKET, "backup-replica-bucket")
    assert replica.inputs["bucket"] == f"silhouette-production-backups-us-west-2-{MOCK_ACCOUNT_ID}"
    config = production.named(REPLICATION, "backup-replication")
    assert config.inputs["bucket"] == production.named(BUCKET, "backup-bucket").id
    assert config.inputs["role"] == production.named(ROLE, "backup-replication-role").outputs["arn"]
    (rule,) = config.inputs["rules"]
    assert rule["status"] == "Enabled" and rule["filter"] == {}
    assert rule["deleteMarkerReplication"] == {"status": "Enabled"}
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
    destination = rule["destination"]
    assert destination["bucket"] == replica.outputs["arn"]
    assert destination["encryptionConfiguration"] == {"replicaKmsKeyId": dr_key}
    assert destination["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}
    versionings = {r.name for r in production.of_type("aws:s3/bucketVersioning:BucketVersioning")}
    depends = {d.rsplit("::", 1)[1] for d in config.options["dependencies"]}
    assert {"backup-bucket-versioning", "backup-replica-bucket-versioning"} <= depends & versionings


def test_replication_role_may_only_replicate_the_backup_bucket(production: SynthResult) -> None:
    role = production.named(ROLE, "backup-replication-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT_ID}}
    (inline,) = [p for p in production.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id]
    source = production.named(BUCKET, "backup-bucket").outputs["arn"]
    replica = production.named(BUCKET, "backup-replica-bucket").outputs["arn"]
    assert json.loads(inline.inputs["policy"]) == replication_role_policy(
        source_bucket_arn=source,
        source_key_arn=_key_arn(production, "backups-key"),
        source_region="us-east-1",
        replica_bucket_arn=replica,
        replica_key_arn=_key_arn(production, "backups-dr-key"),
        replica_region="us-west-2",
    )


def test_dr_resources_use_the_dr_provider(production: SynthResult) -> None:
    dr, primary = _provider_ref(production, "aws-dr"), _provider_ref(production, "aws-primary")
    children = _children(production)
    in_dr = {r.name for r in children if r.options["provider"] == dr}
    assert in_dr == {r.name for r in children if DR_NAMES.match(r.name)}, (
        "exactly the DR resources are in the DR region"
    )
    assert {"backups-dr-key", "backup-dr-vault", "backup-replica-bucket"} <= in_dr
    assert all(r.options["provider"] == primary for r in children if r.name not in in_dr)


def test_staging_keeps_backups_in_one_region(staging: SynthResult) -> None:
    assert not staging.settings.backup.copy_to_dr_region and not staging.settings.backup.replicate_bucket_to_dr_region
    dr = _provider_ref(staging, "aws-dr")
    assert not [r.name for r in _children(staging) if r.options["provider"] == dr]
    assert [v.name for v in staging.of_type(VAULT)] == ["backup-vault"]
    assert not staging.of_type(REPLICATION)
    for rule in staging.named(PLAN, "backup-plan").inputs["rules"]:
        assert not rule.get("copyActions"), rule["ruleName"]


# ---------------------------------------------------------------------------------------- protection
def test_buckets_vaults_and_the_dr_key_are_protected_in_production_only(
    production: SynthResult, staging: SynthResult
) -> None:
    stateful = {BUCKET, VAULT, KEY}
    for result, protect in ((production, True), (staging, False)):
        for resource in _children(result):
            expected = protect and resource.type in stateful
            assert resource.protect is expected, f"{result.stack}: {resource.type} {resource.name} protect"


def test_production_vaults_are_locked_in_governance_mode(production: SynthResult, staging: SynthResult) -> None:
    """Without ``changeable_for_days`` a vault lock is in governance mode and can be removed by a
    principal allowed to; compliance mode becomes immutable after its grace time
    (https://docs.aws.amazon.com/aws-backup/latest/devguide/vault-lock.html)."""
    vaults = {v.inputs["name"] for v in production.of_type(VAULT)}
    locks = production.of_type(LOCK)
    assert {lock.inputs["backupVaultName"] for lock in locks} == vaults
    for lock in locks:
        assert "changeableForDays" not in lock.inputs, f"{lock.name}: governance mode"
        assert lock.inputs["minRetentionDays"] == production.settings.backup.six_hourly_retention_days
        assert "maxRetentionDays" not in lock.inputs, f"{lock.name}: a maximum would fail longer rules"
    assert not staging.of_type(LOCK), "staging vaults stay deletable"


# ------------------------------------------------------------------------------------ pure decisions
def test_worst_case_data_loss_is_seven_hours_from_snapshots_and_minutes_with_pitr() -> None:
    production, staging = BackupSettings(), BackupSettings(copy_to_dr_region=False, replicate_bucket_to_dr_region=False)
    assert rpo_hours(production) == 7.0, "6 h between slots plus a 60-minute start window"
    objectives = recovery_objectives(production)
    assert (objectives.nominal_snapshot_interval_hours, objectives.database_pitr_rpo_minutes) == (6, 5)
    assert objectives.dr_copy_rpo_hours == 7.0 + COMPLETION_WINDOW_MINUTES / 60
    assert objectives.bucket_replication_rpo_minutes == 15
    single_region = recovery_objectives(staging)
    assert single_region.dr_copy_rpo_hours is None and single_region.bucket_replication_rpo_minutes is None


def test_vault_lock_minimum_never_exceeds_a_rules_retention() -> None:
    settings = BackupSettings(six_hourly_retention_days=3, daily_retention_days=2, weekly_retention_days=30)
    assert vault_lock_min_retention_days(settings) == 2
    assert [rule.retention_days for rule in backup_rules(settings)] == [3, 2, 30]


def test_bucket_names_are_global_so_they_carry_region_and_account() -> None:
    assert bucket_name(Naming("staging"), "backups", "us-east-1", "111122223333") == (
        "silhouette-staging-backups-us-east-1-111122223333"
    )
    with pytest.raises(ValueError, match="longer than 63"):
        bucket_name(Naming("a-very-long-stack-name-for-testing"), "backup-logs", "ap-southeast-2", "111122223333")


def test_uploads_may_not_choose_another_encryption() -> None:
    policy = encrypted_bucket_policy("arn:aws:s3:::b", "arn:aws:kms:us-east-1:111122223333:key/k")
    sse = _statement(policy, "DenyOtherEncryptionThanSseKms")
    assert (sse["Effect"], sse["Action"], sse["Resource"]) == ("Deny", "s3:PutObject", "arn:aws:s3:::b/*")
    assert sse["Condition"] == {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}}


def test_access_log_delivery_is_the_only_allow_in_the_log_bucket_policy() -> None:
    policy = access_log_bucket_policy("arn:aws:s3:::logs", "arn:aws:s3:::b", "111122223333")
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert [(s["Principal"], s["Action"], s["Resource"]) for s in allows] == [
        ({"Service": "logging.s3.amazonaws.com"}, "s3:PutObject", "arn:aws:s3:::logs/*")
    ]


def test_replication_keys_are_usable_only_through_s3_for_their_bucket() -> None:
    policy = replication_role_policy(
        source_bucket_arn="arn:aws:s3:::src",
        source_key_arn="arn:aws:kms:us-east-1:1:key/a",
        source_region="us-east-1",
        replica_bucket_arn="arn:aws:s3:::dst",
        replica_key_arn="arn:aws:kms:us-west-2:1:key/b",
        replica_region="us-west-2",
    )
    decrypt, encrypt = _statement(policy, "DecryptSourceObjects"), _statement(policy, "EncryptReplicas")
    assert (decrypt["Action"], decrypt["Resource"]) == ("kms:Decrypt", "arn:aws:kms:us-east-1:1:key/a")
    assert decrypt["Condition"]["StringEquals"] == {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    assert decrypt["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::src", "arn:aws:s3:::src/*"]
    }
    assert encrypt["Resource"] == "arn:aws:kms:us-west-2:1:key/b"
    assert encrypt["Condition"]["StringEquals"] == {"kms:ViaService": "s3.us-west-2.amazonaws.com"}
    assert _statement(policy, "WriteReplicas")["Resource"] == "arn:aws:s3:::dst/*"
    for statement in policy["Statement"]:
        assert "*" not in json.dumps(statement["Resource"]).replace("/*", ""), f"{statement['Sid']}: no wildcard"
