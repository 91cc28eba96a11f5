"""Backup & DR layer: the S3 backup bucket and AWS Backup, with copies in the DR region in production.

What is decided here, and why:

* **AWS Backup plan.** Three snapshot rules: every 6 hours, daily and weekly, each kept for its setting.
  The daily and weekly rules fire in the 00:00 UTC slot of the 6-hourly rule: where rules of one plan
  overlap, AWS Backup takes one backup, for the rule with the longest retention
  (https://docs.aws.amazon.com/aws-backup/latest/devguide/plan-options-and-configuration.html), so the
  6-hour cadence holds and no slot is backed up twice. The 00/06/12/18 UTC slots stay clear of the
  default PostgreSQL backup window (03:00-04:00) and of the hour before and during its default
  maintenance window (Sunday 04:00-06:00), in which AWS Backup does not start database backups (same page).
* **No cold storage.** A recovery point must stay in cold storage for at least 90 days, longer than every
  retention here, and RDS snapshots do not support it.
* **No continuous backup (PITR) in AWS Backup.** The data layer already keeps RDS automated backups
  (``postgres.backup_retention_days``), which are PITR with a restore point about 5 minutes old. An AWS
  Backup continuous rule would take those automated backups over ("If you manage your backups in AWS
  Backup, you can't enable automated backups",
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/AutomatedBackups.AWSBackup.html) and impose
  this plan's retention on them, while its cross-region copies would still be periodic snapshots
  (https://docs.aws.amazon.com/aws-backup/latest/devguide/point-in-time-recovery-copying.html): the same
  RPO in the region, none better across regions, and two owners for one setting.
* **Vault lock in governance mode, in production.** It stops anyone without
  ``backup:DeleteBackupVaultLockConfiguration`` from deleting a recovery point before the shortest
  retention has passed. Compliance mode cannot be undone after its grace period
  (https://docs.aws.amazon.com/aws-backup/latest/devguide/vault-lock.html): the lock could then neither
  be removed nor follow a change of the retention settings, so compliance mode is left as a deliberate
  account decision. No maximum retention is set: a lower maximum than a rule's retention fails that
  rule's jobs.
* **S3 replication with Replication Time Control.** RTC replicates 99.99 % of objects within 15 minutes
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html), a bound the
  seed's RPO of 1 hour can rely on; without it replication has no time bound.
* **Redis exports.** ElastiCache exports a snapshot (CopySnapshot with a target bucket) only to a bucket in the
  cache's region that grants it access, and seeds a new cache only from an .rdb encrypted with SSE-S3
  (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/backups-seeding-redis.html). So the exports go to a
  bucket of their own, SSE-S3, replicated to an SSE-S3 replica in the DR region; both grant ElastiCache through
  its regional service principal in the bucket policy rather than an ACL (ACLs stay off, as on every bucket:
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-migrating-acls-prerequisites.html).
  Only stacks that replicate their backups to the DR region have them (the export exists to get there).
* **Server access logs** of the backup bucket go to a bucket of their own, which does not log itself (it
  would log its own log deliveries). That bucket uses SSE-S3: S3 does not deliver server access logs to
  a bucket whose default encryption is SSE-KMS
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from silhouette_infra.aws.buckets import (
    SecureBucket,
    access_log_bucket_policy,
    bucket_name,
    elasticache_export_bucket_policy,
    encrypted_bucket_policy,
    lifecycle_rule,
    secure_bucket,
    sse_kms,
    sse_s3,
)
from silhouette_infra.aws.context import LayerArgs
from silhouette_infra.aws.keys import customer_managed_key, delegated_key_policy
from silhouette_infra.aws.naming import BACKUP_TAG_KEY
from silhouette_infra.aws.replication import REPLICATION_TIME_MINUTES, BucketReplica, replicate_bucket
from silhouette_infra.aws.roles import service_role
from silhouette_infra.data.neo4j import NAMESPACE as NEO4J_NAMESPACE
from silhouette_infra.planning.recovery import (
    DATABASE_PITR_RPO_MINUTES,
    HOURLY_INTERVAL_MINUTES,
    SNAPSHOT_INTERVAL_HOURS,
    START_WINDOW_MINUTES,
)
from silhouette_infra.settings.models import BackupSettings

# ------------------------------------------------------------------------------------ the schedule
# AWS Backup cron: six fields (minutes hours day-of-month month day-of-week year), in UTC, with "?" in one
# of the two day fields (https://docs.aws.amazon.com/AmazonCloudWatch/latest/events/ScheduledEvents.html).
SIX_HOURLY_SCHEDULE = f"cron(0 */{SNAPSHOT_INTERVAL_HOURS} * * ? *)"
DAILY_SCHEDULE = "cron(0 0 * * ? *)"
WEEKLY_SCHEDULE = "cron(0 0 ? * SUN *)"
# A job must start within 60 minutes (the smallest start window AWS Backup accepts) and finish before the
# next 6-hourly slot, so that a slow job never makes the next one wait.
COMPLETION_WINDOW_MINUTES = SNAPSHOT_INTERVAL_HOURS * 60 - START_WINDOW_MINUTES
# Neo4j's volume, hourly (the shortest interval AWS Backup runs a rule at): its RPO in the DR region is 1 h
# (planning/recovery.py) instead of the 6-hourly plan's 7 h. An EBS snapshot is incremental, so an hourly one
# stores only the blocks changed in the hour. A job finishes within two hours; AWS Backup does not start a
# job for a resource while one is still running for it.
HOURLY_SCHEDULE = f"cron(0 */{HOURLY_INTERVAL_MINUTES // 60} * * ? *)"
HOURLY_COMPLETION_WINDOW_MINUTES = 2 * HOURLY_INTERVAL_MINUTES
# The EBS CSI driver tags every volume it creates with the claim's namespace (extra-create-metadata, on in the
# EKS add-on: https://github.com/kubernetes-sigs/aws-ebs-csi-driver/blob/master/docs/tagging.md); AWS Backup
# combines the conditions of one selection with AND
# (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupSelection.html).
PVC_NAMESPACE_TAG = "kubernetes.io/created-for/pvc/namespace"
EBS_VOLUMES = "arn:aws:ec2:*:*:volume/*"

# ------------------------------------------------------------------------------------- the buckets
ACCESS_LOG_RETENTION_DAYS = 365
ACCESS_LOG_NONCURRENT_DAYS = 30
# An exported RDB is a day's snapshot of a cache: the newest is what a recovery seeds from; a week covers a bad
# export noticed late. Overwritten or deleted versions go after a day.
REDIS_EXPORT_RETENTION_DAYS = 7
REDIS_EXPORT_NONCURRENT_DAYS = 1
REDIS_EXPORTS = "redis-exports"
DR_KEY_DELETION_WINDOW_DAYS = 30  # the longest KMS allows: the key is the only way to read the DR copies

BACKUP_SERVICE_POLICIES = (
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
)


@dataclass(frozen=True)
class BackupRule:
    name: str
    schedule: str
    retention_days: int


def backup_rules(settings: BackupSettings) -> list[BackupRule]:
    """The plan's rules: every 6 hours, daily and weekly (the last two in the 00:00 UTC 6-hourly slot)."""
    return [
        BackupRule("six-hourly", SIX_HOURLY_SCHEDULE, settings.six_hourly_retention_days),
        BackupRule("daily", DAILY_SCHEDULE, settings.daily_retention_days),
        BackupRule("weekly", WEEKLY_SCHEDULE, settings.weekly_retention_days),
    ]


