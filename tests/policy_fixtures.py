"""Small passing and violating resources for every policy of the pack (tests/test_policy_*.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from silhouette_infra.compliance.model import Resource

KEY = "arn:aws:kms:us-east-1:123456789012:key/1111"
BUCKET = "silhouette-test-bucket"


def r(type_token: str, resource_name: str, /, *, protect: bool = False, parent: str = "", **props: Any) -> Resource:
    """A resource as a policy sees it (``props`` in the engine's camelCase names)."""
    urn = f"urn:pulumi:test::silhouette::{type_token}::{resource_name}"
    return Resource(type_token, resource_name, props, urn, protect, parent)


def k8s(kind: str, name: str, namespace: str | None = None, **body: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"metadata": {**metadata, **body.pop("metadata", {})}, **body}


@dataclass(frozen=True)
class Case:
    """``good`` passes the policy; ``bad`` violates it with a message containing ``expect``."""

    good: list[Resource]
    bad: list[Resource]
    expect: str


RDS = "aws:rds/instance:Instance"
REDIS = "aws:elasticache/replicationGroup:ReplicationGroup"
BROKER = "aws:mq/broker:Broker"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
NS = "kubernetes:core/v1:Namespace"
SERVICE = "kubernetes:core/v1:Service"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
S3 = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
EKS = "eks:index:Cluster"
ALB_ANNOTATIONS = {
    "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "alb.ingress.kubernetes.io/listen-ports": json.dumps([{"HTTP": 80}, {"HTTPS": 443}]),
    "alb.ingress.kubernetes.io/ssl-redirect": "443",
}
DENY_HTTP = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": f"arn:aws:s3:::{BUCKET}/*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
PAB_ALL: dict[str, Any] = {
    "blockPublicAcls": True,
    "blockPublicPolicy": True,
    "ignorePublicAcls": True,
    "restrictPublicBuckets": True,
}
DEFAULT_DENY = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def sse(algorithm: str, key: str | None) -> Resource:
    default = {"sseAlgorithm": algorithm, **({"kmsMasterKeyId": key} if key else {})}
    return r(SSE, "sse", bucket=BUCKET, rules=[{"applyServerSideEncryptionByDefault": default}])


def _rds(**overrides: Any) -> Resource:
    props = {
        "identifier": "db",
        "storageEncrypted": True,
        "kmsKeyId": KEY,
        "publiclyAccessible": False,
        "backupRetentionPeriod": 14,
        "multiAz": True,
    }
    return r(RDS, "postgres", **{**props, **overrides})


def _redis(**overrides: Any) -> Resource:
    props = {
        "atRestEncryptionEnabled": True,
        "kmsKeyId": KEY,
        "transitEncryptionEnabled": True,
        "transitEncryptionMode": "required",
        "snapshotRetentionLimit": 7,
        "multiAzEnabled": True,
        "automaticFailoverEnabled": True,
        "numCacheClusters": 2.0,
    }
    return r(REDIS, "redis", **{**props, **overrides})


def _lt(encrypted: str = "true", tokens: str = "required") -> Resource:
    device = {"deviceName": "/dev/xvda", "ebs": {"encrypted": encrypted, "kmsKeyId": KEY}}
    return r(LT, "nodes", blockDeviceMappings=[device], metadataOptions={"httpTokens": tokens})


def _eks(**overrides: Any) -> Resource:
    props = {
        "endpointPrivateAccess": True,
        "endpointPublicAccess": False,
        "encryptionConfigKeyArn": KEY,
        "enabledClusterLogTypes": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
        "deletionProtection": True,
    }
    return r(EKS, "eks", **{**props, **overrides})


def _eks_with_protected_child() -> list[Resource]:
    """Under the CLI the component's outputs need not repeat its inputs; the cluster it creates carries them."""
    component = r(EKS, "second-eks", encryptionConfigKeyArn=KEY)
    child = r("aws:eks/cluster:Cluster", "second-eks-cluster", parent=component.urn, deletionProtection=True)
    return [component, child]


def _namespace(name: str, level: str = "restricted") -> Resource:
    labels = {"pod-security.kubernetes.io/enforce": level}
    return r(NS, f"{name}-ns", **k8s("Namespace", name, metadata={"labels": labels}))


def _workload(namespace: str) -> Resource:
    return r(DEPLOYMENT, "app", **k8s("Deployment", "app", namespace))


def _policy_doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


CASES: dict[str, Case] = {
    "rds-encrypted-with-cmk": Case([_rds()], [_rds(kmsKeyId="alias/aws/rds")], "no customer-managed kmsKeyId"),
    "elasticache-encrypted-with-cmk": Case(
        [_redis()], [_redis(atRestEncryptionEnabled=False)], "atRestEncryptionEnabled is not true"
    ),
    "ebs-encrypted-with-cmk": Case(
        [
            _lt(),
            r(
                "kubernetes:storage.k8s.io/v1:StorageClass",
                "gp3",
                provisioner="ebs.csi.aws.com",
                parameters={"encrypted": "true", "kmsKeyId": KEY},
            ),
        ],
        [_lt(encrypted="false")],
        "block device /dev/xvda is not encrypted",
    ),
    "s3-encrypted-with-cmk": Case(
        [r(S3, "b", bucket=BUCKET), sse("aws:kms", KEY)],
        [r(S3, "b", bucket=BUCKET), sse("AES256", None)],
        "default encryption 'AES256' without a customer-managed kmsMasterKeyId",
    ),
    "cloudwatch-logs-encrypted-with-cmk": Case(
        [r("aws:cloudwatch/logGroup:LogGroup", "logs", kmsKeyId=KEY)],
        [r("aws:cloudwatch/logGroup:LogGroup", "logs")],
        "no customer-managed kmsKeyId",
    ),
    "secrets-encrypted-with-cmk": Case(
        [r("aws:secretsmanager/secret:Secret", "s", kmsKeyId=KEY)],
        [r("aws:secretsmanager/secret:Secret", "s")],
        "aws/secretsmanager is used",
    ),
    "sns-encrypted-with-cmk": Case(
        [r("aws:sns/topic:Topic", "t", kmsMasterKeyId=KEY)],
        [r("aws:sns/topic:Topic", "t", kmsMasterKeyId="alias/aws/sns")],
        "no customer-managed kmsMasterKeyId",
    ),
    "ecr-encrypted-with-cmk": Case(
        [
            r(
                "aws:ecr/repository:Repository",
                "repo",
                encryptionConfigurations=[{"encryptionType": "KMS", "kmsKey": KEY}],
            )
        ],
        [r("aws:ecr/repository:Repository", "repo", encryptionConfigurations=[{"encryptionType": "AES256"}])],
        "encryptionType KMS",
    ),
    "rds-force-ssl": Case(
        [
            r(
                "aws:rds/parameterGroup:ParameterGroup",
                "pg",
                family="postgres17",
                parameters=[{"name": "rds.force_ssl", "value": "1"}],
            ),
            r("aws:rds/proxy:Proxy", "proxy", requireTls=True),
        ],
        [
            r("aws:rds/parameterGroup:ParameterGroup", "pg", family="postgres17", parameters=[]),
            r("aws:rds/proxy:Proxy", "proxy", requireTls=False),
        ],
        "rds.force_ssl is not 1",
    ),
    "redis-transit-encryption": Case(
        [_redis()], [_redis(transitEncryptionMode="preferred")], "transitEncryptionMode is 'preferred'"
    ),
    "alb-tls-policy": Case(
        [
            r(
                "kubernetes:networking.k8s.io/v1:Ingress",
                "ingress",
                **k8s(
                    "Ingress", "web", "app", metadata={"annotations": ALB_ANNOTATIONS}, spec={"ingressClassName": "alb"}
                ),
            )
        ],
        [
            r(
                "kubernetes:networking.k8s.io/v1:Ingress",
                "ingress",
                **k8s(
                    "Ingress",
                    "web",
                    "app",
                    metadata={
                        "annotations": {
                            **ALB_ANNOTATIONS,
                            "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-2016-08",
                        }
                    },
                    spec={"ingressClassName": "alb"},
                ),
            )
        ],
        "ssl-policy 'ELBSecurityPolicy-2016-08' allows TLS below 1.2",
    ),
    "s3-deny-insecure-transport": Case(
        [r(S3, "b", bucket=BUCKET), r(BUCKET_POLICY, "p", bucket=BUCKET, policy=_policy_doc(DENY_HTTP))],
        [r(S3, "b", bucket=BUCKET), r(BUCKET_POLICY, "p", bucket=BUCKET, policy=_policy_doc())],
        "no bucket policy statement denies requests with aws:SecureTransport false",
    ),
    "data-store-not-public": Case(
        [
            _rds(),
            r(BROKER, "mq", publiclyAccessible=False),
            r(SERVICE, "neo4j", **k8s("Service", "neo4j", "neo4j", spec={})),
        ],
        [
            r(BROKER, "mq", publiclyAccessible=True),
            r(SERVICE, "neo4j", **k8s("Service", "neo4j", "neo4j", spec={"type": "LoadBalancer"})),
        ],
        "publiclyAccessible is true",
    ),
    "s3-public-access-blocked": Case(
        [r(S3, "b", bucket=BUCKET), r(PAB, "pab", bucket=BUCKET, **PAB_ALL)],
        [r(S3, "b", bucket=BUCKET), r(PAB, "pab", bucket=BUCKET, **{**PAB_ALL, "restrictPublicBuckets": False})],
        "restrictPublicBuckets not true",
    ),
    "audit-log-retention": Case(
        [r("aws:cloudwatch/logGroup:LogGroup", "cp", name="/aws/eks/c/cluster", retentionInDays=2557)],
        [r("aws:cloudwatch/logGroup:LogGroup", "cp", name="/aws/eks/c/cluster", retentionInDays=365)],
        "audit-class log group kept 365 days, under 2557",
    ),
    "backup-retention": Case([_rds(), _redis()], [_redis(snapshotRetentionLimit=1)], "snapshotRetentionLimit is 1"),
    "dr-copies": Case(
        [
            _rds(),
            r(
                "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication",
                "dr",
                sourceDbInstanceArn="arn:aws:rds:us-east-1:123456789012:db:db",
            ),
        ],
        [_rds()],
        "automated backups are not replicated to the DR region",
    ),
    "multi-az-data-services": Case(
        [_rds(), _redis(), r(BROKER, "mq", deploymentMode="CLUSTER_MULTI_AZ")],
        [r(BROKER, "mq", deploymentMode="SINGLE_INSTANCE")],
        "deploymentMode 'SINGLE_INSTANCE' is single-AZ",
    ),
    "imdsv2-on-nodes": Case([_lt()], [_lt(tokens="optional")], "httpTokens is 'optional', not 'required'"),
    "eks-private-endpoint": Case(
        [_eks(), _eks(endpointPublicAccess=True, publicAccessCidrs=["203.0.113.0/24"])],
        [_eks(endpointPublicAccess=True)],
        "the public endpoint is open to 0.0.0.0/0",
    ),
    "eks-secrets-encryption": Case(
        [_eks()], [_eks(encryptionConfigKeyArn=None)], "Kubernetes secrets are not envelope-encrypted"
    ),
    "eks-audit-logs": Case(
        [_eks()], [_eks(enabledClusterLogTypes=["api"])], "control-plane log types ['audit', 'authenticator']"
    ),
    "restricted-pod-security": Case(
        [_namespace("app"), _namespace("monitoring", "privileged")],
        [_namespace("app", "baseline")],
        "pod-security.kubernetes.io/enforce is 'baseline', not 'restricted'",
    ),
    "default-deny-network-policies": Case(
        [
            _namespace("app"),
            _workload("app"),
            r(NETPOL, "deny", **k8s("NetworkPolicy", "deny", "app", spec=DEFAULT_DENY)),
        ],
        [
            _namespace("app"),
            _workload("app"),
            r(NETPOL, "deny", **k8s("NetworkPolicy", "deny", "app", spec={**DEFAULT_DENY, "ingress": [{}]})),
        ],
        "holds workloads but has no default-deny NetworkPolicy",
    ),
    "iam-wildcards-explained": Case(
        [
            r(
                "aws:iam/rolePolicy:RolePolicy",
                "p",
                policy=_policy_doc(
                    {
                        "Sid": "OtelCollectorPutTraces",
                        "Effect": "Allow",
                        "Action": ["xray:PutTraceSegments"],
                        "Resource": "*",
                    }
                ),
            )
        ],
        [
            r(
                "aws:iam/rolePolicy:RolePolicy",
                "p",
                policy=_policy_doc({"Sid": "Everything", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
            )
        ],
        "grants wildcards with no recorded reason (Everything: s3:*, Everything: *)",
    ),
    "stateful-resources-protected": Case(
        [r(S3, "b", protect=True, bucket=BUCKET), _eks(), *_eks_with_protected_child()],
        [r(S3, "b", bucket=BUCKET), _eks(deletionProtection=False)],
        "stateful and not protected (Pulumi protect)",
    ),
}
