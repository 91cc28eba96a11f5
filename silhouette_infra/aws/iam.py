"""IAM policy documents, as plain dicts (no Pulumi here, so they can be tested alone).

Trust policies (AWS service principals, IRSA), the log-group writer policy of VPC Flow Logs and
Fluent Bit, the own-prefix policy of a role that writes to a bucket, the AWS-managed policies of the
node role and of the EKS add-ons, and the identity policies of the cluster add-ons: EBS CSI driver on a
customer-managed key, AWS Load Balancer Controller (the project's official policy, stored verbatim),
Cluster Autoscaler and External Secrets.

Every wildcard these documents grant (an action containing ``*``, or a ``Resource`` of ``*``) must
have a reason in :data:`WILDCARD_REASONS`; :func:`unexplained_wildcards` lists the ones that do not,
and the tests fail on any.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Any, Final

Policy = dict[str, Any]

VERSION: Final = "2012-10-17"

# Names under which WILDCARD_REASONS knows each document.
IRSA_TRUST: Final = "irsa-trust"
EBS_CSI_KMS: Final = "ebs-csi-kms"
AWS_LOAD_BALANCER_CONTROLLER: Final = "aws-load-balancer-controller"
CLUSTER_AUTOSCALER: Final = "cluster-autoscaler"
EXTERNAL_SECRETS: Final = "external-secrets"
OTEL_COLLECTOR: Final = "otel-collector"
REDIS_EXPORT: Final = "redis-export"

_PARTITION = re.compile(r"^aws(-[a-z]+)*$")


def _check_partition(partition: str) -> str:
    if not _PARTITION.fullmatch(partition):
        raise ValueError(f"not an AWS partition: {partition!r}")
    return partition


def _check_account(account_id: str) -> str:
    if not re.fullmatch(r"\d{12}", account_id):
        raise ValueError(f"not an AWS account id: {account_id!r}")
    return account_id


def _check_region(region: str) -> str:
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d+", region):
        raise ValueError(f"not an AWS region: {region!r}")
    return region


def _check_key_arn(key_arn: str) -> str:
    if not re.fullmatch(r"arn:aws(-[a-z]+)*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+", key_arn):
        raise ValueError(f"not a KMS key ARN: {key_arn!r}")
    return key_arn


def _managed(partition: str, name: str) -> str:
    return f"arn:{_check_partition(partition)}:iam::aws:policy/{name}"


# --------------------------------------------------------------------------------------------------
# Trust policies


def log_group_writer_policy(sid: str, log_group_arn: str) -> Policy:
    """Write the streams of one log group, nothing else: the group itself, with its KMS key and
    retention, is created by Pulumi (VPC Flow Logs, Fluent Bit)."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [log_group_arn, f"{log_group_arn}:*"],
            }
        ],
    }


# Write objects, never read, list or delete them: what a backup or an export needs of its prefix.
WRITE_ONLY_OBJECT_ACTIONS = ("s3:PutObject", "s3:AbortMultipartUpload")


