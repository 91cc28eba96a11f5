"""checkov really checks what the program declares: the Terraform-plan conversion is faithful, and a
weak resource is reported (issue: offline validators, checkov for AWS and Kubernetes).

The end-to-end tests share one checkov scan (``run_many``): checkov's start-up is most of its cost.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from silhouette_infra.synth.checks import checkov
from silhouette_infra.synth.checks.base import CheckReport, Skip, load_skips
from silhouette_infra.synth.checks.terraform_plan import TERRAFORM_TYPES, addresses, terraform_type, to_plan, unmapped
from silhouette_infra.synth.engine import SynthResult
from silhouette_infra.synth.engine.mocks import AwsLikeMocks, CapturedResource
from tests import variants
from tests.support import STACKS, synth

COMPONENT = "urn:pulumi:test::silhouette::silhouette:test:Component::component"
PROVIDER_URN = "urn:pulumi:test::silhouette::pulumi:providers:aws::aws-primary"
PROVIDER_REF = f"{PROVIDER_URN}::provider-1"


def aws(type_token: str, name: str, inputs: dict[str, Any], parent: str = COMPONENT) -> CapturedResource:
    """A registration as the offline engine captures it, with the engine's own mock id and outputs,
    so that ids and ARNs written into other resources' inputs match exactly as in a real synth."""
    seed = f"{type_token}::{name}"
    resource_id = AwsLikeMocks._id(type_token, name, inputs, seed)
    computed = AwsLikeMocks._computed(type_token, name, inputs, resource_id, "us-east-1")
    return CapturedResource(
        urn=f"{parent}${type_token}::{name}",
        type=type_token,
        name=name,
        custom=True,
        inputs=inputs,
        options={"parent": parent, "provider": PROVIDER_REF},
        id=resource_id,
        outputs={**inputs, "id": resource_id, **computed},
    )


def kubernetes(type_token: str, name: str, body: dict[str, Any]) -> CapturedResource:
    return CapturedResource(
        urn=f"{COMPONENT}${type_token}::{name}",
        type=type_token,
        name=name,
        custom=True,
        inputs=body,
        options={"parent": COMPONENT},
        id=name,
    )


def provider() -> CapturedResource:
    tags = {"tags": {"Project": "silhouette", "Stack": "test"}}
    return CapturedResource(
        urn=PROVIDER_URN,
        type="pulumi:providers:aws",
        name="aws-primary",
        custom=True,
        inputs={"region": "us-east-1", "defaultTags": json.dumps(tags)},
        options={},
        id="provider-1",
    )


def plan_of(*resources: CapturedResource) -> dict[str, Any]:
    return to_plan([provider(), *resources])


def planned(plan: dict[str, Any], address: str) -> dict[str, Any]:
    (values,) = [r["values"] for r in plan["planned_values"]["root_module"]["resources"] if r["address"] == address]
    return dict(values)


def expressions(plan: dict[str, Any], address: str) -> dict[str, Any]:
    (found,) = [r["expressions"] for r in plan["configuration"]["root_module"]["resources"] if r["address"] == address]
    return dict(found)


def deployment(
    name: str, security_context: dict[str, Any], annotations: dict[str, str] | None = None
) -> CapturedResource:
    return kubernetes(
        "kubernetes:apps/v1:Deployment",
        name,
        {
            "metadata": {"name": name, "namespace": "apps", "annotations": annotations or {}},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {
                        "containers": [{"name": "app", "image": "nginx:1.27.3", "securityContext": security_context}]
                    },
                },
            },
        },
    )


