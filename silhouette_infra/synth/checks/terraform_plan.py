"""Captured pulumi-aws registrations as a ``terraform show -json`` plan, for checkov's ``terraform_plan`` framework.

pulumi-aws is bridged from the Terraform AWS provider: every resource is a Terraform resource whose
attribute names the bridge rewrote. The conversion undoes exactly those rewrites and nothing else:

* type tokens map to Terraform types through an explicit table (``TERRAFORM_TYPES``); a type that
  is not in it is reported by the checker, never silently dropped (``unmapped``);
* camelCase wire names become snake_case at every level, except inside free-form maps (``tags``,
  ``labels`` ...), whose keys are user data;
* list blocks the bridge pluralised (Terraform ``rule``, Pulumi ``rules``) get their Terraform name
  back through a per-type table (``RENAMES``), because Terraform also has genuinely plural names
  (``block_device_mappings``, ``rotation_rules``) that must stay;
* blocks the bridge flattened to an object (``MaxItems: 1``) become one-element lists, as in a plan;
* a string that is the mock id, ARN or other computed attribute of another captured resource becomes
  a reference, so checkov's graph checks (``CKV2_*``) see the connection. A scalar attribute is
  written as Terraform writes a value known only after apply: ``null`` in the planned values, and
  ``{"references": ["aws_vpc.vpc.id", "aws_vpc.vpc"]}`` in the configuration's expressions, which
  checkov's plan parser substitutes. In a list, checkov substitutes only one reference per
  attribute, so each element is written as its reference address (``aws_subnet.a.id``) in the
  planned values as well, which checkov's graph builder resolves element by element.

Resource addresses are ``<terraform type>.<pulumi name>`` (characters Terraform does not allow in a
name become ``_``); a name used twice for one type is prefixed with its parent's name, then numbered.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from silhouette_infra.synth.engine.mocks import MOCK_ACCOUNT_ID, CapturedResource, unwrap_secrets

TERRAFORM_VERSION = "1.9.8"
PROVIDER_NAME = "registry.terraform.io/hashicorp/aws"

# pulumi-aws type token -> Terraform resource type. Both the v7 names and the older aliases that
# pulumi-aws v7 still ships (``BucketV2`` and friends) map to the one Terraform resource.
TERRAFORM_TYPES: dict[str, str] = {
    # ACM
    "aws:acm/certificate:Certificate": "aws_acm_certificate",
    "aws:acm/certificateValidation:CertificateValidation": "aws_acm_certificate_validation",
    # AWS Backup
    "aws:backup/plan:Plan": "aws_backup_plan",
    "aws:backup/selection:Selection": "aws_backup_selection",
    "aws:backup/vault:Vault": "aws_backup_vault",
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": "aws_backup_vault_lock_configuration",
    "aws:backup/vaultNotifications:VaultNotifications": "aws_backup_vault_notifications",
    "aws:backup/vaultPolicy:VaultPolicy": "aws_backup_vault_policy",
    # AWS Config
    "aws:cfg/deliveryChannel:DeliveryChannel": "aws_config_delivery_channel",
    "aws:cfg/recorder:Recorder": "aws_config_configuration_recorder",
    "aws:cfg/recorderStatus:RecorderStatus": "aws_config_configuration_recorder_status",
    "aws:cfg/rule:Rule": "aws_config_config_rule",
    # CloudTrail
    "aws:cloudtrail/trail:Trail": "aws_cloudtrail",
    # CloudWatch and EventBridge
    "aws:cloudwatch/eventRule:EventRule": "aws_cloudwatch_event_rule",
    "aws:cloudwatch/eventTarget:EventTarget": "aws_cloudwatch_event_target",
    "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": "aws_cloudwatch_log_metric_filter",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": "aws_cloudwatch_log_resource_policy",
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter": "aws_cloudwatch_log_subscription_filter",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "aws_cloudwatch_metric_alarm",
    # EC2 and VPC
    "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl": "aws_default_network_acl",
    "aws:ec2/defaultRouteTable:DefaultRouteTable": "aws_default_route_table",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "aws_default_security_group",
    "aws:ec2/eip:Eip": "aws_eip",
    "aws:ec2/flowLog:FlowLog": "aws_flow_log",
    "aws:ec2/internetGateway:InternetGateway": "aws_internet_gateway",
    "aws:ec2/launchTemplate:LaunchTemplate": "aws_launch_template",
    "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation": "aws_main_route_table_association",
    "aws:ec2/natGateway:NatGateway": "aws_nat_gateway",
    "aws:ec2/networkAcl:NetworkAcl": "aws_network_acl",
    "aws:ec2/networkAclRule:NetworkAclRule": "aws_network_acl_rule",
    "aws:ec2/route:Route": "aws_route",
    "aws:ec2/routeTable:RouteTable": "aws_route_table",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "aws_route_table_association",
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
    "aws:ec2/securityGroupRule:SecurityGroupRule": "aws_security_group_rule",
    "aws:ec2/subnet:Subnet": "aws_subnet",
    "aws:ec2/vpc:Vpc": "aws_vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "aws_vpc_endpoint",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "aws_vpc_security_group_egress_rule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "aws_vpc_security_group_ingress_rule",
    # ECR
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "aws_ecr_lifecycle_policy",
    "aws:ecr/replicationConfiguration:ReplicationConfiguration": "aws_ecr_replication_configuration",
    "aws:ecr/repository:Repository": "aws_ecr_repository",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "aws_ecr_repository_policy",
    # EKS
    "aws:eks/accessEntry:AccessEntry": "aws_eks_access_entry",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": "aws_eks_access_policy_association",
    "aws:eks/addon:Addon": "aws_eks_addon",
    "aws:eks/cluster:Cluster": "aws_eks_cluster",
    "aws:eks/nodeGroup:NodeGroup": "aws_eks_node_group",
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": "aws_eks_pod_identity_association",
    # ElastiCache
    "aws:elasticache/parameterGroup:ParameterGroup": "aws_elasticache_parameter_group",
    "aws:elasticache/replicationGroup:ReplicationGroup": "aws_elasticache_replication_group",
    "aws:elasticache/subnetGroup:SubnetGroup": "aws_elasticache_subnet_group",
    # GuardDuty
    "aws:guardduty/detector:Detector": "aws_guardduty_detector",
    "aws:guardduty/detectorFeature:DetectorFeature": "aws_guardduty_detector_feature",
    # IAM
    "aws:iam/instanceProfile:InstanceProfile": "aws_iam_instance_profile",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "aws_iam_openid_connect_provider",
    "aws:iam/policy:Policy": "aws_iam_policy",
    "aws:iam/policyAttachment:PolicyAttachment": "aws_iam_policy_attachment",
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
    # KMS
    "aws:kms/alias:Alias": "aws_kms_alias",
    "aws:kms/key:Key": "aws_kms_key",
    "aws:kms/keyPolicy:KeyPolicy": "aws_kms_key_policy",
    # Amazon MQ
    "aws:mq/broker:Broker": "aws_mq_broker",
    "aws:mq/configuration:Configuration": "aws_mq_configuration",
    # RDS
    "aws:rds/instance:Instance": "aws_db_instance",
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": (
        "aws_db_instance_automated_backups_replication"
    ),
    "aws:rds/parameterGroup:ParameterGroup": "aws_db_parameter_group",
    "aws:rds/proxy:Proxy": "aws_db_proxy",
    "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": "aws_db_proxy_default_target_group",
    "aws:rds/proxyTarget:ProxyTarget": "aws_db_proxy_target",
    "aws:rds/subnetGroup:SubnetGroup": "aws_db_subnet_group",
    # Route 53
    "aws:route53/record:Record": "aws_route53_record",
    "aws:route53/zone:Zone": "aws_route53_zone",
    # S3 (pulumi-aws v7: Bucket is the former BucketV2; the V2 names are deprecated aliases)
    "aws:s3/bucket:Bucket": "aws_s3_bucket",
    "aws:s3/bucketV2:BucketV2": "aws_s3_bucket",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "aws_s3_bucket_lifecycle_configuration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": "aws_s3_bucket_lifecycle_configuration",
    "aws:s3/bucketLogging:BucketLogging": "aws_s3_bucket_logging",
    "aws:s3/bucketLoggingV2:BucketLoggingV2": "aws_s3_bucket_logging",
    "aws:s3/bucketNotification:BucketNotification": "aws_s3_bucket_notification",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "aws_s3_bucket_ownership_controls",
    "aws:s3/bucketPolicy:BucketPolicy": "aws_s3_bucket_policy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "aws_s3_bucket_public_access_block",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "aws_s3_bucket_replication_configuration",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "aws_s3_bucket_server_side_encryption_configuration"
    ),
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": (
        "aws_s3_bucket_server_side_encryption_configuration"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": "aws_s3_bucket_versioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2": "aws_s3_bucket_versioning",
    # Secrets Manager
    "aws:secretsmanager/secret:Secret": "aws_secretsmanager_secret",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "aws_secretsmanager_secret_policy",
    "aws:secretsmanager/secretRotation:SecretRotation": "aws_secretsmanager_secret_rotation",
    "aws:secretsmanager/secretVersion:SecretVersion": "aws_secretsmanager_secret_version",
    # Security Hub
    "aws:securityhub/account:Account": "aws_securityhub_account",
    "aws:securityhub/standardsSubscription:StandardsSubscription": "aws_securityhub_standards_subscription",
    # Shield Advanced (edge.shield_advanced)
    "aws:shield/drtAccessRoleArnAssociation:DrtAccessRoleArnAssociation": "aws_shield_drt_access_role_arn_association",
    "aws:shield/proactiveEngagement:ProactiveEngagement": "aws_shield_proactive_engagement",
    "aws:shield/protection:Protection": "aws_shield_protection",
    "aws:shield/subscription:Subscription": "aws_shield_subscription",
    # SNS
    "aws:sns/topic:Topic": "aws_sns_topic",
    "aws:sns/topicPolicy:TopicPolicy": "aws_sns_topic_policy",
    "aws:sns/topicSubscription:TopicSubscription": "aws_sns_topic_subscription",
    # WAFv2
    "aws:wafv2/webAcl:WebAcl": "aws_wafv2_web_acl",
    "aws:wafv2/webAclAssociation:WebAclAssociation": "aws_wafv2_web_acl_association",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": "aws_wafv2_web_acl_logging_configuration",
    # X-Ray
    "aws:xray/encryptionConfig:EncryptionConfig": "aws_xray_encryption_config",
}

# Per Terraform type: Pulumi attribute (snake_case, optionally with its enclosing Pulumi blocks as a
# dotted suffix) -> Terraform name. The most specific suffix wins; names not listed keep their
# snake_case form. Only pluralisations the bridge made are here: Terraform's own plural names stay.
_S3_BUCKET_RULE_BLOCKS = {
    "transitions": "transition",
    "noncurrent_version_transitions": "noncurrent_version_transition",
}
RENAMES: dict[str, dict[str, str]] = {
    "aws_acm_certificate": {"validation_options": "validation_option"},
    "aws_backup_plan": {
        "rules": "rule",
        "copy_actions": "copy_action",
        "advanced_backup_settings": "advanced_backup_setting",
        "scan_actions": "scan_action",
        "scan_settings": "scan_setting",
    },
    "aws_backup_selection": {
        "selection_tags": "selection_tag",
        "conditions": "condition",
        "string_likes": "string_like",
        "string_not_likes": "string_not_like",
    },
    "aws_cloudtrail": {
        "event_selectors": "event_selector",
        "data_resources": "data_resource",
        "advanced_event_selectors": "advanced_event_selector",
        "field_selectors": "field_selector",
        "ends_withs": "ends_with",
        "not_ends_withs": "not_ends_with",
        "starts_withs": "starts_with",
        "not_starts_withs": "not_starts_with",
        "insight_selectors": "insight_selector",
    },
    "aws_cloudwatch_event_target": {
        "capacity_provider_strategies": "capacity_provider_strategy",
        "ordered_placement_strategies": "ordered_placement_strategy",
        "placement_constraints": "placement_constraint",
        "pipeline_parameter_lists": "pipeline_parameter_list",
    },
    "aws_cloudwatch_metric_alarm": {"metric_queries": "metric_query"},
    "aws_config_config_rule": {"source_details": "source_detail", "evaluation_modes": "evaluation_mode"},
    "aws_config_configuration_recorder": {"recording_strategies": "recording_strategy"},
    "aws_db_parameter_group": {"parameters": "parameter"},
    "aws_default_route_table": {"routes": "route"},
    "aws_ecr_repository": {
        "encryption_configurations": "encryption_configuration",
        "image_tag_mutability_exclusion_filters": "image_tag_mutability_exclusion_filter",
    },
    "aws_eks_addon": {"pod_identity_associations": "pod_identity_association"},
    "aws_eks_node_group": {"taints": "taint"},
    "aws_elasticache_parameter_group": {"parameters": "parameter"},
    "aws_elasticache_replication_group": {
        "log_delivery_configurations": "log_delivery_configuration",
        "node_group_configurations": "node_group_configuration",
    },
    "aws_guardduty_detector_feature": {"additional_configurations": "additional_configuration"},
    "aws_iam_openid_connect_provider": {"client_id_lists": "client_id_list", "thumbprint_lists": "thumbprint_list"},
    "aws_iam_role": {"inline_policies": "inline_policy"},
    "aws_launch_template": {"license_specifications": "license_specification"},
    "aws_mq_broker": {"users": "user"},
    "aws_route53_record": {
        "aliases": "alias",
        "failover_routing_policies": "failover_routing_policy",
        "geolocation_routing_policies": "geolocation_routing_policy",
        "latency_routing_policies": "latency_routing_policy",
        "weighted_routing_policies": "weighted_routing_policy",
    },
    "aws_route53_zone": {"vpcs": "vpc"},
    "aws_route_table": {"routes": "route"},
    "aws_s3_bucket": {
        # Bucket (v7) flattens most blocks; BucketV2 kept them as pluralised lists.
        "cors_rules": "cors_rule",
        "grants": "grant",
        "lifecycle_rules": "lifecycle_rule",
        "expirations": "expiration",
        "noncurrent_version_expirations": "noncurrent_version_expiration",
        "loggings": "logging",
        "object_lock_configuration.rules": "rule",
        "default_retentions": "default_retention",
        "replication_configurations": "replication_configuration",
        # Terraform's own name inside replication_configuration is ``rules``: it stays.
        "destinations": "destination",
        "access_control_translations": "access_control_translation",
        "replication_times": "replication_time",
        "filters": "filter",
        "source_selection_criterias": "source_selection_criteria",
        "server_side_encryption_configurations": "server_side_encryption_configuration",
        "server_side_encryption_configurations.rules": "rule",
        "apply_server_side_encryption_by_defaults": "apply_server_side_encryption_by_default",
        "versionings": "versioning",
        "websites": "website",
        **_S3_BUCKET_RULE_BLOCKS,
    },
    "aws_s3_bucket_lifecycle_configuration": {"rules": "rule", **_S3_BUCKET_RULE_BLOCKS},
    "aws_s3_bucket_logging": {"target_grants": "target_grant"},
    "aws_s3_bucket_notification": {"lambda_functions": "lambda_function", "queues": "queue", "topics": "topic"},
    "aws_s3_bucket_replication_configuration": {"rules": "rule"},
    "aws_s3_bucket_server_side_encryption_configuration": {"rules": "rule"},
    "aws_secretsmanager_secret": {"replicas": "replica"},
    "aws_secretsmanager_secret_rotation": {"external_secret_rotation_metadatas": "external_secret_rotation_metadata"},
    "aws_shield_proactive_engagement": {"emergency_contacts": "emergency_contact"},
    "aws_vpc_endpoint": {"subnet_configurations": "subnet_configuration"},
    "aws_wafv2_web_acl": {
        "rules": "rule",
        "custom_response_bodies": "custom_response_body",
        "rule_labels": "rule_label",
        "statements": "statement",
        "text_transformations": "text_transformation",
        "rule_action_overrides": "rule_action_override",
        "excluded_rules": "excluded_rule",
        "custom_keys": "custom_key",
        "insert_headers": "insert_header",
        "header_orders": "header_order",
        "match_patterns": "match_pattern",
        "asn_lists": "asn_list",
    },
    "aws_wafv2_web_acl_logging_configuration": {"logging_filter.filters": "filter", "conditions": "condition"},
}

# Attributes whose value is a map of user data: kept verbatim (keys are not converted).
FREE_FORM_MAPS = frozenset(
    {
        "tags",
        "tags_all",
        "labels",
        "dimensions",
        "recovery_point_tags",
        "backup_options",
        "variables",
        "parameters",
        "header_parameters",
        "query_string_parameters",
        "input_paths",
    }
)
# Attributes Terraform holds as a JSON string; Pulumi also accepts an object (``PolicyDocument``).
JSON_STRING_ATTRIBUTES = frozenset(
    {"policy", "assume_role_policy", "policy_document", "access_policy", "access_policies", "container_definitions"}
)
# Attributes that name the resource itself: equal to another resource's id by coincidence, never a reference.
_NOT_REFERENCES = frozenset({"name", "name_prefix", "description", "bucket_prefix", "identifier"})
# Computed outputs of the mocks that are not attributes of another resource worth referencing.
_NOT_INDEXED_OUTPUTS = frozenset({"ownerId", "tagsAll", "id", "urn"})
_SECRET = "__secret__"
_UNKNOWN = "<unknown>"


def terraform_type(type_token: str) -> str | None:
    return TERRAFORM_TYPES.get(type_token)


def unmapped(resources: list[CapturedResource]) -> list[CapturedResource]:
    """AWS resources with no Terraform mapping: the checker reports each of them as a failure."""
    return [resource for resource in _aws(resources) if resource.type not in TERRAFORM_TYPES]


def snake_case(name: str) -> str:
    """``cidrBlock`` -> ``cidr_block``, ``ipv6CidrBlock`` -> ``ipv6_cidr_block``, ``s3Logs`` -> ``s3_logs``."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def addresses(resources: list[CapturedResource]) -> dict[str, str]:
    """URN -> Terraform address of every mapped AWS resource, unique and deterministic."""
    by_urn = {resource.urn: resource for resource in resources}
    taken: set[str] = set()
    result: dict[str, str] = {}
    for resource in _aws(resources):
        tf_type = TERRAFORM_TYPES.get(resource.type)
        if tf_type is None:
            continue
        name = _sanitise(resource.name)
        address = f"{tf_type}.{name}"
        if address in taken:
            parent = by_urn.get(resource.parent_urn)
            parent_name = parent.name if parent else resource.parent_urn.rpartition("::")[2]
            address = f"{tf_type}.{_sanitise(parent_name)}-{name}" if parent_name else address
        base, number = address, 2
        while address in taken:
            address, number = f"{base}-{number}", number + 1
        taken.add(address)
        result[resource.urn] = address
    return result