def own_prefix_policy(
    *, sid: str, bucket_arn: str, prefix: str, actions: Sequence[str], kms_key_arn: str, region: str
) -> Policy:
    """``actions`` on the objects under one prefix of a bucket, nothing else, and the bucket's KMS key only
    through S3 in ``region``. ``kms:Decrypt`` is needed by multipart uploads of SSE-KMS objects, not only by
    reads (https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions).

    ``prefix`` is the role's boundary: a literal ending in ``/`` (an empty one would grant the whole bucket).
    """
    if not prefix.endswith("/") or any(c in prefix for c in "*?"):
        raise ValueError(f"an object prefix is a literal ending in '/': {prefix!r}")
    return {
        "Version": VERSION,
        "Statement": [
            {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": f"{bucket_arn}/{prefix}*"},
            {
                "Sid": "EncryptWithBucketKeyThroughS3",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": kms_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            },
        ],
    }


def read_object_policy(*, sid: str, object_arn: str, kms_key_arn: str, region: str) -> Policy:
    """Read one object (a recovery source named in the dr stack's settings), decrypting it only through S3."""
    return {
        "Version": VERSION,
        "Statement": [
            {"Sid": sid, "Effect": "Allow", "Action": "s3:GetObject", "Resource": object_arn},
            {
                "Sid": "DecryptThroughS3",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": kms_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            },
        ],
    }


def service_assume_role_policy(service: str, *, account_id: str | None = None) -> Policy:
    """Trust policy for an AWS service principal, optionally pinned to our account (confused deputy)."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if account_id:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account_id}}
    return {"Version": VERSION, "Statement": [statement]}


def irsa_trust_policy(*, oidc_provider_arn: str, oidc_issuer: str, namespace: str, service_account: str) -> Policy:
    """Trust policy of an IAM role for one Kubernetes service account (IRSA).

    Only the cluster's OIDC provider may federate, only for tokens whose ``sub`` is exactly
    ``system:serviceaccount:<namespace>:<service_account>`` and whose ``aud`` is STS. ``oidc_issuer``
    may be given with or without its ``https://`` scheme (the condition keys never carry it).
    """
    if not oidc_provider_arn.startswith("arn:") or ":oidc-provider/" not in oidc_provider_arn:
        raise ValueError(f"not an IAM OIDC provider ARN: {oidc_provider_arn!r}")
    if oidc_issuer.startswith("http://"):
        raise ValueError(f"an OIDC issuer is https: {oidc_issuer!r}")
    issuer = oidc_issuer.removeprefix("https://").rstrip("/")
    if not issuer:
        raise ValueError("empty OIDC issuer")
    for what, value in (("namespace", namespace), ("service account", service_account)):
        # StringEquals takes these literally; refuse anything that looks like a pattern or is empty.
        if not value or any(c in value for c in "*?:"):
            raise ValueError(f"{what} must be a plain Kubernetes name: {value!r}")
    return web_identity_trust_policy(
        "AssumeFromServiceAccount",
        provider_arn=oidc_provider_arn,
        claims={
            f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
            f"{issuer}:aud": "sts.amazonaws.com",
        },
    )


def web_identity_trust_policy(sid: str, *, provider_arn: str, claims: dict[str, str | list[str]]) -> Policy:
    """Trust of an IAM OIDC provider's tokens (AssumeRoleWithWebIdentity) whose claims equal ``claims``
    exactly (``StringEquals``: no pattern): IRSA's service accounts, GitHub Actions' jobs."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": claims},
            }
        ],
    }


# --------------------------------------------------------------------------------------------------
# AWS-managed policies


def node_role_managed_policies(partition: str = "aws") -> list[str]:
    """AWS-managed policies of the managed node groups' node role.

    - ``AmazonEKSWorkerNodePolicy``: kubelet's EC2 describe calls and the EKS Pod Identity agent.
    - ``AmazonEC2ContainerRegistryPullOnly`` (AWS-managed since 2024-10-04; the EKS user guide's
      "Amazon EKS node IAM role" page now names it): pulls images, unlike ``...ReadOnly`` which also
      lists and describes every repository of the account.

    Deliberately absent:

    - ``AmazonEKS_CNI_Policy``: the VPC CNI gets its own IRSA role (:func:`vpc_cni_managed_policies`),
      so pods on the node cannot borrow the CNI's ENI/IP permissions through the instance profile.
    - ``AmazonSSMManagedInstanceCore``: not needed to join or run the cluster. It would let the SSM
      agent register the node for Session Manager shell access, which this platform does not use
      (no node access path is designed), and it grants SSM/ssmmessages/ec2messages on ``*`` to every
      pod that can reach IMDS. Add it only together with a decision to allow node sessions.
    """
    return [
        _managed(partition, "AmazonEKSWorkerNodePolicy"),
        _managed(partition, "AmazonEC2ContainerRegistryPullOnly"),
    ]


def vpc_cni_managed_policies(partition: str = "aws") -> list[str]:
    """AWS-managed policy of the VPC CNI (``aws-node``) IRSA role."""
    return [_managed(partition, "AmazonEKS_CNI_Policy")]


def ebs_csi_managed_policies(partition: str = "aws") -> list[str]:
    """AWS-managed policy of the EBS CSI controller's role (a service-role path, unlike the others)."""
    return [_managed(partition, "service-role/AmazonEBSCSIDriverPolicy")]


# --------------------------------------------------------------------------------------------------
# Identity policies of the cluster add-ons


