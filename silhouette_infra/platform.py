"""The platform in dependency order: each layer receives the outputs of the layers before it."""

from __future__ import annotations

from typing import Any

import pulumi

from silhouette_infra.keys import Keys, KeysArgs
from silhouette_infra.naming import Naming
from silhouette_infra.network.component import Network, NetworkArgs
from silhouette_infra.providers import build_aws_providers
from silhouette_infra.settings import Settings, availability_zone_names


def build_platform(settings: Settings, stack: str) -> dict[str, Any]:
    """Declare every layer for ``stack`` and return the stack outputs."""
    naming = Naming(stack)
    providers = build_aws_providers(settings, stack)
    aws_primary = pulumi.ResourceOptions(providers={"aws": providers.primary})

    keys = Keys(
        "keys",
        KeysArgs(
            settings=settings.keys,
            naming=naming,
            region=settings.aws.region,
            protect=settings.protect_stateful,
        ),
        opts=aws_primary,
    )
    network = Network(
        "network",
        NetworkArgs(
            settings=settings.network,
            naming=naming,
            region=settings.aws.region,
            availability_zones=availability_zone_names(settings),
            logs_key_arn=keys.key_arns["logs"],
        ),
        opts=aws_primary,
    )

    return {
        "region": settings.aws.region,
        "dr_region": settings.aws.dr_region,
        "vpc_id": network.vpc_id,
        "public_subnet_ids": network.public_subnet_ids,
        "private_subnet_ids": network.private_subnet_ids,
        "isolated_subnet_ids": network.isolated_subnet_ids,
        "kms_key_arns": keys.key_arns,
    }
