"""S3 replication of a bucket to its replica in the DR region, with Replication Time Control: the one way the
platform's buckets (backups, audit) reach the DR region.

Replication Time Control replicates 99.99 % of objects within 15 minutes
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html), a bound an RPO can rely
on; without it replication has no time bound.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from silhouette_infra.aws.buckets import SecureBucket
from silhouette_infra.aws.naming import Naming
from silhouette_infra.aws.roles import service_role

REPLICATION_TIME_MINUTES = 15


def replication_role_policy(
    *,
    source_bucket_arn: str,
    source_key_arn: str | None,
    source_region: str,
    replica_bucket_arn: str,
    replica_key_arn: str | None,
    replica_region: str,
) -> dict[str, Any]:
    """What S3 replication needs, and nothing else
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html).

    The keys are usable only through S3 in their region and for their bucket. With S3 Bucket Keys the
    encryption context is the bucket's ARN rather than the object's, so both are allowed. Buckets encrypted
    with S3-managed keys (no key ARN) need no KMS statement.
    """

    def through_s3(region: str, bucket_arn: str) -> dict[str, Any]:
        return {
            "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
        }

    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadReplicationConfiguration",
                "Effect": "Allow",
                "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                "Resource": source_bucket_arn,
            },
            {
                "Sid": "ReadSourceVersions",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                ],
                "Resource": f"{source_bucket_arn}/*",
            },
            {
                "Sid": "WriteReplicas",
                "Effect": "Allow",
                "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                "Resource": f"{replica_bucket_arn}/*",
            },
            *(
                [
                    {
                        "Sid": "DecryptSourceObjects",
                        "Effect": "Allow",
                        "Action": "kms:Decrypt",
                        "Resource": source_key_arn,
                        "Condition": through_s3(source_region, source_bucket_arn),
                    }
                ]
                if source_key_arn is not None
                else []
            ),
            *(
                [
                    {
                        "Sid": "EncryptReplicas",
                        "Effect": "Allow",
                        "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                        "Resource": replica_key_arn,
                        "Condition": through_s3(replica_region, replica_bucket_arn),
                    }
                ]
                if replica_key_arn is not None
                else []
            ),
        ],
    }


@dataclass(frozen=True)
class BucketReplica:
    """One end of a replication: the bucket, the key its objects are encrypted with (None: S3-managed keys), and
    its region."""

    bucket: SecureBucket
    key_arn: pulumi.Input[str] | None
    region: str


def replicate_bucket(
    name: str,
    source: BucketReplica,
    replica: BucketReplica,
    *,
    naming: Naming,
    account_id: pulumi.Input[str],
    description: str,
    parent: pulumi.Resource,
) -> aws.s3.BucketReplicationConfig:
    """Every object of ``source`` replicated to ``replica`` with Replication Time Control and its metrics, deletions
    too, by a role that S3 assumes on behalf of this account alone. Both ends are SSE-KMS (each with its key) or
    both SSE-S3 (no key)."""
    kms = source.key_arn is not None
    if kms != (replica.key_arn is not None):
        raise ValueError(f"{name}: both ends of a replication are SSE-KMS, or both SSE-S3")

    def policy(values: list[Any]) -> str:
        return json.dumps(
            replication_role_policy(
                source_bucket_arn=str(values[0]),
                source_key_arn=str(values[1]) if kms else None,
                source_region=source.region,
                replica_bucket_arn=str(values[2]),
                replica_key_arn=str(values[3]) if kms else None,
                replica_region=replica.region,
            )
        )

    role = service_role(
        name,
        naming=naming,
        description=description,
        service="s3.amazonaws.com",
        source_account=account_id,
        inline_policies={
            "replicate": pulumi.Output.all(
                source.bucket.bucket.arn, source.key_arn or "", replica.bucket.bucket.arn, replica.key_arn or ""
            ).apply(policy)
        },
        parent=parent,
    )
    return aws.s3.BucketReplicationConfig(
        name,
        bucket=source.bucket.bucket.id,
        role=role.arn,
        rules=[_rule(replica.bucket.bucket.arn, replica.key_arn if kms else None)],
        # S3 refuses a replication configuration until both buckets are versioned.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[source.bucket.versioning, replica.bucket.versioning]),
    )


def _rule(
    replica_bucket_arn: pulumi.Input[str], replica_key_arn: pulumi.Input[str] | None
) -> aws.s3.BucketReplicationConfigRuleArgs:
    """Every object, deletions too, to the replica within 15 minutes (RTC, with its metrics); SSE-KMS objects are
    re-encrypted with the replica's key when there is one."""
    return aws.s3.BucketReplicationConfigRuleArgs(
        id="to-dr-region",
        status="Enabled",
        priority=1,
        filter=aws.s3.BucketReplicationConfigRuleFilterArgs(),
        delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(status="Enabled"),
        source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
            sse_kms_encrypted_objects=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                status="Enabled"
            )
        )
        if replica_key_arn is not None
        else None,
        destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
            bucket=replica_bucket_arn,
            encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                replica_kms_key_id=replica_key_arn
            )
            if replica_key_arn is not None
            else None,
            replication_time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs(
                status="Enabled",
                time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(
                    minutes=REPLICATION_TIME_MINUTES
                ),
            ),
            metrics=aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
                status="Enabled",
                event_threshold=aws.s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(
                    minutes=REPLICATION_TIME_MINUTES
                ),
            ),
        ),
    )
