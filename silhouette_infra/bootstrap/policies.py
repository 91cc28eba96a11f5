"""The bootstrap's IAM documents, as plain dicts (no Pulumi here, so each is tested alone).

GitHub's OIDC tokens carry the repository and the job's context in the ``sub`` claim and ``sts.amazonaws.com``
in ``aud`` (configure-aws-credentials' default audience). GitHub documents the ``sub`` formats ("About security
hardening with OpenID Connect", example subject claims): ``repo:<owner>/<name>:environment:<environment>`` for a
job that names an environment, ``repo:<owner>/<name>:pull_request`` for a pull request's jobs, and
``repo:<owner>/<name>:ref:refs/heads/<branch>`` for other jobs on a branch.
"""

from __future__ import annotations

from typing import Any, Final

from silhouette_infra.aws.iam import VERSION, web_identity_trust_policy

Policy = dict[str, Any]

GITHUB_OIDC_HOST: Final = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL: Final = f"https://{GITHUB_OIDC_HOST}"
STS_AUDIENCE: Final = "sts.amazonaws.com"
DEFAULT_BRANCH: Final = "main"
ROLE_PREFIX: Final = "silhouette-github-"  # physical names of the roles (Naming("github"))
BOUNDARY_POLICY_NAME: Final = "silhouette-github-deploy-boundary"

# Services without a region (their API is global, or lives in us-east-1 whatever the caller's region): the
# boundary's region condition does not apply to them. IAM and STS (roles, OIDC providers, the program's own
# roles), Route 53 (the edge's DNS records), CloudFront and WAF Classic (global ACLs), and the account-level
# consoles a deploy may read (Support, Budgets, Cost Explorer, Health, Pricing).
GLOBAL_SERVICE_ACTIONS: Final = (
    "iam:*",
    "sts:*",
    "route53:*",
    "route53domains:*",
    "cloudfront:*",
    "waf:*",
    "support:*",
    "budgets:*",
    "ce:*",
    "health:*",
    "pricing:*",
    "s3:ListAllMyBuckets",
)

# What would let a deploy role escape its boundary, outlive its session or change the account itself.
ACCOUNT_LEVEL_ACTIONS: Final = (
    "iam:CreateUser",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateAccountPasswordPolicy",
    "iam:DeleteAccountPasswordPolicy",
    "organizations:*",
    "account:*",
)
# Changes to the bootstrap's own IAM objects (the roles, the OIDC provider, this boundary): reading them stays allowed.
IAM_WRITE_ACTIONS: Final = (
    "iam:Add*",
    "iam:Attach*",
    "iam:Create*",
    "iam:Delete*",
    "iam:Detach*",
    "iam:Put*",
    "iam:Remove*",
    "iam:Set*",
    "iam:Tag*",
    "iam:Untag*",
    "iam:Update*",
)
# Changes to the state and log buckets' configuration, and erasing the state's history.
BUCKET_GUARD_ACTIONS: Final = (
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutBucketLogging",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:DeleteObjectVersion",
)
# Disabling or deleting the bootstrap's keys, or changing who may use them.
KEY_GUARD_ACTIONS: Final = (
    "kms:CancelKeyDeletion",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:UpdateAlias",
    "kms:DeleteAlias",
)


def deploy_subjects(repository: str, stack: str) -> list[str]:
    """Only jobs of ``repository`` that run in the GitHub environment named like the stack."""
    return [f"repo:{repository}:environment:{stack}"]


def preview_subjects(repository: str, branch: str = DEFAULT_BRANCH) -> list[str]:
    """Pull requests of ``repository`` (same-repository ones: GitHub gives forks no OIDC token) and jobs on its
    default branch without an environment (the nightly drift check)."""
    return [f"repo:{repository}:pull_request", f"repo:{repository}:ref:refs/heads/{branch}"]