# ------------------------------------------------------------------------------------ type mapping
FUTURE_LAYER_TYPES = (
    "aws:eks/cluster:Cluster",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:eks/addon:Addon",
    "aws:iam/role:Role",
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    "aws:rds/instance:Instance",
    "aws:rds/parameterGroup:ParameterGroup",
    "aws:rds/subnetGroup:SubnetGroup",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:elasticache/subnetGroup:SubnetGroup",
    "aws:elasticache/parameterGroup:ParameterGroup",
    "aws:mq/broker:Broker",
    "aws:mq/configuration:Configuration",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketLogging:BucketLogging",
    "aws:backup/vault:Vault",
    "aws:backup/plan:Plan",
    "aws:backup/selection:Selection",
    "aws:secretsmanager/secret:Secret",
    "aws:secretsmanager/secretVersion:SecretVersion",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:sns/topic:Topic",
    "aws:sns/topicSubscription:TopicSubscription",
    "aws:wafv2/webAcl:WebAcl",
    "aws:wafv2/webAclAssociation:WebAclAssociation",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
    "aws:acm/certificate:Certificate",
    "aws:acm/certificateValidation:CertificateValidation",
    "aws:route53/record:Record",
    "aws:cloudtrail/trail:Trail",
    "aws:guardduty/detector:Detector",
    "aws:cfg/recorder:Recorder",
    "aws:cfg/deliveryChannel:DeliveryChannel",
    "aws:cfg/rule:Rule",
    "aws:securityhub/account:Account",
    "aws:securityhub/standardsSubscription:StandardsSubscription",
    "aws:ecr/repository:Repository",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/securityGroupRule:SecurityGroupRule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:kms/key:Key",
    "aws:kms/alias:Alias",
)


# The stack files, and the option runs of variants.py: what a stack declares once an option the files leave off
# is switched on (Shield Advanced, a hosted zone, ...) must reach checkov too.
RUNS: dict[str, Callable[[], SynthResult]] = {
    **{stack: functools.partial(synth, stack) for stack in STACKS},
    **{run.__name__: run for run in variants.OPTION_RUNS},
}


@pytest.mark.parametrize("run", RUNS)
def test_every_aws_type_the_stack_declares_has_a_terraform_mapping(run: str) -> None:
    missing = sorted({resource.type for resource in unmapped(RUNS[run]().resources)})
    assert missing == [], f"{run}: add these to TERRAFORM_TYPES in terraform_plan.py: {missing}"


def test_the_types_later_layers_declare_have_a_terraform_mapping() -> None:
    assert [token for token in FUTURE_LAYER_TYPES if token not in TERRAFORM_TYPES] == []


def test_type_tokens_map_to_terraform_resource_types() -> None:
    assert terraform_type("aws:rds/instance:Instance") == "aws_db_instance"
    assert terraform_type("aws:ec2/vpc:Vpc") == "aws_vpc"
    assert terraform_type("aws:cfg/recorder:Recorder") == "aws_config_configuration_recorder"
    assert terraform_type("aws:s3/bucket:Bucket") == terraform_type("aws:s3/bucketV2:BucketV2") == "aws_s3_bucket"
    assert terraform_type("aws:madeup/thing:Thing") is None


def test_an_unmapped_aws_type_is_never_silently_dropped() -> None:
    thing = aws("aws:madeup/thing:Thing", "thing", {"size": 1})
    assert unmapped([provider(), thing]) == [thing]
    assert plan_of(thing)["planned_values"]["root_module"]["resources"] == []


# ------------------------------------------------------------------------------------ attribute names
def test_camel_case_names_become_snake_case_at_every_level() -> None:
    template = aws(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "nodes",
        {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1}, "ebsOptimized": "true"},
    )
    values = planned(plan_of(template), "aws_launch_template.nodes")
    assert values["ebs_optimized"] == "true"
    assert values["metadata_options"] == [{"http_tokens": "required", "http_put_response_hop_limit": 1}]


def test_tags_and_other_user_maps_keep_their_keys_and_get_the_provider_default_tags() -> None:
    subnet = aws(
        "aws:ec2/subnet:Subnet",
        "public-a",
        {"cidrBlock": "10.0.0.0/24", "tags": {"kubernetes.io/role/elb": "1", "CostCenter": "platform"}},
    )
    alarm = aws("aws:cloudwatch/metricAlarm:MetricAlarm", "cpu", {"dimensions": {"DBInstanceIdentifier": "pg"}})
    plan = plan_of(subnet, alarm)
    values = planned(plan, "aws_subnet.public-a")
    assert values["tags"] == {"kubernetes.io/role/elb": "1", "CostCenter": "platform"}
    assert values["tags_all"] == {"Project": "silhouette", "Stack": "test", **values["tags"]}
    assert planned(plan, "aws_cloudwatch_metric_alarm.cpu")["dimensions"] == {"DBInstanceIdentifier": "pg"}


