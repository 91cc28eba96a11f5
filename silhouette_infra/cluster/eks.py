"""The EKS cluster: control plane, managed node groups and the EKS managed add-ons."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from silhouette_infra.aws import iam
from silhouette_infra.aws.context import LayerArgs
from silhouette_infra.aws.roles import OidcProvider, service_account_role, service_role
from silhouette_infra.settings.models import ClusterSettings, NodeGroupSettings

CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
VIEW_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"


def ami_type(instance_types: list[str]) -> str:
    """AL2023 for the instances' architecture; Graviton families end in 'g' (m7g, c6g) or 'gd'."""
    families = {instance_type.split(".")[0] for instance_type in instance_types}
    graviton = {family for family in families if family.rstrip("d").endswith("g")}
    if graviton and graviton != families:
        raise ValueError(f"node group mixes Graviton and x86 instance types: {sorted(instance_types)}")
    return "AL2023_ARM_64_STANDARD" if graviton else "AL2023_x86_64_STANDARD"


def access_entries(settings: ClusterSettings) -> dict[str, eks.AccessEntryArgs]:
    """API-mode access: admins get cluster-admin, read-only roles the view policy, both cluster-wide."""
    entries: dict[str, eks.AccessEntryArgs] = {}
    for prefix, arns, policy in (
        ("admin", settings.admin_role_arns, CLUSTER_ADMIN_POLICY),
        ("readonly", settings.readonly_role_arns, VIEW_POLICY),
    ):
        for index, arn in enumerate(arns):
            entries[f"{prefix}-{index}"] = eks.AccessEntryArgs(
                principal_arn=arn,
                access_policies={
                    prefix: eks.AccessPolicyAssociationArgs(
                        policy_arn=policy, access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster")
                    )
                },
            )
    return entries


@dataclass
class ClusterArgs(LayerArgs):
    settings: ClusterSettings
    vpc_id: pulumi.Input[str]
    private_subnet_ids: list[pulumi.Output[str]]
    cluster_key_arn: pulumi.Input[str]
    ebs_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]


