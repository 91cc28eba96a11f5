"""Cluster add-ons installed with Helm (pinned charts), their IAM roles, and the default StorageClass.

Autoscaling nodes: the cluster autoscaler, not Karpenter. The node groups are EKS managed node groups
declared from settings (sizes, taints, labels are reviewed in pull requests); the autoscaler moves
their desired size between the min and max we declare and the capacity check validates, whereas
Karpenter would launch instances outside those groups and outside that check.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from silhouette_infra.aws import iam
from silhouette_infra.aws.context import LayerArgs
from silhouette_infra.aws.naming import BACKUP_TAG_KEY
from silhouette_infra.aws.roles import service_account_role
from silhouette_infra.cluster import keda
from silhouette_infra.cluster.eks import Cluster
from silhouette_infra.kubernetes.declare import declare
from silhouette_infra.kubernetes.external_secrets import EXTERNAL_SECRETS_API_VERSION
from silhouette_infra.kubernetes.labels import ROLE_ARN_ANNOTATION
from silhouette_infra.settings.models import ClusterAddonsSettings, ClusterSettings

SECRET_STORE_NAME = "aws-secrets-manager"
SECRET_STORE_NAMESPACE_LABEL = "silhouette.io/secret-store"
EXTERNAL_SECRETS_NAMESPACE = "external-secrets"
RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
}


def system_placement(settings: ClusterSettings) -> dict[str, Any]:
    """Helm values that put an add-on on the system node group: its labels and its taints tolerated."""
    system = next((group for group in settings.node_groups if not group.runs_applications), None)
    if system is None:
        return {}
    effects = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}
    return {
        "nodeSelector": dict(system.labels),
        "tolerations": [
            {"key": taint.key, "operator": "Equal", "value": taint.value, "effect": effects[taint.effect]}
            for taint in system.taints
        ],
    }


@dataclass
class ClusterAddonsArgs(LayerArgs):
    settings: ClusterAddonsSettings
    cluster_settings: ClusterSettings
    cluster: Cluster  # the add-ons wait for its control plane and nodes, and their roles trust its OIDC provider
    vpc_id: pulumi.Input[str]
    ebs_key_arn: pulumi.Input[str]
    secrets_key_arn: pulumi.Input[str]
    private_subnet_cidrs: list[str]  # where EKS places the control plane's ENIs
    isolated_subnet_cidrs: list[str]  # where the data services (the broker) live


class ClusterAddons(pulumi.ComponentResource):
    """Load balancer controller, metrics-server, cluster autoscaler, External Secrets, default StorageClass,
    KEDA: each a component of its own.

    Each release's values are checked against its chart's values.yaml and templates at the pinned version
    (tests/test_helm_values.py records the keys and where they were read); comments name the chart default
    a value overrides where that is not obvious."""

    secret_store_name: str
    storage_class_name: str

    def __init__(self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:cluster:ClusterAddons", name, None, opts)
        # The add-ons' resources were this component's own children before each add-on became a component:
        # an alias to this parent keeps their URNs, so the move replaces nothing in a deployed stack.
        child = pulumi.ResourceOptions(parent=self, transformations=[_aliased_to(self)])
        LoadBalancerController("load-balancer-controller", args, child)
        MetricsServer("metrics-server", args, child)
        ClusterAutoscaler("cluster-autoscaler", args, child)
        self.secret_store_name = ExternalSecrets("external-secrets", args, child).store_name
        self.storage_class_name = DefaultStorageClass("default-storage-class", args, child).class_name
        Keda("keda", args, child)
        self.register_outputs({"storage_class": self.storage_class_name, "secret_store": self.secret_store_name})


def _aliased_to(
    previous_parent: pulumi.Resource,
) -> Callable[[pulumi.ResourceTransformationArgs], pulumi.ResourceTransformationResult | None]:
    """A transformation that gives every resource below an add-on component an alias to ``previous_parent``
    (the add-on components themselves are new and get none)."""

    def transformation(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.type_.startswith("silhouette:cluster:"):
            return None
        alias = pulumi.ResourceOptions(aliases=[pulumi.Alias(parent=previous_parent)])
        return pulumi.ResourceTransformationResult(args.props, pulumi.ResourceOptions.merge(args.opts, alias))

    return transformation


class _AddOn(pulumi.ComponentResource):
    """One cluster add-on, a component of its own under ``ClusterAddons``. Its children keep the URNs they had
    when they were ``ClusterAddons``' own (an alias to that parent, added by ``ClusterAddons``), so moving
    them here replaces nothing."""

    def __init__(self, kind: str, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__(f"silhouette:cluster:{kind}", name, None, opts)
        self._args = args
        self._placement = system_placement(args.cluster_settings)

    def _k8s(self, depends_on: list[pulumi.Resource] | None = None) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self,
            provider=self._args.cluster.provider,
            depends_on=[*self._args.cluster.ready, *(depends_on or [])],
        )

    def _role(self, name: str, namespace: str, service_account: str, description: str, **policies: Any) -> aws.iam.Role:
        return service_account_role(
            name,
            naming=self._args.naming,
            oidc=self._args.cluster.oidc,
            namespace=namespace,
            service_account=service_account,
            description=description,
            parent=self,
            **policies,
        )

    def _release(
        self,
        name: str,
        *,
        chart: str,
        version: str,
        repository: str,
        namespace: str,
        values: dict[str, Any],
        depends_on: list[pulumi.Resource] | None = None,
    ) -> k8s.helm.v3.Release:
        return k8s.helm.v3.Release(
            name,
            name=name,
            chart=chart,
            version=version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repository),
            namespace=namespace,
            values=values,
            atomic=True,
            cleanup_on_fail=True,
            max_history=10,
            timeout=600,
            opts=self._k8s(depends_on),
        )


class LoadBalancerController(_AddOn):
    """The AWS Load Balancer Controller and its role: ALBs for Ingresses, nothing else."""

    def __init__(self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("LoadBalancerController", name, args, opts)
        role = self._role(
            "load-balancer-controller",
            "kube-system",
            "aws-load-balancer-controller",
            "AWS Load Balancer Controller: ALBs for Ingresses",
            inline_policies={"aws-load-balancer-controller": json.dumps(iam.aws_load_balancer_controller_policy())},
        )
        self._release(
            "aws-load-balancer-controller",
            chart="aws-load-balancer-controller",
            version=args.settings.aws_load_balancer_controller_chart,
            repository="https://aws.github.io/eks-charts",
            namespace="kube-system",
            values={
                "clusterName": args.cluster.name,
                "region": args.region,
                "vpcId": args.vpc_id,
                # The chart's default, stated: its templates/pdb.yaml writes a budget only above one replica.
                "replicaCount": 2,
                "serviceAccount": {
                    "create": True,
                    # Chart default: the release's full name; the role trusts exactly this name.
                    "name": "aws-load-balancer-controller",
                    "annotations": {ROLE_ARN_ANNOTATION: role.arn},
                },
                # Services of type LoadBalancer stay explicit; the controller only serves Ingresses (chart default
                # true: its webhook would take every new LoadBalancer Service).
                "enableServiceMutatorWebhook": False,
                # Chart default {} (no budget). Chart 1.14.0's templates/pdb.yaml writes this map as the budget's
                # spec (toYaml), so this one field and nothing else.
                "podDisruptionBudget": {"maxUnavailable": 1},
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                **self._placement,
            },
        )
        self.register_outputs({})


class MetricsServer(_AddOn):
    """metrics-server: the resource metrics the HPAs scale on."""

    def __init__(self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("MetricsServer", name, args, opts)
        self._release(
            "metrics-server",
            chart="metrics-server",
            version=args.settings.metrics_server_chart,
            repository="https://kubernetes-sigs.github.io/metrics-server/",
            namespace="kube-system",
            values={
                # Chart 3.13.0 defaults: one replica, no budget. Its templates/pdb.yaml writes each of minAvailable
                # and maxUnavailable that is non-empty; the chart leaves both empty, so this one only.
                "replicas": 2,
                "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
                "resources": {"requests": {"cpu": "100m", "memory": "200Mi"}, "limits": {"memory": "400Mi"}},
                **self._placement,
            },
        )
        self.register_outputs({})


class ClusterAutoscaler(_AddOn):
    """The cluster autoscaler and its role, which may resize this cluster's node groups only."""

    def __init__(self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("ClusterAutoscaler", name, args, opts)
        role = self._role(
            "cluster-autoscaler",
            "kube-system",
            "cluster-autoscaler",
            "Cluster autoscaler: resizes this cluster's node groups",
            inline_policies={
                "cluster-autoscaler": args.account_id.apply(
                    lambda account: json.dumps(
                        iam.cluster_autoscaler_policy(
                            cluster_name=args.cluster.name, region=args.region, account_id=account
                        )
                    )
                )
            },
        )
        self._release(
            "cluster-autoscaler",
            chart="cluster-autoscaler",
            version=args.settings.cluster_autoscaler_chart,
            repository="https://kubernetes.github.io/autoscaler",
            namespace="kube-system",
            values={
                "autoDiscovery": {"clusterName": args.cluster.name},
                "awsRegion": args.region,
                "cloudProvider": "aws",
                # Chart 9.50.1 ships v1.33.0; the autoscaler's minor must equal the cluster's (settings rule).
                "image": {"tag": args.settings.cluster_autoscaler_image_tag},
                "rbac": {
                    "serviceAccount": {
                        "create": True,
                        # Chart default: the release's full name; the role trusts exactly this name.
                        "name": "cluster-autoscaler",
                        "annotations": {ROLE_ARN_ANNOTATION: role.arn},
                    }
                },
                # Merged into the chart's extraArgs (logtostderr, stderrthreshold, v); each key is a --flag.
                # Balance similar groups (default false in v1.35.0's config/flags/flags.go) and let the system
                # nodes, which run kube-system pods, scale down (default true); least-waste is the default, stated.
                # The chart's budget (maxUnavailable 1) is kept; it runs one replica with leader election.
                "extraArgs": {
                    "balance-similar-node-groups": True,
                    "expander": "least-waste",
                    "skip-nodes-with-system-pods": False,
                },
                "resources": {"requests": {"cpu": "100m", "memory": "300Mi"}, "limits": {"memory": "600Mi"}},
                **self._placement,
            },
        )
        self.register_outputs({})


class ExternalSecrets(_AddOn):
    """External Secrets Operator in its own restricted namespace, with its role, and the ClusterSecretStore on
    this stack's Secrets Manager once the operator's chart has installed its CRDs."""

    store_name: str

    def __init__(self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("ExternalSecrets", name, args, opts)
        namespace = k8s.core.v1.Namespace(
            "external-secrets-namespace",
            metadata={
                "name": EXTERNAL_SECRETS_NAMESPACE,
                "labels": dict(RESTRICTED),
            },
            opts=self._k8s(),
        )
        role = self._role(
            "external-secrets",
            EXTERNAL_SECRETS_NAMESPACE,
            "external-secrets",
            "External Secrets Operator: reads this stack's secrets from Secrets Manager",
            inline_policies={
                "external-secrets": pulumi.Output.all(args.account_id, args.secrets_key_arn).apply(
                    lambda values: json.dumps(
                        iam.external_secrets_policy(
                            region=args.region,
                            account_id=values[0],
                            secret_prefix=args.naming.secrets_prefix,
                            kms_key_arn=values[1],
                        )
                    )
                )
            },
        )
        placement = self._placement
        operator = self._release(
            "external-secrets",
            chart="external-secrets",
            version=args.settings.external_secrets_chart,
            repository="https://charts.external-secrets.io",
            namespace=EXTERNAL_SECRETS_NAMESPACE,
            values={
                "installCRDs": True,
                # Chart 0.20.4 defaults: one replica, leaderElect false. Two controllers without leader election
                # would both reconcile every ExternalSecret; with it one works and the other stands by.
                "replicaCount": 2,
                "leaderElect": True,
                # Chart default enabled false; its templates/poddisruptionbudget.yaml writes maxUnavailable when
                # set, else minAvailable, so only this one.
                "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
                "serviceAccount": {
                    "create": True,
                    # Chart default: the release's full name; the role trusts exactly this name.
                    "name": "external-secrets",
                    "annotations": {ROLE_ARN_ANNOTATION: role.arn},
                },
                **placement,
                # Each component reads its own nodeSelector and tolerations (global.* only when these are unset).
                "webhook": {"replicaCount": 2, **placement},
                "certController": placement,
            },
            depends_on=[namespace],
        )
        k8s.apiextensions.CustomResource(
            "secret-store",
            api_version=EXTERNAL_SECRETS_API_VERSION,
            kind="ClusterSecretStore",
            metadata={"name": SECRET_STORE_NAME},
            spec={
                "provider": {"aws": {"service": "SecretsManager", "region": args.region}},
                # Only namespaces labelled for it may read through the store (not kube-system, not every tenant).
                "conditions": [
                    {"namespaceSelector": {"matchLabels": {SECRET_STORE_NAMESPACE_LABEL: "aws-secrets-manager"}}}
                ],
            },
            opts=self._k8s(depends_on=[operator]),
        )
        self.store_name = SECRET_STORE_NAME
        self.register_outputs({"store_name": self.store_name})


class DefaultStorageClass(_AddOn):
    """The default StorageClass: encrypted gp3 with the stack's EBS key, backed up by tag."""

    class_name: str

    def __init__(self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("DefaultStorageClass", name, args, opts)
        class_name = "gp3-encrypted"
        k8s.storage.v1.StorageClass(
            class_name,
            metadata={
                "name": class_name,
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            provisioner="ebs.csi.aws.com",
            parameters={
                "type": "gp3",
                "encrypted": "true",
                "kmsKeyId": args.ebs_key_arn,
                "csi.storage.k8s.io/fstype": "ext4",
                # AWS Backup snapshots every volume of this class (Neo4j's data) with the stack's plan.
                "tagSpecification_1": f"{BACKUP_TAG_KEY}={args.naming.prefix}",
            },
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            # Production keeps a released volume (a deleted claim must not delete data).
            reclaim_policy="Retain" if args.protect else "Delete",
            opts=self._k8s(),
        )
        self.class_name = class_name
        self.register_outputs({"class_name": self.class_name})


class Keda(_AddOn):
    """KEDA in its own restricted namespace: it scales the workflow workers on the queue length. No AWS role
    (it reads the broker's management API with credentials from a TriggerAuthentication); NetworkPolicies
    that let only its operator reach the broker, on the management port (``keda.keda_network_policies``)."""

    def __init__(self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("Keda", name, args, opts)
        namespace = k8s.core.v1.Namespace(
            "keda-namespace",
            metadata={"name": keda.NAMESPACE, "labels": dict(RESTRICTED)},
            opts=self._k8s(),
        )
        policies = [
            declare(
                k8s.networking.v1.NetworkPolicy,
                f"keda-{manifest['metadata']['name']}",
                self._k8s([namespace]),
                metadata=manifest["metadata"],
                spec=manifest["spec"],
            )
            for manifest in keda.keda_network_policies(
                control_plane_cidrs=args.private_subnet_cidrs,
                service_cidr=args.cluster_settings.service_ipv4_cidr,
                broker_cidrs=args.isolated_subnet_cidrs,
            )
        ]
        self._release(
            "keda",
            chart="keda",
            version=args.settings.keda_chart,
            repository="https://kedacore.github.io/charts",
            namespace=keda.NAMESPACE,
            values=keda.keda_values(self._placement),
            depends_on=[namespace, *policies],
        )
        self.register_outputs({})
