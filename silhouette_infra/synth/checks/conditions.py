"""Conditions a recorded skip can carry (``when:`` in ``skips.yaml``): a check that defers to one of the
project's own tables is skipped only on the resources that the table justifies, each with its reason.

A condition reads what the validator saw of one resource (a Terraform plan's planned values for
``checkov_aws``) and returns why the table covers it, or ``None`` when it does not.
"""

from __future__ import annotations

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


CONDITIONS: dict[str, Condition] = {
    "kubernetes_version_in_settings_table": kubernetes_version_in_settings_table,
}