def ebs_csi_kms_policy(*, key_arn: str) -> Policy:
    """What the EBS CSI driver needs on a customer-managed key (EKS user guide, EBS CSI "KMS key" policy).

    Grants may be created, listed and revoked only when they are for an AWS resource (EBS attaching
    the volume to an instance), and the key may be used directly; both on this one key only.
    """
    _check_key_arn(key_arn)
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "EbsCsiKmsGrantsForAwsResources",
                "Effect": "Allow",
                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                "Resource": [key_arn],
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
            {
                "Sid": "EbsCsiKmsUseKey",
                "Effect": "Allow",
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:DescribeKey",
                ],
                "Resource": [key_arn],
            },
        ],
    }


LBC_POLICY_FILE: Final = "policies/aws-load-balancer-controller.json"


def _substitute_partition(value: Any, partition: str) -> Any:
    if isinstance(value, str):
        return f"arn:{partition}:{value.removeprefix('arn:aws:')}" if value.startswith("arn:aws:") else value
    if isinstance(value, list):
        return [_substitute_partition(item, partition) for item in value]
    if isinstance(value, dict):
        return {key: _substitute_partition(item, partition) for key, item in value.items()}
    return value


def aws_load_balancer_controller_policy(partition: str = "aws") -> Policy:
    """The AWS Load Balancer Controller's official IAM policy, ``docs/install/iam_policy.json``.

    Source: repository ``kubernetes-sigs/aws-load-balancer-controller``, path
    ``docs/install/iam_policy.json``, commit ``2b150b977b79dcad119243f2e8f3625ea5bb7e81``, stored
    byte for byte (8813 bytes) in ``silhouette_infra/aws/policies/aws-load-balancer-controller.json``.

    That is the newest revision of the file that could be read offline; the revision at the v2.14.x
    tag (Helm chart 1.14.x) was not available. By its content (IPAM ``ModifyIpPools`` in the read-only
    statement, capacity reservations, listener attributes, trust stores) it is the v2.12-era policy;
    that dating is inferred, not read from a tag. Later revisions are reported (by downstream modules
    tracking upstream, not verified here) to add ``ec2:DescribeIpamPools``, ``ec2:DescribeRouteTables``
    (v2.13) and ``elasticloadbalancing:SetRulePriorities`` (needed to reorder rules of an Ingress group)
    and to move ``ModifyIpPools`` under the tag condition. Replace the JSON file with the v2.14.x tag's
    file (and update this docstring and the pinned hash in the tests); the wildcard test then names
    every new action on ``Resource: "*"`` that still needs a reason.

    The file hard-codes the ``aws`` partition in its ARNs; they are rewritten for ``partition``.
    """
    _check_partition(partition)
    text = resources.files("silhouette_infra.aws").joinpath(LBC_POLICY_FILE).read_text(encoding="utf-8")
    policy: Policy = _substitute_partition(json.loads(text), partition)
    return policy


CLUSTER_AUTOSCALER_READ_ACTIONS: Final = (
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
)


def cluster_autoscaler_policy(*, cluster_name: str, region: str, account_id: str, partition: str = "aws") -> Policy:
    """Least privilege for Cluster Autoscaler (``cluster-autoscaler/cloudprovider/aws/README.md``).

    - Read-only Describe/Get calls on ``*``: these actions have no resource types in the Service
      Authorization Reference, so ``*`` is the only resource they accept.
    - ``eks:DescribeNodegroup`` (the README puts it with the others on ``*``) does support node
      group ARNs, so it is limited to this cluster's node groups.
    - Scaling (``SetDesiredCapacity``, ``TerminateInstanceInAutoScalingGroup``) only on Auto Scaling
      groups of this account and region that carry ``k8s.io/cluster-autoscaler/<cluster_name>=owned``,
      the tag EKS managed node groups put on their groups for auto-discovery.
    """
    p = _check_partition(partition)
    if not re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z_-]{0,99}", cluster_name):
        raise ValueError(f"not an EKS cluster name: {cluster_name!r}")
    _check_account(account_id)
    _check_region(region)
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ClusterAutoscalerDescribe",
                "Effect": "Allow",
                "Action": list(CLUSTER_AUTOSCALER_READ_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "ClusterAutoscalerDescribeNodegroups",
                "Effect": "Allow",
                "Action": ["eks:DescribeNodegroup"],
                "Resource": [f"arn:{p}:eks:{region}:{account_id}:nodegroup/{cluster_name}/*/*"],
            },
            {
                "Sid": "ClusterAutoscalerScaleOwnedGroups",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:SetDesiredCapacity",
                    "autoscaling:TerminateInstanceInAutoScalingGroup",
                ],
                "Resource": [f"arn:{p}:autoscaling:{region}:{account_id}:autoScalingGroup:*:autoScalingGroupName/*"],
                "Condition": {
                    "StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"},
                },
            },
        ],
    }


