"""Audit layer (docs/architecture.md layer 8): CloudTrail, GuardDuty, AWS Config and Security Hub."""

from __future__ import annotations

import json
from typing import Any

from silhouette_infra.audit import (
    audit_bucket_policy,
    audit_key_policy,
    config_rules,
    security_hub_standards,
    trail_arn,
)
from silhouette_infra.settings.models import LOG_RETENTION_DAYS
from silhouette_infra.synth.engine import MOCK_ACCOUNT_ID, CapturedResource, SynthResult

COMPONENT = "silhouette:audit:Audit"
TRAIL = "aws:cloudtrail/trail:Trail"
KEY = "aws:kms/key:Key"
BUCKET = "aws:s3/bucket:Bucket"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{MOCK_ACCOUNT_ID}:trail/silhouette-production-trail"


def _children(result: SynthResult, type_token: str) -> list[CapturedResource]:
    (component,) = result.of_type(COMPONENT)
    return [r for r in result.of_type(type_token) if result.component_of(r) is component]


def _one(result: SynthResult, type_token: str, suffix: str = "", prefix: str = "") -> CapturedResource:
    (found,) = [r for r in _children(result, type_token) if r.name.endswith(suffix) and r.name.startswith(prefix)]
    return found


def _statement(policy: dict[str, Any], sid: str) -> dict[str, Any]:
    (found,) = [s for s in policy["Statement"] if s["Sid"] == sid]
    return dict(found)


# ---------------------------------------------------------------------------------------- CloudTrail
def test_trail_records_every_region_with_validated_encrypted_logs(stack: SynthResult) -> None:
    trail = _one(stack, TRAIL).inputs
    assert trail["isMultiRegionTrail"] is True, "trail: multi-region"
    assert trail["includeGlobalServiceEvents"] is True, "trail: global service events (IAM, STS)"
    assert trail["enableLogFileValidation"] is True, "trail: log-file validation"
    assert trail["kmsKeyId"] == stack.named(KEY, "audit-key").outputs["arn"], "trail: encrypted with the audit key"
    assert trail["eventSelectors"] == [{"readWriteType": "All", "includeManagementEvents": True}]
    assert trail["cloudWatchLogsGroupArn"].endswith(":*"), "CloudTrail wants the log group ARN with ':*'"


def test_trail_log_group_keeps_audit_logs_seven_years_encrypted(stack: SynthResult) -> None:
    """2557 days is one of the retention values CloudWatch Logs accepts
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html)."""
    assert 2557 in LOG_RETENTION_DAYS
    group = _one(stack, "aws:cloudwatch/logGroup:LogGroup").inputs
    assert group["retentionInDays"] == stack.settings.audit.audit_log_retention_days == 2557
    assert group["kmsKeyId"] == stack.named(KEY, "logs-key").outputs["arn"], "trail log group: the logs key"


