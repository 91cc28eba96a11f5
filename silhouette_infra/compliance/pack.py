"""The pack: every policy with its controls, fix and evidence, and the evaluation synth and the tests run.

``policy/__main__.py`` wraps the same ``POLICIES`` in pulumi-policy's ``ResourceValidationPolicy`` and
``StackValidationPolicy`` for ``pulumi preview --policy-pack policy``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from silhouette_infra.compliance import resource_policies as rp
from silhouette_infra.compliance import stack_policies as sp
from silhouette_infra.compliance.model import Enforcement, PackConfig, Policy, Resource, ResourceCheck, Violation
from silhouette_infra.compliance.stateful import REPLACING_PROPERTIES

PACK_NAME: Final = "silhouette-compliance"

CC61, CC66, CC67, CC72, A12 = "SOC 2 CC6.1", "SOC 2 CC6.6", "SOC 2 CC6.7", "SOC 2 CC7.2", "SOC 2 A1.2"
ENCRYPTION, AUDIT = "HIPAA §164.312(a)(2)(iv)", "HIPAA §164.312(b)"
INTEGRITY, TRANSMISSION, GDPR = "HIPAA §164.312(c)(1)", "HIPAA §164.312(e)(1)", "GDPR Art. 32"
AT_REST = (CC61, ENCRYPTION, GDPR)
IN_TRANSIT = (CC67, TRANSMISSION, GDPR)
RESILIENCE = (A12, INTEGRITY, GDPR)


def _at_rest(name: str, what: str, types: tuple[str, ...], check: ResourceCheck, fix: str, evidence: str) -> Policy:
    return Policy(
        name, f"{what} are encrypted at rest with a customer-managed KMS key", AT_REST, fix, types, evidence, check
    )


POLICIES: Final[tuple[Policy, ...]] = (
    _at_rest(
        "rds-encrypted-with-cmk",
        "RDS databases",
        (rp.RDS_INSTANCE,),
        rp.data_store_encrypted,
        "set storage_encrypted=True and kms_key_id to the stack's databases key (keys.py)",
        "aws rds describe-db-instances --query 'DBInstances[].[DBInstanceIdentifier,StorageEncrypted,KmsKeyId]'; "
        "AWS Config rule RDS_STORAGE_ENCRYPTED (deployed by audit.py)",
    ),
    _at_rest(
        "elasticache-encrypted-with-cmk",
        "ElastiCache replication groups",
        (rp.REPLICATION_GROUP,),
        rp.data_store_encrypted,
        "set at_rest_encryption_enabled=True and kms_key_id to the databases key",
        "aws elasticache describe-replication-groups --query "
        "'ReplicationGroups[].[ReplicationGroupId,AtRestEncryptionEnabled,KmsKeyId]'; "
        "AWS Config rule ELASTICACHE_REPL_GRP_ENCRYPTED_AT_REST (deployed by audit.py)",
    ),
    _at_rest(
        "ebs-encrypted-with-cmk",
        "EBS volumes (node launch templates, EBS StorageClasses, volumes)",
        (rp.LAUNCH_TEMPLATE, rp.STORAGE_CLASS, rp.EBS_VOLUME),
        rp.ebs_encrypted,
        "encrypt every block device / StorageClass (parameters encrypted: 'true', kmsKeyId) with the EBS key",
        "aws ec2 describe-volumes --filters Name=encrypted,Values=false (expect none); "
        "AWS Config rule ENCRYPTED_VOLUMES (deployed by audit.py)",
    ),
    Policy(
        "s3-encrypted-with-cmk",
        "S3 buckets encrypt by default with SSE-KMS and a customer-managed key",
        AT_REST,
        "add a BucketServerSideEncryptionConfiguration with sse_algorithm aws:kms and kms_master_key_id "
        "(aws/buckets.py does)",
        (sp.BUCKET,),
        "aws s3api get-bucket-encryption --bucket <name>; AWS Config rule S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED "
        "(deployed by audit.py)",
        check_stack=sp.s3_encrypted,
        exceptions={
            "server access log target buckets": sp.ACCESS_LOG_TARGET_REASON,
            "ElastiCache snapshot export buckets": sp.ELASTICACHE_EXPORT_REASON,
        },
    ),
    _at_rest(
        "cloudwatch-logs-encrypted-with-cmk",
        "CloudWatch log groups",
        (rp.LOG_GROUP,),
        rp.logs_encrypted,
        "set kms_key_id to the stack's logs key",
        "aws logs describe-log-groups --query 'logGroups[?!kmsKeyId].logGroupName'",
    ),
    _at_rest(
        "secrets-encrypted-with-cmk",
        "Secrets Manager secrets",
        (rp.SECRET,),
        rp.secret_encrypted,
        "set kms_key_id to the databases key",
        "aws secretsmanager list-secrets --query 'SecretList[].[Name,KmsKeyId]'",
    ),
    _at_rest(
        "sns-encrypted-with-cmk",
        "SNS topics",
        (rp.TOPIC,),
        rp.topic_encrypted,
        "set kms_master_key_id to a customer-managed key whose policy lets CloudWatch use it",
        "aws sns get-topic-attributes --topic-arn <arn> --query Attributes.KmsMasterKeyId",
    ),
    _at_rest(
        "ecr-encrypted-with-cmk",
        "ECR repositories",
        (rp.REPOSITORY,),
        rp.repository_encrypted,
        "set encryption_configurations=[{encryption_type: KMS, kms_key: <registry key>}] (replaces the repository)",
        "aws ecr describe-repositories --query 'repositories[].[repositoryName,encryptionConfiguration]'",
    ),
    Policy(
        "rds-force-ssl",
        "PostgreSQL and RDS Proxy refuse connections without TLS",
        IN_TRANSIT,
        "set the parameter rds.force_ssl to 1 and the proxy's require_tls (data/postgres.py)",
        (rp.RDS_PARAMETER_GROUP, rp.RDS_PROXY),
        "aws rds describe-db-parameters --db-parameter-group-name <name> --query "
        "\"Parameters[?ParameterName=='rds.force_ssl']\"",
        rp.rds_force_ssl,
    ),
    Policy(
        "redis-transit-encryption",
        "Redis accepts TLS connections only",
        IN_TRANSIT,
        "set transit_encryption_enabled=True and transit_encryption_mode 'required'",
        (rp.REPLICATION_GROUP,),
        "aws elasticache describe-replication-groups --query "
        "'ReplicationGroups[].[ReplicationGroupId,TransitEncryptionEnabled,TransitEncryptionMode]'",
        rp.redis_transit_encrypted,
    ),
    Policy(
        "alb-tls-policy",
        "The ALB negotiates TLS 1.2 or later and redirects plain HTTP",
        IN_TRANSIT,
        "annotate the Ingress with alb.ingress.kubernetes.io/ssl-policy ELBSecurityPolicy-TLS13-1-2-Res-2021-06 and "
        "ssl-redirect 443 (apps/component.py)",
        (rp.INGRESS, rp.LISTENER),
        "aws elbv2 describe-listeners --load-balancer-arn <arn> --query 'Listeners[].[Port,Protocol,SslPolicy]'",
        rp.alb_tls,
    ),
    Policy(
        "s3-deny-insecure-transport",
        "Every bucket policy denies requests made without TLS",
        IN_TRANSIT,
        "add a Deny statement on aws:SecureTransport false to the bucket policy (aws/buckets.py does)",
        (sp.BUCKET,),
        "aws s3api get-bucket-policy --bucket <name> (a Deny with Condition Bool aws:SecureTransport false); "
        "AWS Config managed rule S3_BUCKET_SSL_REQUESTS_ONLY",
        check_stack=sp.s3_tls_only,
    ),
    Policy(
        "data-store-not-public",
        "No database, broker or in-cluster service is reachable from outside",
        (CC66, CC61, GDPR),
        "set publicly_accessible=False and keep the data services in the isolated subnets; Services stay ClusterIP",
        (rp.RDS_INSTANCE, rp.BROKER, rp.SERVICE),
        "aws rds describe-db-instances --query 'DBInstances[].PubliclyAccessible'; "
        "aws mq describe-broker --broker-id <id> --query PubliclyAccessible; kubectl get services -A (all ClusterIP)",
        rp.data_store_private,
    ),
    Policy(
        "s3-public-access-blocked",
        "Every bucket blocks public ACLs and policies",
        (CC66, CC61, GDPR),
        "add a BucketPublicAccessBlock with all four settings true (aws/buckets.py does)",
        (sp.BUCKET,),
        "aws s3api get-public-access-block --bucket <name>; "
        "AWS Config rule S3_BUCKET_PUBLIC_READ_PROHIBITED (deployed by audit.py)",
        check_stack=sp.s3_public_access_blocked,
    ),
    Policy(
        "audit-log-retention",
        f"Audit-class logs (CloudTrail, EKS control plane) are kept {sp.AUDIT_RETENTION_DAYS} days (7 years) or more",
        (CC72, AUDIT, INTEGRITY),
        f"set retention_in_days={sp.AUDIT_RETENTION_DAYS} on the trail's and the control plane's log groups",
        (rp.LOG_GROUP,),
        "aws logs describe-log-groups --log-group-name-prefix /aws/eks --query 'logGroups[].retentionInDays'",
        check_stack=sp.audit_log_retention,
        selects=sp.audit_log_groups,
    ),
    Policy(
        "backup-retention",
        f"Databases and caches keep at least {rp.MIN_BACKUP_DAYS} days of restore points",
        RESILIENCE,
        f"set backup_retention_period / snapshot_retention_limit to {rp.MIN_BACKUP_DAYS} or more",
        (rp.RDS_INSTANCE, rp.REPLICATION_GROUP),
        "aws rds describe-db-instances --query 'DBInstances[].BackupRetentionPeriod'; "
        "aws elasticache describe-replication-groups --query 'ReplicationGroups[].SnapshotRetentionLimit'",
        rp.backup_retention,
    ),
    Policy(
        "dr-copies",
        "Backups are copied to the DR region",
        RESILIENCE,
        "turn on backup.dr_copies (RDS automated-backup replication, AWS Backup copy actions)",
        (rp.RDS_INSTANCE, sp.BACKUP_PLAN),
        "aws rds describe-db-instance-automated-backups --region us-west-2; aws backup list-recovery-points-by-backup-"
        "vault --backup-vault-name <DR vault> --region us-west-2",
        check_stack=sp.dr_copies,
    ),
    Policy(
        "multi-az-data-services",
        "Data services survive the loss of an Availability Zone",
        RESILIENCE,
        "set postgres/redis multi_az true and rabbitmq deployment_mode CLUSTER_MULTI_AZ",
        (rp.RDS_INSTANCE, rp.REPLICATION_GROUP, rp.BROKER),
        "aws rds describe-db-instances --query 'DBInstances[].MultiAZ'; "
        "AWS Config rule RDS_MULTI_AZ_SUPPORT (deployed by audit.py)",
        rp.multi_az,
    ),
    Policy(
        "imdsv2-on-nodes",
        "Nodes require IMDSv2 (session tokens) for instance metadata",
        (CC66, CC61),
        "give every node group a launch template with metadata_options http_tokens 'required' (cluster/eks.py)",
        (rp.LAUNCH_TEMPLATE, rp.NODE_GROUP),
        "aws ec2 describe-instances --query 'Reservations[].Instances[].MetadataOptions.HttpTokens'; "
        "AWS Config managed rule EC2_IMDSV2_CHECK",
        rp.imdsv2,
    ),
    Policy(
        "eks-private-endpoint",
        "The Kubernetes API is private (public only from an allow-list)",
        (CC66, CC61),
        "set endpoint_private_access=True and list CIDRs in cluster.endpoint_public_access_cidrs, never 0.0.0.0/0",
        (rp.EKS_COMPONENT, rp.EKS_CLUSTER),
        "aws eks describe-cluster --name <name> --query cluster.resourcesVpcConfig; "
        "AWS Config rule EKS_ENDPOINT_NO_PUBLIC_ACCESS (deployed by audit.py); Security Hub control EKS.1",
        rp.eks_private_endpoint,
    ),
    Policy(
        "eks-secrets-encryption",
        "Kubernetes secrets are envelope-encrypted with a customer-managed key",
        AT_REST,
        "set encryption_config_key_arn to the cluster key",
        (rp.EKS_COMPONENT, rp.EKS_CLUSTER),
        "aws eks describe-cluster --name <name> --query cluster.encryptionConfig; "
        "AWS Config rule EKS_SECRETS_ENCRYPTED (deployed by audit.py)",
        rp.eks_secrets_encryption,
    ),
    Policy(
        "eks-audit-logs",
        "The control plane sends api, audit and authenticator logs to CloudWatch",
        (CC72, AUDIT),
        "enable the api, audit and authenticator control-plane log types",
        (rp.EKS_COMPONENT, rp.EKS_CLUSTER),
        "aws eks describe-cluster --name <name> --query cluster.logging",
        rp.eks_audit_logs,
    ),
    Policy(
        "restricted-pod-security",
        "Namespaces enforce the restricted Pod Security Standard",
        (CC61, CC66),
        "label the namespace pod-security.kubernetes.io/enforce: restricted",
        (rp.NAMESPACE,),
        "kubectl get namespaces -L pod-security.kubernetes.io/enforce",
        rp.pod_security_restricted,
        exceptions=rp.NAMESPACE_EXCEPTIONS,
    ),
    Policy(
        "default-deny-network-policies",
        "Every namespace with workloads denies all traffic by default",
        (CC66, GDPR),
        "add a NetworkPolicy with an empty podSelector and policyTypes Ingress and Egress (namespaces/)",
        (sp.NAMESPACE,),
        "kubectl get networkpolicy -A (a default-deny in each application namespace)",
        check_stack=sp.default_deny,
        selects=sp.namespaces_with_workloads,
    ),
    Policy(
        "iam-wildcards-explained",
        "No IAM wildcard grant without a recorded reason",
        (CC61, GDPR),
        "narrow the grant, or record why in WILDCARD_REASONS (aws/iam.py) next to the document",
        (rp.ROLE_POLICY, rp.IAM_POLICY),
        "aws iam get-role-policy --role-name <role> --policy-name <name>; IAM Access Analyzer policy validation",
        rp.iam_wildcards_explained,
    ),
    Policy(
        "stateful-resources-protected",
        "Every stateful resource is protected against deletion",
        (A12, INTEGRITY),
        "pass protect=True (StackContext.options(stateful=True)); production's settings require it",
        tuple(REPLACING_PROPERTIES),
        "pulumi stack export | jq '.deployment.resources[] | select(.protect) | .urn'",
        check_stack=sp.stateful_protected,
        exceptions={"eks:index:Cluster": sp.EKS_DELETION_PROTECTION_REASON},
    ),
)

POLICY_NAMES: Final = tuple(policy.name for policy in POLICIES)


def evaluate(resources: Sequence[Resource], config: PackConfig) -> list[Violation]:
    """Every violation of every enabled policy over ``resources``, each with its enforcement."""
    violations = []
    for policy in POLICIES:
        level = config.level(policy.name)
        if level is Enforcement.DISABLED:
            continue
        if policy.check_resource is not None:
            found = [(r, problem) for r in resources if r.type in policy.types for problem in policy.check_resource(r)]
        else:
            assert policy.check_stack is not None
            found = policy.check_stack(resources)
        violations += [Violation(policy.name, r.label, policy.message(r, problem), level) for r, problem in found]
    return violations