def test_pluralised_list_blocks_get_their_terraform_names_back() -> None:
    lifecycle = aws(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "lifecycle",
        {"bucket": "b", "rules": [{"id": "r", "status": "Enabled", "transitions": [{"days": 30}]}]},
    )
    legacy_bucket = aws(
        "aws:s3/bucketV2:BucketV2",
        "legacy",
        {
            "bucket": "legacy",
            "serverSideEncryptionConfigurations": [
                {"rules": [{"applyServerSideEncryptionByDefaults": [{"sseAlgorithm": "aws:kms"}]}]}
            ],
            "replicationConfigurations": [{"role": "r", "rules": [{"status": "Enabled"}]}],
        },
    )
    parameters = aws(
        "aws:rds/parameterGroup:ParameterGroup",
        "pg",
        {"family": "postgres17", "parameters": [{"name": "a", "value": "1"}]},
    )
    oidc = aws("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "oidc", {"clientIdLists": ["sts.amazonaws.com"]})
    template = aws(
        "aws:ec2/launchTemplate:LaunchTemplate", "lt", {"blockDeviceMappings": [{"deviceName": "/dev/xvda"}]}
    )
    plan = plan_of(lifecycle, legacy_bucket, parameters, oidc, template)

    rule = planned(plan, "aws_s3_bucket_lifecycle_configuration.lifecycle")["rule"]
    assert rule == [{"id": "r", "status": "Enabled", "transition": [{"days": 30}]}]
    bucket = planned(plan, "aws_s3_bucket.legacy")
    assert bucket["server_side_encryption_configuration"] == [
        {"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms"}]}]}
    ]
    # Terraform's own name inside replication_configuration is ``rules``: it stays plural.
    assert bucket["replication_configuration"] == [{"role": "r", "rules": [{"status": "Enabled"}]}]
    assert planned(plan, "aws_db_parameter_group.pg")["parameter"] == [{"name": "a", "value": "1"}]
    assert planned(plan, "aws_iam_openid_connect_provider.oidc")["client_id_list"] == ["sts.amazonaws.com"]
    assert planned(plan, "aws_launch_template.lt")["block_device_mappings"] == [{"device_name": "/dev/xvda"}]


def test_policy_objects_become_json_strings_and_secrets_are_unwrapped_and_sensitive() -> None:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}
    policy = aws("aws:iam/policy:Policy", "read", {"policy": document})
    secret = aws("aws:secretsmanager/secretVersion:SecretVersion", "v1", {"secretString": {"__secret__": "s3cr3t"}})
    plan = plan_of(policy, secret)
    assert json.loads(planned(plan, "aws_iam_policy.read")["policy"]) == document
    assert planned(plan, "aws_secretsmanager_secret_version.v1")["secret_string"] == "s3cr3t"
    (change,) = [c for c in plan["resource_changes"] if c["address"] == "aws_secretsmanager_secret_version.v1"]
    assert change["change"]["after_sensitive"] == {"secret_string": True}
    assert change["change"]["actions"] == ["create"]


# ------------------------------------------------------------------------------------ references
def test_ids_and_arns_of_other_resources_become_references() -> None:
    vpc = aws("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"})
    group = aws("aws:cloudwatch/logGroup:LogGroup", "flow-logs", {"name": "/flow-logs", "retentionInDays": 365})
    flow_log = aws("aws:ec2/flowLog:FlowLog", "flow-log", {"vpcId": vpc.id, "logDestination": group.outputs["arn"]})
    endpoint_sg = aws("aws:ec2/securityGroup:SecurityGroup", "endpoints", {"vpcId": vpc.id, "name": "endpoints"})
    endpoint = aws("aws:ec2/vpcEndpoint:VpcEndpoint", "sts", {"vpcId": vpc.id, "securityGroupIds": [endpoint_sg.id]})
    plan = plan_of(vpc, group, flow_log, endpoint_sg, endpoint)

    # A scalar is unknown until apply in the plan, and a reference in the configuration.
    assert planned(plan, "aws_flow_log.flow-log")["vpc_id"] is None
    assert expressions(plan, "aws_flow_log.flow-log") == {
        "vpc_id": {"references": ["aws_vpc.vpc.id", "aws_vpc.vpc"]},
        "log_destination": {
            "references": ["aws_cloudwatch_log_group.flow-logs.arn", "aws_cloudwatch_log_group.flow-logs"]
        },
    }
    # In a list, each element is the reference itself (checkov keeps only one reference per attribute).
    assert planned(plan, "aws_vpc_endpoint.sts")["security_group_ids"] == ["aws_security_group.endpoints.id"]
    # A resource's own name is never a reference to itself or anything else.
    assert planned(plan, "aws_cloudwatch_log_group.flow-logs")["name"] == "/flow-logs"
    assert expressions(plan, "aws_cloudwatch_log_group.flow-logs") == {}


