"""Audit layer (docs/architecture.md layer 8): CloudTrail, GuardDuty, AWS Config and Security Hub.

Each service is behind its switch in ``AuditSettings``: they are account-level (one GuardDuty detector, one
Config recorder, one Security Hub per account and region), so a stack in an account that already has them
switches them off. What is decided here, and why:

* **A dedicated 'audit' KMS key**, not the shared 'logs' key: CloudTrail needs a key-policy grant of its own
  (``cloudtrail.amazonaws.com``, scoped to this account's trails by encryption context and to this trail by
  ``aws:SourceArn``; https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html),
  and the people who may read the audit trail are not those who may read application logs.
* **A dedicated audit bucket**: versioned, SSE-KMS with the audit key, public access blocked, ACLs off,
  TLS only, uploads with another key refused (``aws.buckets.encrypted_bucket_policy``), plus CloudTrail's
  statements with ``aws:SourceArn`` on the trail
  (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html).
  Objects expire after ``audit_log_retention_days`` (7 years). **No Object Lock**: log-file validation
  already proves any change or deletion of a log file (signed digest files), the bucket and key are
  Pulumi-protected, and Object Lock in compliance mode can never be lifted (a wrong retention would be paid
  for 7 years); governance mode adds little over IAM. It stays an account decision.
* **CloudTrail**: multi-region, global service events, log-file validation, all management events (read
  and write), delivered to the bucket and to a CloudWatch log group (encrypted with the 'logs' key, kept
  ``audit_log_retention_days``: 2557 is one of the values CloudWatch Logs accepts,
  https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html) for
  metric filters and alarms. Data events are not recorded: the backup layer already sends object events
  of the backup bucket to EventBridge, and S3 data events are billed per event.
* **GuardDuty**: detector with S3 protection, EKS audit logs, runtime monitoring (the EKS agent managed by
  GuardDuty as an EKS add-on), malware protection for EBS and RDS login events.
* **AWS Config**: records every supported resource type including global ones (IAM), delivers to the
  audit bucket, and evaluates the managed rules behind the controls the platform claims
  (``config_rules``). Its role carries ``AWS_ConfigRole`` plus delivery rights on the bucket and key: a
  custom role, unlike the service-linked one, needs them in IAM
  (https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html).
* **Security Hub**: the account without AWS's default standards, then the two standards we claim, by
  their regional ARNs (https://docs.aws.amazon.com/securityhub/latest/userguide/standards-reference.html).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from silhouette_infra.aws.buckets import (
    SecureBucket,
    bucket_name,
    encrypted_bucket_policy,
    lifecycle_rule,
    secure_bucket,
    sse_kms,
)
from silhouette_infra.aws.context import LayerArgs
from silhouette_infra.aws.keys import customer_managed_key, delegated_key_policy
from silhouette_infra.aws.replication import BucketReplica, replicate_bucket
from silhouette_infra.aws.roles import service_role
from silhouette_infra.settings.models import AuditSettings

KEY_DELETION_WINDOW_DAYS = 30  # the longest KMS allows: the key is the only way to read 7 years of audit logs
NONCURRENT_VERSION_DAYS = 365  # an overwritten or deleted log file stays recoverable for a year
CONFIG_ROLE_POLICY = "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"
CONFIG_PREFIX = "config"
CONFIG_DELIVERY_FREQUENCY = "TwentyFour_Hours"

# GuardDuty protection plans (https://docs.aws.amazon.com/guardduty/latest/APIReference/API_DetectorFeatureConfiguration.html).
# RUNTIME_MONITORING and EKS_RUNTIME_MONITORING are exclusive; the former is the current one.
GUARDDUTY_FEATURES: tuple[str, ...] = (
    "S3_DATA_EVENTS",
    "EKS_AUDIT_LOGS",
    "EBS_MALWARE_PROTECTION",
    "RDS_LOGIN_EVENTS",
    "RUNTIME_MONITORING",
)
GUARDDUTY_RUNTIME_AGENT = "EKS_ADDON_MANAGEMENT"


# ----------------------------------------------------------------------------------- pure decisions
def trail_arn(region: str, account_id: str, name: str, partition: str = "aws") -> str:
    """The trail's ARN, known before the trail exists: the bucket policy must name it before the trail is
    created (CloudTrail checks its bucket policy on creation)."""
    return f"arn:{partition}:cloudtrail:{region}:{account_id}:trail/{name}"


def audit_key_policy(*, account_id: str, region: str, trail: str, partition: str = "aws") -> dict[str, Any]:
    """The audit key's policy: delegated to IAM of this account (``aws.keys.delegated_key_policy``), and
    usable by CloudTrail for this trail only
    (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html).

    Readers of the logs (and the Config role) get ``kms:Decrypt`` / ``kms:GenerateDataKey`` through IAM.
    """
    return delegated_key_policy(
        "audit",
        account_id=account_id,
        partition=partition,
        statements=[
            {
                "Sid": "CloudTrailEncryptsThisTrail",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceArn": trail},
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:{partition}:cloudtrail:*:{account_id}:trail/*"
                    },
                },
            },
            {
                "Sid": "CloudTrailDescribesKey",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceArn": trail}},
            },
        ],
    )


def audit_bucket_policy(*, bucket_arn: str, key_arn: str, account_id: str, trail: str | None) -> dict[str, Any]:
    """TLS only and SSE-KMS with the audit key only (``aws.buckets.encrypted_bucket_policy``); with a trail,
    CloudTrail may check the bucket ACL and write under ``AWSLogs/<account>/``, for this trail only
    (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html)."""
    policy = encrypted_bucket_policy(bucket_arn, key_arn)
    if trail is not None:
        policy["Statement"] += [
            {
                "Sid": "CloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": bucket_arn,
                "Condition": {"StringEquals": {"aws:SourceArn": trail}},
            },
            {
                "Sid": "CloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/AWSLogs/{account_id}/*",
                "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trail}},
            },
        ]
    return policy


def trail_logs_role_policy(log_group_arn: str) -> dict[str, Any]:
    """What CloudTrail needs to deliver to its log group
    (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-required-policy-for-cloudwatch-logs.html)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DeliverToTrailLogGroup",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{log_group_arn}:log-stream:*",
            }
        ],
    }


