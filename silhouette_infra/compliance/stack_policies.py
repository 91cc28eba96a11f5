"""Policies that need more than one resource (``StackValidationPolicy``): a bucket and its encryption, policy
and public-access block; a database and its DR copy; a namespace and its NetworkPolicies; protection.

Offline the properties are synth's captured inputs with the mock's outputs; under ``pulumi preview`` they are
the engine's outputs, which carry the same names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from silhouette_infra.compliance.model import Resource, get, items, json_document, truthy
from silhouette_infra.compliance.resource_policies import LOG_GROUP, RDS_INSTANCE
from silhouette_infra.compliance.stateful import STATEFUL_TYPES

BUCKET: Final = "aws:s3/bucket:Bucket"
BUCKET_ENCRYPTION: Final = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BUCKET_POLICY: Final = "aws:s3/bucketPolicy:BucketPolicy"
PUBLIC_ACCESS_BLOCK: Final = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_LOGGING: Final = "aws:s3/bucketLogging:BucketLogging"
TRAIL: Final = "aws:cloudtrail/trail:Trail"
EKS_COMPONENT: Final = "eks:index:Cluster"
EKS_CLUSTER: Final = "aws:eks/cluster:Cluster"
BACKUP_PLAN: Final = "aws:backup/plan:Plan"
RDS_BACKUP_REPLICATION: Final = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
NAMESPACE: Final = "kubernetes:core/v1:Namespace"
NETWORK_POLICY: Final = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
WORKLOAD_TYPES: Final = tuple(
    f"kubernetes:{kind}"
    for kind in ("apps/v1:Deployment", "apps/v1:StatefulSet", "apps/v1:DaemonSet", "batch/v1:Job", "batch/v1:CronJob")
)
AUDIT_RETENTION_DAYS: Final = 2557  # 7 years: CloudWatch Logs' retention value for 7 years (PutRetentionPolicy)
ACCESS_LOG_TARGET_REASON: Final = (
    "a bucket that receives S3 server access logs may use SSE-S3 instead: backup.py chose SSE-S3 for its access-log "
    "bucket because the Amazon S3 user guide ('Enabling Amazon S3 server access logging') gives SSE-S3 as the "
    "default encryption log delivery supports; the bucket holds request metadata, not customer data"
)
ELASTICACHE_EXPORT_REASON: Final = (
    "a bucket whose policy grants ElastiCache's snapshot service principal (<region>.elasticache-snapshot."
    "amazonaws.com) may use SSE-S3 instead: ElastiCache seeds a cache only from an .rdb encrypted with SSE-S3 (Amazon "
    "ElastiCache user guide, 'Tutorial: Seeding a new node-based cluster with an externally created backup'), so "
    "backup.py's Redis export bucket and its DR replica hold the exported snapshots under SSE-S3"
)
EKS_DELETION_PROTECTION_REASON: Final = (
    "the EKS cluster is a remote component (pulumi-eks) that is not given Pulumi's protect; EKS deletion "
    "protection (deletionProtection) refuses DeleteCluster from any client, Pulumi included, and counts instead"
)

Found = list[tuple[Resource, str]]


def _of(resources: Sequence[Resource], type_token: str) -> list[Resource]:
    return [resource for resource in resources if resource.type == type_token]


def _by_bucket(resources: Sequence[Resource], type_token: str) -> dict[str, Resource]:
    return {str(r.props.get("bucket")): r for r in _of(resources, type_token)}


def _bucket_name(bucket: Resource) -> str:
    return str(bucket.props.get("bucket") or bucket.props.get("id") or bucket.name)


def _log_targets(resources: Sequence[Resource]) -> set[str]:
    return {str(r.props.get("targetBucket")) for r in _of(resources, BUCKET_LOGGING)}


def _elasticache_export_buckets(resources: Sequence[Resource]) -> set[str]:
    """Buckets whose policy grants ElastiCache's snapshot service principal (ELASTICACHE_EXPORT_REASON)."""
    found: set[str] = set()
    for policy in _of(resources, BUCKET_POLICY):
        for statement in items(get(json_document(policy.props.get("policy")), "Statement")):
            principal = get(statement, "Principal", "Service")
            if get(statement, "Effect") == "Allow" and str(principal).endswith(".elasticache-snapshot.amazonaws.com"):
                found.add(str(policy.props.get("bucket")))
    return found


def s3_encrypted(resources: Sequence[Resource]) -> Found:
    configurations = _by_bucket(resources, BUCKET_ENCRYPTION)
    log_targets = _log_targets(resources)
    elasticache_exports = _elasticache_export_buckets(resources)
    found: Found = []
    for bucket in _of(resources, BUCKET):
        name = _bucket_name(bucket)
        rule = get(configurations.get(name, bucket).props, "rules", 0, "applyServerSideEncryptionByDefault")
        algorithm = get(rule, "sseAlgorithm")
        if name in log_targets and algorithm == "AES256":
            continue  # ACCESS_LOG_TARGET_REASON
        if name in elasticache_exports and algorithm == "AES256":
            continue  # ELASTICACHE_EXPORT_REASON
        if name not in configurations:
            found.append((bucket, "no BucketServerSideEncryptionConfiguration"))
        elif algorithm not in ("aws:kms", "aws:kms:dsse") or not get(rule, "kmsMasterKeyId"):
            found.append((bucket, f"default encryption {algorithm!r} without a customer-managed kmsMasterKeyId"))
    return found


