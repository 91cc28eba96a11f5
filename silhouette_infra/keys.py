"""Keys layer: one customer-managed KMS key per purpose, rotating, with policies for its consumers."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from silhouette_infra.aws.context import LayerArgs
from silhouette_infra.aws.keys import customer_managed_key, delegated_key_policy
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


def key_policy(purpose: Purpose, *, account_id: str, region: str, partition: str = "aws") -> dict[str, Any]:
    """The key policy of one purpose.

    Delegated to IAM of this account (``aws.keys.delegated_key_policy``). Services that act as themselves
    rather than as an IAM role of ours need their own statement: CloudWatch Logs (its service principal,
    scoped by encryption context to log groups of this account) and EC2 Auto Scaling, whose service-linked
    role attaches encrypted EBS volumes to the nodes it launches.
    """
    statements: list[dict[str, Any]] = []
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
    return delegated_key_policy(purpose, account_id=account_id, partition=partition, statements=statements)


def _policy_json(purpose: Purpose, region: str, account_and_partition: list[str]) -> str:
    account_id, partition = account_and_partition
    return json.dumps(key_policy(purpose, account_id=account_id, region=region, partition=partition))


@dataclass
class KeysArgs(LayerArgs):
    settings: KeysSettings


@dataclass(frozen=True)
class KeyArns:
    """The ARN of each purpose's key, as typed attributes for the layers that encrypt with them."""

    cluster: pulumi.Output[str]
    databases: pulumi.Output[str]
    logs: pulumi.Output[str]
    backups: pulumi.Output[str]
    ebs: pulumi.Output[str]
    registry: pulumi.Output[str]

    def by_purpose(self) -> dict[str, pulumi.Output[str]]:
        return {purpose: getattr(self, purpose) for purpose in PURPOSES}


class Keys(pulumi.ComponentResource):
    """Customer-managed KMS keys, one per purpose, with aliases."""

    arns: KeyArns

    def __init__(self, name: str, args: KeysArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:keys:Keys", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))
        arns: dict[str, pulumi.Output[str]] = {}
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
            arns[purpose] = key.arn
        self.arns = KeyArns(**arns)
        self.register_outputs({f"{purpose}_key_arn": arn for purpose, arn in arns.items()})
