"""Policies that judge one resource at a time by its input properties (``ResourceValidationPolicy``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from silhouette_infra.aws import iam
from silhouette_infra.compliance.model import Resource, get, items, json_document, truthy

RDS_INSTANCE: Final = "aws:rds/instance:Instance"
RDS_CLUSTER: Final = "aws:rds/cluster:Cluster"
RDS_PARAMETER_GROUP: Final = "aws:rds/parameterGroup:ParameterGroup"
RDS_PROXY: Final = "aws:rds/proxy:Proxy"
REPLICATION_GROUP: Final = "aws:elasticache/replicationGroup:ReplicationGroup"
BROKER: Final = "aws:mq/broker:Broker"
LAUNCH_TEMPLATE: Final = "aws:ec2/launchTemplate:LaunchTemplate"
EBS_VOLUME: Final = "aws:ebs/volume:Volume"
NODE_GROUP: Final = "aws:eks/nodeGroup:NodeGroup"
STORAGE_CLASS: Final = "kubernetes:storage.k8s.io/v1:StorageClass"
LOG_GROUP: Final = "aws:cloudwatch/logGroup:LogGroup"
SECRET: Final = "aws:secretsmanager/secret:Secret"
TOPIC: Final = "aws:sns/topic:Topic"
REPOSITORY: Final = "aws:ecr/repository:Repository"
EKS_COMPONENT: Final = "eks:index:Cluster"
EKS_CLUSTER: Final = "aws:eks/cluster:Cluster"
INGRESS: Final = "kubernetes:networking.k8s.io/v1:Ingress"
LISTENER: Final = "aws:lb/listener:Listener"
NAMESPACE: Final = "kubernetes:core/v1:Namespace"
SERVICE: Final = "kubernetes:core/v1:Service"
ROLE_POLICY: Final = "aws:iam/rolePolicy:RolePolicy"
IAM_POLICY: Final = "aws:iam/policy:Policy"

EBS_CSI: Final = "ebs.csi.aws.com"
AUDIT_LOG_TYPES: Final = ("api", "audit", "authenticator")
# ELB security policies that negotiate TLS 1.2 or 1.3 only (Application Load Balancer security policies, ELB
# user guide): the TLS13 family, and the TLS 1.2 policies of 2017 and later.
TLS_POLICY_PREFIXES: Final = ("ELBSecurityPolicy-TLS13-", "ELBSecurityPolicy-TLS-1-2-", "ELBSecurityPolicy-FS-1-2-")
MIN_BACKUP_DAYS: Final = 7
NAMESPACE_EXCEPTIONS: Final[dict[str, str]] = {
    "monitoring": (
        "kube-prometheus-stack's node-exporter and the aws-for-fluent-bit DaemonSet need host networking, the "
        "host PID namespace and hostPath mounts, which the restricted and baseline levels refuse; the namespace "
        "enforces privileged and warns and audits at baseline (namespaces/component.py)"
    ),
}


def _cmk(value: Any) -> bool:
    """A customer-managed key: an ARN or id of a key, not an alias of an AWS-managed key (``alias/aws/...``)."""
    return isinstance(value, str) and bool(value) and "alias/aws/" not in value


# ---- encryption at rest with customer-managed keys


def data_store_encrypted(resource: Resource) -> list[str]:
    """RDS (``storageEncrypted``) and ElastiCache (``atRestEncryptionEnabled``): the switch and the key."""
    flag = "atRestEncryptionEnabled" if resource.type == REPLICATION_GROUP else "storageEncrypted"
    problems = [] if truthy(resource.props.get(flag)) else [f"{flag} is not true"]
    if not _cmk(resource.props.get("kmsKeyId")):
        problems.append("no customer-managed kmsKeyId")
    return problems


def ebs_encrypted(resource: Resource) -> list[str]:
    props = resource.props
    if resource.type == LAUNCH_TEMPLATE:
        problems = []
        for mapping in items(props.get("blockDeviceMappings")):
            device = get(mapping, "deviceName") or "?"
            if not truthy(get(mapping, "ebs", "encrypted")) or not _cmk(get(mapping, "ebs", "kmsKeyId")):
                problems.append(f"block device {device} is not encrypted with a customer-managed kmsKeyId")
        return problems
    if resource.type == EBS_VOLUME:
        encrypted = truthy(props.get("encrypted")) and _cmk(props.get("kmsKeyId"))
        return [] if encrypted else ["the volume is not encrypted with a customer-managed kmsKeyId"]
    if resource.type == STORAGE_CLASS and props.get("provisioner") == EBS_CSI:
        parameters = props.get("parameters")
        encrypted = truthy(get(parameters, "encrypted")) and _cmk(get(parameters, "kmsKeyId"))
        return [] if encrypted else ["its EBS volumes are not encrypted with a customer-managed kmsKeyId parameter"]
    return []


def logs_encrypted(resource: Resource) -> list[str]:
    return [] if _cmk(resource.props.get("kmsKeyId")) else ["no customer-managed kmsKeyId"]


def secret_encrypted(resource: Resource) -> list[str]:
    return [] if _cmk(resource.props.get("kmsKeyId")) else ["no customer-managed kmsKeyId (aws/secretsmanager is used)"]


def topic_encrypted(resource: Resource) -> list[str]:
    return [] if _cmk(resource.props.get("kmsMasterKeyId")) else ["no customer-managed kmsMasterKeyId"]


def repository_encrypted(resource: Resource) -> list[str]:
    configurations = items(resource.props.get("encryptionConfigurations"))
    encrypted = any(get(c, "encryptionType") == "KMS" and _cmk(get(c, "kmsKey")) for c in configurations)
    return [] if encrypted else ["not encrypted with encryptionType KMS and a customer-managed kmsKey"]


# ---- encryption in transit


def rds_force_ssl(resource: Resource) -> list[str]:
    """The database's parameter group refuses plain connections, and so does RDS Proxy in front of it."""
    if resource.type == RDS_PROXY:
        return [] if truthy(resource.props.get("requireTls")) else ["requireTls is not true"]
    family = str(resource.props.get("family") or "")
    if not family.startswith("postgres"):
        return []
    parameters = {get(p, "name"): str(get(p, "value")) for p in items(resource.props.get("parameters"))}
    return [] if parameters.get("rds.force_ssl") == "1" else ["rds.force_ssl is not 1"]