class Cluster(pulumi.ComponentResource):
    """EKS with API access entries, envelope encryption, private endpoint and managed node groups."""

    name: str
    endpoint: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc: OidcProvider
    node_security_group_id: pulumi.Output[str]
    provider: k8s.Provider
    node_groups: list[aws.eks.NodeGroup]
    ready: list[pulumi.Resource]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:cluster:Cluster", name, None, opts)
        self._args = args
        self.name = args.naming.prefix

        cluster = self._control_plane()
        self.endpoint = cluster.kubeconfig.apply(_endpoint_of)
        self.kubeconfig = pulumi.Output.secret(cluster.kubeconfig_json)
        self.oidc_provider_arn = cluster.oidc_provider_arn
        self.oidc = OidcProvider(arn=cluster.oidc_provider_arn, issuer=cluster.oidc_issuer)
        self.node_security_group_id = cluster.node_security_group_id
        self.provider = k8s.Provider(
            "kubernetes",
            kubeconfig=cluster.kubeconfig_json,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self),
        )

        before_nodes = self._addons_before_nodes(cluster)
        self.node_groups = self._node_groups(depends_on=before_nodes)
        after_nodes = self._addons_after_nodes()
        self.ready = [*before_nodes, *self.node_groups, *after_nodes]
        self.register_outputs(
            {
                "name": self.name,
                "oidc_provider_arn": self.oidc_provider_arn,
                "node_security_group_id": self.node_security_group_id,
            }
        )

    def _control_plane(self) -> eks.Cluster:
        """The control plane with its OIDC provider and no node group or add-on of its own, after its log group.

        EKS writes to /aws/eks/<name>/cluster; creating the group first sets retention and the KMS key."""
        settings, naming, args = self._args.settings, self._args.naming, self._args
        log_group = aws.cloudwatch.LogGroup(
            "control-plane-logs",
            name=f"/aws/eks/{self.name}/cluster",
            retention_in_days=settings.log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags=naming.name_tag("control-plane-logs"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return eks.Cluster(
            "eks",
            name=self.name,
            version=settings.kubernetes_version,
            vpc_id=args.vpc_id,
            private_subnet_ids=args.private_subnet_ids,
            endpoint_private_access=True,
            endpoint_public_access=bool(settings.endpoint_public_access_cidrs),
            public_access_cidrs=settings.endpoint_public_access_cidrs or None,
            authentication_mode=eks.AuthenticationMode.API,
            access_entries=access_entries(settings),
            encryption_config_key_arn=args.cluster_key_arn,
            enabled_cluster_log_types=CONTROL_PLANE_LOG_TYPES,
            deletion_protection=settings.deletion_protection,
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            kubernetes_service_ip_address_range=settings.service_ipv4_cidr,
            skip_default_node_group=True,
            create_oidc_provider=True,
            # Every EKS add-on below is an explicit, pinned aws.eks.Addon, ordered around the node groups.
            bootstrap_self_managed_addons=False,
            use_default_vpc_cni=True,
            coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
            kube_proxy_addon_options=eks.KubeProxyAddonOptionsArgs(enabled=False),
            tags=naming.name_tag("eks"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group]),
        )

    def _addons_before_nodes(self, cluster: eks.Cluster) -> list[aws.eks.Addon]:
        """What a node needs to join and run pods: the VPC CNI (with its role), kube-proxy, the pod identity agent."""
        addon_versions = self._args.settings.addon_versions
        vpc_cni_role = self._irsa(
            "vpc-cni",
            "kube-system",
            "aws-node",
            "VPC CNI: assigns pod IPs (ENIs) on the nodes",
            managed_policy_arns=iam.vpc_cni_managed_policies(),
        )
        return [
            self._addon(
                "vpc-cni",
                addon_versions.vpc_cni,
                configuration={"enableNetworkPolicy": "true", "nodeAgent": {"enablePolicyEventLogs": "true"}},
                role=vpc_cni_role,
                depends_on=[cluster],
            ),
            self._addon("kube-proxy", addon_versions.kube_proxy, depends_on=[cluster]),
            self._addon("eks-pod-identity-agent", addon_versions.pod_identity_agent, depends_on=[cluster]),
        ]

    def _node_groups(self, depends_on: Sequence[pulumi.Resource]) -> list[aws.eks.NodeGroup]:
        """The nodes' role and one managed node group per setting."""
        node_role = service_role(
            "nodes",
            naming=self._args.naming,
            description="EKS managed nodes (kubelet); pods use their own IRSA roles",
            service="ec2.amazonaws.com",
            managed_policy_arns=iam.node_role_managed_policies(),
            parent=self,
        )
        return [self._node_group(group, node_role, depends_on=depends_on) for group in self._args.settings.node_groups]

    def _addons_after_nodes(self) -> list[aws.eks.Addon]:
        """Add-ons whose pods need nodes: CoreDNS, and the EBS CSI driver with its role."""
        args = self._args
        addon_versions = args.settings.addon_versions
        ebs_csi_role = self._irsa(
            "ebs-csi",
            "kube-system",
            "ebs-csi-controller-sa",
            "EBS CSI driver: creates and attaches encrypted volumes",
            managed_policy_arns=iam.ebs_csi_managed_policies(),
            inline_policies={
                "ebs-csi-kms": pulumi.Output.from_input(args.ebs_key_arn).apply(
                    lambda arn: json.dumps(iam.ebs_csi_kms_policy(key_arn=arn))
                )
            },
        )
        return [
            self._addon("coredns", addon_versions.coredns, depends_on=self.node_groups),
            self._addon(
                "aws-ebs-csi-driver", addon_versions.ebs_csi_driver, role=ebs_csi_role, depends_on=self.node_groups
            ),
        ]

    def _irsa(self, role: str, namespace: str, service_account: str, description: str, **policies: Any) -> aws.iam.Role:
        """A role that only the named service account of this cluster can assume (IRSA)."""
        return service_account_role(
            role,
            naming=self._args.naming,
            oidc=self.oidc,
            namespace=namespace,
            service_account=service_account,
            description=description,
            parent=self,
            **policies,
        )

    def _addon(
        self,
        addon: str,
        version: str,
        *,
        depends_on: Sequence[pulumi.Resource],
        configuration: dict[str, object] | None = None,
        role: aws.iam.Role | None = None,
    ) -> aws.eks.Addon:
        return aws.eks.Addon(
            addon,
            cluster_name=self.name,
            addon_name=addon,
            addon_version=version,
            configuration_values=json.dumps(configuration) if configuration else None,
            service_account_role_arn=role.arn if role else None,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        )

    def _node_group(
        self, group: NodeGroupSettings, node_role: aws.iam.Role, depends_on: Sequence[pulumi.Resource]
    ) -> aws.eks.NodeGroup:
        """A managed node group in the private subnets, on its launch template, tagged for the autoscaler."""
        args, naming = self._args, self._args.naming
        template = self._launch_template(group)
        return aws.eks.NodeGroup(
            group.name,
            cluster_name=self.name,
            # A prefix, not a name: a change that replaces the group (instance types, AMI type) creates the new
            # group beside the old one, which EKS then drains and deletes; a fixed name would collide.
            node_group_name_prefix=naming.physical(group.name, ""),
            node_role_arn=node_role.arn,
            subnet_ids=args.private_subnet_ids,
            ami_type=ami_type(group.instance_types),
            capacity_type=group.capacity_type,
            instance_types=group.instance_types,
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=group.min_size, desired_size=group.desired_size, max_size=group.max_size
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable_percentage=33),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            labels=group.labels,
            taints=[
                aws.eks.NodeGroupTaintArgs(key=taint.key, value=taint.value or None, effect=taint.effect)
                for taint in group.taints
            ],
            tags={
                **naming.name_tag(group.name),
                "k8s.io/cluster-autoscaler/enabled": "true",
                f"k8s.io/cluster-autoscaler/{self.name}": "owned",
            },
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(depends_on),
                # The cluster autoscaler owns the node count between min and max.
                ignore_changes=["scalingConfig.desiredSize"],
            ),
        )

    def _launch_template(self, group: NodeGroupSettings) -> aws.ec2.LaunchTemplate:
        """The group's nodes: IMDSv2 only and out of the pods' reach, an encrypted gp3 root volume."""
        args, naming = self._args, self._args.naming
        return aws.ec2.LaunchTemplate(
            f"{group.name}-nodes",
            name_prefix=naming.physical(group.name, ""),
            description=f"{group.name} nodes: IMDSv2 only, encrypted gp3 root volume",
            update_default_version=True,
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                # 1 hop: pods cannot reach the node's instance metadata (they use IRSA instead).
                http_put_response_hop_limit=1,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_type="gp3",
                        volume_size=group.disk_size_gib,
                        encrypted="true",
                        kms_key_id=args.ebs_key_arn,
                        delete_on_termination="true",
                    ),
                )
            ],
            vpc_security_group_ids=[self.node_security_group_id],
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=naming.name_tag(group.name, "node"))
                for kind in ("instance", "volume")
            ],
            tags=naming.name_tag(group.name, "nodes"),
            opts=pulumi.ResourceOptions(parent=self),
        )


def _endpoint_of(kubeconfig: object) -> str:
    if isinstance(kubeconfig, dict):
        clusters = kubeconfig.get("clusters") or [{}]
        return str(clusters[0].get("cluster", {}).get("server", ""))
    return ""