def eks_component_as_cluster(resource: CapturedResource) -> CapturedResource:
    """``pulumi_eks.Cluster`` is a remote component: under mocks it registers no children, so the
    ``aws.eks.Cluster`` it creates is rebuilt from the component's inputs, attribute by attribute, for
    checkov's EKS checks (logging, secrets encryption, endpoint access)."""
    inputs = resource.inputs
    cluster: dict[str, Any] = {
        "name": inputs.get("name"),
        "version": inputs.get("version"),
        "enabledClusterLogTypes": inputs.get("enabledClusterLogTypes", []),
        "vpcConfig": {
            "endpointPrivateAccess": inputs.get("endpointPrivateAccess", False),
            "endpointPublicAccess": inputs.get("endpointPublicAccess", True),
            "publicAccessCidrs": inputs.get("publicAccessCidrs", ["0.0.0.0/0"]),
            "subnetIds": inputs.get("privateSubnetIds", []) + inputs.get("publicSubnetIds", []),
        },
        "accessConfig": {"authenticationMode": inputs.get("authenticationMode", "CONFIG_MAP")},
        "deletionProtection": inputs.get("deletionProtection", False),
        "tags": inputs.get("tags", {}),
    }
    if "encryptionConfigKeyArn" in inputs:
        cluster["encryptionConfig"] = {
            "provider": {"keyArn": inputs["encryptionConfigKeyArn"]},
            "resources": ["secrets"],
        }
    if "upgradePolicy" in inputs:
        cluster["upgradePolicy"] = inputs["upgradePolicy"]
    return CapturedResource(
        urn=resource.urn,
        type="aws:eks/cluster:Cluster",
        name=resource.name,
        custom=True,
        inputs=cluster,
        options=resource.options,
        id=str(inputs.get("name", resource.name)),
        outputs=resource.outputs,
    )