def github_trust_policy(*, provider_arn: str, subjects: list[str]) -> Policy:
    """AssumeRoleWithWebIdentity through GitHub's OIDC provider, for tokens with audience ``sts.amazonaws.com``
    and one of ``subjects`` exactly (``StringEquals``: no wildcard, so no other repository, branch or
    environment)."""
    return web_identity_trust_policy(
        "GitHubActionsOidc",
        provider_arn=provider_arn,
        claims={f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE, f"{GITHUB_OIDC_HOST}:sub": subjects},
    )


def state_reader_policy(*, bucket_arn: str, state_key_arn: str, secrets_key_arn: str) -> Policy:
    """What a preview needs of the state beyond ReadOnlyAccess: read the checkpoints and decrypt them and the
    stack's secrets. Nothing is written: a DIY backend's preview takes no lock and keeps no history
    (pulumi/pulumi pkg/backend/diy/backend.go: ``Preview`` applies with ``DryRun`` and never calls ``Lock``)."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ListState",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": bucket_arn,
            },
            {"Sid": "ReadState", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket_arn}/*"},
            {
                "Sid": "DecryptStateAndSecrets",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": [state_key_arn, secrets_key_arn],
            },
        ],
    }


def deploy_boundary_policy(
    *,
    account_id: str,
    regions: list[str],
    bucket_arns: list[str],
    key_arns: list[str],
    partition: str = "aws",
) -> Policy:
    """The deploy roles' permissions boundary: the most a deploy role may do, whatever its policies grant.

    Everything, except: acting outside ``regions`` (global services excepted); creating IAM users, access keys
    or login passwords, or changing the account or its organization (no long-lived credentials, nothing beyond
    this account); changing the bootstrap's own IAM objects (its roles, the GitHub OIDC provider, this boundary),
    the state and log buckets' configuration, the state's history (object versions), or the bootstrap keys'
    policy, rotation and existence. Using the bucket and the keys (reading and writing state, encrypting and
    decrypting) stays allowed: that is what a deploy does.
    """
    iam = f"arn:{partition}:iam::{account_id}"
    own_iam = [
        f"{iam}:role/{ROLE_PREFIX}*",
        f"{iam}:oidc-provider/{GITHUB_OIDC_HOST}",
        f"{iam}:policy/{BOUNDARY_POLICY_NAME}",
    ]
    return {
        "Version": VERSION,
        "Statement": [
            {"Sid": "AllowWithinTheBoundary", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {
                "Sid": "DenyOtherRegions",
                "Effect": "Deny",
                "NotAction": list(GLOBAL_SERVICE_ACTIONS),
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:RequestedRegion": regions}},
            },
            {
                "Sid": "DenyAccountLevelChanges",
                "Effect": "Deny",
                "Action": list(ACCOUNT_LEVEL_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "DenyChangingTheBootstrapIam",
                "Effect": "Deny",
                "Action": list(IAM_WRITE_ACTIONS),
                "Resource": own_iam,
            },
            {
                "Sid": "DenyChangingTheStateBuckets",
                "Effect": "Deny",
                "Action": list(BUCKET_GUARD_ACTIONS),
                "Resource": [arn for bucket in bucket_arns for arn in (bucket, f"{bucket}/*")],
            },
            {
                "Sid": "DenyChangingTheBootstrapKeys",
                "Effect": "Deny",
                "Action": list(KEY_GUARD_ACTIONS),
                "Resource": key_arns,
            },
        ],
    }


def access_logs_key_statement(*, account_id: str, source_bucket_arn: str) -> Policy:
    """The state key's policy statement that lets S3's logging service encrypt the access logs it delivers
    into the SSE-KMS log bucket (the service writes as itself, not through an IAM role)."""
    return {
        "Sid": "S3ServerAccessLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": "*",
        "Condition": {
            "ArnLike": {"aws:SourceArn": source_bucket_arn},
            "StringEquals": {"aws:SourceAccount": account_id},
        },
    }
