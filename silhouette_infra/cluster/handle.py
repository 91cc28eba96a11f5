"""The cluster as the layers that run in it see it: one typed handle instead of six separate arguments
(in the spirit of pulumi-eks-ml's ``from_cluster()``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from silhouette_infra.aws.roles import OidcProvider
from silhouette_infra.cluster.addons import ClusterAddons, system_placement
from silhouette_infra.cluster.eks import Cluster
from silhouette_infra.settings.models import ClusterSettings


@dataclass(frozen=True)
class ClusterHandle:
    provider: k8s.Provider  # the cluster's Kubernetes provider
    ready: list[pulumi.Resource]  # control plane, managed add-ons, node groups, then the Helm add-ons
    oidc: OidcProvider  # what IRSA roles trust
    secret_store_name: str  # the ClusterSecretStore on this stack's Secrets Manager prefix
    storage_class: str  # the default, encrypted StorageClass
    system_placement: dict[str, Any]  # Helm values that put a platform component on the system node group

    @classmethod
    def of(cls, cluster: Cluster, addons: ClusterAddons, settings: ClusterSettings) -> ClusterHandle:
        """The handle of a cluster whose add-ons are installed: everything declared on it waits for both."""
        return cls(
            provider=cluster.provider,
            ready=[*cluster.ready, addons],
            oidc=cluster.oidc,
            secret_store_name=addons.secret_store_name,
            storage_class=addons.storage_class_name,
            system_placement=system_placement(settings),
        )