def hourly_rule(settings: BackupSettings) -> BackupRule:
    """The hourly rule of the plan that snapshots Neo4j's volume."""
    return BackupRule("hourly", HOURLY_SCHEDULE, settings.hourly_retention_days)


def vault_lock_min_retention_days(settings: BackupSettings) -> int:
    """The shortest retention of any rule: a lock with a longer minimum would fail that rule's jobs."""
    return min(rule.retention_days for rule in [*backup_rules(settings), hourly_rule(settings)])


@dataclass(frozen=True)
class RecoveryObjectives:
    """Worst-case data loss of each way back, for the README. RTO is not derivable from configuration:
    it is the time to restore (snapshot size) plus the time to repoint the platform, and is only known
    from a restore test."""

    nominal_snapshot_interval_hours: float
    snapshot_rpo_hours: float
    database_pitr_rpo_minutes: float
    dr_copy_rpo_hours: float | None
    bucket_replication_rpo_minutes: float | None


def rpo_hours(settings: BackupSettings) -> float:
    """Worst-case data loss, in hours, when restoring from this plan's recovery points alone.

    Consecutive slots are 6 hours apart and a job starts anywhere in its 60-minute start window, so two
    recovery points can be up to 7 hours apart. ``settings`` is taken so that a schedule setting can be
    added without changing callers; the retention settings do not change the RPO.
    """
    return SNAPSHOT_INTERVAL_HOURS + START_WINDOW_MINUTES / 60