def test_the_real_network_is_connected_in_the_plan() -> None:
    plan = to_plan(synth("production").resources)
    references = {
        (resource["address"], attribute): value["references"][0]
        for resource in plan["configuration"]["root_module"]["resources"]
        for attribute, value in resource["expressions"].items()
        if isinstance(value, dict)
    }
    assert references[("aws_flow_log.flow-log", "vpc_id")] == "aws_vpc.vpc.id"
    assert references[("aws_default_security_group.default-security-group", "vpc_id")] == "aws_vpc.vpc.id"
    assert references[("aws_cloudwatch_log_group.flow-logs", "kms_key_id")] == "aws_kms_key.logs-key.arn"
    assert references[("aws_iam_role_policy.flow-logs-role-policy", "role")] == "aws_iam_role.flow-logs-role.id"


def test_addresses_are_unique_and_deterministic() -> None:
    other_parent = "urn:pulumi:test::silhouette::silhouette:test:Component::dr"
    first = aws("aws:kms/key:Key", "key", {})
    second = aws("aws:kms/key:Key", "key", {}, parent=other_parent)
    odd = aws("aws:kms/key:Key", "key.with/odd chars", {})
    parent = CapturedResource(other_parent, "silhouette:test:Component", "dr", False, {}, {})
    assert list(addresses([first, parent, second, odd]).values()) == [
        "aws_kms_key.key",
        "aws_kms_key.dr-key",
        "aws_kms_key.key_with_odd_chars",
    ]


def test_a_missing_checkov_names_the_setup_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(checkov.CHECKOV_ENV_VAR, "/nonexistent/checkov")
    with pytest.raises(checkov.CheckovNotInstalledError, match="make setup"):
        checkov.checkov_executable()


