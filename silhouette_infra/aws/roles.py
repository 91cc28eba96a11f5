"""The one builder for IAM roles: of AWS services (nodes, CloudTrail, Config, S3, AWS Backup) and of
cluster workloads (IRSA)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from silhouette_infra.aws.iam import irsa_trust_policy, read_object_policy, service_assume_role_policy
from silhouette_infra.aws.naming import Naming


@dataclass(frozen=True)
class OidcProvider:
    """A cluster's IAM OIDC provider: what an IRSA role's trust names."""

    arn: pulumi.Input[str]
    issuer: pulumi.Input[str]  # the issuer URL without https://


def role_with_policies(
    name: str,
    *,
    naming: Naming,
    description: str,
    trust_policy: pulumi.Input[str],
    managed_policy_arns: list[str] | None = None,
    inline_policies: Mapping[str, pulumi.Input[str]] | None = None,
    parent: pulumi.Resource,
    permissions_boundary: pulumi.Input[str] | None = None,
    max_session_seconds: int = 3600,
) -> aws.iam.Role:
    """A role, its AWS-managed policy attachments and its inline policies, all children of ``parent``.
    ``permissions_boundary`` (a managed policy ARN) caps what the policies can grant; sessions last at most
    ``max_session_seconds`` (one hour unless a caller needs longer, up to IAM's twelve)."""
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{name}-role",
        name=naming.physical(name),
        description=description,
        assume_role_policy=trust_policy,
        max_session_duration=max_session_seconds,
        permissions_boundary=permissions_boundary,
        tags=naming.name_tag(name),
        opts=child,
    )
    for arn in managed_policy_arns or []:
        short = arn.rsplit("/", 1)[1]
        aws.iam.RolePolicyAttachment(f"{name}-{short}", role=role.name, policy_arn=arn, opts=child)
    for policy_name, document in (inline_policies or {}).items():
        aws.iam.RolePolicy(f"{name}-{policy_name}", role=role.id, name=policy_name, policy=document, opts=child)
    return role


def service_role(
    name: str,
    *,
    naming: Naming,
    service: str,
    description: str,
    source_account: pulumi.Input[str] | None = None,
    managed_policy_arns: list[str] | None = None,
    inline_policies: Mapping[str, pulumi.Input[str]] | None = None,
    parent: pulumi.Resource,
) -> aws.iam.Role:
    """A role that the AWS service principal ``service`` assumes; with ``source_account``, only on behalf
    of that account (``aws:SourceAccount``, against the confused deputy)."""
    trust_policy: pulumi.Input[str] = (
        json.dumps(service_assume_role_policy(service))
        if source_account is None
        else pulumi.Output.from_input(source_account).apply(
            lambda account: json.dumps(service_assume_role_policy(service, account_id=account))
        )
    )
    return role_with_policies(
        name,
        naming=naming,
        description=description,
        trust_policy=trust_policy,
        managed_policy_arns=managed_policy_arns,
        inline_policies=inline_policies,
        parent=parent,
    )


def service_account_role(
    name: str,
    *,
    naming: Naming,
    oidc: OidcProvider,
    namespace: str,
    service_account: str,
    description: str,
    managed_policy_arns: list[str] | None = None,
    inline_policies: Mapping[str, pulumi.Input[str]] | None = None,
    parent: pulumi.Resource,
) -> aws.iam.Role:
    """An IRSA role that only ``namespace/service_account`` of this cluster can assume."""

    def trust(values: list[Any]) -> str:
        return json.dumps(
            irsa_trust_policy(
                oidc_provider_arn=values[0], oidc_issuer=values[1], namespace=namespace, service_account=service_account
            )
        )

    return role_with_policies(
        name,
        naming=naming,
        description=description,
        trust_policy=pulumi.Output.all(oidc.arn, oidc.issuer).apply(trust),
        managed_policy_arns=managed_policy_arns,
        inline_policies=inline_policies,
        parent=parent,
    )


@dataclass(frozen=True)
class ReadableObject:
    """One object a restore reads (a recovery source named in the dr stack's settings), and the key of its bucket."""

    object_arn: str
    kms_key_arn: str
    sid: str  # the policy statement that grants the read, saying what the object is


@dataclass(frozen=True)
class ObjectReader:
    """A restore's source as its Kubernetes objects need it: the object, and the role that may read it."""

    object_arn: str
    role_arn: pulumi.Input[str]


def object_reader(
    name: str,
    *,
    naming: Naming,
    oidc: OidcProvider,
    namespace: str,
    service_account: str,
    description: str,
    readable: ReadableObject,
    region: str,
    parent: pulumi.Resource,
) -> ObjectReader:
    """The object a restore reads and its IRSA role, which reads that object, decrypting it only through S3 in
    ``region``: one inline policy, named like the role (``iam.read_object_policy``)."""
    policy = read_object_policy(
        sid=readable.sid, object_arn=readable.object_arn, kms_key_arn=readable.kms_key_arn, region=region
    )
    role = service_account_role(
        name,
        naming=naming,
        oidc=oidc,
        namespace=namespace,
        service_account=service_account,
        description=description,
        inline_policies={name: json.dumps(policy)},
        parent=parent,
    )
    return ObjectReader(readable.object_arn, role.arn)


def prefix_writer_role(
    name: str,
    *,
    naming: Naming,
    oidc: OidcProvider,
    namespace: str,
    service_account: str,
    description: str,
    bucket_arn: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str],
    policy: Callable[[str, str], Mapping[str, Any]],
    parent: pulumi.Resource,
) -> aws.iam.Role:
    """The IRSA role of a workload that writes to its prefix of a bucket: one inline policy, named like the role,
    ``policy(bucket_arn, kms_key_arn)`` once both are known (built on ``iam.own_prefix_policy``)."""
    return service_account_role(
        name,
        naming=naming,
        oidc=oidc,
        namespace=namespace,
        service_account=service_account,
        description=description,
        inline_policies={
            name: pulumi.Output.all(bucket_arn, kms_key_arn).apply(lambda values: json.dumps(policy(*values)))
        },
        parent=parent,
    )
