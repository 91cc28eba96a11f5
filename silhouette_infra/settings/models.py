"""The typed settings of the whole platform, one section per layer.

Every field carries a description: the README's configuration reference is generated from these
models (``python -m silhouette_infra docs``), so the docs cannot drift. Field defaults are the
production values; ``profiles.py`` holds the per-stack overrides. Rules that need more than one
field (min <= max, production must be Multi-AZ, CIDRs must not overlap) live in ``rules.py`` so
that every offending key can be reported at once with its own path.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from silhouette_infra.kubernetes.images import check_application_image, require_pinned
from silhouette_infra.settings.versions import (
    AMAZON_MQ_RABBITMQ_VERSIONS,
    EKS_KUBERNETES_VERSIONS,
    NEO4J_VERSIONS,
    POSTGRES_MAJOR_VERSIONS,
)

Environment = Literal["production", "staging"]

# CloudWatch Logs accepts only these retention values (PutRetentionPolicy, retentionInDays).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def _log_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(f"CloudWatch Logs accepts only {', '.join(map(str, LOG_RETENTION_DAYS))} days")
    return value


def _cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as error:
        raise ValueError(f"not an IPv4 network in CIDR notation with host bits zero ({error})") from None
    return str(network)


def _one_of(allowed: tuple[str, ...], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"unsupported {what} {value!r}; supported: {', '.join(allowed)}")
        return value

    return AfterValidator(check)


_QUANTITY_CPU = re.compile(r"^(\d+m|\d+(\.\d+)?)$")
_QUANTITY_MEMORY = re.compile(r"^\d+(Ki|Mi|Gi|Ti)$")

LogRetentionDays = Annotated[int, AfterValidator(_log_retention)]
Cidr = Annotated[str, AfterValidator(_cidr)]
Cpu = Annotated[str, Field(pattern=_QUANTITY_CPU.pattern, examples=["250m", "1"])]
Memory = Annotated[str, Field(pattern=_QUANTITY_MEMORY.pattern, examples=["512Mi", "1Gi"])]
AwsRegion = Annotated[str, Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")]


def _account_id(value: object) -> object:
    """``pulumi config set --path`` stores digit-only values as numbers and YAML tools can drop a leading zero
    (pulumi/pulumi#18285, #11518): an AWS account id is always 12 digits, so a number is formatted back."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
        return f"{value:012d}"
    return value


def _utc_timestamp(value: object) -> object:
    """A YAML timestamp written unquoted (``2026-11-28T09:55:00Z``) reaches the settings as a date-time or its
    ISO text with ``+00:00``: the same instant, written back as ``...Z``. Anything else is left to the field."""
    if isinstance(value, datetime.datetime) or (isinstance(value, str) and value != "latest" and "T" in value):
        try:
            moment = value if isinstance(value, datetime.datetime) else datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


AccountId = Annotated[str, BeforeValidator(_account_id), Field(pattern=r"^\d{12}$")]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")]
# Third-party images (Neo4j, the AWS CLI, the collector): an exact tag or digest, never 'latest'.
PinnedImage = Annotated[str, AfterValidator(require_pinned)]
# Application images: a tag or digest in the stack's ECR repository, or a full reference from an allowed registry.
ApplicationImage = Annotated[str, AfterValidator(check_application_image)]
RegistryHost = Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?$")]
IamRoleArn = Annotated[str, Field(pattern=r"^arn:aws(-[a-z]+)?:iam::\d{12}:role/[\w+=,.@/-]+$")]
# AWS maintenance windows: ddd:hh24:mi-ddd:hh24:mi (RDS, ElastiCache); backup windows hh24:mi-hh24:mi.
MaintenanceWindow = Annotated[
    str,
    Field(pattern=r"^(mon|tue|wed|thu|fri|sat|sun):\d{2}:\d{2}-(mon|tue|wed|thu|fri|sat|sun):\d{2}:\d{2}$"),
]
DailyWindow = Annotated[str, Field(pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")]
HelmChartVersion = Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")]
QueueName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9.-]{0,62}[a-z0-9]$")]
FigureSource = Annotated[str, Field(min_length=10)]


class Section(BaseModel):
    """Base of every settings model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------------------- aws
class AwsSettings(Section):
    region: AwsRegion = Field("us-east-1", description="AWS region of the stack.")
    dr_region: AwsRegion = Field(
        "us-west-2", description="Disaster-recovery region: backup copies and bucket replication go here."
    )
    allowed_account_ids: list[AccountId] = Field(
        default_factory=list,
        description="AWS account ids the stack may be applied to; the provider refuses any other account "
        "(set it in each stack file once the accounts exist).",
    )
    cost_center: str = Field("platform", min_length=1, max_length=64, description="CostCenter tag on every resource.")
    data_classification: Literal["public", "internal", "confidential", "restricted"] = Field(
        "restricted", description="DataClassification tag on every resource (HIPAA data: restricted)."
    )


# --------------------------------------------------------------------------------------- keys
class KeysSettings(Section):
    deletion_window_days: int = Field(
        30, ge=7, le=30, description="Days a scheduled KMS key deletion waits (AWS allows 7-30)."
    )
    rotation_period_days: int = Field(
        365, ge=90, le=2560, description="Automatic key-material rotation period (AWS allows 90-2560 days)."
    )


# --------------------------------------------------------------------------------------- network
InterfaceEndpoint = Literal["ecr.api", "ecr.dkr", "sts", "logs", "secretsmanager", "kms", "ec2"]
DEFAULT_INTERFACE_ENDPOINTS: tuple[InterfaceEndpoint, ...] = ("ecr.api", "ecr.dkr", "sts", "logs", "secretsmanager")


class NetworkSettings(Section):
    vpc_cidr: Cidr = Field("10.0.0.0/16", description="VPC IPv4 CIDR, /16 to /20.")
    availability_zones: list[str] = Field(
        default_factory=lambda: ["a", "b", "c"],
        min_length=2,
        max_length=6,
        description="AZ suffixes (a, b, c) or full names in the stack's region; the design uses 3.",
    )
    public_subnet_prefix: int = Field(24, ge=16, le=28, description="Prefix length of each public subnet.")
    private_subnet_prefix: int = Field(
        19,
        ge=16,
        le=28,
        description="Prefix length of each private (nodes and pods) subnet; pods take VPC IPs.",
    )
    isolated_subnet_prefix: int = Field(24, ge=16, le=28, description="Prefix length of each isolated data subnet.")
    nat_gateways: Literal["one_per_az", "single"] = Field(
        "one_per_az", description="NAT gateways: one per AZ (survives an AZ loss) or a single one (cheaper)."
    )
    flow_log_retention_days: LogRetentionDays = Field(365, description="Retention of the VPC flow-log group.")
    interface_endpoints: list[InterfaceEndpoint] = Field(
        default_factory=lambda: list(DEFAULT_INTERFACE_ENDPOINTS),
        description="Interface VPC endpoints (the S3 gateway endpoint is always created).",
    )
    peered_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="Networks reachable through peering or VPN; they must not overlap the VPC.",
    )


# --------------------------------------------------------------------------------------- cluster
class Taint(Section):
    key: str = Field(min_length=1, max_length=63, description="Taint key.")
    value: str = Field("", max_length=63, description="Taint value.")
    effect: Literal["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"] = Field(
        "NO_SCHEDULE", description="Taint effect (EKS API spelling)."
    )


class NodeGroupSettings(Section):
    name: Name = Field(description="Node group name (unique in the cluster).")
    instance_types: list[str] = Field(
        min_length=1, description="EC2 instance types, first one preferred (e.g. m6i.xlarge)."
    )
    capacity_type: Literal["ON_DEMAND", "SPOT"] = Field("ON_DEMAND", description="EC2 capacity type.")
    min_size: int = Field(ge=0, le=450, description="Minimum number of nodes.")
    desired_size: int = Field(ge=0, le=450, description="Initial number of nodes (the autoscaler moves it).")
    max_size: int = Field(ge=1, le=450, description="Maximum number of nodes.")
    disk_size_gib: int = Field(50, ge=20, le=16384, description="Encrypted gp3 root volume size per node.")
    labels: dict[str, str] = Field(default_factory=dict, description="Kubernetes labels on the nodes.")
    taints: list[Taint] = Field(default_factory=list, description="Kubernetes taints on the nodes.")
    runs_applications: bool = Field(
        True, description="Whether the application workloads schedule here (counted in the capacity check)."
    )


EksAddonVersion = Annotated[str, Field(pattern=r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")]


class EksAddonVersions(Section):
    """Pinned EKS managed add-on versions; list candidates with
    ``aws eks describe-addon-versions --kubernetes-version <v> --addon-name <name>``."""

    vpc_cni: EksAddonVersion = Field("v1.20.4-eksbuild.1", description="vpc-cni (network policy enforcement on).")
    coredns: EksAddonVersion = Field("v1.12.4-eksbuild.1", description="coredns.")
    kube_proxy: EksAddonVersion = Field(
        "v1.35.0-eksbuild.2", description="kube-proxy; its minor version must equal the cluster's."
    )
    ebs_csi_driver: EksAddonVersion = Field("v1.50.1-eksbuild.1", description="aws-ebs-csi-driver.")
    pod_identity_agent: EksAddonVersion = Field("v1.3.9-eksbuild.3", description="eks-pod-identity-agent.")


class ClusterSettings(Section):
    kubernetes_version: Annotated[str, _one_of(EKS_KUBERNETES_VERSIONS, "EKS Kubernetes version")] = Field(
        "1.35", description="EKS Kubernetes version; only versions in AWS standard support are accepted."
    )
    service_ipv4_cidr: Cidr = Field(
        "172.20.0.0/16", description="Kubernetes service CIDR; must not overlap the VPC or peered networks."
    )
    endpoint_public_access_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="CIDRs allowed to reach the public API endpoint; empty keeps the endpoint private only.",
    )
    admin_role_arns: list[IamRoleArn] = Field(
        default_factory=list, description="IAM roles granted cluster-admin through access entries."
    )
    readonly_role_arns: list[IamRoleArn] = Field(
        default_factory=list, description="IAM roles granted read-only access through access entries."
    )
    log_retention_days: LogRetentionDays = Field(
        2557,
        description="Retention of the control-plane log group. EKS writes the Kubernetes audit log there with the "
        "other log types, so it is kept as long as audit.audit_log_retention_days (7 years).",
    )
    deletion_protection: bool = Field(True, description="EKS deletion protection on the cluster.")
    addon_versions: EksAddonVersions = Field(
        default_factory=EksAddonVersions, description="Pinned versions of the EKS managed add-ons."
    )
    capacity_headroom_percent: int = Field(
        20,
        ge=0,
        le=80,
        description="Share of the application node groups' allocatable capacity kept free when every workload "
        "runs at its maximum replicas (room for rollouts, daemon sets and spikes).",
    )
    node_groups: list[NodeGroupSettings] = Field(
        default_factory=lambda: [
            NodeGroupSettings(
                name="system",
                instance_types=["m7g.large"],
                min_size=3,
                desired_size=3,
                max_size=6,
                labels={"silhouette.io/pool": "system"},
                taints=[Taint(key="CriticalAddonsOnly", value="true", effect="NO_SCHEDULE")],
                runs_applications=False,
            ),
            NodeGroupSettings(
                name="apps",
                instance_types=["m7g.xlarge", "m6g.xlarge"],
                min_size=3,
                desired_size=3,
                max_size=15,
                labels={"silhouette.io/pool": "apps"},
            ),
        ],
        min_length=1,
        description="Managed node groups.",
    )


class ClusterAddonsSettings(Section):
    aws_load_balancer_controller_chart: HelmChartVersion = Field(
        "1.14.0", description="Chart version of aws-load-balancer-controller."
    )
    metrics_server_chart: HelmChartVersion = Field("3.13.0", description="Chart version of metrics-server.")
    cluster_autoscaler_chart: HelmChartVersion = Field("9.50.1", description="Chart version of cluster-autoscaler.")
    cluster_autoscaler_image_tag: str = Field(
        "v1.35.0",
        pattern=r"^v\d+\.\d+\.\d+$",
        description="cluster-autoscaler image; its minor version must equal the cluster's Kubernetes version.",
    )
    external_secrets_chart: HelmChartVersion = Field("0.20.4", description="Chart version of external-secrets.")
    keda_chart: HelmChartVersion = Field("2.20.2", description="Chart version of KEDA (kedacore/keda).")


class RegistrySettings(Section):
    repositories: list[Name] = Field(
        default_factory=lambda: ["backend", "frontend"], min_length=1, description="ECR repositories to create."
    )
    keep_tagged_images: int = Field(
        100, ge=10, le=1000, description="Tagged images kept per repository (older ones expire; rollback depth)."
    )
    untagged_expiry_days: int = Field(7, ge=1, le=90, description="Days before an untagged image expires.")
    replicate_to_dr_region: bool = Field(
        True,
        description="Replicate the stack's repositories to the DR region (registry replication: the images are "
        "there when the dr stack starts; required in production).",
    )


# --------------------------------------------------------------------------------------- data services
class PostgresSettings(Section):
    major_version: Annotated[str, _one_of(POSTGRES_MAJOR_VERSIONS, "RDS PostgreSQL major version")] = Field(
        "17",
        description="RDS PostgreSQL major version (the seed's 14.9 leaves standard support in Feb 2027).",
    )
    instance_class: str = Field(
        "db.r6g.xlarge", pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$", description="RDS instance class."
    )
    multi_az: bool = Field(True, description="Multi-AZ standby in another AZ (required in production).")
    allocated_storage_gib: int = Field(100, ge=20, le=65536, description="Initial gp3 storage.")
    max_allocated_storage_gib: int = Field(
        1000, ge=20, le=65536, description="Storage autoscaling ceiling; must be above the initial storage."
    )
    backup_retention_days: int = Field(14, ge=1, le=35, description="Automated backup (PITR) retention.")
    backup_window: DailyWindow = Field("03:00-04:00", description="Daily automated backup window (UTC).")
    maintenance_window: MaintenanceWindow = Field("sun:05:00-sun:06:00", description="Weekly maintenance window (UTC).")
    slow_statement_ms: int = Field(500, ge=10, le=60000, description="log_min_duration_statement in ms.")
    performance_insights_retention_days: int = Field(
        7, description="Performance Insights retention: 7, or a multiple of 31 up to 731."
    )
    monitoring_interval_seconds: Literal[0, 1, 5, 10, 15, 30, 60] = Field(
        30, description="Enhanced monitoring interval (0 disables it)."
    )
    deletion_protection: bool = Field(True, description="RDS deletion protection.")
    proxy_max_connections_percent: int = Field(
        90,
        ge=1,
        le=100,
        description="Share of the instance's max_connections RDS Proxy may open (the rest stays for "
        "administrators and the monitoring user).",
    )


class RedisSettings(Section):
    engine: Literal["redis", "valkey"] = Field("redis", description="ElastiCache engine (Redis OSS or Valkey).")
    engine_version: str = Field("7.1", description="Engine version; see the supported list per engine.")
    node_type: str = Field("cache.r6g.large", pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$", description="Node type.")
    num_cache_clusters: int = Field(2, ge=1, le=6, description="Primary plus replicas (2+ for failover).")
    automatic_failover: bool = Field(True, description="Promote a replica when the primary fails.")
    multi_az: bool = Field(True, description="Place replicas in other AZs (required in production).")
    snapshot_retention_days: int = Field(7, ge=0, le=35, description="Daily snapshot retention (0 disables).")
    snapshot_window: DailyWindow = Field("02:00-03:00", description="Daily snapshot window (UTC).")
    maintenance_window: MaintenanceWindow = Field("sun:06:00-sun:07:00", description="Weekly maintenance window.")


class RabbitMqSettings(Section):
    engine_version: Annotated[str, _one_of(AMAZON_MQ_RABBITMQ_VERSIONS, "Amazon MQ RabbitMQ version")] = Field(
        "3.13", description="Amazon MQ RabbitMQ version (3.11 and 3.12 can no longer be created)."
    )
    host_instance_type: str = Field("mq.m5.large", pattern=r"^mq\.[a-z0-9]+\.[a-z0-9]+$", description="Broker type.")
    deployment_mode: Literal["SINGLE_INSTANCE", "CLUSTER_MULTI_AZ"] = Field(
        "CLUSTER_MULTI_AZ", description="Broker deployment mode (CLUSTER_MULTI_AZ required in production)."
    )
    maintenance_day: Literal["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"] = Field(
        "SUNDAY", description="Weekly maintenance day."
    )
    maintenance_time: str = Field("07:00", pattern=r"^\d{2}:\d{2}$", description="Maintenance start (UTC).")
    queues: list[QueueName] = Field(
        default_factory=lambda: ["workflow-executions", "workflow-events"],
        min_length=1,
        description="The broker's queues (quorum queues the backend declares at start, given to it as "
        "RABBITMQ_QUEUES); apps.worker.queue must be one of them.",
    )


class Neo4jSettings(Section):
    version: Annotated[str, _one_of(NEO4J_VERSIONS, "Neo4j version")] = Field(
        "5.26", description="Neo4j version (5.26 is the LTS line)."
    )
    # Exact release tags (evidence: neo4j/docker-neo4j-publish 5.26.12/bullseye/community; aws/aws-cli
    # .changes/2.31.0.json); append "@sha256:<digest>" to pin by digest.
    image: PinnedImage = Field(
        "neo4j:5.26.12-community",
        description="Neo4j image: a tag of the configured version, optionally pinned by digest.",
    )
    backup_image: PinnedImage = Field(
        "amazon/aws-cli:2.31.0",
        description="Image of the backup upload container.",
    )
    volume_size_gib: int = Field(100, ge=10, le=16384, description="Encrypted gp3 data volume.")
    cpu_request: Cpu = Field("1", description="CPU request.")
    cpu_limit: Cpu = Field("2", description="CPU limit.")
    memory_request: Memory = Field("4Gi", description="Memory request.")
    memory_limit: Memory = Field("4Gi", description="Memory limit.")
    backup_schedule: str = Field("0 */6 * * *", min_length=9, description="Cron schedule of the backup job.")


# --------------------------------------------------------------------------------------- backup
class BackupSettings(Section):
    six_hourly_retention_days: int = Field(2, ge=1, le=35, description="Retention of the 6-hourly recovery points.")
    daily_retention_days: int = Field(7, ge=1, le=35, description="Retention of the daily recovery points.")
    weekly_retention_days: int = Field(30, ge=7, le=365, description="Retention of the weekly recovery points.")
    copy_to_dr_region: bool = Field(True, description="Copy recovery points to a vault in the DR region.")
    replicate_bucket_to_dr_region: bool = Field(True, description="Replicate the backup bucket to the DR region.")
    transition_to_ia_days: int = Field(30, ge=30, le=3650, description="Days before objects move to Standard-IA.")
    transition_to_glacier_days: int = Field(90, ge=60, le=3650, description="Days before objects move to Glacier.")
    noncurrent_version_expiration_days: int = Field(
        90, ge=1, le=3650, description="Days a superseded object version is kept."
    )
    hourly_retention_days: int = Field(
        2,
        ge=1,
        le=35,
        description="Retention of the hourly snapshots of Neo4j's volume (the plan that brings its RPO to 1 h).",
    )


# --------------------------------------------------------------------------------------- recovery
ExportInterval = Literal[15, 20, 30, 60]
# DescribeDBInstanceAutomatedBackups' DBInstanceAutomatedBackupsArn.
AutomatedBackupsArn = Annotated[
    str, Field(pattern=r"^arn:aws(-[a-z]+)?:rds:[a-z0-9-]+:\d{12}:auto-backup:ab-[a-z0-9]+$")
]
KmsKeyArn = Annotated[str, Field(pattern=r"^arn:aws(-[a-z]+)?:kms:[a-z0-9-]+:\d{12}:key/[a-f0-9-]{36}$")]
S3ObjectArn = Annotated[str, Field(pattern=r"^arn:aws(-[a-z]+)?:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$")]


class RecoverySources(Section):
    postgres_automated_backups_arn: AutomatedBackupsArn = Field(
        description="The replicated automated backups PostgreSQL is restored from (in this stack's region): "
        "`aws rds describe-db-instance-automated-backups`."
    )
    postgres_restore_time: Annotated[str, BeforeValidator(_utc_timestamp)] = Field(
        "latest",
        pattern=r"^(latest|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)$",
        description="The point in time to restore to (UTC, `2026-11-28T09:55:00Z`), or `latest` (the latest "
        "restorable time of the replicated backups).",
    )
    rabbitmq_definitions_object: S3ObjectArn | None = Field(
        None,
        description="The exported RabbitMQ definitions the new broker imports once (`arn:aws:s3:::<backup bucket "
        "replica>/rabbitmq-definitions/production/<time>.json`); none: only the queues the backend declares.",
    )
    rabbitmq_definitions_key_arn: KmsKeyArn | None = Field(
        None, description="The KMS key that encrypts that object (the replica bucket's key), for the import's role."
    )
    redis_rdb_object: S3ObjectArn | None = Field(
        None,
        description="An RDB file the cache is seeded from (`arn:aws:s3:::<Redis export replica>/<name>-0001.rdb`, "
        "SSE-S3); none: the cache starts empty and refills from PostgreSQL.",
    )
    neo4j_dump_object: S3ObjectArn | None = Field(
        None,
        description="The Neo4j export a Job replays into the new, empty database once (`arn:aws:s3:::<backup bucket "
        "replica>/neo4j/production/<time>.cypher.gz`); none: Neo4j starts empty.",
    )
    neo4j_dump_key_arn: KmsKeyArn | None = Field(
        None, description="The KMS key that encrypts that object (the replica bucket's key), for the restore's role."
    )


class RecoverySettings(Section):
    rpo_minutes: int = Field(
        60,
        ge=5,
        le=10080,
        description="Recovery point objective in minutes: the most data the platform may lose. `silhouette-ops "
        "backups verify` holds every stateful service to it, or to its backup schedule's bound where the "
        "schedule is longer (README, Operations); a production stack whose recovery points in the DR region are "
        "older (planning/recovery.py) is refused.",
    )
    mode: Literal["cold", "pilot_light"] = Field(
        "cold",
        description="What runs in the DR region before a disaster: nothing (cold), or the network, the keys, the EKS "
        "cluster with its add-ons and the node groups at their minimum (pilot_light). The dr stack in pilot_light "
        "without `sources` declares only that standby; adding the sources at a disaster makes it the full stack "
        "(`pulumi up`), and the RTO estimate counts only what is still to create. In cold mode the sources are "
        "required.",
    )
    rto_minutes: int = Field(
        240,
        ge=15,
        le=2880,
        description="Recovery time objective: the longest, in minutes, the estimated `pulumi up` critical path of "
        "the dr stack may take.",
    )
    definitions_image: PinnedImage = Field(
        "python:3.13.1-slim",
        description="Image that reads the RabbitMQ definitions from the management API (Python standard library).",
    )
    aws_cli_image: PinnedImage = Field(
        "amazon/aws-cli:2.31.0", description="Image that uploads the exports to the backup bucket."
    )
    sources: RecoverySources | None = Field(
        None,
        description="What this stack is rebuilt from (the dr stack): its data services are created from these "
        "sources instead of empty.",
    )
    export_interval_minutes: ExportInterval = Field(
        30,
        description="How often the RabbitMQ definitions are exported to the backup bucket (which replicates them to "
        "the DR region).",
    )

    @property
    def standby(self) -> bool:
        """The DR region's pilot light before a disaster: the core without any data service."""
        return self.mode == "pilot_light" and self.sources is None


class SecretsSettings(Section):
    max_age_days: int = Field(
        90,
        ge=1,
        le=3650,
        description="Longest a credential may go without rotation or change: `silhouette-ops secrets check` is "
        "critical beyond it.",
    )
    warning_days: int = Field(
        14, ge=0, le=365, description="`secrets check` warns this many days before a credential reaches max_age_days."
    )


# --------------------------------------------------------------------------------------- edge
class ShieldContact(Section):
    email_address: Email = Field(description="E-mail address the Shield Response Team writes to.")
    phone_number: str | None = Field(
        None, pattern=r"^\+[1-9]\d{1,14}$", description="Phone number in E.164 form (`+` and up to 15 digits)."
    )
    contact_notes: str | None = Field(None, max_length=1024, description="Who this is and when to call.")


class EdgeSettings(Section):
    domain: str = Field(
        "app.silhouette.example.com",
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$",
        description="Public hostname of the service.",
    )
    hosted_zone_id: str | None = Field(
        None, pattern=r"^Z[A-Z0-9]{5,32}$", description="Route 53 zone for DNS validation and the record."
    )
    certificate_arn: str | None = Field(
        None,
        pattern=r"^arn:aws(-[a-z]+)?:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$",
        description="Existing ACM certificate, used when no hosted zone is configured.",
    )
    waf_rate_limit_per_5min: int = Field(
        2000, ge=10, le=2_000_000_000, description="Requests per IP per 5 minutes before WAF blocks."
    )
    waf_log_retention_days: LogRetentionDays = Field(365, description="Retention of the WAF log group.")
    shield_advanced: bool = Field(
        False,
        description="Subscribe the account to AWS Shield Advanced and protect the ALB and the Route 53 zone "
        "(`hosted_zone_id`). The subscription costs $3,000 a month with a one-year commitment (README, "
        "Shield Advanced): off unless the business has decided to pay for it.",
    )
    shield_proactive_engagement_contacts: list[ShieldContact] = Field(
        default_factory=list,
        max_length=10,
        description="With `shield_advanced`: the people the Shield Response Team contacts during an attack "
        "(proactive engagement; at least one with a phone number). Empty: no proactive engagement.",
    )


# --------------------------------------------------------------------------------------- audit
class AuditSettings(Section):
    cloudtrail: bool = Field(True, description="Create a multi-region CloudTrail trail.")
    guardduty: bool = Field(True, description="Enable GuardDuty (off when the account already has it).")
    config_recorder: bool = Field(True, description="Enable the AWS Config recorder and managed rules.")
    security_hub: bool = Field(True, description="Enable Security Hub with the Foundational and CIS standards.")
    replicate_to_dr_region: bool = Field(
        True,
        description="Replicate the audit bucket (CloudTrail and AWS Config history) to a bucket in the DR region "
        "(required in production).",
    )
    audit_log_retention_days: LogRetentionDays = Field(2557, description="Retention of audit-class logs (7 years).")


# --------------------------------------------------------------------------------------- apps
class WorkloadSettings(Section):
    image: ApplicationImage = Field(
        description="Image to run: a tag (`1.4.2`) or digest (`sha256:...`) in the stack's ECR repository "
        "`silhouette/<stack>/<workload>`, or a full reference `registry/path:tag` from a registry listed in "
        "`apps.allowed_registries`. Never `latest` or untagged.",
    )
    min_replicas: int = Field(ge=1, le=500, description="HPA minimum replicas.")
    max_replicas: int = Field(ge=1, le=500, description="HPA maximum replicas.")
    cpu_target_percent: int = Field(70, ge=10, le=95, description="HPA average CPU utilisation target.")
    cpu_request: Cpu = Field(description="CPU request per pod.")
    cpu_limit: Cpu = Field(description="CPU limit per pod.")
    memory_request: Memory = Field(description="Memory request per pod.")
    memory_limit: Memory = Field(description="Memory limit per pod.")


class ReleaseSettings(Section):
    strategy: Literal["rolling", "blue_green", "canary"] = Field(
        "rolling",
        description="Backend release strategy: rolling (one Deployment), blue_green (two colour Deployments, the "
        "Service selects the active one) or canary (a second Deployment gets canary_weight_percent of /api).",
    )
    active_color: Literal["blue", "green"] = Field("blue", description="Colour receiving traffic (blue_green).")
    blue_image: ApplicationImage | None = Field(None, description="Backend image of the blue Deployment (blue_green).")
    green_image: ApplicationImage | None = Field(
        None, description="Backend image of the green Deployment (blue_green)."
    )
    canary_image: ApplicationImage | None = Field(None, description="Backend image of the canary Deployment (canary).")
    canary_weight_percent: int = Field(10, ge=0, le=100, description="Share of /api traffic to the canary (canary).")


class FeatureFlags(Section):
    enable_ai_ml: bool = Field(False, description="AI/ML workflow nodes.")
    enable_collaboration: bool = Field(True, description="Real-time collaboration on workflows.")
    enable_compliance: bool = Field(True, description="Compliance features (audit export, retention controls).")
    enable_advanced_monitoring: bool = Field(True, description="Detailed workflow metrics and tracing.")


class WorkerSettings(Section):
    args: list[str] = Field(
        default_factory=lambda: ["worker"],
        min_length=1,
        description="Arguments the backend image's entrypoint runs a workflow worker with (the workers run the "
        "backend's serving image: the active colour, the stable track).",
    )
    queue: QueueName = Field("workflow-executions", description="Queue the workers consume (one of rabbitmq.queues).")
    min_replicas: int = Field(2, ge=1, le=500, description="KEDA minimum replicas.")
    max_replicas: int = Field(20, ge=1, le=500, description="KEDA maximum replicas.")
    messages_per_replica: int = Field(
        20, ge=1, le=10000, description="KEDA target: ready messages in the queue per worker replica."
    )
    cpu_request: Cpu = Field("500m", description="CPU request per worker pod.")
    cpu_limit: Cpu = Field("1", description="CPU limit per worker pod.")
    memory_request: Memory = Field("768Mi", description="Memory request per worker pod.")
    memory_limit: Memory = Field("1536Mi", description="Memory limit per worker pod.")


# Until a load test of the application has measured them, the per-pod figures are assumptions and say so.
_UNMEASURED = (
    "assumed, not measured: replace with the result of loadtest/ against staging (README, Throughput and connections)"
)


class ThroughputSettings(Section):
    api_requests_per_second: int = Field(1000, ge=1, description="API target: requests per second at p95 < 200 ms.")
    api_headroom_percent: int = Field(
        25, ge=0, le=500, description="Capacity the backend must have above the API target at its maximum."
    )
    workflows_per_hour: int = Field(10000, ge=1, description="Workflow target: executions per hour, on average.")
    workflow_peak_factor: float = Field(
        2.0, ge=1, le=20, description="Peak hour over the average: the workers at maximum absorb the peak."
    )
    traffic_hours_per_day: float = Field(
        24,
        gt=0,
        le=24,
        description="Hours a day the stack carries its average load (API target over the peak factor, workflows "
        "per hour): the usage the cost estimate prices. Production all day; staging only while it is load-tested.",
    )
    backend_requests_per_second_per_pod: float = Field(
        75, gt=0, description="Requests per second one backend pod sustains at p95 < 200 ms."
    )
    backend_figure_source: FigureSource = Field(
        _UNMEASURED, description="Where the backend's per-pod figure comes from."
    )
    worker_workflows_per_minute_per_pod: float = Field(
        20, gt=0, description="Workflow executions per minute one worker pod completes."
    )
    worker_figure_source: FigureSource = Field(_UNMEASURED, description="Where the worker's per-pod figure comes from.")
    backend_database_pool_size: int = Field(
        10, ge=1, le=200, description="Database connections one backend pod keeps (through RDS Proxy)."
    )
    worker_database_pool_size: int = Field(
        5, ge=1, le=200, description="Database connections one worker pod keeps (through RDS Proxy)."
    )


class AppsSettings(Section):
    backend: WorkloadSettings = Field(
        default_factory=lambda: WorkloadSettings(
            image="1.0.0",
            min_replicas=3,
            max_replicas=20,
            cpu_request="250m",
            cpu_limit="500m",
            memory_request="512Mi",
            memory_limit="1Gi",
        ),
        description="Backend API.",
    )
    frontend: WorkloadSettings = Field(
        default_factory=lambda: WorkloadSettings(
            image="1.0.0",
            min_replicas=2,
            max_replicas=10,
            cpu_request="100m",
            cpu_limit="250m",
            memory_request="128Mi",
            memory_limit="256Mi",
        ),
        description="Web frontend.",
    )
    worker: WorkerSettings = Field(default_factory=WorkerSettings, description="Workflow workers (queue consumers).")
    throughput: ThroughputSettings = Field(
        default_factory=ThroughputSettings, description="Throughput targets and per-pod figures (the throughput model)."
    )
    release: ReleaseSettings = Field(default_factory=ReleaseSettings, description="Release strategy of the backend.")
    allowed_registries: list[RegistryHost] = Field(
        default_factory=list,
        description="Registries (host[:port], e.g. `ghcr.io`) the application images may come from besides the "
        "stack's own ECR repositories; empty allows only those.",
    )
    feature_flags: FeatureFlags = Field(default_factory=FeatureFlags, description="Feature flags in the ConfigMap.")
    quota_headroom_percent: int = Field(
        20, ge=0, le=200, description="Namespace ResourceQuota above what every HPA at maximum needs (rollout surge)."
    )
    quota_cpu: Cpu | None = Field(
        None, description="Explicit requests.cpu quota of the app namespace (default: computed from the workloads)."
    )
    quota_memory: Memory | None = Field(
        None, description="Explicit requests.memory quota of the app namespace (default: computed from the workloads)."
    )


# --------------------------------------------------------------------------------------- observability
class TracingSettings(Section):
    collector_image: PinnedImage = Field(
        "public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0",
        description="Image of the OpenTelemetry Collector (AWS Distro for OpenTelemetry, with the X-Ray exporter).",
    )
    collector_replicas: int = Field(2, ge=1, le=10, description="Collector replicas (2+ for HA).")
    sampling_percent: float = Field(
        1,
        gt=0,
        le=100,
        description="Share of traces kept (probabilistic, by trace id, so a trace is kept or dropped whole).",
    )
    manage_xray_encryption: bool = Field(
        True,
        description="Set the region's X-Ray encryption to the logs KMS key (an account-wide setting: off when "
        "another stack of the account already manages it).",
    )


class SloSettings(Section):
    availability_percent: float = Field(99.9, gt=90, lt=100, description="API availability objective.")
    latency_p95_ms: int = Field(200, ge=1, le=60000, description="API p95 latency objective.")
    error_rate_percent: float = Field(0.1, gt=0, lt=10, description="API error-rate objective.")
    database_p95_ms: int = Field(50, ge=1, description="Database query p95 objective.")
    cache_p95_ms: int = Field(5, ge=1, description="Cache p95 objective.")
    queue_p95_ms: int = Field(100, ge=1, description="Queue publish-to-consume p95 objective.")
    database_availability_percent: float = Field(
        99.95,
        gt=90,
        lt=100,
        description="PostgreSQL availability objective: share of the application's database calls that do not "
        "fail for want of the database (burn-rate alerts on the rest).",
    )
    cache_availability_percent: float = Field(
        99.9, gt=90, lt=100, description="Redis availability objective, measured like the database's."
    )
    queue_availability_percent: float = Field(
        99.9, gt=90, lt=100, description="RabbitMQ availability objective, measured like the database's."
    )
    queue_messages_per_second: int = Field(
        100,
        ge=1,
        description="Queue throughput objective: the consumers keep up with (acknowledge) publishes of up to "
        "this many messages per second.",
    )
    cache_hit_ratio_percent: float = Field(
        90, gt=0, lt=100, description="Cache hit ratio objective: share of Redis key lookups that hit."
    )


class ObservabilitySettings(Section):
    kube_prometheus_stack_chart: HelmChartVersion = Field(
        "79.5.0", description="Chart version of kube-prometheus-stack."
    )
    fluent_bit_chart: HelmChartVersion = Field(
        "0.1.35", description="Chart version of aws-for-fluent-bit (container logs to CloudWatch Logs)."
    )
    prometheus_retention_days: int = Field(15, ge=1, le=365, description="Prometheus TSDB retention.")
    prometheus_volume_gib: int = Field(100, ge=10, le=16384, description="Prometheus encrypted gp3 volume.")
    prometheus_replicas: int = Field(2, ge=1, le=5, description="Prometheus replicas (2 for HA).")
    alertmanager_replicas: int = Field(2, ge=1, le=5, description="Alertmanager replicas (2+ for HA).")
    slack_channel: str = Field("#silhouette-alerts", pattern=r"^#[a-z0-9_-]+$", description="Slack channel of alerts.")
    alert_emails: list[Email] = Field(
        default_factory=list,
        description="Recipients of critical and warning alert emails; empty (the default) sends none. On SES "
        "(the default smtp_smarthost) they need smtp_username.",
    )
    smtp_from: Email = Field("alerts@silhouette.example.com", description="Sender of alert emails.")
    smtp_username: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="SMTP user (e.g. the SES SMTP user name); its password goes in the receivers secret.",
    )
    smtp_smarthost: str = Field(
        "email-smtp.us-east-1.amazonaws.com:587", pattern=r"^[a-z0-9.-]+:\d+$", description="SMTP relay (host:port)."
    )
    container_log_retention_days: LogRetentionDays = Field(90, description="Retention of container logs.")
    service_log_retention_days: LogRetentionDays = Field(
        365, description="Retention of managed-service logs (RDS, ElastiCache): a year, for investigations."
    )
    alarm_emails: list[Email] = Field(
        default_factory=list, description="Email addresses subscribed to the alarm SNS topic."
    )
    slo: SloSettings = Field(default_factory=SloSettings, description="Service-level objectives.")
    tracing: TracingSettings = Field(
        default_factory=TracingSettings, description="OpenTelemetry Collector receiving OTLP, exporting to X-Ray."
    )
    runbook_base_url: str = Field(
        "https://github.com/silhouette/infrastructure/blob/main/README.md",
        pattern=r"^https://[^\s#]+$",
        description="Where the runbooks are (the README's Operations section): each alert links "
        "`<runbook_base_url>#<alert name in lower case>`.",
    )


# --------------------------------------------------------------------------------------- root
class Settings(Section):
    """Everything a stack needs; built by ``load_settings`` from the stack's config."""

    environment: Environment = Field(
        description="Profile of the stack: production (HA, protected) or staging (cheap: single NAT gateway, "
        "single-instance data services). Defaults to the stack name."
    )
    protect_stateful: bool = Field(
        True, description="Pulumi `protect` on every stateful resource (keys, databases, buckets, vaults)."
    )
    aws: AwsSettings = Field(default_factory=AwsSettings, description="Account, regions and tags.")
    keys: KeysSettings = Field(default_factory=KeysSettings, description="KMS keys.")
    network: NetworkSettings = Field(default_factory=NetworkSettings, description="VPC and subnets.")
    cluster: ClusterSettings = Field(default_factory=ClusterSettings, description="EKS cluster and node groups.")
    cluster_addons: ClusterAddonsSettings = Field(
        default_factory=ClusterAddonsSettings, description="Helm-installed cluster add-ons."
    )
    registry: RegistrySettings = Field(default_factory=RegistrySettings, description="ECR image repositories.")
    postgres: PostgresSettings = Field(default_factory=PostgresSettings, description="RDS PostgreSQL.")
    redis: RedisSettings = Field(default_factory=RedisSettings, description="ElastiCache replication group.")
    rabbitmq: RabbitMqSettings = Field(default_factory=RabbitMqSettings, description="Amazon MQ RabbitMQ broker.")
    neo4j: Neo4jSettings = Field(default_factory=Neo4jSettings, description="Neo4j in the cluster.")
    backup: BackupSettings = Field(default_factory=BackupSettings, description="S3 backup bucket and AWS Backup.")
    recovery: RecoverySettings = Field(
        default_factory=RecoverySettings,
        description="Recovery objectives the backups are verified against, the exports, and the dr stack's sources.",
    )
    secrets: SecretsSettings = Field(default_factory=SecretsSettings, description="Credential rotation policy.")
    edge: EdgeSettings = Field(default_factory=EdgeSettings, description="Certificate, WAF and DNS.")
    audit: AuditSettings = Field(default_factory=AuditSettings, description="Account-level audit services.")
    apps: AppsSettings = Field(default_factory=AppsSettings, description="Backend and frontend workloads.")
    observability: ObservabilitySettings = Field(
        default_factory=ObservabilitySettings, description="Metrics, alerts, logs and traces."
    )

    @property
    def is_production(self) -> bool:
        return self.environment == "production"
