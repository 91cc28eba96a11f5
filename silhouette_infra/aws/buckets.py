"""The one builder for a private S3 bucket, and the bucket facts every layer shares: the name, the TLS-only
and SSE-KMS-only policy statements, the default-encryption rule and the lifecycle rule."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from silhouette_infra.aws.iam import VERSION
from silhouette_infra.aws.naming import Naming

MAX_BUCKET_NAME_LENGTH = 63
ABORT_INCOMPLETE_UPLOADS_DAYS = 7


def bucket_name(naming: Naming, purpose: str, region: str, account_id: str) -> str:
    """A globally unique bucket name: stack, purpose, region and account (``silhouette-production-backups-
    us-east-1-123456789012``)."""
    name = naming.physical(purpose, region, account_id)
    if len(name) > MAX_BUCKET_NAME_LENGTH:
        raise ValueError(f"bucket name {name!r} is longer than {MAX_BUCKET_NAME_LENGTH} characters")
    return name


def s3_uri(object_arn: str) -> str:
    """``arn:aws:s3:::bucket/key`` -> ``s3://bucket/key``."""
    return "s3://" + object_arn.split(":::", 1)[1]


# --------------------------------------------------------------------------------- policy documents
def deny_insecure_transport(bucket_arn: str) -> dict[str, Any]:
    """The statement every bucket policy starts with: nothing reaches the bucket or its objects without TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def encrypted_bucket_policy(bucket_arn: str, key_arn: str) -> dict[str, Any]:
    """TLS only, and no upload that asks for another encryption than SSE-KMS with the bucket's key.

    An upload without encryption headers gets the bucket's default encryption (this key), so it passes;
    an upload naming SSE-S3, or another key, is refused. Replication writes with ``s3:ReplicateObject``,
    which these statements do not concern.
    """
    return {
        "Version": VERSION,
        "Statement": [
            deny_insecure_transport(bucket_arn),
            {
                "Sid": "DenyOtherEncryptionThanSseKms",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/*",
                "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
            },
            {
                "Sid": "DenyOtherKmsKeys",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/*",
                "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn}},
            },
        ],
    }


def access_log_bucket_policy(log_bucket_arn: str, source_bucket_arn: str, account_id: str) -> dict[str, Any]:
    """TLS only, and S3's log delivery may write the source bucket's logs, for this account only
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html)."""
    return {
        "Version": VERSION,
        "Statement": [
            deny_insecure_transport(log_bucket_arn),
            {
                "Sid": "S3ServerAccessLogDelivery",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{log_bucket_arn}/*",
                "Condition": {
                    "ArnLike": {"aws:SourceArn": source_bucket_arn},
                    "StringEquals": {"aws:SourceAccount": account_id},
                },
            },
        ],
    }


def elasticache_export_bucket_policy(bucket_arn: str, region: str, *, writes: bool) -> dict[str, Any]:
    """TLS only, and ElastiCache in ``region`` may use the bucket through its service principal instead of an ACL
    grant, so that ACLs stay off (BucketOwnerEnforced). The export bucket lets it write a snapshot
    (``writes``: the actions of "Grant Amazon ElastiCache for Redis access to your S3 bucket",
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-migrating-acls-prerequisites.html);
    its replica only lets it read the .rdb a new cache is seeded from (GetObject, ListBucket, GetBucketAcl:
    https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/backups-seeding-redis.html, "Grant ElastiCache read
    access to the .rdb file")."""
    reads = ["s3:GetObject", "s3:ListBucket", "s3:GetBucketAcl"]
    actions = [
        *(["s3:PutObject"] if writes else []),
        *reads,
        *(["s3:ListMultipartUploadParts", "s3:ListBucketMultipartUploads"] if writes else []),
    ]
    return {
        "Version": VERSION,
        "Statement": [
            deny_insecure_transport(bucket_arn),
            {
                "Sid": "ElastiCacheSnapshotExport" if writes else "ElastiCacheSeedRead",
                "Effect": "Allow",
                "Principal": {"Service": f"{region}.elasticache-snapshot.amazonaws.com"},
                "Action": actions,
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
            },
        ],
    }


# ------------------------------------------------------------------------------------ bucket settings
def sse_s3() -> aws.s3.BucketServerSideEncryptionConfigurationRuleArgs:
    """Default encryption with S3-managed keys (AES-256), for the buckets an AWS service cannot use with SSE-KMS;
    uploads with customer-provided keys (SSE-C) are refused."""
    return aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
        apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="AES256"
        ),
        blocked_encryption_types=["SSE-C"],
    )


