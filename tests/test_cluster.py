"""Cluster layer requirements (docs/architecture.md layers 3 and 4), asserted on each stack's captured inputs."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from silhouette_infra.aws.iam import unexplained_wildcards
from silhouette_infra.cluster.eks import ami_type
from silhouette_infra.synth.checks import checkov
from silhouette_infra.synth.checks.conditions import public_endpoint_only_from_listed_cidrs
from silhouette_infra.synth.engine import CapturedResource, SynthResult
from silhouette_infra.synth.engine.manifests import is_kubernetes_object
from tests.support import synth
from tests.variants import ADMIN_ROLE, PUBLIC_API_CIDR, VIEWER_ROLE, production_with_a_hosted_zone

EKS = "eks:index:Cluster"
ADDON = "aws:eks/addon:Addon"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
RELEASE = "kubernetes:helm.sh/v3:Release"
ROLE = "aws:iam/role:Role"


ADD_ON_COMPONENTS = {
    "silhouette:cluster:LoadBalancerController",
    "silhouette:cluster:MetricsServer",
    "silhouette:cluster:ClusterAutoscaler",
    "silhouette:cluster:ExternalSecrets",
    "silhouette:cluster:DefaultStorageClass",
}


def _cluster(result: SynthResult) -> CapturedResource:
    (cluster,) = result.of_type(EKS)
    return cluster


def _addons(result: SynthResult) -> dict[str, CapturedResource]:
    return {addon.inputs["addonName"]: addon for addon in result.of_type(ADDON)}


def _release(result: SynthResult, name: str) -> CapturedResource:
    return result.named(RELEASE, name)


def test_cluster_runs_in_the_private_subnets_with_the_configured_version(stack: SynthResult) -> None:
    cluster = _cluster(stack).inputs
    private = [s.id for s in stack.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["Tier"] == "private"]
    assert cluster["privateSubnetIds"] == private, "eks: privateSubnetIds"
    assert "publicSubnetIds" not in cluster and "subnetIds" not in cluster, "eks: control plane only in private subnets"
    assert cluster["version"] == stack.settings.cluster.kubernetes_version
    assert cluster["upgradePolicy"] == {"supportType": "STANDARD"}, "eks: upgradePolicy must stay on standard support"
    assert cluster["skipDefaultNodeGroup"] is True, "eks: no default node group"
    assert cluster["createOidcProvider"] is True, "eks: OIDC provider for IRSA"


def test_cluster_authenticates_with_access_entries(stack: SynthResult) -> None:
    cluster = _cluster(stack).inputs
    assert cluster["authenticationMode"] == "API", "eks: authenticationMode must be API (no aws-auth ConfigMap)"


def test_admin_and_readonly_roles_get_cluster_wide_access_policies() -> None:
    result = production_with_a_hosted_zone()
    entries = _cluster(result).inputs["accessEntries"]
    assert entries["admin-0"]["principalArn"] == ADMIN_ROLE
    assert entries["readonly-0"]["principalArn"] == VIEWER_ROLE
    assert entries["admin-0"]["accessPolicies"]["admin"] == {
        "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        "accessScope": {"type": "cluster"},
    }
    assert entries["readonly-0"]["accessPolicies"]["readonly"]["policyArn"].endswith("/AmazonEKSViewPolicy")


def test_secrets_are_envelope_encrypted_with_the_cluster_key(stack: SynthResult) -> None:
    cluster_key = stack.named("aws:kms/key:Key", "cluster-key")
    assert _cluster(stack).inputs["encryptionConfigKeyArn"] == cluster_key.outputs["arn"]


def test_every_control_plane_log_type_goes_to_an_encrypted_group_with_retention(stack: SynthResult) -> None:
    cluster = _cluster(stack)
    assert sorted(cluster.inputs["enabledClusterLogTypes"]) == sorted(
        ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    )
    log_group = stack.named("aws:cloudwatch/logGroup:LogGroup", "control-plane-logs")
    assert log_group.inputs["name"] == f"/aws/eks/{cluster.inputs['name']}/cluster", "EKS's own log group name"
    assert log_group.inputs["retentionInDays"] == stack.settings.cluster.log_retention_days
    # Issue 6: EKS writes the audit log type to this group, so it is kept as long as audit-class logs.
    assert log_group.inputs["retentionInDays"] >= stack.settings.audit.audit_log_retention_days == 2557, (
        "control-plane-logs: retentionInDays below the 7-year audit retention"
    )
    assert log_group.inputs["kmsKeyId"] == stack.named("aws:kms/key:Key", "logs-key").outputs["arn"]
    assert log_group.urn in cluster.options["dependencies"], "the log group must exist before EKS creates it"


def test_api_endpoint_is_private_unless_cidrs_are_allowed(stack: SynthResult) -> None:
    cluster = _cluster(stack).inputs
    assert cluster["endpointPrivateAccess"] is True
    assert cluster["endpointPublicAccess"] is False, f"{stack.stack}: public endpoint must be off by default"
    opened = _cluster(production_with_a_hosted_zone()).inputs
    assert opened["endpointPublicAccess"] is True and opened["publicAccessCidrs"] == [PUBLIC_API_CIDR]


@pytest.mark.checkov
def test_a_public_endpoint_limited_to_listed_cidrs_passes_checkov_and_an_open_one_fails() -> None:
    """checkov's CKV_AWS_39 wants no public endpoint at all; skips.yaml defers it to the setting only for a cluster
    whose public endpoint admits listed CIDRs next to its private one. Open to 0.0.0.0/0, the check fails."""
    limited = [r for r in production_with_a_hosted_zone().resources if not is_kubernetes_object(r)]
    opened = [
        dataclasses.replace(r, inputs={**r.inputs, "publicAccessCidrs": ["0.0.0.0/0"]}) if r.type == EKS else r
        for r in limited
    ]
    # One scan of both; the opened copy is not a stack, so no stack-specific skip applies to it (only more failures).
    scanned = checkov.start_many({"production": limited, "production-opened": opened}).reports()
    reports = scanned["production"][checkov.AWS]
    assert reports.failures == [], [f"{f.check} {f.resource}: {f.message}" for f in reports.failures]
    [(skip, _)] = [(skip, resource) for skip, resource in reports.skipped if skip.check == "CKV_AWS_39"]
    assert skip.reason.endswith(
        f"aws_eks_cluster.eks: public endpoint only from {PUBLIC_API_CIDR} "
        "(cluster.endpoint_public_access_cidrs), private endpoint on"
    ), skip.reason
    failed = scanned["production-opened"][checkov.AWS].failures
    assert {(f.check, f.resource) for f in failed} >= {("CKV_AWS_39", "aws_eks_cluster.eks")}, failed


@pytest.mark.parametrize(
    ("vpc_config", "covered"),
    [
        (
            {"endpoint_private_access": True, "endpoint_public_access": True, "public_access_cidrs": ["10.1.0.0/16"]},
            True,
        ),
        (
            {"endpoint_private_access": True, "endpoint_public_access": True, "public_access_cidrs": ["0.0.0.0/0"]},
            False,
        ),
        (
            {"endpoint_private_access": False, "endpoint_public_access": True, "public_access_cidrs": ["10.1.0.0/16"]},
            False,
        ),
        ({"endpoint_private_access": True, "endpoint_public_access": True}, False),
    ],
    ids=["listed-cidr", "whole-internet", "no-private-endpoint", "no-cidrs"],
)
def test_the_public_endpoint_skip_covers_only_listed_cidrs_next_to_the_private_endpoint(
    vpc_config: dict[str, Any], covered: bool
) -> None:
    reason = public_endpoint_only_from_listed_cidrs({"vpc_config": [vpc_config]})
    assert (reason is not None) == covered, f"{vpc_config}: {reason}"


def test_deletion_protection_is_on_in_production_only(production: SynthResult, staging: SynthResult) -> None:
    assert _cluster(production).inputs["deletionProtection"] is True
    assert _cluster(staging).inputs["deletionProtection"] is False


def test_node_groups_follow_settings_over_every_private_subnet(stack: SynthResult) -> None:
    groups = {group.name: group for group in stack.of_type(NODE_GROUP)}
    private = [s.id for s in stack.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["Tier"] == "private"]
    assert sorted(groups) == sorted(group.name for group in stack.settings.cluster.node_groups)
    for wanted in stack.settings.cluster.node_groups:
        group = groups[wanted.name].inputs
        where = f"{stack.stack}: node group {wanted.name}"
        assert group["subnetIds"] == private, f"{where}: subnetIds must span every private subnet"
        assert group["scalingConfig"] == {
            "minSize": wanted.min_size,
            "desiredSize": wanted.desired_size,
            "maxSize": wanted.max_size,
        }, f"{where}: scalingConfig"
        assert group["amiType"].startswith("AL2023_"), f"{where}: amiType must be AL2023"
        assert group["instanceTypes"] == wanted.instance_types and group["capacityType"] == wanted.capacity_type
        assert group["labels"] == wanted.labels, f"{where}: labels"
        assert [t["key"] for t in group.get("taints", [])] == [t.key for t in wanted.taints], f"{where}: taints"
        assert group["tags"][f"k8s.io/cluster-autoscaler/{_cluster(stack).inputs['name']}"] == "owned"
        assert "scalingConfig.desiredSize" in groups[wanted.name].options["ignore_changes"], (
            f"{where}: the autoscaler owns desiredSize; pulumi up must not reset it"
        )


def test_nodes_require_imdsv2_and_encrypted_gp3_volumes(stack: SynthResult) -> None:
    ebs_key = stack.named("aws:kms/key:Key", "ebs-key").outputs["arn"]
    templates = {t.id: t for t in stack.of_type(LAUNCH_TEMPLATE)}
    for group in stack.of_type(NODE_GROUP):
        template = templates[group.inputs["launchTemplate"]["id"]].inputs
        metadata = template["metadataOptions"]
        assert metadata["httpTokens"] == "required", f"{group.name}: IMDSv2 must be required"
        assert metadata["httpPutResponseHopLimit"] == 1, f"{group.name}: pods must not reach node metadata"
        (disk,) = template["blockDeviceMappings"]
        ebs = disk["ebs"]
        assert (ebs["volumeType"], ebs["encrypted"], ebs["kmsKeyId"]) == ("gp3", "true", ebs_key), f"{group.name}: root"


def test_ami_type_follows_the_instance_architecture() -> None:
    assert ami_type(["m6i.large", "m6a.large"]) == "AL2023_x86_64_STANDARD"
    assert ami_type(["m7g.large", "c6gd.xlarge"]) == "AL2023_ARM_64_STANDARD"
    with pytest.raises(ValueError, match="mixes Graviton and x86"):
        ami_type(["m7g.large", "m6i.large"])


def test_eks_addons_are_pinned_and_ordered_around_the_node_groups(stack: SynthResult) -> None:
    addons = _addons(stack)
    versions = stack.settings.cluster.addon_versions
    assert {name: addon.inputs["addonVersion"] for name, addon in addons.items()} == {
        "vpc-cni": versions.vpc_cni,
        "kube-proxy": versions.kube_proxy,
        "eks-pod-identity-agent": versions.pod_identity_agent,
        "coredns": versions.coredns,
        "aws-ebs-csi-driver": versions.ebs_csi_driver,
    }
    node_groups = {group.urn for group in stack.of_type(NODE_GROUP)}
    for name in ("coredns", "aws-ebs-csi-driver"):
        assert node_groups <= set(addons[name].options["dependencies"]), f"{name} must wait for the node groups"
    for group in stack.of_type(NODE_GROUP):
        for name in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
            assert addons[name].urn in group.options["dependencies"], f"{group.name} must wait for {name}"


def test_vpc_cni_enforces_network_policies(stack: SynthResult) -> None:
    """Without enableNetworkPolicy the VPC CNI ignores every NetworkPolicy the apps declare."""
    configuration = json.loads(_addons(stack)["vpc-cni"].inputs["configurationValues"])
    assert configuration["enableNetworkPolicy"] == "true"


def _trust(role: CapturedResource) -> dict[str, Any]:
    trust: dict[str, Any] = json.loads(role.inputs["assumeRolePolicy"])
    return trust


def _role_of(result: SynthResult, arn: str) -> CapturedResource:
    (role,) = [role for role in result.of_type(ROLE) if role.outputs["arn"] == arn]
    return role


@pytest.mark.parametrize(
    ("addon", "namespace", "service_account"),
    [("vpc-cni", "kube-system", "aws-node"), ("aws-ebs-csi-driver", "kube-system", "ebs-csi-controller-sa")],
)
def test_addons_with_aws_permissions_use_their_own_irsa_role(
    stack: SynthResult, addon: str, namespace: str, service_account: str
) -> None:
    role = _role_of(stack, _addons(stack)[addon].inputs["serviceAccountRoleArn"])
    (statement,) = _trust(role)["Statement"]
    subjects = [
        value
        for condition in statement["Condition"].values()
        for key, value in condition.items()
        if key.endswith(":sub")
    ]
    assert subjects == [f"system:serviceaccount:{namespace}:{service_account}"], f"{role.name}: trust {statement}"


def test_nodes_do_not_carry_the_cni_policy(stack: SynthResult) -> None:
    node_role_arn = stack.of_type(NODE_GROUP)[0].inputs["nodeRoleArn"]
    node_role = _role_of(stack, node_role_arn)
    attached = [
        attachment.inputs["policyArn"]
        for attachment in stack.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if attachment.inputs["role"] == node_role.inputs["name"]
    ]
    assert attached and not any(arn.endswith("AmazonEKS_CNI_Policy") for arn in attached), attached


def test_every_iam_policy_wildcard_has_a_written_reason(stack: SynthResult) -> None:
    for policy in stack.of_type("aws:iam/rolePolicy:RolePolicy"):
        document = json.loads(policy.inputs["policy"])
        missing = unexplained_wildcards(policy.inputs.get("name", policy.name), document)
        assert missing == [], f"{stack.stack}: {policy.name} has wildcards without a reason: {missing}"


def test_helm_releases_are_pinned_to_the_settings_chart_versions(stack: SynthResult) -> None:
    addons = stack.settings.cluster_addons
    expected = {
        "aws-load-balancer-controller": addons.aws_load_balancer_controller_chart,
        "metrics-server": addons.metrics_server_chart,
        "cluster-autoscaler": addons.cluster_autoscaler_chart,
        "external-secrets": addons.external_secrets_chart,
    }
    releases = {release.name: release for release in stack.of_type(RELEASE)}
    assert {name: releases[name].inputs["version"] for name in expected} == expected
    kubernetes_provider = stack.named("pulumi:providers:kubernetes", "kubernetes")
    for release in releases.values():
        assert release.inputs["atomic"] is True, f"{release.name}: a failed upgrade must roll back"
        assert release.options["provider"].startswith(kubernetes_provider.urn), f"{release.name}: cluster provider"


@pytest.mark.parametrize(
    ("release", "service_account_path"),
    [
        ("aws-load-balancer-controller", ("serviceAccount",)),
        ("cluster-autoscaler", ("rbac", "serviceAccount")),
        ("external-secrets", ("serviceAccount",)),
    ],
)
def test_addons_reach_aws_through_their_own_role(
    stack: SynthResult, release: str, service_account_path: tuple[str, ...]
) -> None:
    values = _release(stack, release).inputs["values"]
    account: dict[str, Any] = values
    for key in service_account_path:
        account = account[key]
    role = _role_of(stack, account["annotations"]["eks.amazonaws.com/role-arn"])
    (statement,) = _trust(role)["Statement"]
    namespace = _release(stack, release).inputs["namespace"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert f"system:serviceaccount:{namespace}:{account['name']}" in json.dumps(statement["Condition"])


def test_addons_run_on_the_system_nodes(stack: SynthResult) -> None:
    system = next(group for group in stack.settings.cluster.node_groups if not group.runs_applications)
    addons = [r for r in stack.of_type(RELEASE) if (c := stack.component_of(r)) and c.type in ADD_ON_COMPONENTS]
    assert len(addons) == 4
    for release in addons:
        values = release.inputs["values"]
        assert values["nodeSelector"] == system.labels, f"{release.name}: nodeSelector"
        assert {t["key"] for t in values["tolerations"]} == {t.key for t in system.taints}, (
            f"{release.name}: tolerations"
        )


def test_cluster_autoscaler_discovers_this_clusters_groups(stack: SynthResult) -> None:
    values = _release(stack, "cluster-autoscaler").inputs["values"]
    assert values["autoDiscovery"]["clusterName"] == _cluster(stack).inputs["name"]
    assert values["image"]["tag"].startswith(f"v{stack.settings.cluster.kubernetes_version}.")


def test_secret_store_reads_secrets_manager_for_labelled_namespaces_only(stack: SynthResult) -> None:
    (store,) = stack.of_type("kubernetes:external-secrets.io/v1:ClusterSecretStore")
    spec = store.inputs["spec"]
    assert spec["provider"]["aws"] == {"service": "SecretsManager", "region": stack.settings.aws.region}
    assert spec["conditions"][0]["namespaceSelector"]["matchLabels"], "the store must not serve every namespace"
    assert _release(stack, "external-secrets").urn in store.options["dependencies"], "CRDs come with the chart"


def test_default_storage_class_is_encrypted_gp3_waiting_for_the_consumer(stack: SynthResult) -> None:
    storage_class = stack.named("kubernetes:storage.k8s.io/v1:StorageClass", "gp3-encrypted")
    inputs = storage_class.inputs
    assert inputs["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert inputs["provisioner"] == "ebs.csi.aws.com"
    assert inputs["parameters"]["type"] == "gp3" and inputs["parameters"]["encrypted"] == "true"
    assert inputs["parameters"]["kmsKeyId"] == stack.named("aws:kms/key:Key", "ebs-key").outputs["arn"]
    assert inputs["volumeBindingMode"] == "WaitForFirstConsumer" and inputs["allowVolumeExpansion"] is True
    assert inputs["reclaimPolicy"] == ("Retain" if stack.settings.protect_stateful else "Delete")
    assert inputs["parameters"]["tagSpecification_1"] == f"Backup=silhouette-{stack.stack}", (
        "AWS Backup selects volumes"
    )


def test_repositories_are_immutable_scanned_and_kms_encrypted(stack: SynthResult) -> None:
    registry_key = stack.named("aws:kms/key:Key", "registry-key").outputs["arn"]
    repositories = stack.of_type("aws:ecr/repository:Repository")
    assert sorted(r.name for r in repositories) == ["backend", "frontend"]
    for repository in repositories:
        inputs = repository.inputs
        assert inputs["imageTagMutability"] == "IMMUTABLE", f"{repository.name}: tags must be immutable"
        assert inputs["imageScanningConfiguration"] == {"scanOnPush": True}, f"{repository.name}: scan on push"
        assert inputs["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": registry_key}]
        assert repository.protect == stack.settings.protect_stateful, f"{repository.name}: protect"
    policies = {
        p.inputs["repository"]: json.loads(p.inputs["policy"])
        for p in stack.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    }
    assert len(policies) == 2 and all(len(policy["rules"]) == 2 for policy in policies.values())


def test_cluster_outputs_are_exported_and_the_kubeconfig_is_secret(stack: SynthResult) -> None:
    outputs = stack.outputs
    assert outputs["cluster_name"] == f"silhouette-{stack.stack}"
    assert outputs["cluster_endpoint"].startswith("https://")
    assert set(outputs["kubeconfig"]) == {"__secret__"}, "kubeconfig must be a secret output"
    assert outputs["oidc_provider_arn"].startswith("arn:aws:iam::")
    assert outputs["node_security_group_id"].startswith("sg-")
    assert set(outputs["repository_urls"]) == {"backend", "frontend"}


def test_each_add_on_is_its_own_component_and_its_resources_keep_their_urns(stack: SynthResult) -> None:
    """Each add-on is a component of its own under ClusterAddons; what it declares was ClusterAddons' own
    child before, so each resource carries an alias to that parent and a deployed stack replaces nothing."""
    (addons,) = stack.of_type("silhouette:cluster:ClusterAddons")
    components = {r.urn: r for r in stack.resources if r.type in ADD_ON_COMPONENTS}
    assert {r.type for r in components.values()} == ADD_ON_COMPONENTS
    for component in components.values():
        assert component.options["parent"] == addons.urn, f"{component.type}: must be a child of ClusterAddons"
        assert component.options["aliases"] == [], f"{component.type}: new, so nothing to alias"
    below = [r for r in stack.resources if r.options.get("parent") in components]
    assert len(below) >= 13, "roles, policies, releases, namespace, store and StorageClass of the add-ons"
    for resource in below:
        before = (
            f"urn:pulumi:{stack.stack}::silhouette::silhouette:cluster:ClusterAddons${resource.type}::{resource.name}"
        )
        assert before in resource.options["aliases"], (
            f"{resource.type} {resource.name}: needs an alias to {before}, its URN under ClusterAddons (its parent "
            f"before the add-on components); has {resource.options['aliases']}"
        )


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_node_groups_are_named_from_a_prefix_so_a_replacement_can_be_created_first(stack: str) -> None:
    """Changing a group's instance types or AMI type replaces it; Pulumi creates the replacement before deleting
    the old group, which a fixed name would collide with."""
    for group in synth(stack).of_type(NODE_GROUP):
        assert "nodeGroupName" not in group.inputs or "nodeGroupNamePrefix" in group.inputs, (
            f"{stack} node group {group.name}: a fixed nodeGroupName blocks create-before-delete"
        )
        assert str(group.inputs.get("nodeGroupNamePrefix", "")).endswith(f"-{stack}-{group.name}-"), (
            f"{stack} node group {group.name}: nodeGroupNamePrefix {group.inputs.get('nodeGroupNamePrefix')!r}"
        )
