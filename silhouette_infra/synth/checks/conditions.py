"""Conditions a recorded skip can carry (``when:`` in ``skips.yaml``): a check that defers to one of the
project's own tables is skipped only on the resources that the table justifies, each with its reason.

A condition reads what the validator saw of one resource (a Terraform plan's planned values for
``checkov_aws``) and returns why the table covers it, or ``None`` when it does not.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Any

from silhouette_infra.settings.versions import EKS_KUBERNETES_VERSIONS, EKS_STANDARD_SUPPORT_ENDS

Condition = Callable[[Mapping[str, Any]], str | None]


def kubernetes_version_in_settings_table(cluster: Mapping[str, Any]) -> str | None:
    """An ``aws_eks_cluster`` whose ``version`` is in ``settings/versions.py``."""
    version = cluster.get("version")
    if version not in EKS_KUBERNETES_VERSIONS:
        return None
    ends = EKS_STANDARD_SUPPORT_ENDS[version]
    support = f"standard support until {ends.isoformat()}" if ends else "end of standard support not yet recorded"
    return f"Kubernetes {version} is in EKS_KUBERNETES_VERSIONS ({support})"


def public_endpoint_only_from_listed_cidrs(cluster: Mapping[str, Any]) -> str | None:
    """An ``aws_eks_cluster`` whose private endpoint is on and whose public endpoint admits only the CIDRs listed
    in ``cluster.endpoint_public_access_cidrs``, none of them the whole internet."""
    [vpc] = cluster.get("vpc_config") or [{}]
    cidrs = [str(cidr) for cidr in vpc.get("public_access_cidrs") or []]
    if not (vpc.get("endpoint_private_access") and vpc.get("endpoint_public_access") and cidrs):
        return None
    if any(ipaddress.ip_network(cidr, strict=False).prefixlen == 0 for cidr in cidrs):
        return None
    return f"public endpoint only from {', '.join(cidrs)} (cluster.endpoint_public_access_cidrs), private endpoint on"


CONDITIONS: dict[str, Condition] = {
    "kubernetes_version_in_settings_table": kubernetes_version_in_settings_table,
    "public_endpoint_only_from_listed_cidrs": public_endpoint_only_from_listed_cidrs,
}
