"""Keys layer: one customer-managed KMS key per purpose, rotating, with policies for its consumers."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from silhouette_infra.aws.naming import Naming
from silhouette_infra.settings.models import KeysSettings

Purpose = Literal["cluster", "databases", "logs", "backups", "ebs", "registry"]
PURPOSES: tuple[Purpose, ...] = ("cluster", "databases", "logs", "backups", "ebs", "registry")

DESCRIPTIONS: dict[Purpose, str] = {
    "cluster": "EKS secrets envelope encryption",
    "databases": "RDS, ElastiCache, Amazon MQ, Secrets Manager",
    "logs": "CloudWatch Logs (flow logs, control plane, WAF, containers, audit)",
    "backups": "S3 backup bucket and AWS Backup vault",
    "ebs": "EBS volumes of nodes and persistent volumes",
    "registry": "ECR image repositories",
}

_USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]


def delegate_to_account(account_id: str, partition: str = "aws") -> dict[str, Any]:
    """AWS's default key-policy statement: the key is delegated to IAM in this account (``kms:*`` on the
    key itself, principal the account root, never ``*``), so that access is granted by IAM policies we
    can review. Every key policy of the platform starts with it."""
    return {
        "Sid": "DelegateToIamOfThisAccount",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def customer_managed_key(
    name: str,
    *,
    naming: Naming,
    purpose: str,
    description: str,
    policy: pulumi.Input[str],
    deletion_window_days: int,
    protect: bool,
    opts: pulumi.ResourceOptions,
    rotation_period_days: int | None = None,
    tags: dict[str, str] | None = None,
) -> aws.kms.Key:
    """A rotating symmetric KMS key ``name`` and its alias ``alias/<stack prefix>-<purpose>`` (``<name>-alias``).
    The key is protected when ``protect`` says so; the alias, which can be recreated, never is."""
    key = aws.kms.Key(
        name,
        description=f"{naming.prefix}: {description}",
        key_usage="ENCRYPT_DECRYPT",
        customer_master_key_spec="SYMMETRIC_DEFAULT",
        enable_key_rotation=True,
        rotation_period_in_days=rotation_period_days,
        deletion_window_in_days=deletion_window_days,
        policy=policy,
        tags=tags or naming.name_tag(purpose),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=protect)),
    )
    aws.kms.Alias(f"{name}-alias", name=f"alias/{naming.physical(purpose)}", target_key_id=key.key_id, opts=opts)
    return key


def key_policy(purpose: Purpose, *, account_id: str, region: str, partition: str = "aws") -> dict[str, Any]:
    """The key policy of one purpose.

    The first statement is :func:`delegate_to_account`. Services that act as themselves rather than
    as an IAM role of ours need their own statement: CloudWatch Logs (its service principal, scoped by
    encryption context to log groups of this account) and EC2 Auto Scaling, whose service-linked role
    attaches encrypted EBS volumes to the nodes it launches.
    """
    statements: list[dict[str, Any]] = [delegate_to_account(account_id, partition)]
    if purpose == "logs":
        statements.append(
            {
                "Sid": "CloudWatchLogsOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": _USE,
                "Resource": "*",
                "Condition": {
                    "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account_id}:*"}
                },
            }
        )
    if purpose == "ebs":
        autoscaling = (
            f"arn:{partition}:iam::{account_id}:role/aws-service-role/autoscaling.amazonaws.com/"
            "AWSServiceRoleForAutoScaling"
        )
        statements += [
            {
                "Sid": "AutoScalingUsesKeyForNodeVolumes",
                "Effect": "Allow",
                "Principal": {"AWS": autoscaling},
                "Action": _USE,
                "Resource": "*",
            },
            {
                "Sid": "AutoScalingGrantsForAttachedVolumes",
                "Effect": "Allow",
                "Principal": {"AWS": autoscaling},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
        ]
    return {"Version": "2012-10-17", "Id": f"silhouette-{purpose}", "Statement": statements}


def _policy_json(purpose: Purpose, region: str, account_and_partition: list[str]) -> str:
    account_id, partition = account_and_partition
    return json.dumps(key_policy(purpose, account_id=account_id, region=region, partition=partition))


@dataclass
class KeysArgs:
    settings: KeysSettings
    naming: Naming
    region: str
    account_id: pulumi.Output[str]  # the stack's AWS account, looked up once for every layer
    protect: bool


class Keys(pulumi.ComponentResource):
    """Customer-managed KMS keys, one per purpose, with aliases."""

    key_arns: dict[Purpose, pulumi.Output[str]]
    key_ids: dict[Purpose, pulumi.Output[str]]

    def __init__(self, name: str, args: KeysArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:keys:Keys", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))
        self.key_arns = {}
        self.key_ids = {}
        for purpose in PURPOSES:
            policy = pulumi.Output.all(args.account_id, partition.partition).apply(
                functools.partial(_policy_json, purpose, args.region)
            )
            key = customer_managed_key(
                f"{purpose}-key",
                naming=args.naming,
                purpose=purpose,
                description=DESCRIPTIONS[purpose],
                policy=policy,
                deletion_window_days=args.settings.deletion_window_days,
                rotation_period_days=args.settings.rotation_period_days,
                protect=args.protect,
                opts=child,
            )
            self.key_arns[purpose] = key.arn
            self.key_ids[purpose] = key.key_id
        self.register_outputs({f"{purpose}_key_arn": arn for purpose, arn in self.key_arns.items()})