def test_audit_key_lets_cloudtrail_encrypt_only_for_this_trail() -> None:
    """Key policy for CloudTrail: GenerateDataKey* with aws:SourceArn and the encryption context
    (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html)."""
    policy = audit_key_policy(account_id=MOCK_ACCOUNT_ID, region="us-east-1", trail=TRAIL_ARN)
    encrypt = _statement(policy, "CloudTrailEncryptsThisTrail")
    assert encrypt["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert encrypt["Condition"]["StringEquals"] == {"aws:SourceArn": TRAIL_ARN}
    assert encrypt["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{MOCK_ACCOUNT_ID}:trail/*"
    }
    assert all(s["Principal"] != "*" for s in policy["Statement"])


def test_audit_key_rotates_and_is_protected_in_production(production: SynthResult, staging: SynthResult) -> None:
    key = production.named(KEY, "audit-key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.protect and production.named(BUCKET, "audit-bucket").protect
    assert not staging.named(KEY, "audit-key").protect, "staging protects nothing"
    policy = json.loads(key.inputs["policy"])
    assert _statement(policy, "CloudTrailEncryptsThisTrail")["Condition"]["StringEquals"] == {
        "aws:SourceArn": TRAIL_ARN
    }


def test_audit_bucket_accepts_cloudtrail_for_this_trail_only_over_tls() -> None:
    """Bucket policy for CloudTrail: GetBucketAcl and PutObject under AWSLogs/<account>/ with aws:SourceArn
    (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html)."""
    bucket = "arn:aws:s3:::audit"
    policy = audit_bucket_policy(bucket_arn=bucket, key_arn="k", account_id=MOCK_ACCOUNT_ID, trail=TRAIL_ARN)
    acl = _statement(policy, "CloudTrailAclCheck")
    assert (acl["Action"], acl["Resource"], acl["Condition"]) == (
        "s3:GetBucketAcl",
        bucket,
        {"StringEquals": {"aws:SourceArn": TRAIL_ARN}},
    )
    write = _statement(policy, "CloudTrailWrite")
    assert write["Resource"] == f"{bucket}/AWSLogs/{MOCK_ACCOUNT_ID}/*"
    assert write["Condition"]["StringEquals"] == {
        "s3:x-amz-acl": "bucket-owner-full-control",
        "aws:SourceArn": TRAIL_ARN,
    }
    assert _statement(policy, "DenyInsecureTransport")["Effect"] == "Deny"
    without_trail = audit_bucket_policy(bucket_arn=bucket, key_arn="k", account_id=MOCK_ACCOUNT_ID, trail=None)
    assert {s["Sid"] for s in without_trail["Statement"]}.isdisjoint({"CloudTrailAclCheck", "CloudTrailWrite"})


def test_audit_bucket_is_private_versioned_kms_encrypted_and_kept_seven_years(stack: SynthResult) -> None:
    key_arn = stack.named(KEY, "audit-key").outputs["arn"]
    assert _one(stack, "aws:s3/bucketVersioning:BucketVersioning", prefix="audit-bucket-").inputs[
        "versioningConfiguration"
    ] == {"status": "Enabled"}
    (rule,) = _one(
        stack,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        prefix="audit-bucket-",
    ).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key_arn}
    block = _one(stack, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", prefix="audit-bucket-").inputs
    assert all(
        block[flag] for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    (lifecycle,) = _one(
        stack, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", prefix="audit-bucket-"
    ).inputs["rules"]
    assert lifecycle["expiration"]["days"] == 2557
    policy = json.loads(_one(stack, "aws:s3/bucketPolicy:BucketPolicy", prefix="audit-bucket-").inputs["policy"])
    assert _statement(policy, "CloudTrailWrite")["Condition"]["StringEquals"]["aws:SourceArn"].endswith(
        f"trail/silhouette-{stack.stack}-trail"
    )


def test_trail_arn_is_known_before_the_trail() -> None:
    assert trail_arn("us-east-1", MOCK_ACCOUNT_ID, "silhouette-production-trail") == TRAIL_ARN


# ----------------------------------------------------------------------------------------- GuardDuty
def test_guardduty_protects_s3_eks_runtime_and_volumes(stack: SynthResult) -> None:
    (detector,) = _children(stack, "aws:guardduty/detector:Detector")
    assert detector.inputs["enable"] is True
    features = {f.inputs["name"]: f.inputs for f in _children(stack, "aws:guardduty/detectorFeature:DetectorFeature")}
    assert set(features) >= {"S3_DATA_EVENTS", "EKS_AUDIT_LOGS", "EBS_MALWARE_PROTECTION", "RUNTIME_MONITORING"}
    assert "EKS_RUNTIME_MONITORING" not in features, "exclusive with RUNTIME_MONITORING"
    assert all(f["status"] == "ENABLED" for f in features.values())
    assert features["RUNTIME_MONITORING"]["additionalConfigurations"] == [
        {"name": "EKS_ADDON_MANAGEMENT", "status": "ENABLED"}
    ]


# ---------------------------------------------------------------------------------------- AWS Config
def test_config_records_everything_including_global_resources(stack: SynthResult) -> None:
    (recorder,) = _children(stack, "aws:cfg/recorder:Recorder")
    assert recorder.inputs["recordingGroup"] == {"allSupported": True, "includeGlobalResourceTypes": True}
    (status,) = _children(stack, "aws:cfg/recorderStatus:RecorderStatus")
    assert status.inputs["isEnabled"] is True
    (channel,) = _children(stack, "aws:cfg/deliveryChannel:DeliveryChannel")
    assert channel.inputs["s3BucketName"] == stack.named(BUCKET, "audit-bucket").outputs["bucket"]
    assert channel.inputs["s3KmsKeyArn"] == stack.named(KEY, "audit-key").outputs["arn"]
    attachments = _children(stack, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole" in {a.inputs["policyArn"] for a in attachments}


def test_config_rules_evidence_the_claimed_controls(production: SynthResult, staging: SynthResult) -> None:
    claimed = {
        "ENCRYPTED_VOLUMES",
        "RDS_STORAGE_ENCRYPTED",
        "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
        "S3_BUCKET_PUBLIC_READ_PROHIBITED",
        "CLOUD_TRAIL_ENABLED",
        "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED",
        "VPC_FLOW_LOGS_ENABLED",
        "EKS_SECRETS_ENCRYPTED",
        "EKS_ENDPOINT_NO_PUBLIC_ACCESS",
        "CMK_BACKING_KEY_ROTATION_ENABLED",
        "ELASTICACHE_REPL_GRP_ENCRYPTED_AT_REST",
        "IAM_ROOT_ACCESS_KEY_CHECK",
    }

    def identifiers(result: SynthResult) -> set[str]:
        rules = _children(result, "aws:cfg/rule:Rule")
        assert all(r.inputs["source"]["owner"] == "AWS" for r in rules)
        return {r.inputs["source"]["sourceIdentifier"] for r in rules}

    assert identifiers(production) == claimed | {"RDS_MULTI_AZ_SUPPORT"}, "production claims Multi-AZ"
    assert identifiers(staging) == claimed, "staging's database is single-AZ by design"
    assert {r.source_identifier for r in config_rules(require_multi_az_databases=False)} == claimed


# -------------------------------------------------------------------------------------- Security Hub
def test_trail_and_config_roles_trust_only_their_service_for_this_account(stack: SynthResult) -> None:
    """Confused deputy: CloudTrail and AWS Config may assume their roles only on behalf of this account."""
    for name, service in (
        ("trail-logs-role", "cloudtrail.amazonaws.com"),
        ("config-recorder-role", "config.amazonaws.com"),
    ):
        role = _one(stack, "aws:iam/role:Role", name)
        (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert statement == {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT_ID}},
        }, f"{stack.stack} {name}: assumeRolePolicy lets more than {service} for this account assume it"


def test_security_hub_subscribes_to_fsbp_and_cis_3(stack: SynthResult) -> None:
    """Standards ARNs (https://docs.aws.amazon.com/securityhub/latest/userguide/standards-reference.html)."""
    (account,) = _children(stack, "aws:securityhub/account:Account")
    assert account.inputs["enableDefaultStandards"] is False
    subscribed = {
        s.inputs["standardsArn"]
        for s in _children(stack, "aws:securityhub/standardsSubscription:StandardsSubscription")
    }
    assert subscribed == {
        "arn:aws:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0",
        "arn:aws:securityhub:us-east-1::standards/cis-aws-foundations-benchmark/v/3.0.0",
    }
    assert set(security_hub_standards("us-east-1").values()) == subscribed
