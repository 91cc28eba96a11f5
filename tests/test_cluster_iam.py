"""Cluster layer IAM documents (silhouette_infra/aws/iam.py): trust, least privilege, explained wildcards."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from silhouette_infra.aws import iam

ACCOUNT = "111122223333"
REGION = "eu-west-1"
CLUSTER = "silhouette-production"
ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
LBC_FILE = Path(iam.__file__).parent / iam.LBC_POLICY_FILE
# kubernetes-sigs/aws-load-balancer-controller docs/install/iam_policy.json @ 2b150b977b79dcad119243f2e8f3625ea5bb7e81.
# Replacing the file (e.g. with the v2.14.x tag's) means updating this, the size and the commit in the docstring.
LBC_COMMIT = "2b150b977b79dcad119243f2e8f3625ea5bb7e81"
LBC_BYTES = 8813
LBC_SHA256 = "1edbad35b82293e6b610a10e4f1670b93f42f6a0639fdbf331bfb8a53ad447a9"


def irsa(issuer: str = ISSUER) -> dict[str, Any]:
    return iam.irsa_trust_policy(
        oidc_provider_arn=PROVIDER_ARN, oidc_issuer=issuer, namespace="kube-system", service_account="ebs-csi"
    )


def ebs_kms() -> dict[str, Any]:
    return iam.ebs_csi_kms_policy(key_arn=KEY_ARN)


def autoscaler(partition: str = "aws") -> dict[str, Any]:
    return iam.cluster_autoscaler_policy(cluster_name=CLUSTER, region=REGION, account_id=ACCOUNT, partition=partition)


def external_secrets() -> dict[str, Any]:
    return iam.external_secrets_policy(
        region=REGION, account_id=ACCOUNT, secret_prefix="silhouette/production/", kms_key_arn=KEY_ARN
    )


def otel_collector() -> dict[str, Any]:
    return iam.otel_collector_policy(kms_key_arn=KEY_ARN, region=REGION)


def redis_export() -> dict[str, Any]:
    return iam.redis_export_policy(
        replication_group_id="silhouette-production-redis",
        bucket_arn="arn:aws:s3:::silhouette-production-redis-exports-us-east-1-123456789012",
        region=REGION,
        account_id=ACCOUNT,
    )


TRUST_POLICIES = {iam.IRSA_TRUST: irsa}
PERMISSION_POLICIES = {
    iam.EBS_CSI_KMS: ebs_kms,
    iam.AWS_LOAD_BALANCER_CONTROLLER: iam.aws_load_balancer_controller_policy,
    iam.CLUSTER_AUTOSCALER: autoscaler,
    iam.EXTERNAL_SECRETS: external_secrets,
    iam.OTEL_COLLECTOR: otel_collector,
    iam.REDIS_EXPORT: redis_export,
}
ALL_POLICIES = {**TRUST_POLICIES, **PERMISSION_POLICIES}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statement(policy: dict[str, Any], sid: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [s for s in policy["Statement"] if s.get("Sid") == sid]
    assert len(found) == 1, f"Sid {sid}: {len(found)} statements"
    return found[0]


def lbc_statements_granting(action: str) -> list[dict[str, Any]]:
    policy = iam.aws_load_balancer_controller_policy()
    return [s for s in policy["Statement"] if action in as_list(s["Action"])]


# ---- trust policies pin namespace/service account and audience; issuer with/without https


@pytest.mark.parametrize("issuer", [ISSUER, f"https://{ISSUER}", f"https://{ISSUER}/"])
def test_irsa_trust_pins_service_account_and_audience_whatever_the_issuer_form(issuer: str) -> None:
    (trust,) = irsa(issuer)["Statement"]
    assert trust["Effect"] == "Allow"
    assert trust["Principal"] == {"Federated": PROVIDER_ARN}
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"] == {
        "StringEquals": {
            f"{ISSUER}:sub": "system:serviceaccount:kube-system:ebs-csi",
            f"{ISSUER}:aud": "sts.amazonaws.com",
        }
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("namespace", "*"),
        ("namespace", ""),
        ("service_account", "ebs-*"),
        ("service_account", "a:b"),
        ("oidc_issuer", f"http://{ISSUER}"),
        ("oidc_issuer", "https://"),
        ("oidc_provider_arn", "arn:aws:iam::111122223333:role/x"),
    ],
)
def test_irsa_trust_refuses_patterns_and_malformed_inputs(field: str, value: str) -> None:
    arguments = {
        "oidc_provider_arn": PROVIDER_ARN,
        "oidc_issuer": ISSUER,
        "namespace": "kube-system",
        "service_account": "ebs-csi",
        field: value,
    }
    with pytest.raises(ValueError):
        iam.irsa_trust_policy(**arguments)


# ---- every policy document is valid-shaped


@pytest.mark.parametrize("name", sorted(ALL_POLICIES))
def test_every_policy_document_is_valid_shaped(name: str) -> None:
    policy = ALL_POLICIES[name]()
    assert set(policy) == {"Version", "Statement"}, name
    assert policy["Version"] == "2012-10-17", name
    assert isinstance(policy["Statement"], list) and policy["Statement"], name
    json.dumps(policy)  # serialisable as is
    sids = [s["Sid"] for s in policy["Statement"] if "Sid" in s]
    assert len(sids) == len(set(sids)), f"{name}: duplicate Sid"
    for index, stmt in enumerate(policy["Statement"]):
        where = f"{name} statement {stmt.get('Sid', index)}"
        assert stmt["Effect"] in ("Allow", "Deny"), where
        assert "Action" in stmt and all(isinstance(a, str) and ":" in a for a in as_list(stmt["Action"])), where
        if name in TRUST_POLICIES:
            assert "Principal" in stmt and "Resource" not in stmt, f"{where}: a trust policy names principals"
        else:
            assert "Resource" in stmt and "Principal" not in stmt, f"{where}: an identity policy names resources"
            assert all(isinstance(r, str) and r for r in as_list(stmt["Resource"])), where
        for operator, keys in stmt.get("Condition", {}).items():
            assert isinstance(keys, dict) and keys, f"{where}: condition {operator}"


def test_statements_we_write_all_have_a_sid() -> None:
    for name, make in ALL_POLICIES.items():
        if name == iam.AWS_LOAD_BALANCER_CONTROLLER:
            continue  # the official file, kept verbatim
        assert all(s.get("Sid") for s in make()["Statement"]), name


def test_managed_policy_arns_for_node_role_and_add_ons() -> None:
    assert iam.node_role_managed_policies() == [
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
    ]
    assert iam.vpc_cni_managed_policies() == ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"]
    assert iam.ebs_csi_managed_policies() == ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]
    assert iam.node_role_managed_policies("aws-us-gov")[0] == "arn:aws-us-gov:iam::aws:policy/AmazonEKSWorkerNodePolicy"
    with pytest.raises(ValueError):
        iam.node_role_managed_policies("aws/../x")


def test_node_role_leaves_the_cni_to_its_own_irsa_role() -> None:
    node = iam.node_role_managed_policies()
    assert not any(arn.endswith("/AmazonEKS_CNI_Policy") for arn in node)
    assert not any(arn.endswith("/AmazonSSMManagedInstanceCore") for arn in node)
    assert not any(arn.endswith("/AmazonEC2ContainerRegistryReadOnly") for arn in node)


# ---- no wildcard without a reason


@pytest.mark.parametrize("name", sorted(ALL_POLICIES))
def test_no_policy_grants_a_wildcard_the_registry_does_not_explain(name: str) -> None:
    assert iam.unexplained_wildcards(name, ALL_POLICIES[name]()) == []


@pytest.mark.parametrize("name", sorted(PERMISSION_POLICIES))
def test_no_policy_grants_a_whole_service_or_everything(name: str) -> None:
    for stmt in PERMISSION_POLICIES[name]()["Statement"]:
        for action in as_list(stmt["Action"]):
            assert action != "*" and not action.endswith(":*"), f"{name}: {action}"


def test_every_reason_in_the_registry_is_used_and_says_something() -> None:
    used: set[tuple[str, str]] = set()
    for name, make in ALL_POLICIES.items():
        for stmt in make()["Statement"]:
            actions = as_list(stmt["Action"])
            used.update((name, a) for a in actions)
            if "Sid" in stmt:
                used.add((name, stmt["Sid"]))
    stale = sorted(key for key in iam.WILDCARD_REASONS if key not in used)
    assert stale == [], "reasons for grants that no longer exist"
    assert all(len(reason) > 40 for reason in iam.WILDCARD_REASONS.values())


def test_wildcards_are_listed_by_sid_or_statement_index() -> None:
    assert iam.wildcards(ebs_kms()) == [
        ("EbsCsiKmsUseKey", "kms:ReEncrypt*"),
        ("EbsCsiKmsUseKey", "kms:GenerateDataKey*"),
    ]
    assert iam.wildcards(autoscaler()) == [("ClusterAutoscalerDescribe", "*")]
    assert iam.wildcards(external_secrets()) == []
    lbc = iam.wildcards(iam.aws_load_balancer_controller_policy())
    assert ("0", "*") in lbc and all(item == "*" for _, item in lbc)


def test_an_unexplained_wildcard_in_a_synthetic_policy_is_reported() -> None:
    synthetic = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Everything", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Allow", "Action": ["ec2:DescribeVpcs", "ec2:TerminateInstances"], "Resource": "*"},
            {"Sid": "Sneaky", "Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b/*"},
            {"Sid": "Fine", "Effect": "Deny", "Action": "*", "Resource": "*"},
        ],
    }
    problems = iam.unexplained_wildcards("synthetic", synthetic)
    assert any("'s3:*'" in p for p in problems)
    assert any("Everything: Resource '*'" in p for p in problems)
    assert any("'ec2:DescribeVpcs' on Resource '*'" in p for p in problems)
    assert any("'ec2:TerminateInstances' on Resource '*'" in p for p in problems)
    assert any("NotAction" in p for p in problems)
    assert not any("Fine" in p for p in problems)


def test_a_new_action_added_to_the_official_policy_on_resource_star_is_reported() -> None:
    updated = copy.deepcopy(iam.aws_load_balancer_controller_policy())
    updated["Statement"][1]["Action"].append("ec2:DescribeRouteTables")
    updated["Statement"].append({"Effect": "Allow", "Action": ["elasticloadbalancing:*"], "Resource": "*"})
    problems = iam.unexplained_wildcards(iam.AWS_LOAD_BALANCER_CONTROLLER, updated)
    assert problems == [
        "aws-load-balancer-controller statement 1: 'ec2:DescribeRouteTables' on Resource '*' has no reason",
        "aws-load-balancer-controller statement 16: action 'elasticloadbalancing:*' has no reason",
    ]


def test_a_new_action_in_a_sid_statement_with_an_action_wildcard_is_reported() -> None:
    widened = ebs_kms()
    statement(widened, "EbsCsiKmsUseKey")["Action"].append("kms:*")
    assert iam.unexplained_wildcards(iam.EBS_CSI_KMS, widened) == [
        "ebs-csi-kms statement EbsCsiKmsUseKey: action 'kms:*' has no reason"
    ]


# ---- cluster autoscaler can only scale groups tagged for this cluster


def test_cluster_autoscaler_can_only_scale_groups_tagged_for_this_cluster() -> None:
    policy = autoscaler()
    scale = statement(policy, "ClusterAutoscalerScaleOwnedGroups")
    assert sorted(scale["Action"]) == [
        "autoscaling:SetDesiredCapacity",
        "autoscaling:TerminateInstanceInAutoScalingGroup",
    ]
    assert scale["Resource"] == [f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/*"]
    assert scale["Condition"] == {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{CLUSTER}": "owned"}}
    mutating = {"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"}
    for stmt in policy["Statement"]:
        if stmt is not scale:
            assert not mutating & set(as_list(stmt["Action"])), stmt["Sid"]


def test_cluster_autoscaler_reads_only_what_the_upstream_docs_list() -> None:
    policy = autoscaler()
    describe = statement(policy, "ClusterAutoscalerDescribe")
    assert describe["Resource"] == "*"
    assert sorted(describe["Action"]) == sorted(
        [
            "autoscaling:DescribeAutoScalingGroups",
            "autoscaling:DescribeAutoScalingInstances",
            "autoscaling:DescribeLaunchConfigurations",
            "autoscaling:DescribeScalingActivities",
            "autoscaling:DescribeTags",
            "ec2:DescribeImages",
            "ec2:DescribeInstanceTypes",
            "ec2:DescribeLaunchTemplateVersions",
            "ec2:GetInstanceTypesFromInstanceRequirements",
        ]
    )
    assert all(":Describe" in a or ":Get" in a for a in describe["Action"])
    nodegroups = statement(policy, "ClusterAutoscalerDescribeNodegroups")
    assert nodegroups["Action"] == ["eks:DescribeNodegroup"]
    assert nodegroups["Resource"] == [f"arn:aws:eks:{REGION}:{ACCOUNT}:nodegroup/{CLUSTER}/*/*"]


def test_cluster_autoscaler_follows_the_partition_and_refuses_bad_identifiers() -> None:
    gov = json.dumps(autoscaler("aws-us-gov"))
    assert "arn:aws:" not in gov and "arn:aws-us-gov:autoscaling:" in gov
    with pytest.raises(ValueError):
        iam.cluster_autoscaler_policy(cluster_name="*", region=REGION, account_id=ACCOUNT)
    with pytest.raises(ValueError):
        iam.cluster_autoscaler_policy(cluster_name=CLUSTER, region=REGION, account_id="*")
    with pytest.raises(ValueError):
        iam.cluster_autoscaler_policy(cluster_name=CLUSTER, region="*", account_id=ACCOUNT)


# ---- external secrets: only the prefix, decrypt only via Secrets Manager


def test_external_secrets_reads_only_secrets_under_the_prefix() -> None:
    policy = external_secrets()
    read = statement(policy, "ExternalSecretsReadPrefixedSecrets")
    assert sorted(read["Action"]) == [
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:ListSecretVersionIds",
    ]
    assert read["Resource"] == [f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:silhouette/production/*"]
    assert "Condition" not in read
    secrets_actions = [a for s in policy["Statement"] for a in as_list(s["Action"]) if a.startswith("secretsmanager:")]
    assert sorted(secrets_actions) == sorted(read["Action"]), "no Secrets Manager action outside the prefix"


def test_external_secrets_decrypts_only_via_secrets_manager_with_the_one_key() -> None:
    decrypt = statement(external_secrets(), "ExternalSecretsDecryptViaSecretsManager")
    assert decrypt["Action"] == ["kms:Decrypt"]
    assert decrypt["Resource"] == [KEY_ARN]
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}}


@pytest.mark.parametrize("prefix", ["", "*", "silhouette/*", "a?b"])
def test_external_secrets_refuses_a_prefix_that_is_empty_or_a_pattern(prefix: str) -> None:
    with pytest.raises(ValueError):
        iam.external_secrets_policy(region=REGION, account_id=ACCOUNT, secret_prefix=prefix, kms_key_arn=KEY_ARN)


# ---- EBS CSI: grants only for AWS resources, on the one key


def test_ebs_csi_kms_grants_only_for_aws_resources_on_the_one_key() -> None:
    policy = ebs_kms()
    grants = statement(policy, "EbsCsiKmsGrantsForAwsResources")
    assert sorted(grants["Action"]) == ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    use = statement(policy, "EbsCsiKmsUseKey")
    assert sorted(use["Action"]) == sorted(
        ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
    )
    grant_actions = {"kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"}
    for stmt in policy["Statement"]:
        assert stmt["Resource"] == [KEY_ARN], stmt["Sid"]
        if stmt is not grants:
            assert not grant_actions & set(stmt["Action"]), f"{stmt['Sid']}: grants without the condition"


def test_ebs_csi_kms_refuses_anything_but_a_key_arn() -> None:
    for bad in ("*", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/ebs", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*"):
        with pytest.raises(ValueError):
            iam.ebs_csi_kms_policy(key_arn=bad)


# ---- the LBC policy file is the official one


def test_lbc_policy_file_is_the_official_revision_recorded_in_the_docstring() -> None:
    data = LBC_FILE.read_bytes()
    assert len(data) == LBC_BYTES, f"docs/install/iam_policy.json @ {LBC_COMMIT} is {LBC_BYTES} bytes"
    assert hashlib.sha256(data).hexdigest() == LBC_SHA256, "the file is no longer the revision the docstring names"
    doc = iam.aws_load_balancer_controller_policy.__doc__ or ""
    assert "kubernetes-sigs/aws-load-balancer-controller" in doc
    assert LBC_COMMIT in doc and f"({LBC_BYTES} bytes)" in doc
    assert iam.aws_load_balancer_controller_policy() == json.loads(data)


def test_lbc_service_linked_role_only_for_elastic_load_balancing() -> None:
    (slr,) = lbc_statements_granting("iam:CreateServiceLinkedRole")
    assert as_list(slr["Action"]) == ["iam:CreateServiceLinkedRole"]
    assert slr["Condition"] == {"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}}


def test_lbc_creates_load_balancers_only_with_the_cluster_request_tag() -> None:
    (create,) = lbc_statements_granting("elasticloadbalancing:CreateLoadBalancer")
    assert create["Condition"] == {"Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"}}
    for action in ("elasticloadbalancing:DeleteLoadBalancer", "ec2:DeleteSecurityGroup"):
        (delete,) = lbc_statements_granting(action)
        assert delete["Condition"] == {"Null": {"aws:ResourceTag/elbv2.k8s.aws/cluster": "false"}}, action


def test_lbc_can_attach_a_waf_web_acl_and_shield_protection() -> None:
    granted = {a for s in iam.aws_load_balancer_controller_policy()["Statement"] for a in as_list(s["Action"])}
    assert {
        "wafv2:GetWebACL",
        "wafv2:GetWebACLForResource",
        "wafv2:AssociateWebACL",
        "wafv2:DisassociateWebACL",
        "shield:GetSubscriptionState",
        "shield:DescribeProtection",
        "shield:CreateProtection",
        "shield:DeleteProtection",
        "elasticloadbalancing:SetWebAcl",
    } <= granted


def test_lbc_policy_follows_the_partition() -> None:
    gov = iam.aws_load_balancer_controller_policy("aws-us-gov")
    text = json.dumps(gov)
    assert "arn:aws:" not in text
    assert "arn:aws-us-gov:elasticloadbalancing:*:*:targetgroup/*/*" in text
    assert "arn:aws-us-gov:ec2:*:*:security-group/*" in text
    original = iam.aws_load_balancer_controller_policy()
    assert len(gov["Statement"]) == len(original["Statement"])
    assert [s["Action"] for s in gov["Statement"]] == [s["Action"] for s in original["Statement"]]
    with pytest.raises(ValueError):
        iam.aws_load_balancer_controller_policy("not a partition")


def test_lbc_policy_is_a_fresh_copy_each_call() -> None:
    first = iam.aws_load_balancer_controller_policy()
    first["Statement"].clear()
    assert iam.aws_load_balancer_controller_policy()["Statement"]


def test_log_group_writer_may_only_write_streams_of_its_own_group() -> None:
    """VPC Flow Logs and Fluent Bit: no CreateLogGroup (Pulumi owns the group, its key and retention)."""
    group = "arn:aws:logs:us-east-1:123456789012:log-group:/silhouette/production/containers"
    (statement,) = iam.log_group_writer_policy("WriteContainerLogs", group)["Statement"]
    assert statement == {
        "Sid": "WriteContainerLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        "Resource": [group, f"{group}:*"],
    }, "log_group_writer_policy grants more than the streams of its one log group"


def test_service_trust_is_pinned_to_the_account_when_one_is_given() -> None:
    (open_statement,) = iam.service_assume_role_policy("ec2.amazonaws.com")["Statement"]
    assert "Condition" not in open_statement
    (pinned,) = iam.service_assume_role_policy("s3.amazonaws.com", account_id="123456789012")["Statement"]
    assert pinned["Principal"] == {"Service": "s3.amazonaws.com"} and pinned["Action"] == "sts:AssumeRole"
    assert pinned["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}, "no confused-deputy guard"


@pytest.mark.parametrize("prefix", ["", "app/production", "app/*/", "neo4j/?/"])
def test_an_own_prefix_policy_refuses_a_prefix_that_would_reach_beyond_its_folder(prefix: str) -> None:
    """An empty or unterminated prefix (``app/production`` also matches ``app/production-old/``) or a wildcard
    would grant more of the bucket than the role's own folder."""
    with pytest.raises(ValueError, match="prefix"):
        iam.own_prefix_policy(
            sid="WriteOwnPrefix",
            bucket_arn="arn:aws:s3:::bucket",
            prefix=prefix,
            actions=["s3:PutObject"],
            kms_key_arn=KEY_ARN,
            region=REGION,
        )