def redis_transit_encrypted(resource: Resource) -> list[str]:
    props = resource.props
    if not truthy(props.get("transitEncryptionEnabled")):
        return ["transitEncryptionEnabled is not true"]
    if props.get("transitEncryptionMode") == "preferred":
        return ["transitEncryptionMode is 'preferred' (plain-text connections still accepted)"]
    return []


def _tls_policy(policy: Any) -> bool:
    return isinstance(policy, str) and policy.startswith(TLS_POLICY_PREFIXES)


def alb_tls(resource: Resource) -> list[str]:
    """The ALB is created by the AWS Load Balancer Controller from the Ingress annotations (or, if ever
    declared directly, an HTTPS listener)."""
    props = resource.props
    if resource.type == LISTENER:
        if props.get("protocol") != "HTTPS":
            redirect = get(props, "defaultActions", 0, "redirect", "protocol") == "HTTPS"
            return [] if redirect else [f"protocol {props.get('protocol')!r} neither HTTPS nor a redirect to HTTPS"]
        ssl_policy = props.get("sslPolicy")
        return [] if _tls_policy(ssl_policy) else [f"sslPolicy {ssl_policy!r} allows TLS below 1.2"]
    annotations = get(props, "metadata", "annotations") or {}
    is_alb = get(props, "spec", "ingressClassName") == "alb" or annotations.get("kubernetes.io/ingress.class") == "alb"
    if not is_alb:
        return []
    problems = []
    ssl_policy = annotations.get("alb.ingress.kubernetes.io/ssl-policy")
    if not _tls_policy(ssl_policy):
        problems.append(f"alb.ingress.kubernetes.io/ssl-policy {ssl_policy!r} allows TLS below 1.2")
    listen_ports = json_document(annotations.get("alb.ingress.kubernetes.io/listen-ports")) or []
    plain = [port for port in items(listen_ports) if isinstance(port, Mapping) and "HTTP" in port]
    if plain and annotations.get("alb.ingress.kubernetes.io/ssl-redirect") is None:
        problems.append("an HTTP listener without alb.ingress.kubernetes.io/ssl-redirect")
    return problems


# ---- no publicly reachable data store


def data_store_private(resource: Resource) -> list[str]:
    """Managed data services are not publicly accessible; no Kubernetes Service (Neo4j's included) is exposed
    outside the cluster: the ALB reaches pods directly (target type ip), so nothing needs a node port."""
    if resource.type == SERVICE:
        kind = get(resource.props, "spec", "type") or "ClusterIP"
        return [] if kind == "ClusterIP" else [f"Service type {kind!r} exposes it outside the cluster"]
    return ["publiclyAccessible is true"] if truthy(resource.props.get("publiclyAccessible")) else []


# ---- backups, Multi-AZ