def external_secrets_policy(
    *, region: str, account_id: str, secret_prefix: str, kms_key_arn: str, partition: str = "aws"
) -> Policy:
    """External Secrets Operator: read the secrets under one name prefix, decrypt them via Secrets Manager.

    ``secret_prefix`` must be non-empty and must not contain wildcards; the ARN pattern appends the
    ``*`` that covers the six random characters Secrets Manager adds to every secret's ARN.
    """
    p = _check_partition(partition)
    if not secret_prefix or any(c in secret_prefix for c in "*?"):
        raise ValueError(f"secret prefix must be a non-empty literal: {secret_prefix!r}")
    _check_account(account_id)
    _check_region(region)
    _check_key_arn(kms_key_arn)
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ExternalSecretsReadPrefixedSecrets",
                "Effect": "Allow",
                "Action": [
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:ListSecretVersionIds",
                ],
                "Resource": [f"arn:{p}:secretsmanager:{region}:{account_id}:secret:{secret_prefix}*"],
            },
            {
                "Sid": "ExternalSecretsDecryptViaSecretsManager",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": [kms_key_arn],
                "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
            },
        ],
    }


def rds_proxy_secret_policy(*, secret_arn: str, kms_key_arn: str, region: str) -> Policy:
    """RDS Proxy reads the one database secret it authenticates with, and decrypts it through Secrets Manager
    only (RDS User Guide, "Setting up AWS Identity and Access Management (IAM) policies" for RDS Proxy)."""
    _check_region(region)
    _check_key_arn(kms_key_arn)
    if not secret_arn.startswith("arn:") or "*" in secret_arn:
        raise ValueError(f"RDS Proxy reads one secret, named by its full ARN: {secret_arn!r}")
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "RdsProxyReadDatabaseSecret",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": [secret_arn],
            },
            {
                "Sid": "RdsProxyDecryptViaSecretsManager",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": [kms_key_arn],
                "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
            },
        ],
    }


def otel_collector_policy(*, kms_key_arn: str, region: str) -> Policy:
    """The OpenTelemetry Collector's X-Ray exporter: put trace segments and telemetry records, and use the
    key X-Ray encrypts traces with, through X-Ray only (X-Ray docs, "User permissions for encryption")."""
    _check_region(region)
    _check_key_arn(kms_key_arn)
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "OtelCollectorPutTraces",
                "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": "*",
            },
            {
                "Sid": "OtelCollectorEncryptTracesViaXRay",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": [kms_key_arn],
                "Condition": {"StringEquals": {"kms:ViaService": f"xray.{region}.amazonaws.com"}},
            },
        ],
    }


def redis_export_policy(
    *, replication_group_id: str, bucket_arn: str, region: str, account_id: str, partition: str = "aws"
) -> Policy:
    """Find the cache's automatic snapshots and export one to the export bucket (CopySnapshot with a target
    bucket), nothing else. CopySnapshot needs ``s3:GetBucketLocation`` and ``s3:ListAllMyBuckets`` of its caller
    besides ``elasticache:CopySnapshot`` (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/IAM.APIReference.html);
    DescribeSnapshots and CopySnapshot take the snapshot as their resource (Service Authorization Reference,
    Amazon ElastiCache), so both are held to this cache's automatic snapshots and to the exported copies' names.
    ``s3:ListBucket`` lets the job see whether a snapshot was already exported (S3 refuses a second copy with the
    same key)."""
    p = _check_partition(partition)
    snapshots = f"arn:{p}:elasticache:{_check_region(region)}:{_check_account(account_id)}:snapshot:"
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ExportTheCacheSnapshots",
                "Effect": "Allow",
                "Action": ["elasticache:DescribeSnapshots", "elasticache:CopySnapshot"],
                "Resource": [f"{snapshots}automatic.{replication_group_id}-*", f"{snapshots}{replication_group_id}-*"],
            },
            {
                "Sid": "LocateAndListTheExportBucket",
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
                "Resource": bucket_arn,
            },
            {"Sid": "ListAllMyBuckets", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
        ],
    }