def to_plan(resources: list[CapturedResource]) -> dict[str, Any]:
    """A ``terraform show -json`` document of a plan that creates every mapped AWS resource."""
    resources = [eks_component_as_cluster(r) if r.type == "eks:index:Cluster" else r for r in resources]
    address_of = addresses(resources)
    default_tags = _default_tags_by_provider(resources)
    index = _ReferenceIndex(resources, address_of)
    planned: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    configured: list[dict[str, Any]] = []
    for resource in _aws(resources):
        address = address_of.get(resource.urn)
        if address is None:
            continue
        tf_type, _, name = address.partition(".")
        converter = _Converter(tf_type, resource.urn, index)
        values, expressions, unknown = converter.block(resource.inputs, ())
        if isinstance(values.get("tags"), dict):
            provider_tags = default_tags.get(str(resource.options.get("provider", "")), {})
            values["tags_all"] = {**provider_tags, **values["tags"]}
        identity = {"address": address, "mode": "managed", "type": tf_type, "name": name}
        planned.append({**identity, "provider_name": PROVIDER_NAME, "schema_version": 0, "values": values})
        changes.append(
            {
                **identity,
                "provider_name": PROVIDER_NAME,
                "change": {
                    "actions": ["create"],
                    "before": None,
                    "after": values,
                    "after_unknown": unknown,
                    "before_sensitive": False,
                    "after_sensitive": dict.fromkeys(converter.sensitive, True),
                },
            }
        )
        configured.append({**identity, "provider_config_key": "aws", "expressions": expressions, "schema_version": 0})
    return {
        "format_version": "1.2",
        "terraform_version": TERRAFORM_VERSION,
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {"aws": {"name": "aws", "full_name": PROVIDER_NAME}},
            "root_module": {"resources": configured},
        },
    }