# ------------------------------------------------------------------------------------ checkov end to end
WEAK_KEY = aws("aws:kms/key:Key", "weak-key", {"enableKeyRotation": False})
STRONG_KEY = aws("aws:kms/key:Key", "strong-key", {"enableKeyRotation": True})
SYNTHETIC: list[CapturedResource] = [
    provider(),
    WEAK_KEY,
    STRONG_KEY,
    aws("aws:cloudwatch/logGroup:LogGroup", "bare-logs", {"name": "/bare"}),
    aws(
        "aws:cloudwatch/logGroup:LogGroup", "skipped-logs", {"name": "/skipped", "kmsKeyId": STRONG_KEY.outputs["arn"]}
    ),
    aws(
        "aws:cloudwatch/logGroup:LogGroup",
        "good-logs",
        {"name": "/good", "retentionInDays": 365, "kmsKeyId": STRONG_KEY.outputs["arn"]},
    ),
    # S3: encryption is a separate resource that points at the bucket by name: a graph check.
    aws("aws:s3/bucket:Bucket", "plain-bucket", {"bucket": "plain-bucket"}),
    aws("aws:s3/bucket:Bucket", "kms-bucket", {"bucket": "kms-bucket"}),
    aws(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "kms-bucket-sse",
        {
            "bucket": "kms-bucket",
            "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}, "bucketKeyEnabled": True}],
        },
    ),
    aws(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "kms-bucket-lifecycle",
        {"bucket": "kms-bucket", "rules": [{"id": "expire", "status": "Enabled", "expiration": {"days": 30}}]},
    ),
    aws(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "plain-bucket-lifecycle",
        {
            "bucket": "plain-bucket",
            "rules": [
                {"id": "abort", "status": "Enabled", "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}}
            ],
        },
    ),
    # A VPC whose flow log is missing (graph check CKV2_AWS_11).
    aws("aws:ec2/vpc:Vpc", "unlogged-vpc", {"cidrBlock": "10.9.0.0/16"}),
    aws("aws:madeup/thing:Thing", "mystery", {"size": 1}),
    deployment("privileged", {"privileged": True}),
    deployment(
        "annotated",
        {"privileged": False, "allowPrivilegeEscalation": False},
        annotations={"checkov.io/skip1": "CKV_K8S_14=the image is pinned by digest at deploy time"},
    ),
    deployment("lazily-annotated", {"privileged": False}, annotations={"checkov.io/skip1": "CKV_K8S_43"}),
]
# The production network without what three graph checks look for.
STRIPPED_TYPES = (
    "aws:ec2/flowLog:FlowLog",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    "aws:ec2/vpcEndpoint:VpcEndpoint",
)
RECORDED_SKIP = Skip(
    "checkov_aws", "CKV_AWS_66", ("aws_cloudwatch_log_group.skipped-*",), "a recorded skip used only by this test"
)


# pulumi_eks.Cluster with none of the hardening: public endpoint, one log type, no secrets encryption.
WEAK_EKS = CapturedResource(
    urn="urn:pulumi:weak::silhouette::silhouette:cluster:Cluster$eks:index:Cluster::weak-eks",
    type="eks:index:Cluster",
    name="weak-eks",
    custom=False,
    inputs={"name": "weak", "version": "1.35", "enabledClusterLogTypes": ["api"], "privateSubnetIds": ["subnet-1"]},
    options={},
)


@pytest.mark.checkov
def test_checkov_sees_the_eks_cluster_inside_the_remote_component(scanned: dict[str, dict[str, CheckReport]]) -> None:
    """pulumi_eks.Cluster registers no children under mocks; the plan rebuilds its aws_eks_cluster so that
    checkov's EKS checks (logging, secrets encryption, endpoint access) run: they pass on production's
    cluster and fail on a weak one."""
    eks_checks = {"CKV_AWS_37", "CKV_AWS_38", "CKV_AWS_39", "CKV_AWS_58"}
    weak = {
        check
        for check, resource in failed(scanned["weak-eks"]["checkov_aws"])
        if resource == "aws_eks_cluster.weak-eks"
    }
    assert eks_checks <= weak, weak
    assert not {check for check, resource in failed(scanned["production"]["checkov_aws"]) if check in eks_checks}


@pytest.fixture(scope="module")
def scanned() -> Iterator[dict[str, dict[str, CheckReport]]]:
    """The synthetic resources and production without its Kubernetes resources (as it is, and stripped of
    what the graph checks follow), in one checkov scan. Only production's AWS report is read here; its
    Kubernetes objects are checked with the stack (``test_synth.py``)."""

    def with_recorded_skip(validator: str, stack: str | None = None) -> list[Skip]:
        return load_skips(validator, stack) + ([RECORDED_SKIP] if validator == "checkov_aws" else [])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checkov, "load_skips", with_recorded_skip)
        production = [r for r in synth("production").resources if not r.type.startswith("kubernetes:")]
        stripped = [resource for resource in production if resource.type not in STRIPPED_TYPES]
        yield checkov.run_many(
            {"synthetic": SYNTHETIC, "production": production, "stripped": stripped, "weak-eks": [WEAK_EKS]}
        )


def failed(report: CheckReport) -> set[tuple[str, str]]:
    return {(finding.check, finding.resource) for finding in report.failures}


@pytest.mark.checkov
def test_a_log_group_without_kms_and_retention_is_reported(scanned: dict[str, dict[str, CheckReport]]) -> None:
    report = scanned["synthetic"]["checkov_aws"]
    assert {
        ("CKV_AWS_158", "aws_cloudwatch_log_group.bare-logs"),
        ("CKV_AWS_66", "aws_cloudwatch_log_group.bare-logs"),
    } <= failed(report)
    assert not {finding for finding in failed(report) if finding[1] == "aws_cloudwatch_log_group.good-logs"}


@pytest.mark.checkov
def test_a_kms_key_without_rotation_is_reported(scanned: dict[str, dict[str, CheckReport]]) -> None:
    report = scanned["synthetic"]["checkov_aws"]
    assert ("CKV_AWS_7", "aws_kms_key.weak-key") in failed(report)
    assert ("CKV_AWS_7", "aws_kms_key.strong-key") not in failed(report)


