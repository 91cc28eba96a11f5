"""Which input changes replace a resource (delete and create), for every type the program declares.

pulumi-aws is bridged from the Terraform AWS provider: an attribute marked ``ForceNew`` in the Terraform
resource's schema cannot change in place, so the bridge plans a replacement when its value changes. The
table lists those attributes by their Pulumi (camelCase) names, per type, with where they come from:

- ``SOURCE_READ``: the attributes were read in that schema for this table (the file named in ``source``).
- ``SOURCE_DOCUMENTED``: taken from the provider's documentation of the resource (its argument reference
  says "forces a new resource", or the resource has no update operation at all); not re-read in the
  schema. Treat these as the best available answer, not as proof: ``pulumi preview`` has the last word.

A dotted name is a nested attribute (``encryptionOptions.kmsKeyId``); a change at or below a listed name
replaces. A ``replace_on_changes`` resource option the program sets counts as well (``diff.py``).
``stateful`` marks the types whose replacement or deletion loses data (databases, caches, brokers,
buckets, keys, vaults, secrets, repositories, the cluster): ``stateful.py`` and the review's exit code
use it. Component resources (``silhouette:*``, and ``eks:index:Cluster``'s own children) are not
replaced themselves; a component that is not in the table is reported as "replacing properties
unknown", never silently as an in-place update.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE_READ = "read in the provider schema"
SOURCE_DOCUMENTED = "from the provider documentation, not re-read in the schema"

_TF = "terraform-provider-aws internal/service/"
_K8S_NAME = ("metadata.name", "metadata.namespace")


@dataclass(frozen=True)
class Replacing:
    """The replacing (ForceNew) properties of one type, where that list comes from, and whether the
    type holds data that a replacement loses."""

    properties: tuple[str, ...]
    source: str
    evidence: str = SOURCE_DOCUMENTED
    stateful: bool = False
    note: str = ""


def _k8s(*immutable: str, note: str = "") -> Replacing:
    """A Kubernetes object: a new name or namespace is a new object (pulumi-kubernetes replaces it), plus
    the fields the API server refuses to change on that kind."""
    return Replacing(
        (*_K8S_NAME, *immutable),
        "pulumi-kubernetes (name/namespace change replaces); Kubernetes API reference (immutable fields)",
        note=note,
    )


REPLACING: dict[str, Replacing] = {
    # ---- stateful: a replacement or deletion loses data
    "aws:rds/instance:Instance": Replacing(
        (
            "identifier",
            "identifierPrefix",
            "engine",
            "kmsKeyId",
            "storageEncrypted",
            "username",
            "dbName",
            "characterSetName",
            "ncharCharacterSetName",
            "timezone",
            "snapshotIdentifier",
            "restoreToPointInTime",
            "customIamInstanceProfile",
            "availabilityZone",
        ),
        _TF + "rds/instance.go",
        evidence=SOURCE_READ,
        stateful=True,
        note="read in a 2022 version of the schema (the newest one was not available here); availabilityZone "
        "from the documentation",
    ),
    "aws:elasticache/replicationGroup:ReplicationGroup": Replacing(
        (
            "replicationGroupId",
            "atRestEncryptionEnabled",
            "dataTieringEnabled",
            "globalReplicationGroupId",
            "kmsKeyId",
            "networkType",
            "port",
            "securityGroupNames",
            "snapshotArns",
            "snapshotName",
            "subnetGroupName",
        ),
        _TF + "elasticache/replication_group.go",
        evidence=SOURCE_READ,
        stateful=True,
        note="also replaced, by CustomizeDiff, not listed: an engine or engine version downgrade, a changed "
        "nodeGroupConfiguration, and transitEncryptionEnabled below Redis 7.0.5",
    ),
    "aws:mq/broker:Broker": Replacing(
        (
            "brokerName",
            "dataReplicationPrimaryBrokerArn",
            "deploymentMode",
            "encryptionOptions",
            "engineType",
            "ldapServerMetadata",
            "publiclyAccessible",
            "subnetIds",
        ),
        _TF + "mq/broker.go",
        evidence=SOURCE_READ,
        stateful=True,
        note="users of a RabbitMQ broker: the schema ignores their changes after creation (DiffSuppressFunc), "
        "although the pulumi_aws docstring says a change recreates the broker; the program ignores them too",
    ),
    "aws:s3/bucket:Bucket": Replacing(
        ("bucket", "bucketPrefix", "objectLockEnabled"), _TF + "s3/bucket.go", stateful=True
    ),
    "aws:kms/key:Key": Replacing(
        ("customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"),
        _TF + "kms/key.go",
        evidence=SOURCE_READ,
        stateful=True,
    ),
    "aws:backup/vault:Vault": Replacing(
        ("name", "kmsKeyArn"), _TF + "backup/vault.go", evidence=SOURCE_READ, stateful=True
    ),
    "aws:secretsmanager/secret:Secret": Replacing(
        ("name", "namePrefix"), _TF + "secretsmanager/secret.go", evidence=SOURCE_READ, stateful=True
    ),
    "aws:ecr/repository:Repository": Replacing(
        ("name", "encryptionConfigurations"), _TF + "ecr/repository.go", evidence=SOURCE_READ, stateful=True
    ),
    "eks:index:Cluster": Replacing(
        ("name", "encryptionConfigKeyArn", "serviceRole", "kubernetesNetworkConfig"),
        "pulumi-eks Cluster (a component: its aws:eks/cluster:Cluster child replaces on name, roleArn, "
        "encryptionConfig and kubernetesNetworkConfig, " + _TF + "eks/cluster.go)",
        stateful=True,
        note="uncertain: a remote component creates no children under mocks, so the mapping from the "
        "component's inputs to its cluster's replacing attributes is not checked here",
    ),
    # ---- network
    "aws:ec2/vpc:Vpc": Replacing(("cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"), _TF + "ec2/vpc_.go"),
    "aws:ec2/subnet:Subnet": Replacing(
        ("vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId", "outpostArn"),
        _TF + "ec2/vpc_subnet.go",
    ),
    "aws:ec2/internetGateway:InternetGateway": Replacing((), _TF + "ec2/vpc_internet_gateway.go"),
    "aws:ec2/eip:Eip": Replacing(
        ("domain", "address", "customerOwnedIpv4Pool", "networkBorderGroup", "publicIpv4Pool", "ipamPoolId"),
        _TF + "ec2/ec2_eip.go",
    ),
    "aws:ec2/natGateway:NatGateway": Replacing(
        ("allocationId", "subnetId", "connectivityType", "privateIp"), _TF + "ec2/vpc_nat_gateway.go"
    ),
    "aws:ec2/routeTable:RouteTable": Replacing(("vpcId",), _TF + "ec2/vpc_route_table.go"),
    "aws:ec2/route:Route": Replacing(
        ("routeTableId", "destinationCidrBlock", "destinationIpv6CidrBlock", "destinationPrefixListId"),
        _TF + "ec2/vpc_route.go",
    ),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": Replacing(
        ("subnetId", "gatewayId"), _TF + "ec2/vpc_route_table_association.go"
    ),
    "aws:ec2/securityGroup:SecurityGroup": Replacing(
        ("name", "namePrefix", "description", "vpcId"), _TF + "ec2/vpc_security_group.go"
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": Replacing(
        ("vpcId",), _TF + "ec2/vpc_default_security_group.go"
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": Replacing(
        ("vpcId", "serviceName", "vpcEndpointType", "serviceRegion"), _TF + "ec2/vpc_endpoint.go"
    ),
    "aws:ec2/flowLog:FlowLog": Replacing(
        (
            "vpcId",
            "subnetId",
            "eniId",
            "transitGatewayId",
            "iamRoleArn",
            "logDestination",
            "logDestinationType",
            "logFormat",
            "logGroupName",
            "trafficType",
            "maxAggregationInterval",
            "destinationOptions",
            "deliverCrossAccountRole",
        ),
        _TF + "ec2/vpc_flow_log.go",
        note="every argument but tags: a flow log cannot be modified",
    ),
    "aws:ec2/launchTemplate:LaunchTemplate": Replacing(
        ("name", "namePrefix"),
        _TF + "ec2/ec2_launch_template.go",
        note="any other change writes a new template version in place",
    ),
    # ---- cluster
    "aws:eks/nodeGroup:NodeGroup": Replacing(
        (
            "clusterName",
            "nodeGroupName",
            "nodeGroupNamePrefix",
            "nodeRoleArn",
            "subnetIds",
            "amiType",
            "capacityType",
            "diskSize",
            "instanceTypes",
            "remoteAccess",
            "launchTemplate.id",
            "launchTemplate.name",
        ),
        _TF + "eks/node_group.go",
        note="launchTemplate.version updates in place",
    ),
    "aws:eks/addon:Addon": Replacing(("clusterName", "addonName"), _TF + "eks/addon.go"),
    "aws:iam/role:Role": Replacing(("name", "namePrefix", "path"), _TF + "iam/role.go"),
    "aws:iam/rolePolicy:RolePolicy": Replacing(("name", "namePrefix", "role"), _TF + "iam/role_policy.go"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": Replacing(
        ("role", "policyArn"), _TF + "iam/role_policy_attachment.go"
    ),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": Replacing(("repository",), _TF + "ecr/lifecycle_policy.go"),
    # Registry-wide, updated in place: the resource's rules are one updatable block.
    "aws:ecr/replicationConfiguration:ReplicationConfiguration": Replacing(
        (), _TF + "ecr/replication_configuration.go"
    ),
    # ---- data services, their groups and secrets
    "aws:rds/subnetGroup:SubnetGroup": Replacing(("name", "namePrefix"), _TF + "rds/subnet_group.go"),
    "aws:rds/parameterGroup:ParameterGroup": Replacing(
        ("name", "namePrefix", "family", "description"), _TF + "rds/parameter_group.go"
    ),
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": Replacing(
        ("sourceDbInstanceArn", "kmsKeyId", "retentionPeriod", "preSignedUrl"),
        _TF + "rds/instance_automated_backups_replication.go",
        note="the resource has no update: every argument replaces it",
    ),
    "aws:rds/proxy:Proxy": Replacing(("name", "engineFamily", "vpcSubnetIds"), _TF + "rds/proxy.go"),
    "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": Replacing(
        ("dbProxyName",), _TF + "rds/proxy_default_target_group.go"
    ),
    "aws:rds/proxyTarget:ProxyTarget": Replacing(
        ("dbProxyName", "targetGroupName", "dbInstanceIdentifier", "dbClusterIdentifier"),
        _TF + "rds/proxy_target.go",
        note="the resource has no update: every argument replaces it",
    ),
    "aws:elasticache/subnetGroup:SubnetGroup": Replacing(("name",), _TF + "elasticache/subnet_group.go"),
    "aws:elasticache/parameterGroup:ParameterGroup": Replacing(
        ("name", "family", "description"), _TF + "elasticache/parameter_group.go"
    ),
    "aws:secretsmanager/secretVersion:SecretVersion": Replacing(
        ("secretId", "secretString", "secretBinary"),
        _TF + "secretsmanager/secret_version.go",
        note="uncertain for secretString: recent provider versions may update it in place",
    ),
    "aws:kms/alias:Alias": Replacing(("name", "namePrefix"), _TF + "kms/alias.go"),
    "random:index/randomPassword:RandomPassword": Replacing(
        (
            "length",
            "special",
            "upper",
            "lower",
            "numeric",
            "number",
            "minSpecial",
            "minUpper",
            "minLower",
            "minNumeric",
            "overrideSpecial",
            "keepers",
        ),
        "terraform-provider-random internal/provider/resource_password.go (every argument RequiresReplace)",
        note="a new password, not lost data: the services using it get the new value on the same update",
    ),
    # ---- backup and the S3 bucket's configuration resources
    "aws:backup/plan:Plan": Replacing(("name",), _TF + "backup/plan.go"),
    "aws:backup/selection:Selection": Replacing(
        ("name", "planId", "iamRoleArn", "resources", "notResources", "selectionTags", "conditions"),
        _TF + "backup/selection.go",
        note="the resource has no update: every argument replaces it",
    ),
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": Replacing(
        ("backupVaultName", "changeableForDays", "maxRetentionDays", "minRetentionDays"),
        _TF + "backup/vault_lock_configuration.go",
        note="the resource has no update: every argument replaces it",
    ),
    **{
        f"aws:s3/{token}": Replacing(("bucket", "expectedBucketOwner"), _TF + f"s3/{source}")
        for token, source in (
            ("bucketLifecycleConfiguration:BucketLifecycleConfiguration", "bucket_lifecycle_configuration.go"),
            ("bucketLogging:BucketLogging", "bucket_logging.go"),
            ("bucketNotification:BucketNotification", "bucket_notification.go"),
            ("bucketOwnershipControls:BucketOwnershipControls", "bucket_ownership_controls.go"),
            ("bucketPolicy:BucketPolicy", "bucket_policy.go"),
            ("bucketPublicAccessBlock:BucketPublicAccessBlock", "bucket_public_access_block.go"),
            ("bucketReplicationConfig:BucketReplicationConfig", "bucket_replication_configuration.go"),
            (
                "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                "bucket_server_side_encryption_configuration.go",
            ),
            ("bucketVersioning:BucketVersioning", "bucket_versioning.go"),
        )
    },
    # ---- edge, audit, observability
    "aws:acm/certificate:Certificate": Replacing(
        ("domainName", "subjectAlternativeNames", "keyAlgorithm", "certificateAuthorityArn", "privateKey"),
        _TF + "acm/certificate.go",
    ),
    "aws:acm/certificateValidation:CertificateValidation": Replacing(
        ("certificateArn", "validationRecordFqdns"),
        _TF + "acm/certificate_validation.go",
        note="the resource has no update: every argument replaces it",
    ),
    "aws:route53/record:Record": Replacing(("zoneId", "name", "type", "setIdentifier"), _TF + "route53/record.go"),
    "aws:wafv2/webAcl:WebAcl": Replacing(("name", "namePrefix", "scope"), _TF + "wafv2/web_acl.go"),
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": Replacing(
        ("resourceArn",), _TF + "wafv2/web_acl_logging_configuration.go"
    ),
    "aws:cloudwatch/logGroup:LogGroup": Replacing(
        ("name", "namePrefix", "logGroupClass"),
        _TF + "logs/group.go",
        note="replacing a log group deletes the logs it holds",
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": Replacing(
        ("alarmName",), _TF + "cloudwatch/metric_alarm.go", note="uncertain: alarmName may update in place"
    ),
    "aws:sns/topic:Topic": Replacing(("name", "namePrefix", "fifoTopic"), _TF + "sns/topic.go"),
    "aws:sns/topicPolicy:TopicPolicy": Replacing(("arn",), _TF + "sns/topic_policy.go"),
    "aws:sns/topicSubscription:TopicSubscription": Replacing(
        ("topic", "protocol", "endpoint"), _TF + "sns/topic_subscription.go"
    ),
    "aws:cloudtrail/trail:Trail": Replacing(("name",), _TF + "cloudtrail/trail.go"),
    "aws:cfg/recorder:Recorder": Replacing(("name",), _TF + "configservice/configuration_recorder.go"),
    "aws:cfg/recorderStatus:RecorderStatus": Replacing(
        ("name",), _TF + "configservice/configuration_recorder_status.go"
    ),
    "aws:cfg/deliveryChannel:DeliveryChannel": Replacing(("name",), _TF + "configservice/delivery_channel.go"),
    "aws:cfg/rule:Rule": Replacing(("name",), _TF + "configservice/config_rule.go"),
    "aws:guardduty/detector:Detector": Replacing((), _TF + "guardduty/detector.go"),
    "aws:guardduty/detectorFeature:DetectorFeature": Replacing(
        ("detectorId", "name"), _TF + "guardduty/detector_feature.go"
    ),
    "aws:securityhub/account:Account": Replacing(
        ("enableDefaultStandards",), _TF + "securityhub/account.go", note="uncertain for enableDefaultStandards"
    ),
    "aws:securityhub/standardsSubscription:StandardsSubscription": Replacing(
        ("standardsArn",), _TF + "securityhub/standards_subscription.go"
    ),
    "aws:xray/encryptionConfig:EncryptionConfig": Replacing((), _TF + "xray/encryption_config.go"),
    # ---- providers: a provider whose region changes is replaced, and with it every resource it manages
    "pulumi:providers:aws": Replacing(
        ("region",),
        "pulumi-terraform-bridge (provider DiffConfig)",
        note="uncertain: which provider inputs replace the provider, and whether its resources follow, "
        "is decided by the provider at preview time",
    ),
    "pulumi:providers:kubernetes": Replacing(
        (), "pulumi-kubernetes provider", note="uncertain: a new cluster (kubeconfig) is a new target for every object"
    ),
    "pulumi:providers:random": Replacing((), "pulumi-random provider"),
    # ---- Kubernetes objects and Helm releases
    "kubernetes:apps/v1:Deployment": _k8s("spec.selector"),
    "kubernetes:apps/v1:StatefulSet": _k8s(
        "spec.selector",
        "spec.serviceName",
        "spec.volumeClaimTemplates",
        "spec.podManagementPolicy",
        note="a replaced StatefulSet keeps its PersistentVolumeClaims (the default retention policy), so "
        "the data on them survives; the pods restart",
    ),
    "kubernetes:batch/v1:Job": _k8s("spec.selector", "spec.template", "spec.completions"),
    "kubernetes:batch/v1:CronJob": _k8s(),
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": _k8s(),
    "kubernetes:core/v1:ConfigMap": _k8s(note="an immutable ConfigMap's data cannot change either"),
    "kubernetes:core/v1:LimitRange": _k8s(),
    "kubernetes:core/v1:Namespace": _k8s(note="replacing a namespace deletes everything in it"),
    "kubernetes:core/v1:ResourceQuota": _k8s(),
    "kubernetes:core/v1:Service": _k8s("spec.clusterIP", "spec.clusterIPs"),
    "kubernetes:core/v1:ServiceAccount": _k8s(),
    "kubernetes:networking.k8s.io/v1:Ingress": _k8s(),
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": _k8s(),
    "kubernetes:policy/v1:PodDisruptionBudget": _k8s(),
    "kubernetes:storage.k8s.io/v1:StorageClass": _k8s(
        "provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"
    ),
    "kubernetes:external-secrets.io/v1:ClusterSecretStore": _k8s(),
    "kubernetes:external-secrets.io/v1:ExternalSecret": _k8s(),
    "kubernetes:keda.sh/v1alpha1:ScaledObject": _k8s(),
    "kubernetes:keda.sh/v1alpha1:TriggerAuthentication": _k8s(),
    "kubernetes:monitoring.coreos.com/v1:PrometheusRule": _k8s(),
    "kubernetes:monitoring.coreos.com/v1:ServiceMonitor": _k8s(),
    "kubernetes:helm.sh/v3:Release": Replacing(
        ("name", "namespace"),
        "pulumi-kubernetes helm.sh/v3 Release",
        note="uncertain: a new release name or namespace installs a new release; the chart's own objects "
        "(not visible offline) follow the chart's rules",
    ),
}


def replacing(type_token: str) -> Replacing | None:
    """The table's entry for a type; ``None`` for components and for types missing from the table."""
    return REPLACING.get(type_token)


def is_stateful(type_token: str) -> bool:
    entry = REPLACING.get(type_token)
    return entry is not None and entry.stateful
