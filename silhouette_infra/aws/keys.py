"""The customer-managed KMS key builder and the key-policy statement every key of the platform starts with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from silhouette_infra.aws.iam import VERSION
from silhouette_infra.aws.naming import PROJECT, Naming


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


def delegated_key_policy(
    purpose: str, *, account_id: str, partition: str = "aws", statements: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """A key policy with the Id ``silhouette-<purpose>``: :func:`delegate_to_account` first, then
    ``statements``, for the services that use the key as themselves rather than through an IAM role."""
    return {
        "Version": VERSION,
        "Id": f"{PROJECT}-{purpose}",
        "Statement": [delegate_to_account(account_id, partition), *statements],
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