# --------------------------------------------------------------------------------------------------
# Wildcards and their reasons

_SAR = "Service Authorization Reference"


def _reasons(policy: str, reason: str, keys: Iterable[str]) -> dict[tuple[str, str], str]:
    return dict.fromkeys(((policy, key) for key in keys), reason)


WILDCARD_REASONS: Final[dict[tuple[str, str], str]] = {
    # ---- Redis snapshot export
    (REDIS_EXPORT, "ListAllMyBuckets"): (
        "ElastiCache's CopySnapshot to a target bucket requires s3:ListAllMyBuckets of its caller "
        "(ElastiCache API permissions reference); the action defines no resource type, so the Service "
        "Authorization Reference allows only '*'. It lists bucket names, never objects; the role can be assumed "
        "only by dr-exports/redis-export"
    ),
    # ---- OpenTelemetry Collector
    (OTEL_COLLECTOR, "OtelCollectorPutTraces"): (
        "xray:PutTraceSegments and xray:PutTelemetryRecords define no resource types: the X-Ray entry of the "
        f"{_SAR} lists them with Resource '*' only; the role can be assumed only by monitoring/otel-collector"
    ),
    # ---- EBS CSI driver on the customer-managed key
    (EBS_CSI_KMS, "kms:ReEncrypt*"): (
        "The family is kms:ReEncryptFrom and kms:ReEncryptTo, which EBS uses when it re-encrypts a volume "
        "or snapshot copy under this key; taken as written in the EBS CSI 'KMS key' policy of the EKS user "
        "guide, and limited to the one key ARN."
    ),
    (EBS_CSI_KMS, "kms:GenerateDataKey*"): (
        "The family is GenerateDataKey, GenerateDataKeyWithoutPlaintext and the GenerateDataKeyPair* calls; "
        "EBS needs GenerateDataKeyWithoutPlaintext to create an encrypted volume. As written in the EBS CSI "
        "'KMS key' policy of the EKS user guide, and limited to the one key ARN."
    ),
    # ---- Cluster Autoscaler
    (CLUSTER_AUTOSCALER, "ClusterAutoscalerDescribe"): (
        "Read-only Describe/Get calls (autoscaling:Describe*, ec2:DescribeImages, DescribeInstanceTypes, "
        f"DescribeLaunchTemplateVersions, GetInstanceTypesFromInstanceRequirements): the {_SAR} lists no "
        "resource types for them, so they only accept Resource '*'. Nothing here can change a resource."
    ),
    # ---- AWS Load Balancer Controller (official policy; its statements have no Sid, so the reason is
    # keyed on every action that it grants on Resource "*").
    **_reasons(
        AWS_LOAD_BALANCER_CONTROLLER,
        "Creates the Elastic Load Balancing service-linked role on first use; the statement's condition "
        "iam:AWSServiceName = elasticloadbalancing.amazonaws.com allows no other service's role.",
        ["iam:CreateServiceLinkedRole"],
    ),
    **_reasons(
        AWS_LOAD_BALANCER_CONTROLLER,
        f"Read-only discovery (EC2 VPC/subnet/SG/ENI/instance/COIP lookups, ELBv2 Describe*): the {_SAR} lists "
        "no resource types for these EC2/ELBv2 Describe and Get actions (the controller also looks up "
        "resources by tag and by VPC, which an ARN could not name in advance).",
        [
            "ec2:DescribeAccountAttributes",
            "ec2:DescribeAddresses",
            "ec2:DescribeAvailabilityZones",
            "ec2:DescribeInternetGateways",
            "ec2:DescribeVpcs",
            "ec2:DescribeVpcPeeringConnections",
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeInstances",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeTags",
            "ec2:GetCoipPoolUsage",
            "ec2:DescribeCoipPools",
            "ec2:GetSecurityGroupsForVpc",
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeLoadBalancerAttributes",
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeListenerCertificates",
            "elasticloadbalancing:DescribeSSLPolicies",
            "elasticloadbalancing:DescribeRules",
            "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:DescribeTargetGroupAttributes",
            "elasticloadbalancing:DescribeTargetHealth",
            "elasticloadbalancing:DescribeTags",
            "elasticloadbalancing:DescribeTrustStores",
            "elasticloadbalancing:DescribeListenerAttributes",
            "elasticloadbalancing:DescribeCapacityReservation",
        ],
    ),
    **_reasons(
        AWS_LOAD_BALANCER_CONTROLLER,
        "Sets the IPAM pool of a load balancer (BYOIP through VPC IPAM, alb.ingress.kubernetes.io/ipam-ipv4-pool-id); "
        "the load balancer is created at runtime and, in this revision of the official policy, the action is "
        "granted without the elbv2.k8s.aws/cluster tag condition. Unused unless an Ingress asks for an IPAM pool.",
        ["elasticloadbalancing:ModifyIpPools"],
    ),
    **_reasons(
        AWS_LOAD_BALANCER_CONTROLLER,
        "Certificate discovery and Cognito authentication: the ACM/IAM server certificate and the Cognito user "
        "pool are named by Ingress annotations or found by host name at runtime, across the account, so no ARN "
        f"can be fixed in advance (acm:ListCertificates has no resource types in the {_SAR}). Read-only.",
        [
            "cognito-idp:DescribeUserPoolClient",
            "acm:ListCertificates",
            "acm:DescribeCertificate",
            "iam:ListServerCertificates",
            "iam:GetServerCertificate",
        ],
    ),
    **_reasons(
        AWS_LOAD_BALANCER_CONTROLLER,
        "Attaches the WAF web ACL named by the Ingress (alb.ingress.kubernetes.io/wafv2-acl-arn, or the classic "
        "waf-regional one) to the ALB it manages, and reads the current association; the web ACL and the ALB "
        "are only known at runtime. Associating needs permission on both the web ACL and the ALB.",
        [
            "waf-regional:GetWebACL",
            "waf-regional:GetWebACLForResource",
            "waf-regional:AssociateWebACL",
            "waf-regional:DisassociateWebACL",
            "wafv2:GetWebACL",
            "wafv2:GetWebACLForResource",
            "wafv2:AssociateWebACL",
            "wafv2:DisassociateWebACL",
        ],
    ),
    **_reasons(
        AWS_LOAD_BALANCER_CONTROLLER,
        "Shield Advanced protection of the ALBs it manages (alb.ingress.kubernetes.io/shield-advanced-protection); "
        f"shield:GetSubscriptionState has no resource types in the {_SAR} and the protected ALBs are created "
        "at runtime. Without a Shield Advanced subscription these calls change nothing.",
        [
            "shield:GetSubscriptionState",
            "shield:DescribeProtection",
            "shield:CreateProtection",
            "shield:DeleteProtection",
        ],
    ),
    **_reasons(
        AWS_LOAD_BALANCER_CONTROLLER,
        "Opens and closes load balancer -> target traffic on security groups. Granted twice by the official "
        "policy: on groups the controller created (condition aws:ResourceTag/elbv2.k8s.aws/cluster present), "
        "and unconditioned, because it must add the rule to the node/pod security group that it did not "
        "create and that carries no controller tag.",
        ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
    ),
    **_reasons(
        AWS_LOAD_BALANCER_CONTROLLER,
        "Creates the load balancers' frontend security groups; a new group has no ARN in advance. The groups "
        "can only be tagged in the same call with elbv2.k8s.aws/cluster (the CreateTags statement's condition), "
        "and only groups carrying that tag can later be changed or deleted.",
        ["ec2:CreateSecurityGroup"],
    ),
    **_reasons(
        AWS_LOAD_BALANCER_CONTROLLER,
        "Deletes security groups: condition aws:ResourceTag/elbv2.k8s.aws/cluster present, i.e. only groups the "
        "controller created.",
        ["ec2:DeleteSecurityGroup"],
    ),
    **_reasons(
        AWS_LOAD_BALANCER_CONTROLLER,
        "Creates load balancers and target groups: condition aws:RequestTag/elbv2.k8s.aws/cluster present, so "
        "each one is created with the controller's ownership tag.",
        ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
    ),
    **_reasons(
        AWS_LOAD_BALANCER_CONTROLLER,
        "Changes and deletes load balancers and target groups: condition aws:ResourceTag/elbv2.k8s.aws/cluster "
        "present, i.e. only those the controller created.",
        [
            "elasticloadbalancing:ModifyLoadBalancerAttributes",
            "elasticloadbalancing:SetIpAddressType",
            "elasticloadbalancing:SetSecurityGroups",
            "elasticloadbalancing:SetSubnets",
            "elasticloadbalancing:DeleteLoadBalancer",
            "elasticloadbalancing:ModifyTargetGroup",
            "elasticloadbalancing:ModifyTargetGroupAttributes",
            "elasticloadbalancing:DeleteTargetGroup",
            "elasticloadbalancing:ModifyListenerAttributes",
            "elasticloadbalancing:ModifyCapacityReservation",
        ],
    ),
    **_reasons(
        AWS_LOAD_BALANCER_CONTROLLER,
        "Listener and rule management on load balancers created at runtime (listener/rule ARNs embed the load "
        "balancer's generated id); the official policy grants these without a tag condition, so they also "
        "reach listeners of load balancers the controller does not own. Accepted as upstream ships it; the "
        "role is only assumable by the controller's service account.",
        [
            "elasticloadbalancing:CreateListener",
            "elasticloadbalancing:DeleteListener",
            "elasticloadbalancing:CreateRule",
            "elasticloadbalancing:DeleteRule",
            "elasticloadbalancing:ModifyListener",
            "elasticloadbalancing:AddListenerCertificates",
            "elasticloadbalancing:RemoveListenerCertificates",
            "elasticloadbalancing:ModifyRule",
        ],
    ),
    **_reasons(
        AWS_LOAD_BALANCER_CONTROLLER,
        "Sets or clears the classic WAF web ACL of an ALB it manages (the ELBv2 side of the waf-regional "
        "association); the ALB is created at runtime. Granted unconditioned by the official policy.",
        ["elasticloadbalancing:SetWebAcl"],
    ),
}
"""Why each wildcard is granted, keyed by (policy name, statement Sid or action).

Lookup rules (see :func:`unexplained_wildcards`): an action containing ``*`` is keyed by the action;
a ``Resource`` of ``*`` by the statement's Sid, or, for a statement without Sid (the official Load
Balancer Controller policy), by every action of the statement, so that an action added upstream to a
``*`` statement is reported until someone writes its reason.
"""


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _label(index: int, statement: dict[str, Any]) -> str:
    sid = statement.get("Sid")
    return sid if isinstance(sid, str) and sid else str(index)