def sse_kms(key_arn: pulumi.Input[str]) -> aws.s3.BucketServerSideEncryptionConfigurationRuleArgs:
    """Default encryption with ``key_arn``, with S3 Bucket Keys (one KMS call per bucket and time window
    rather than per object); uploads with customer-provided keys (SSE-C) are refused."""
    return aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
        apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="aws:kms", kms_master_key_id=key_arn
        ),
        bucket_key_enabled=True,
        blocked_encryption_types=["SSE-C"],
    )


def lifecycle_rule(
    rule_id: str,
    *,
    noncurrent_days: int,
    expiration_days: int | None = None,
    transitions: Sequence[aws.s3.BucketLifecycleConfigurationRuleTransitionArgs] = (),
) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
    """A rule for every object of the bucket: current versions move through ``transitions`` and expire after
    ``expiration_days`` (never, without it), overwritten or deleted versions after ``noncurrent_days``, and
    parts of multipart uploads that never completed (billed, but listed nowhere) after a week."""
    return aws.s3.BucketLifecycleConfigurationRuleArgs(
        id=rule_id,
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
        transitions=list(transitions) or None,
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=expiration_days)
        if expiration_days is not None
        else None,
        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
            noncurrent_days=noncurrent_days
        ),
        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
            days_after_initiation=ABORT_INCOMPLETE_UPLOADS_DAYS
        ),
    )


# ------------------------------------------------------------------------------------------ the builder
@dataclass(frozen=True)
class SecureBucket:
    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning  # what S3 replication must wait for
    policy: aws.s3.BucketPolicy  # what a service that checks the policy on creation must wait for


def secure_bucket(
    name: str,
    *,
    physical_name: pulumi.Input[str],
    tags: dict[str, str],
    encryption: aws.s3.BucketServerSideEncryptionConfigurationRuleArgs,
    lifecycle: Sequence[aws.s3.BucketLifecycleConfigurationRuleArgs],
    policy: Callable[[pulumi.Output[str]], pulumi.Output[str]],
    parent: pulumi.Resource,
    protect: bool,
    provider: aws.Provider | None = None,
) -> SecureBucket:
    """A versioned, encrypted bucket with ACLs off, public access blocked, a lifecycle, object events to
    EventBridge, and the bucket policy that ``policy`` makes of the bucket's ARN.

    Every resource is named ``<name>-<part>`` and is a child of ``parent`` (with ``provider``, for a bucket
    in another region); only the bucket itself is protected (when ``protect``): its settings can be
    declared again, its objects cannot. The bucket is never emptied on deletion (``force_destroy`` off).
    """

    def options(depends_on: pulumi.Resource | None = None, *, stateful: bool = False) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=parent,
            provider=provider,
            protect=protect if stateful else None,
            depends_on=[depends_on] if depends_on is not None else None,
        )

    bucket = aws.s3.Bucket(name, bucket=physical_name, force_destroy=False, tags=tags, opts=options(stateful=True))
    versioning = aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        opts=options(),
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption", bucket=bucket.id, rules=[encryption], opts=options()
    )
    public_access_block = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access-block",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=options(),
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=options(),
    )
    # Object events (created, deleted, restored) go to EventBridge, where a deleted or overwritten object
    # can raise an alert without changing the bucket's owner; AWS service events on the default bus are free.
    aws.s3.BucketNotification(f"{name}-events", bucket=bucket.id, eventbridge=True, opts=options())
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        bucket=bucket.id,
        rules=list(lifecycle),
        # Lifecycle rules on a versioned bucket act on versions that versioning must already keep.
        opts=options(versioning),
    )
    bucket_policy = aws.s3.BucketPolicy(
        f"{name}-policy",
        bucket=bucket.id,
        policy=policy(bucket.arn),
        # S3 rejects a policy update while the public access block of the bucket is being changed.
        opts=options(public_access_block),
    )
    return SecureBucket(bucket=bucket, versioning=versioning, policy=bucket_policy)