def recovery_objectives(settings: BackupSettings) -> RecoveryObjectives:
    """The numbers behind the README's RPO table.

    ``dr_copy_rpo_hours``: a copy starts when its backup completes, so the newest copy in the DR region
    can be as old as the snapshot RPO plus the completion window, plus the transfer time of the copy
    itself, which AWS Backup does not bound.
    """
    snapshot = rpo_hours(settings)
    return RecoveryObjectives(
        nominal_snapshot_interval_hours=SNAPSHOT_INTERVAL_HOURS,
        snapshot_rpo_hours=snapshot,
        database_pitr_rpo_minutes=DATABASE_PITR_RPO_MINUTES,
        dr_copy_rpo_hours=snapshot + COMPLETION_WINDOW_MINUTES / 60 if settings.copy_to_dr_region else None,
        bucket_replication_rpo_minutes=REPLICATION_TIME_MINUTES if settings.replicate_bucket_to_dr_region else None,
    )


# --------------------------------------------------------------------------------- policy documents
# -------------------------------------------------------------------------------------- the component
@dataclass
class BackupArgs(LayerArgs):
    settings: BackupSettings
    backups_key_arn: pulumi.Input[str]


class Backup(pulumi.ComponentResource):
    """The S3 backup bucket (replicated to the DR region in production) and the AWS Backup vault and plan
    that snapshot every resource tagged ``Backup=<stack prefix>`` (copied to the DR region in production)."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    vault_arn: pulumi.Output[str]
    vault_name: pulumi.Output[str]
    dr_vault_arn: pulumi.Output[str] | None
    dr_vault_name: pulumi.Output[str] | None
    dr_key_arn: pulumi.Output[str] | None  # the DR region's backups key (None in a single-region stack)
    # The bucket ElastiCache exports the cache's snapshots to (None in a single-region stack).
    redis_export_bucket_name: pulumi.Output[str] | None
    redis_export_bucket_arn: pulumi.Output[str] | None

    def __init__(self, name: str, args: BackupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:backup:Backup", name, None, opts)
        settings = args.settings
        self._args = args

        dr_key = self._dr_key() if settings.copy_to_dr_region or settings.replicate_bucket_to_dr_region else None

        primary = self._encrypted_bucket("backup-bucket", "backups", args.region, args.backups_key_arn, provider=None)
        self._access_logs(primary.bucket)
        if settings.replicate_bucket_to_dr_region and dr_key is not None:
            replica = self._encrypted_bucket(
                "backup-replica-bucket",
                "backups",
                args.context.dr_region,
                dr_key.arn,
                provider=args.context.providers.dr,
            )
            self._replication(primary, replica, args.backups_key_arn, dr_key.arn)
        redis_exports = self._redis_exports() if settings.replicate_bucket_to_dr_region else None

        vault = self._vault("backup-vault", ("backups",), args.backups_key_arn, provider=None)
        dr_vault = (
            self._vault(
                "backup-dr-vault", ("backups", args.context.dr_region), dr_key.arn, provider=args.context.providers.dr
            )
            if settings.copy_to_dr_region and dr_key is not None
            else None
        )
        self._plan(vault, dr_vault)

        self.bucket_name = primary.bucket.bucket
        self.bucket_arn = primary.bucket.arn
        self.vault_arn = vault.arn
        self.vault_name = vault.name
        self.dr_vault_arn = dr_vault.arn if dr_vault is not None else None
        self.dr_vault_name = dr_vault.name if dr_vault is not None else None
        self.dr_key_arn = dr_key.arn if dr_key is not None else None
        self.redis_export_bucket_name = redis_exports.bucket.bucket if redis_exports is not None else None
        self.redis_export_bucket_arn = redis_exports.bucket.arn if redis_exports is not None else None
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "vault_arn": self.vault_arn,
                "dr_vault_arn": self.dr_vault_arn,
            }
        )

    # ------------------------------------------------------------------------------------ helpers
    def _options(
        self,
        provider: aws.Provider | None = None,
        *,
        stateful: bool = False,
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> pulumi.ResourceOptions:
        """Children inherit the primary provider from the component; DR-region children name theirs. Only
        ``stateful`` children (the vaults) are protected; so are the buckets, by secure_bucket, and the DR
        key, by customer_managed_key."""
        return pulumi.ResourceOptions(
            parent=self,
            provider=provider,
            protect=self._args.protect if stateful else None,
            depends_on=list(depends_on) or None,
        )

    def _dr_key(self) -> aws.kms.Key:
        args = self._args
        key = customer_managed_key(
            "backups-dr-key",
            naming=args.naming,
            purpose="backups",
            description="S3 backup replica and AWS Backup vault in the DR region",
            policy=args.account_id.apply(
                lambda account: json.dumps(delegated_key_policy("backups", account_id=account))
            ),
            deletion_window_days=DR_KEY_DELETION_WINDOW_DAYS,
            protect=args.protect,
            tags=args.naming.name_tag("backups", args.context.dr_region),
            opts=self._options(args.context.providers.dr),
        )
        return key

    def _encrypted_bucket(
        self, name: str, purpose: str, region: str, key_arn: pulumi.Input[str], *, provider: aws.Provider | None
    ) -> SecureBucket:
        settings, naming = self._args.settings, self._args.naming

        def policy(bucket_arn: pulumi.Output[str]) -> pulumi.Output[str]:
            return pulumi.Output.all(bucket_arn, key_arn).apply(
                lambda values: json.dumps(encrypted_bucket_policy(str(values[0]), str(values[1])))
            )

        lifecycle = lifecycle_rule(
            "tiering-and-expiry",
            transitions=[
                aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                    days=settings.transition_to_ia_days, storage_class="STANDARD_IA"
                ),
                aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                    days=settings.transition_to_glacier_days, storage_class="GLACIER"
                ),
            ],
            noncurrent_days=settings.noncurrent_version_expiration_days,
        )
        return secure_bucket(
            name,
            physical_name=self._args.account_id.apply(lambda account: bucket_name(naming, purpose, region, account)),
            tags=naming.name_tag(purpose, region),
            encryption=sse_kms(key_arn),
            lifecycle=[lifecycle],
            policy=policy,
            parent=self,
            provider=provider,
            protect=self._args.protect,
        )

    def _redis_exports(self) -> SecureBucket:
        """The bucket ElastiCache exports the cache's snapshots to, replicated to one it seeds a new cache from."""
        args, naming = self._args, self._args.naming
        lifecycle = lifecycle_rule(
            "expiry", expiration_days=REDIS_EXPORT_RETENTION_DAYS, noncurrent_days=REDIS_EXPORT_NONCURRENT_DAYS
        )

        def bucket(name: str, region: str, *, writes: bool, provider: aws.Provider | None) -> SecureBucket:
            def policy(bucket_arn: pulumi.Output[str]) -> pulumi.Output[str]:
                return bucket_arn.apply(
                    lambda arn: json.dumps(elasticache_export_bucket_policy(arn, region, writes=writes))
                )

            return secure_bucket(
                name,
                physical_name=args.account_id.apply(
                    lambda account: bucket_name(naming, REDIS_EXPORTS, region, account)
                ),
                tags=naming.name_tag(REDIS_EXPORTS, region),
                encryption=sse_s3(),
                lifecycle=[lifecycle],
                policy=policy,
                parent=self,
                provider=provider,
                protect=args.protect,
            )

        exports = bucket("redis-export-bucket", args.region, writes=True, provider=None)
        replica = bucket(
            "redis-export-replica-bucket", args.context.dr_region, writes=False, provider=args.context.providers.dr
        )
        replicate_bucket(
            "redis-export-replication",
            BucketReplica(exports, None, args.region),
            BucketReplica(replica, None, args.context.dr_region),
            naming=args.naming,
            account_id=args.account_id,
            description="Lets S3 replicate the Redis exports to the DR region",
            parent=self,
        )
        return exports

    def _access_logs(self, source: aws.s3.Bucket) -> None:
        args, naming = self._args, self._args.naming

        def policy(log_bucket_arn: pulumi.Output[str]) -> pulumi.Output[str]:
            return pulumi.Output.all(log_bucket_arn, source.arn, args.account_id).apply(
                lambda values: json.dumps(access_log_bucket_policy(str(values[0]), str(values[1]), str(values[2])))
            )

        logs = secure_bucket(
            "backup-access-logs-bucket",
            physical_name=args.account_id.apply(
                lambda account: bucket_name(naming, "backup-logs", args.region, account)
            ),
            tags=naming.name_tag("backup-logs", args.region),
            encryption=sse_s3(),
            lifecycle=[
                lifecycle_rule(
                    "expiry", expiration_days=ACCESS_LOG_RETENTION_DAYS, noncurrent_days=ACCESS_LOG_NONCURRENT_DAYS
                )
            ],
            policy=policy,
            parent=self,
            protect=args.protect,
        )
        aws.s3.BucketLogging(
            "backup-logging",
            bucket=source.id,
            target_bucket=logs.bucket.id,
            target_prefix="backups/",
            target_object_key_format=aws.s3.BucketLoggingTargetObjectKeyFormatArgs(
                partitioned_prefix=aws.s3.BucketLoggingTargetObjectKeyFormatPartitionedPrefixArgs(
                    partition_date_source="EventTime"
                )
            ),
            opts=self._options(depends_on=[logs.policy]),
        )

    def _replication(
        self,
        source: SecureBucket,
        replica: SecureBucket,
        source_key_arn: pulumi.Input[str],
        replica_key_arn: pulumi.Input[str],
    ) -> None:
        args = self._args
        replicate_bucket(
            "backup-replication",
            BucketReplica(source, source_key_arn, args.region),
            BucketReplica(replica, replica_key_arn, args.context.dr_region),
            naming=args.naming,
            account_id=args.account_id,
            description="Lets S3 replicate the backup bucket to the DR region",
            parent=self,
        )

    def _vault(
        self, name: str, name_parts: tuple[str, ...], key_arn: pulumi.Input[str], *, provider: aws.Provider | None
    ) -> aws.backup.Vault:
        args = self._args
        vault = aws.backup.Vault(
            name,
            name=args.naming.physical(*name_parts),
            kms_key_arn=key_arn,
            force_destroy=False,
            tags=args.naming.name_tag(*name_parts),
            opts=self._options(provider, stateful=True),
        )
        if args.protect:
            aws.backup.VaultLockConfiguration(
                f"{name}-lock",
                backup_vault_name=vault.name,
                min_retention_days=vault_lock_min_retention_days(args.settings),
                opts=self._options(provider),
            )
        return vault

    def _plan(self, vault: aws.backup.Vault, dr_vault: aws.backup.Vault | None) -> None:
        """The stack's plan over every resource tagged for it, and the hourly plan over Neo4j's volume."""
        args, naming = self._args, self._args.naming
        role = service_role(
            "backup",
            naming=naming,
            description="Lets AWS Backup snapshot, copy and restore the resources the plan selects",
            # AWS Backup can only use a role that a principal of this account passes to it (iam:PassRole).
            service="backup.amazonaws.com",
            managed_policy_arns=list(BACKUP_SERVICE_POLICIES),
            parent=self,
        )
        plan = self._plan_of("backup-plan", "backups", backup_rules(args.settings), vault, dr_vault)
        aws.backup.Selection(
            "backup-selection",
            name=naming.physical("tagged"),
            plan_id=plan.id,
            iam_role_arn=role.arn,
            selection_tags=[
                aws.backup.SelectionSelectionTagArgs(type="STRINGEQUALS", key=BACKUP_TAG_KEY, value=naming.prefix)
            ],
            opts=self._options(),
        )
        hourly = self._plan_of(
            "backup-hourly-plan",
            "neo4j-hourly",
            [hourly_rule(args.settings)],
            vault,
            dr_vault,
            completion_window=HOURLY_COMPLETION_WINDOW_MINUTES,
        )
        aws.backup.Selection(
            "backup-hourly-selection",
            name=naming.physical("neo4j-volume"),
            plan_id=hourly.id,
            iam_role_arn=role.arn,
            resources=[EBS_VOLUMES],
            conditions=[
                aws.backup.SelectionConditionArgs(
                    string_equals=[
                        aws.backup.SelectionConditionStringEqualArgs(
                            key=f"aws:ResourceTag/{BACKUP_TAG_KEY}", value=naming.prefix
                        ),
                        aws.backup.SelectionConditionStringEqualArgs(
                            key=f"aws:ResourceTag/{PVC_NAMESPACE_TAG}", value=NEO4J_NAMESPACE
                        ),
                    ]
                )
            ],
            opts=self._options(),
        )

    def _plan_of(
        self,
        name: str,
        purpose: str,
        backup_rules: Sequence[BackupRule],
        vault: aws.backup.Vault,
        dr_vault: aws.backup.Vault | None,
        *,
        completion_window: int = COMPLETION_WINDOW_MINUTES,
    ) -> aws.backup.Plan:
        """A plan of ``backup_rules`` into ``vault``, each recovery point copied to ``dr_vault`` if there is one."""
        naming = self._args.naming
        rules = [
            aws.backup.PlanRuleArgs(
                rule_name=rule.name,
                target_vault_name=vault.name,
                schedule=rule.schedule,
                schedule_expression_timezone="Etc/UTC",
                start_window=START_WINDOW_MINUTES,
                completion_window=completion_window,
                enable_continuous_backup=False,
                lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=rule.retention_days),
                copy_actions=[
                    aws.backup.PlanRuleCopyActionArgs(
                        destination_vault_arn=dr_vault.arn,
                        lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(delete_after=rule.retention_days),
                    )
                ]
                if dr_vault is not None
                else None,
            )
            for rule in backup_rules
        ]
        return aws.backup.Plan(
            name, name=naming.physical(purpose), rules=rules, tags=naming.name_tag(purpose), opts=self._options()
        )
