"""Platform namespaces: the app's (restricted, quota, limits) and monitoring, both default-deny."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from silhouette_infra.cluster.addons import SECRET_STORE_NAME, SECRET_STORE_NAMESPACE_LABEL
from silhouette_infra.cluster.handle import ClusterHandle
from silhouette_infra.kubernetes.declare import declare
from silhouette_infra.namespaces.network_policies import network_policies
from silhouette_infra.planning.layout import SubnetLayout
from silhouette_infra.planning.sizing import limit_range, namespace_quota
from silhouette_infra.settings.models import AppsSettings

MONITORING_NAMESPACE = "monitoring"


def pod_security_labels(enforce: str, warn: str) -> dict[str, str]:
    """Pod Security Standards admission labels (https://kubernetes.io/docs/concepts/security/pod-security-admission/)."""
    return {
        "pod-security.kubernetes.io/enforce": enforce,
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/audit": warn,
        "pod-security.kubernetes.io/warn": warn,
    }


def default_deny(namespace: str) -> dict[str, Any]:
    return {
        "metadata": {"name": "default-deny-all", "namespace": namespace},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


@dataclass
class PlatformNamespacesArgs:
    stack: str
    apps: AppsSettings
    cluster: ClusterHandle
    vpc_cidr: str
    layout: SubnetLayout
    peered_cidrs: list[str]


class PlatformNamespaces(pulumi.ComponentResource):
    app_namespace: str
    monitoring_namespace: str
    ready: list[pulumi.Resource]  # the namespaces, their quota, limits and NetworkPolicies
    workloads_ready: list[pulumi.Resource]  # what a workload here waits for: the cluster, its add-ons, then these

    def __init__(self, name: str, args: PlatformNamespacesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:platform:Namespaces", name, None, opts)
        self.app_namespace = f"silhouette-{args.stack}"
        self.monitoring_namespace = MONITORING_NAMESPACE

        def k8s_opts(*after: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(
                parent=self, provider=args.cluster.provider, depends_on=[*args.cluster.ready, *after]
            )

        app = k8s.core.v1.Namespace(
            "app-namespace",
            metadata={
                "name": self.app_namespace,
                "labels": {
                    **pod_security_labels("restricted", "restricted"),
                    SECRET_STORE_NAMESPACE_LABEL: SECRET_STORE_NAME,
                },
            },
            opts=k8s_opts(),
        )
        # node-exporter and log shippers need host namespaces and paths: the privileged level, with
        # warnings at baseline so anything else that is not baseline-clean is visible.
        monitoring = k8s.core.v1.Namespace(
            "monitoring-namespace",
            metadata={
                "name": self.monitoring_namespace,
                "labels": {
                    **pod_security_labels("privileged", "baseline"),
                    SECRET_STORE_NAMESPACE_LABEL: SECRET_STORE_NAME,
                },
            },
            opts=k8s_opts(),
        )
        quota = k8s.core.v1.ResourceQuota(
            "app-quota",
            metadata={"name": "silhouette", "namespace": self.app_namespace},
            spec={"hard": namespace_quota(args.apps).as_hard()},
            opts=k8s_opts(app),
        )
        limits = declare(
            k8s.core.v1.LimitRange,
            "app-limits",
            metadata={"name": "silhouette", "namespace": self.app_namespace},
            spec={"limits": [{"type": "Container", **limit_range(args.apps)}]},
            opts=k8s_opts(app),
        )
        monitoring_deny = k8s.networking.v1.NetworkPolicy(
            "monitoring-default-deny", **default_deny(MONITORING_NAMESPACE), opts=k8s_opts(monitoring)
        )
        # The app namespace: default deny, then exactly the flows of the design (namespaces/network_policies.py).
        app_policies = [
            k8s.networking.v1.NetworkPolicy(
                f"app-{policy['metadata']['name']}",
                metadata=policy["metadata"],
                spec=policy["spec"],
                opts=k8s_opts(app),
            )
            for policy in network_policies(
                namespace=self.app_namespace,
                monitoring_namespace=MONITORING_NAMESPACE,
                public_subnet_cidrs=list(args.layout.public),
                isolated_subnet_cidrs=list(args.layout.isolated),
                vpc_cidr=args.vpc_cidr,
                peered_cidrs=args.peered_cidrs,
                aws_endpoint_cidrs=list(args.layout.private),
            )
        ]
        self.ready = [app, monitoring, quota, limits, monitoring_deny, *app_policies]
        self.workloads_ready = [*args.cluster.ready, *self.ready]
        self.register_outputs({"app_namespace": self.app_namespace, "monitoring_namespace": self.monitoring_namespace})
