"""What every data service shares: a security group open to the nodes on one port, generated
credentials in Secrets Manager (named by ``Naming.secret``, tagged by ``Naming.backup_tag``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from silhouette_infra.aws.context import LayerArgs
from silhouette_infra.aws.naming import Naming


@dataclass
class DataPlacement(LayerArgs):
    """What every managed data service shares: the isolated subnets, the nodes that may reach it, the
    databases key, its log settings and whether it is protected."""

    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Output[str]]
    subnet_cidrs: list[str]  # the same subnets' CIDRs (the network layout)
    node_security_group_id: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int


@dataclass(frozen=True)
class Ingress:
    """One port of a data service, open to one security group."""

    port: int
    source_security_group_id: pulumi.Input[str]
    description: str


def from_nodes(name: str, port: int, node_security_group_id: pulumi.Input[str], what: str = "") -> Ingress:
    """``port`` open to the cluster's nodes."""
    return Ingress(port, node_security_group_id, f"{name}{what} from the cluster's nodes")


def service_security_group(
    name: str,
    *,
    naming: Naming,
    vpc_id: pulumi.Input[str],
    ingress: Sequence[Ingress],
    description: str,
    parent: pulumi.Resource,
    egress: Sequence[tuple[int, Sequence[pulumi.Input[str]]]] = (),
) -> aws.ec2.SecurityGroup:
    """Ingress on the given ports from the given security groups only; egress only to ``egress`` (port, CIDRs)
    pairs, none by default (data services never call out)."""
    return aws.ec2.SecurityGroup(
        f"{name}-security-group",
        name=naming.physical(name),
        description=description,
        vpc_id=vpc_id,
        ingress=[
            aws.ec2.SecurityGroupIngressArgs(
                description=rule.description,
                protocol="tcp",
                from_port=rule.port,
                to_port=rule.port,
                security_groups=[rule.source_security_group_id],
            )
            for rule in ingress
        ],
        egress=[
            aws.ec2.SecurityGroupEgressArgs(
                description=f"{name} to {port}", protocol="tcp", from_port=port, to_port=port, cidr_blocks=list(cidrs)
            )
            for port, cidrs in egress
        ],
        tags=naming.name_tag(name),
        opts=pulumi.ResourceOptions(parent=parent),
    )


@dataclass
class Credentials:
    secret: aws.secretsmanager.Secret
    username: str
    password: pulumi.Output[str]
    _resolve_connection: Callable[[pulumi.Output[dict[str, Any]]], None] | None = None

    def connect(self, connection: pulumi.Output[dict[str, Any]]) -> None:
        """Store the service's connection details next to the password. They are known once the service
        exists, and the service needs the password first, so the secret's value waits for this call."""
        if self._resolve_connection is None:
            raise ValueError(f"{self.secret}: declared without connection_later=True")
        self._resolve_connection(connection)


def generated_credentials(
    name: str,
    *,
    naming: Naming,
    kms_key_arn: pulumi.Input[str],
    username: str,
    description: str,
    protect: bool,
    parent: pulumi.Resource,
    length: int = 40,
    override_special: str = "!#$%&*()-_=+[]{}<>:?",
    connection_later: bool = False,
) -> Credentials:
    """A random password, stored with its username (and, with ``connection_later``, the connection details
    given to ``Credentials.connect``) in a KMS-encrypted secret.

    The password never appears in a stack output; consumers read the secret (External Secrets).
    """
    child = pulumi.ResourceOptions(parent=parent)
    password = random.RandomPassword(
        f"{name}-password",
        length=length,
        special=True,
        override_special=override_special,
        min_lower=4,
        min_upper=4,
        min_numeric=4,
        opts=child,
    )
    secret = aws.secretsmanager.Secret(
        f"{name}-secret",
        name=naming.secret(name),
        description=description,
        kms_key_id=kms_key_arn,
        recovery_window_in_days=30 if protect else 7,
        tags=naming.name_tag(name, "credentials"),
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )

    def document(values: list[Any]) -> str:
        return json.dumps({"username": username, "password": values[0], **values[1]})

    connection: pulumi.Output[dict[str, Any]] | dict[str, Any] = {}
    resolve: Callable[[pulumi.Output[dict[str, Any]]], None] | None = None
    if connection_later:
        connection, resolve = pulumi.deferred_output()
    contents: pulumi.Output[str] = pulumi.Output.all(password.result, connection).apply(document)
    aws.secretsmanager.SecretVersion(
        f"{name}-secret-value",
        secret_id=secret.id,
        secret_string=contents,  # secret: derived from the password, which pulumi-random marks secret
        opts=child,
    )
    return Credentials(secret=secret, username=username, password=password.result, _resolve_connection=resolve)