def config_delivery_policy(*, bucket_arn: str, key_arn: str, account_id: str) -> dict[str, Any]:
    """Delivery rights of the Config role: ``AWS_ConfigRole`` reads resource configurations but does not
    write to S3 (https://docs.aws.amazon.com/config/latest/developerguide/iamrole-permissions.html)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "CheckBucket", "Effect": "Allow", "Action": "s3:GetBucketAcl", "Resource": bucket_arn},
            {
                "Sid": "DeliverSnapshotsAndHistory",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{CONFIG_PREFIX}/AWSLogs/{account_id}/*",
                "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
            },
            {
                "Sid": "EncryptWithAuditKey",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": key_arn,
            },
        ],
    }


@dataclass(frozen=True)
class ConfigRule:
    name: str
    source_identifier: str
    control: str  # the claim it evidences


def config_rules(*, require_multi_az_databases: bool) -> list[ConfigRule]:
    """The AWS Config managed rules behind the controls the platform claims
    (https://docs.aws.amazon.com/config/latest/developerguide/managed-rules-by-aws-config.html).
    Multi-AZ is claimed for production only, so its rule is only evaluated where it is claimed."""
    rules = [
        ConfigRule("encrypted-volumes", "ENCRYPTED_VOLUMES", "EBS volumes are encrypted"),
        ConfigRule("rds-storage-encrypted", "RDS_STORAGE_ENCRYPTED", "database storage is encrypted"),
        ConfigRule("s3-bucket-sse-enabled", "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED", "buckets encrypt by default"),
        ConfigRule("s3-bucket-public-read-prohibited", "S3_BUCKET_PUBLIC_READ_PROHIBITED", "no public bucket"),
        ConfigRule("cloudtrail-enabled", "CLOUD_TRAIL_ENABLED", "API activity is recorded"),
        ConfigRule(
            "cloudtrail-log-file-validation",
            "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED",
            "the audit trail is tamper-evident",
        ),
        ConfigRule("vpc-flow-logs-enabled", "VPC_FLOW_LOGS_ENABLED", "network flows are logged"),
        ConfigRule("eks-secrets-encrypted", "EKS_SECRETS_ENCRYPTED", "Kubernetes secrets are envelope-encrypted"),
        ConfigRule("eks-endpoint-no-public-access", "EKS_ENDPOINT_NO_PUBLIC_ACCESS", "the API server is private"),
        ConfigRule("cmk-rotation-enabled", "CMK_BACKING_KEY_ROTATION_ENABLED", "KMS keys rotate"),
        ConfigRule("elasticache-encrypted-at-rest", "ELASTICACHE_REPL_GRP_ENCRYPTED_AT_REST", "the cache is encrypted"),
        ConfigRule("iam-root-access-key-check", "IAM_ROOT_ACCESS_KEY_CHECK", "the root user has no access key"),
    ]
    if require_multi_az_databases:
        rules.append(ConfigRule("rds-multi-az", "RDS_MULTI_AZ_SUPPORT", "the database survives an AZ loss"))
    return rules


def security_hub_standards(region: str, partition: str = "aws") -> dict[str, str]:
    """The standards we subscribe to, by their regional ARNs
    (https://docs.aws.amazon.com/securityhub/latest/userguide/standards-reference.html)."""
    return {
        "fsbp": f"arn:{partition}:securityhub:{region}::standards/aws-foundational-security-best-practices/v/1.0.0",
        "cis-3-0": f"arn:{partition}:securityhub:{region}::standards/cis-aws-foundations-benchmark/v/3.0.0",
    }


# -------------------------------------------------------------------------------------- the component
@dataclass
class AuditArgs(LayerArgs):
    settings: AuditSettings
    logs_key_arn: pulumi.Input[str]
    require_multi_az_databases: bool = False  # evaluate RDS_MULTI_AZ_SUPPORT (claimed in production)


class Audit(pulumi.ComponentResource):
    """CloudTrail with its key, bucket and log group; GuardDuty; AWS Config; Security Hub."""

    trail_arn: pulumi.Output[str] | None
    audit_bucket_name: pulumi.Output[str] | None
    audit_key_arn: pulumi.Output[str] | None

    def __init__(self, name: str, args: AuditArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:audit:Audit", name, None, opts)
        settings = args.settings
        self._args = args
        self._trail_name = args.naming.physical("trail")
        self._trail_arn = args.account_id.apply(lambda account: trail_arn(args.region, account, self._trail_name))

        self.trail_arn = None
        self.audit_bucket_name = None
        self.audit_key_arn = None
        if settings.cloudtrail or settings.config_recorder:
            key = self._key()
            secure = self._bucket(key)
            bucket, bucket_policy = secure.bucket, secure.policy
            if settings.replicate_to_dr_region:
                self._replica(secure, key)
            self.audit_key_arn = key.arn
            self.audit_bucket_name = bucket.bucket
            if settings.cloudtrail:
                self.trail_arn = self._trail(key, bucket, bucket_policy).arn
            if settings.config_recorder:
                self._config(key, bucket, bucket_policy)
        if settings.guardduty:
            self._guardduty()
        if settings.security_hub:
            self._security_hub()
        self.register_outputs(
            {
                "trail_arn": self.trail_arn,
                "audit_bucket_name": self.audit_bucket_name,
                "audit_key_arn": self.audit_key_arn,
            }
        )

    def _options(self, *, stateful: bool = False, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self, protect=self._args.protect if stateful else None, depends_on=list(depends_on) or None
        )

    # ------------------------------------------------------------------------------ key and bucket
    def _key(self) -> aws.kms.Key:
        args = self._args
        key = customer_managed_key(
            "audit-key",
            naming=args.naming,
            purpose="audit",
            description="CloudTrail and AWS Config audit logs",
            policy=pulumi.Output.all(args.account_id, self._trail_arn).apply(
                lambda values: json.dumps(
                    audit_key_policy(account_id=str(values[0]), region=args.region, trail=str(values[1]))
                )
            ),
            deletion_window_days=KEY_DELETION_WINDOW_DAYS,
            protect=args.protect,
            opts=self._options(),
        )
        return key

    def _bucket(self, key: aws.kms.Key) -> SecureBucket:
        args = self._args
        trail = self._trail_arn if args.settings.cloudtrail else None

        def policy(bucket_arn: pulumi.Output[str]) -> pulumi.Output[str]:
            return pulumi.Output.all(bucket_arn, key.arn, args.account_id, trail).apply(
                lambda values: json.dumps(
                    audit_bucket_policy(
                        bucket_arn=str(values[0]),
                        key_arn=str(values[1]),
                        account_id=str(values[2]),
                        trail=None if values[3] is None else str(values[3]),
                    )
                )
            )

        return secure_bucket(
            "audit-bucket",
            physical_name=args.account_id.apply(
                lambda account: bucket_name(args.naming, "audit", args.region, account)
            ),
            tags=args.naming.name_tag("audit"),
            encryption=sse_kms(key.arn),
            lifecycle=[self._retention()],
            policy=policy,
            parent=self,
            protect=args.protect,
        )

    def _retention(self) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
        return lifecycle_rule(
            "retention",
            expiration_days=self._args.settings.audit_log_retention_days,
            noncurrent_days=NONCURRENT_VERSION_DAYS,
        )

    def _replica(self, source: SecureBucket, source_key: aws.kms.Key) -> None:
        """The audit history survives the loss of the region: a bucket in the DR region, under an audit key of
        its own there, receives every log file within 15 minutes (Replication Time Control), kept as long."""
        args = self._args
        dr_region, dr = args.context.dr_region, args.context.providers.dr
        key = customer_managed_key(
            "audit-dr-key",
            naming=args.naming,
            purpose="audit",
            description="Replica of the CloudTrail and AWS Config audit logs in the DR region",
            policy=args.account_id.apply(lambda account: json.dumps(delegated_key_policy("audit", account_id=account))),
            deletion_window_days=KEY_DELETION_WINDOW_DAYS,
            protect=args.protect,
            tags=args.naming.name_tag("audit", dr_region),
            opts=pulumi.ResourceOptions(parent=self, provider=dr),
        )

        def policy(bucket_arn: pulumi.Output[str]) -> pulumi.Output[str]:
            return pulumi.Output.all(bucket_arn, key.arn).apply(
                lambda values: json.dumps(encrypted_bucket_policy(str(values[0]), str(values[1])))
            )

        replica = secure_bucket(
            "audit-replica-bucket",
            physical_name=args.account_id.apply(lambda account: bucket_name(args.naming, "audit", dr_region, account)),
            tags=args.naming.name_tag("audit", dr_region),
            encryption=sse_kms(key.arn),
            lifecycle=[self._retention()],
            policy=policy,
            parent=self,
            protect=args.protect,
            provider=dr,
        )
        replicate_bucket(
            "audit-replication",
            BucketReplica(source, source_key.arn, args.region),
            BucketReplica(replica, key.arn, dr_region),
            naming=args.naming,
            account_id=args.account_id,
            description="Lets S3 replicate the audit bucket to the DR region",
            parent=self,
        )

    # ---------------------------------------------------------------------------------- CloudTrail
    def _trail(
        self, key: aws.kms.Key, bucket: aws.s3.Bucket, bucket_policy: aws.s3.BucketPolicy
    ) -> aws.cloudtrail.Trail:
        args = self._args
        log_group = aws.cloudwatch.LogGroup(
            "trail-log-group",
            name=args.naming.log_group("cloudtrail"),
            retention_in_days=args.settings.audit_log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags=args.naming.name_tag("cloudtrail"),
            opts=self._options(stateful=True),
        )
        role = service_role(
            "trail-logs",
            naming=args.naming,
            description="CloudTrail delivers the trail to its CloudWatch log group",
            service="cloudtrail.amazonaws.com",
            source_account=args.account_id,
            inline_policies={"deliver": log_group.arn.apply(lambda arn: json.dumps(trail_logs_role_policy(arn)))},
            parent=self,
        )
        return aws.cloudtrail.Trail(
            "trail",
            name=self._trail_name,
            s3_bucket_name=bucket.bucket,
            kms_key_id=key.arn,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            cloud_watch_logs_group_arn=log_group.arn.apply(lambda arn: f"{arn}:*"),
            cloud_watch_logs_role_arn=role.arn,
            event_selectors=[
                aws.cloudtrail.TrailEventSelectorArgs(read_write_type="All", include_management_events=True)
            ],
            tags=args.naming.name_tag("trail"),
            # CloudTrail checks the bucket policy and the key policy when the trail is created.
            opts=self._options(depends_on=[bucket_policy, key]),
        )

    # ---------------------------------------------------------------------------------- AWS Config
    def _config(self, key: aws.kms.Key, bucket: aws.s3.Bucket, bucket_policy: aws.s3.BucketPolicy) -> None:
        args = self._args
        role = service_role(
            "config-recorder",
            naming=args.naming,
            description="AWS Config records resource configurations and delivers them to the audit bucket",
            service="config.amazonaws.com",
            source_account=args.account_id,
            managed_policy_arns=[CONFIG_ROLE_POLICY],
            inline_policies={
                "deliver": pulumi.Output.all(bucket.arn, key.arn, args.account_id).apply(
                    lambda values: json.dumps(
                        config_delivery_policy(
                            bucket_arn=str(values[0]), key_arn=str(values[1]), account_id=str(values[2])
                        )
                    )
                )
            },
            parent=self,
        )
        recorder = aws.cfg.Recorder(
            "config-recorder",
            name=args.naming.physical("config"),
            role_arn=role.arn,
            recording_group=aws.cfg.RecorderRecordingGroupArgs(all_supported=True, include_global_resource_types=True),
            opts=self._options(),
        )
        channel = aws.cfg.DeliveryChannel(
            "config-delivery-channel",
            name=args.naming.physical("config-delivery"),
            s3_bucket_name=bucket.bucket,
            s3_key_prefix=CONFIG_PREFIX,
            s3_kms_key_arn=key.arn,
            snapshot_delivery_properties=aws.cfg.DeliveryChannelSnapshotDeliveryPropertiesArgs(
                delivery_frequency=CONFIG_DELIVERY_FREQUENCY
            ),
            opts=self._options(depends_on=[recorder, bucket_policy]),
        )
        aws.cfg.RecorderStatus(
            "config-recorder-status", name=recorder.name, is_enabled=True, opts=self._options(depends_on=[channel])
        )
        for rule in config_rules(require_multi_az_databases=args.require_multi_az_databases):
            aws.cfg.Rule(
                f"config-rule-{rule.name}",
                name=args.naming.physical(rule.name),
                description=f"Evidence that {rule.control}.",
                source=aws.cfg.RuleSourceArgs(owner="AWS", source_identifier=rule.source_identifier),
                tags=args.naming.name_tag(rule.name),
                opts=self._options(depends_on=[recorder]),
            )

    # ------------------------------------------------------------------------ GuardDuty, Security Hub
    def _guardduty(self) -> None:
        args = self._args
        detector = aws.guardduty.Detector(
            "guardduty",
            enable=True,
            finding_publishing_frequency="FIFTEEN_MINUTES",
            tags=args.naming.name_tag("guardduty"),
            opts=self._options(),
        )
        for feature in GUARDDUTY_FEATURES:
            aws.guardduty.DetectorFeature(
                f"guardduty-{feature.lower().replace('_', '-')}",
                detector_id=detector.id,
                name=feature,
                status="ENABLED",
                additional_configurations=[
                    aws.guardduty.DetectorFeatureAdditionalConfigurationArgs(
                        name=GUARDDUTY_RUNTIME_AGENT, status="ENABLED"
                    )
                ]
                if feature == "RUNTIME_MONITORING"
                else None,
                opts=self._options(),
            )

    def _security_hub(self) -> None:
        account = aws.securityhub.Account(
            "security-hub",
            enable_default_standards=False,
            auto_enable_controls=True,
            control_finding_generator="SECURITY_CONTROL",
            opts=self._options(),
        )
        for short, arn in security_hub_standards(self._args.region).items():
            aws.securityhub.StandardsSubscription(
                f"security-hub-{short}", standards_arn=arn, opts=self._options(depends_on=[account])
            )