# ---------------------------------------------------------------------------------------- internals
def _aws(resources: list[CapturedResource]) -> list[CapturedResource]:
    return [resource for resource in resources if resource.custom and resource.type.startswith("aws:")]


def _sanitise(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    return cleaned if re.match(r"[A-Za-z_]", cleaned) else f"_{cleaned}"


def _unwrap(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {_SECRET}:
        return _unwrap(value[_SECRET])
    return value


def _is_free_form(name: str, value: dict[str, Any]) -> bool:
    """A map of user data, by name, or because its keys could not be attribute names (``kubernetes.io/role``)."""
    return name in FREE_FORM_MAPS or any(not re.fullmatch(r"[a-z][A-Za-z0-9]*", key) for key in value)


def _default_tags_by_provider(resources: list[CapturedResource]) -> dict[str, dict[str, str]]:
    """Provider reference (``urn::id``, as in a resource's options) -> the provider's default tags."""
    result: dict[str, dict[str, str]] = {}
    for resource in resources:
        if resource.type != "pulumi:providers:aws":
            continue
        raw = _unwrap(resource.inputs.get("defaultTags"))
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError:
                raw = None
        tags = raw.get("tags") if isinstance(raw, dict) else None
        if isinstance(tags, dict):
            result[f"{resource.urn}::{resource.id}"] = {str(key): str(value) for key, value in tags.items()}
    return result


@dataclass(frozen=True)
class _Target:
    urn: str
    address: str
    attribute: str

    @property
    def tf_type(self) -> str:
        return self.address.partition(".")[0]


class _ReferenceIndex:
    """Every id, ARN and computed string attribute of a mapped resource -> the resources that have it."""

    def __init__(self, resources: list[CapturedResource], address_of: dict[str, str]) -> None:
        self._targets: dict[str, list[_Target]] = {}
        for resource in resources:
            address = address_of.get(resource.urn)
            if address is None:
                continue
            self._add(resource.id, _Target(resource.urn, address, "id"))
            for key, value in resource.outputs.items():
                if key in _NOT_INDEXED_OUTPUTS or key in resource.inputs:
                    continue
                self._add(value, _Target(resource.urn, address, snake_case(key)))

    def _add(self, value: Any, target: _Target) -> None:
        if isinstance(value, str) and len(value) >= 6 and value not in (MOCK_ACCOUNT_ID, _UNKNOWN):
            targets = self._targets.setdefault(value, [])
            if all(existing.urn != target.urn for existing in targets):
                targets.append(target)

    def lookup(self, value: Any, attribute: str, own_urn: str) -> list[str] | None:
        """``["aws_vpc.vpc.id", "aws_vpc.vpc"]`` when ``value`` is another resource's attribute."""
        if not isinstance(value, str) or attribute in _NOT_REFERENCES:
            return None
        candidates = [target for target in self._targets.get(value, []) if target.urn != own_urn]
        if not candidates:
            return None
        stem = re.sub(r"_(ids?|arns?|names?)$", "", attribute)
        stem = stem[:-1] if stem.endswith("s") and not stem.endswith("ss") else stem
        preferred = [target for target in candidates if target.tf_type.endswith(f"_{stem}")]
        target = (preferred or candidates)[0]
        return [f"{target.address}.{target.attribute}", target.address]


class _Converter:
    """Converts one resource's inputs: values, configuration expressions and unknowns."""

    def __init__(self, tf_type: str, urn: str, index: _ReferenceIndex) -> None:
        self.tf_type = tf_type
        self.urn = urn
        self.index = index
        self.renames = RENAMES.get(tf_type, {})
        self.sensitive: set[str] = set()

    def name(self, path: tuple[str, ...], key: str) -> str:
        full = (*path, snake_case(key))
        for start in range(len(full)):
            renamed = self.renames.get(".".join(full[start:]))
            if renamed is not None:
                return renamed
        return full[-1]

    def block(
        self, attributes: dict[str, Any], path: tuple[str, ...]
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        values: dict[str, Any] = {}
        expressions: dict[str, Any] = {}
        unknown: dict[str, Any] = {}
        for key, raw in attributes.items():
            if key.startswith("__"):
                continue
            name = self.name(path, key)
            if not path and isinstance(raw, dict) and set(raw) == {_SECRET}:
                self.sensitive.add(name)
            value = _unwrap(raw)
            if name in JSON_STRING_ATTRIBUTES and isinstance(value, dict | list):
                values[name] = json.dumps(unwrap_secrets(value))
            elif isinstance(value, dict) and _is_free_form(name, value):
                values[name] = unwrap_secrets(value)
            elif isinstance(value, dict) or (
                isinstance(value, list) and any(isinstance(_unwrap(v), dict) for v in value)
            ):
                items = value if isinstance(value, list) else [value]
                converted, item_expressions = [], []
                for item in (_unwrap(item) for item in items):
                    if isinstance(item, dict):
                        item_values, item_expression, _ = self.block(item, (*path, snake_case(key)))
                    else:
                        item_values, item_expression = item, {}
                    converted.append(item_values)
                    item_expressions.append(item_expression)
                values[name] = converted
                if any(item_expressions):
                    expressions[name] = item_expressions
            elif isinstance(value, list):
                elements, references = [], []
                for element in (_unwrap(element) for element in value):
                    reference = self.index.lookup(element, name, self.urn)
                    elements.append(reference[0] if reference else (None if element == _UNKNOWN else element))
                    references += reference or []
                values[name] = elements
                if references:
                    expressions[name] = {"references": references}
            else:
                reference = self.index.lookup(value, name, self.urn)
                if reference or value == _UNKNOWN:
                    values[name] = None
                    unknown[name] = True
                    if reference:
                        expressions[name] = {"references": reference}
                else:
                    values[name] = value
        return values, expressions, unknown