def _denies_insecure_transport(document: Any) -> bool:
    for statement in items(get(document, "Statement")):
        secure = get(statement, "Condition", "Bool", "aws:SecureTransport")
        if get(statement, "Effect") == "Deny" and str(secure).lower() == "false":
            return True
    return False


def s3_tls_only(resources: Sequence[Resource]) -> Found:
    policies = _by_bucket(resources, BUCKET_POLICY)
    found: Found = []
    for bucket in _of(resources, BUCKET):
        policy = policies.get(_bucket_name(bucket))
        document = json_document(policy.props.get("policy")) if policy else None
        if not _denies_insecure_transport(document):
            found.append((bucket, "no bucket policy statement denies requests with aws:SecureTransport false"))
    return found


def s3_public_access_blocked(resources: Sequence[Resource]) -> Found:
    blocks = _by_bucket(resources, PUBLIC_ACCESS_BLOCK)
    keys = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    found: Found = []
    for bucket in _of(resources, BUCKET):
        block = blocks.get(_bucket_name(bucket))
        missing = [key for key in keys if block is None or not truthy(block.props.get(key))]
        if missing:
            found.append((bucket, f"public access not blocked: {', '.join(missing)} not true"))
    return found


def audit_log_groups(resources: Sequence[Resource]) -> list[Resource]:
    """CloudTrail's log group (named by the trail) and every EKS control-plane group (/aws/eks/<name>/cluster)."""
    trail_groups = {str(r.props.get("cloudWatchLogsGroupArn") or "").removesuffix(":*") for r in _of(resources, TRAIL)}
    groups = []
    for group in _of(resources, LOG_GROUP):
        name = str(group.props.get("name") or "")
        is_trail = any(arn.endswith(f":log-group:{name}") for arn in trail_groups if arn)
        if is_trail or (name.startswith("/aws/eks/") and name.endswith("/cluster")):
            groups.append(group)
    return groups


def audit_log_retention(resources: Sequence[Resource]) -> Found:
    found: Found = []
    for group in audit_log_groups(resources):
        days = group.props.get("retentionInDays")
        if not isinstance(days, int | float) or days < AUDIT_RETENTION_DAYS:
            found.append((group, f"audit-class log group kept {days!r} days, under {AUDIT_RETENTION_DAYS}"))
    return found


def dr_copies(resources: Sequence[Resource]) -> Found:
    """Every RDS instance replicates its automated backups to another region; every backup plan rule copies
    its recovery points to a vault in another region."""
    replicated = {str(r.props.get("sourceDbInstanceArn") or "") for r in _of(resources, RDS_BACKUP_REPLICATION)}
    found: Found = []
    for instance in _of(resources, RDS_INSTANCE):
        identifier = str(instance.props.get("identifier") or instance.name)
        if not any(arn.endswith(f":db:{identifier}") for arn in replicated):
            found.append((instance, "automated backups are not replicated to the DR region"))
    for plan in _of(resources, BACKUP_PLAN):
        for rule in items(plan.props.get("rules")):
            if not items(get(rule, "copyActions")):
                found.append((plan, f"rule {get(rule, 'ruleName')!r} makes no copy to the DR region's vault"))
    return found


def _is_default_deny(policy: Resource) -> bool:
    """Selects every pod of its namespace and allows nothing, in both directions."""
    spec = policy.props.get("spec")
    selects_all = not get(spec, "podSelector", "matchLabels") and not items(
        get(spec, "podSelector", "matchExpressions")
    )
    both = {"Ingress", "Egress"} <= set(items(get(spec, "policyTypes")))
    return selects_all and both and not items(get(spec, "ingress")) and not items(get(spec, "egress"))


def namespaces_with_workloads(resources: Sequence[Resource]) -> list[Resource]:
    """The namespaces where the program itself declares workloads (Helm charts' own namespaces are not judged)."""
    with_workloads = {get(r.props, "metadata", "namespace") for r in resources if r.type in WORKLOAD_TYPES}
    return [ns for ns in _of(resources, NAMESPACE) if get(ns.props, "metadata", "name") in with_workloads]


def default_deny(resources: Sequence[Resource]) -> Found:
    """Every namespace where the program declares workloads has a NetworkPolicy selecting all its pods that
    denies all ingress and egress (the allowed flows are added by other policies)."""
    denied = {get(p.props, "metadata", "namespace") for p in _of(resources, NETWORK_POLICY) if _is_default_deny(p)}
    return [
        (namespace, "holds workloads but has no default-deny NetworkPolicy (ingress and egress)")
        for namespace in namespaces_with_workloads(resources)
        if get(namespace.props, "metadata", "name") not in denied
    ]


def _eks_deletion_protected(component: Resource, resources: Sequence[Resource]) -> bool:
    """The component's own input (offline), or the EKS cluster it creates (its child, under the CLI)."""
    clusters = [r for r in resources if r.type == EKS_CLUSTER and r.parent == component.urn]
    return any(truthy(r.props.get("deletionProtection")) for r in [component, *clusters])


def stateful_protected(resources: Sequence[Resource]) -> Found:
    found: Found = []
    for resource in resources:
        if resource.type not in STATEFUL_TYPES or resource.protect:
            continue
        if resource.type == EKS_COMPONENT and _eks_deletion_protected(resource, resources):
            continue  # EKS_DELETION_PROTECTION_REASON
        found.append((resource, "stateful and not protected (Pulumi protect)"))
    return found