def backup_retention(resource: Resource) -> list[str]:
    key = "snapshotRetentionLimit" if resource.type == REPLICATION_GROUP else "backupRetentionPeriod"
    days = resource.props.get(key)
    if isinstance(days, int | float) and days >= MIN_BACKUP_DAYS:
        return []
    return [f"{key} is {days!r}, under {MIN_BACKUP_DAYS} days"]


def multi_az(resource: Resource) -> list[str]:
    props = resource.props
    if resource.type in (RDS_INSTANCE,):
        return [] if truthy(props.get("multiAz")) else ["multiAz is not true (single-AZ)"]
    if resource.type == REPLICATION_GROUP:
        nodes = props.get("numCacheClusters")
        ok = truthy(props.get("multiAzEnabled")) and truthy(props.get("automaticFailoverEnabled"))
        ok = ok and isinstance(nodes, int | float) and nodes >= 2
        return [] if ok else ["not multiAzEnabled with automaticFailoverEnabled over 2+ nodes"]
    if resource.type == BROKER:
        mode = props.get("deploymentMode")
        multi = mode in ("CLUSTER_MULTI_AZ", "ACTIVE_STANDBY_MULTI_AZ")
        return [] if multi else [f"deploymentMode {mode!r} is single-AZ"]
    return []


# ---- nodes and the cluster


def imdsv2(resource: Resource) -> list[str]:
    if resource.type == NODE_GROUP:
        has_template = get(resource.props, "launchTemplate", "id") or get(resource.props, "launchTemplate", "name")
        return [] if has_template else ["no launch template: its nodes take the AMI's metadata defaults"]
    tokens = get(resource.props, "metadataOptions", "httpTokens")
    return [] if tokens == "required" else [f"metadataOptions.httpTokens is {tokens!r}, not 'required'"]


def _eks(props: Mapping[str, Any], component_key: str, cluster_path: tuple[str, ...]) -> Any:
    return props.get(component_key) if component_key in props else get(props, *cluster_path)


def eks_private_endpoint(resource: Resource) -> list[str]:
    props = resource.props
    private = _eks(props, "endpointPrivateAccess", ("vpcConfig", "endpointPrivateAccess"))
    public = _eks(props, "endpointPublicAccess", ("vpcConfig", "endpointPublicAccess"))
    cidrs = _eks(props, "publicAccessCidrs", ("vpcConfig", "publicAccessCidrs"))
    problems = [] if truthy(private) else ["endpointPrivateAccess is not true"]
    if public is None or truthy(public):
        open_cidrs = not items(cidrs) or "0.0.0.0/0" in items(cidrs)
        if open_cidrs:
            problems.append("the public endpoint is open to 0.0.0.0/0")
    return problems


def eks_secrets_encryption(resource: Resource) -> list[str]:
    if resource.type == EKS_COMPONENT:
        key = resource.props.get("encryptionConfigKeyArn")
    else:
        config = resource.props.get("encryptionConfig")
        secrets = "secrets" in items(get(config, "resources"))
        key = get(config, "provider", "keyArn") if secrets else None
    return [] if _cmk(key) else ["Kubernetes secrets are not envelope-encrypted with a customer-managed key"]


def eks_audit_logs(resource: Resource) -> list[str]:
    enabled = set(items(resource.props.get("enabledClusterLogTypes")))
    missing = [kind for kind in AUDIT_LOG_TYPES if kind not in enabled]
    return [f"control-plane log types {missing} are not enabled"] if missing else []


def pod_security_restricted(resource: Resource) -> list[str]:
    name = get(resource.props, "metadata", "name")
    if name in NAMESPACE_EXCEPTIONS:
        return []
    enforced = get(resource.props, "metadata", "labels", "pod-security.kubernetes.io/enforce")
    return [] if enforced == "restricted" else [f"pod-security.kubernetes.io/enforce is {enforced!r}, not 'restricted'"]


# ---- IAM


def _explained_by_some_document(document: Any) -> bool:
    names = {name for name, _ in iam.WILDCARD_REASONS}
    return any(not iam.unexplained_wildcards(name, document) for name in names)


def iam_wildcards_explained(resource: Resource) -> list[str]:
    """A wildcard grant passes when a document recorded in ``aws/iam.py``'s ``WILDCARD_REASONS`` explains every
    wildcard of this policy; the reasons live next to the documents that need them."""
    document = json_document(resource.props.get("policy"))
    if not isinstance(document, Mapping):
        return []
    found = iam.wildcards(dict(document))
    if not found or _explained_by_some_document(dict(document)):
        return []
    granted = ", ".join(f"{sid}: {item}" for sid, item in found)
    return [f"grants wildcards with no recorded reason ({granted})"]