@pytest.mark.checkov
def test_graph_checks_follow_the_references(scanned: dict[str, dict[str, CheckReport]]) -> None:
    """CKV_AWS_145 connects a bucket to its encryption resource; CKV2_AWS_11 a VPC to its flow log."""
    report = scanned["synthetic"]["checkov_aws"]
    assert ("CKV_AWS_145", "aws_s3_bucket.plain-bucket") in failed(report)
    assert ("CKV_AWS_145", "aws_s3_bucket.kms-bucket") not in failed(report)
    assert ("CKV2_AWS_11", "aws_vpc.unlogged-vpc") in failed(report)


@pytest.mark.checkov
def test_nested_blocks_are_read_under_their_terraform_names(scanned: dict[str, dict[str, CheckReport]]) -> None:
    """CKV_AWS_300 reads ``rule[].abort_incomplete_multipart_upload``: found only after de-pluralising."""
    report = scanned["synthetic"]["checkov_aws"]
    assert ("CKV_AWS_300", "aws_s3_bucket_lifecycle_configuration.kms-bucket-lifecycle") in failed(report)
    assert ("CKV_AWS_300", "aws_s3_bucket_lifecycle_configuration.plain-bucket-lifecycle") not in failed(report)


@pytest.mark.checkov
def test_an_unmapped_aws_type_is_a_failure(scanned: dict[str, dict[str, CheckReport]]) -> None:
    (finding,) = [f for f in scanned["synthetic"]["checkov_aws"].failures if f.check == checkov.UNMAPPED_CHECK]
    assert finding.resource == "aws:madeup/thing:Thing::mystery"
    assert "no Terraform mapping for aws:madeup/thing:Thing; add it to terraform_plan.py" in finding.message


@pytest.mark.checkov
def test_recorded_skips_move_findings_out_of_the_failures(scanned: dict[str, dict[str, CheckReport]]) -> None:
    report = scanned["synthetic"]["checkov_aws"]
    assert (RECORDED_SKIP, "aws_cloudwatch_log_group.skipped-logs") in report.skipped
    assert ("CKV_AWS_66", "aws_cloudwatch_log_group.skipped-logs") not in failed(report)


@pytest.mark.checkov
def test_a_privileged_deployment_is_reported(scanned: dict[str, dict[str, CheckReport]]) -> None:
    report = scanned["synthetic"]["checkov_kubernetes"]
    assert ("CKV_K8S_16", "Deployment/apps/privileged") in failed(report)
    assert ("CKV_K8S_16", "Deployment/apps/annotated") not in failed(report)
    assert report.checked > report.passed > 0


@pytest.mark.checkov
def test_checkov_annotations_are_reported_as_skips_with_their_reason(
    scanned: dict[str, dict[str, CheckReport]],
) -> None:
    report = scanned["synthetic"]["checkov_kubernetes"]
    skips = {(skip.check, resource): skip.reason for skip, resource in report.skipped}
    assert "the image is pinned by digest at deploy time" in skips[("CKV_K8S_14", "Deployment/apps/annotated")]
    # An annotation without a reason does not hide anything: it is a failure.
    assert ("CKV_K8S_43", "Deployment/apps/lazily-annotated") in failed(report)


@pytest.mark.checkov
def test_the_real_network_passes_the_graph_checks(scanned: dict[str, dict[str, CheckReport]]) -> None:
    """Flow logs on the VPC, the default security group emptied, the endpoint group attached: each
    check passes on the real network and fails once the resource it connects to is taken away."""
    graph_checks = {
        ("CKV2_AWS_11", "aws_vpc.vpc"),
        ("CKV2_AWS_12", "aws_vpc.vpc"),
        ("CKV2_AWS_5", "aws_security_group.endpoints-security-group"),
    }
    assert graph_checks <= failed(scanned["stripped"]["checkov_aws"])
    report = scanned["production"]["checkov_aws"]
    assert not graph_checks & failed(report)
    assert report.passed > 50


@pytest.mark.checkov
def test_a_stack_without_kubernetes_objects_says_so(scanned: dict[str, dict[str, CheckReport]]) -> None:
    report = scanned["stripped"]["checkov_kubernetes"]
    assert (report.checked, report.failures) == (0, [])
    assert any("no Kubernetes objects" in note for note in report.notes)