def wildcards(policy: Policy) -> list[tuple[str, str]]:
    """Every wildcard grant of ``policy``: (statement Sid, or its index when it has none; the item).

    The item is an action containing ``*`` (``*``, ``service:*``, ``kms:ReEncrypt*``), a ``Resource`` of
    exactly ``*``, or ``NotAction``/``NotResource`` (which grant everything but a list).
    """
    found: list[tuple[str, str]] = []
    for index, statement in enumerate(_as_list(policy.get("Statement", []))):
        label = _label(index, statement)
        found.extend((label, action) for action in _as_list(statement.get("Action", [])) if "*" in action)
        if "*" in _as_list(statement.get("Resource", [])):
            found.append((label, "*"))
        found.extend((label, key) for key in ("NotAction", "NotResource") if key in statement)
    return found


def unexplained_wildcards(name: str, policy: Policy) -> list[str]:
    """The wildcard grants of ``policy`` (known as ``name``) that have no reason in :data:`WILDCARD_REASONS`."""
    missing: list[str] = []
    for index, statement in enumerate(_as_list(policy.get("Statement", []))):
        sid = statement.get("Sid")
        label = _label(index, statement)
        if statement.get("Effect") == "Deny":
            continue  # a wildcard in a Deny takes away, it grants nothing
        actions = [str(a) for a in _as_list(statement.get("Action", []))]
        for action in actions:
            if "*" in action and (name, action) not in WILDCARD_REASONS:
                missing.append(f"{name} statement {label}: action {action!r} has no reason")
        for key in ("NotAction", "NotResource"):
            if key in statement:
                missing.append(f"{name} statement {label}: {key} grants everything but a list; not allowed")
        if "*" not in _as_list(statement.get("Resource", [])):
            continue
        if isinstance(sid, str) and sid:
            if (name, sid) not in WILDCARD_REASONS:
                missing.append(f"{name} statement {sid}: Resource '*' has no reason")
            continue
        for action in actions:
            if "*" not in action and (name, action) not in WILDCARD_REASONS:
                missing.append(f"{name} statement {label}: {action!r} on Resource '*' has no reason")
    return missing
