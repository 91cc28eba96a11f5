"""The monthly cost of a stack, line by line: every priced resource the stack declares, its quantity from the
settings, the usage model (``planning/usage.py``) or the declared resources, and its unit price from the dated
price table (``planning/prices.py``) or the instance catalogue (``planning/instance_types.py``).

A charge without a recorded price is an unpriced line (listed, never guessed, never a failure: an estimate must
not block a synth), so the total is then a lower bound. Every AWS resource type the program declares is either
priced by a line here or named in ``NO_CHARGE`` with why (tests/test_cost.py holds the declared types to it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from silhouette_infra.backup import REDIS_EXPORT_RETENTION_DAYS
from silhouette_infra.planning import instance_types, usage
from silhouette_infra.planning.instance_types import Service
from silhouette_infra.planning.prices import PRICES, UNPRICED
from silhouette_infra.planning.usage import HOURS_PER_MONTH
from silhouette_infra.settings.models import Settings
from silhouette_infra.validation.rules import DAEMONSET_OVERHEAD

BUDGET_USD = 1950  # the Phase 5 design's monthly total for production (issue 16); its per-line table is not here
SPOT_DISCOUNT = 0.35  # spot typically costs about a third of on-demand for these families (assumed)


class Declared(Protocol):
    """What the estimate reads of a declared resource (the engine's CapturedResource)."""

    type: str
    inputs: dict[str, object]


@dataclass(frozen=True)
class Line:
    """One charge: ``usd`` is None when its unit price is not recorded (an unpriced line)."""

    layer: str
    item: str
    quantity: float
    unit: str
    usd: float | None
    basis: str


@dataclass(frozen=True)
class Estimate:
    lines: list[Line] = field(default_factory=list)

    @property
    def layers(self) -> dict[str, float]:
        """USD per month per layer, priced lines only."""
        totals: dict[str, float] = {}
        for line in self.lines:
            totals[line.layer] = round(totals.get(line.layer, 0.0) + (line.usd or 0.0), 2)
        return totals

    @property
    def unpriced(self) -> dict[str, list[str]]:
        """Per layer, the charges the total leaves out for want of a recorded price."""
        missing: dict[str, list[str]] = {}
        for line in self.lines:
            if line.usd is None:
                missing.setdefault(line.layer, []).append(line.item)
        return missing

    @property
    def total(self) -> float:
        return round(sum(line.usd or 0.0 for line in self.lines), 2)


# Declared AWS types that cost nothing by themselves (their charges, if any, are on the line named).
NO_CHARGE: dict[str, str] = {
    "aws:acm/certificate:Certificate": "public ACM certificates are free (digitaliceroom.com, AWS Certificate Manager)",
    "aws:backup/plan:Plan": "billed as the recovery points it makes (backup lines)",
    "aws:backup/selection:Selection": "part of the backup plan",
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": "a vault setting",
    "aws:cfg/deliveryChannel:DeliveryChannel": "billed as configuration items (security lines)",
    "aws:cfg/recorderStatus:RecorderStatus": "a recorder setting",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "no charge",
    "aws:ec2/eip:Eip": "billed as public IPv4 hours on the NAT gateway line",
    "aws:ec2/flowLog:FlowLog": "billed as log ingestion (observability lines)",
    "aws:ec2/internetGateway:InternetGateway": "no charge",
    "aws:ec2/launchTemplate:LaunchTemplate": "no charge",
    "aws:ec2/route:Route": "no charge",
    "aws:ec2/routeTable:RouteTable": "no charge",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "no charge",
    "aws:ec2/securityGroup:SecurityGroup": "no charge",
    "aws:ec2/subnet:Subnet": "no charge",
    "aws:ec2/vpc:Vpc": "no charge",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "no charge",
    "aws:ecr/replicationConfiguration:ReplicationConfiguration": "billed as the replicas' storage (ECR line)",
    "aws:eks/addon:Addon": "EKS add-ons are free; their pods run on the nodes",
    "aws:elasticache/parameterGroup:ParameterGroup": "no charge",
    "aws:elasticache/subnetGroup:SubnetGroup": "no charge",
    "aws:guardduty/detectorFeature:DetectorFeature": "billed on the GuardDuty lines",
    "aws:iam/role:Role": "IAM is free",
    "aws:iam/rolePolicy:RolePolicy": "IAM is free",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "IAM is free",
    "aws:kms/alias:Alias": "aliases are free",
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": "postgres DR copy lines",
    "aws:rds/parameterGroup:ParameterGroup": "no charge",
    "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": "part of RDS Proxy",
    "aws:rds/proxyTarget:ProxyTarget": "part of RDS Proxy",
    "aws:rds/subnetGroup:SubnetGroup": "no charge",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "a bucket setting",
    "aws:s3/bucketLogging:BucketLogging": "a bucket setting (the log objects are small)",
    "aws:s3/bucketNotification:BucketNotification": "a bucket setting",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "a bucket setting",
    "aws:s3/bucketPolicy:BucketPolicy": "a bucket setting",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "a bucket setting",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "billed on the backup replication line",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "a bucket setting",
    "aws:s3/bucketVersioning:BucketVersioning": "a bucket setting",
    "aws:secretsmanager/secretVersion:SecretVersion": "part of its secret",
    "aws:securityhub/standardsSubscription:StandardsSubscription": "billed as Security Hub checks",
    "aws:sns/topic:Topic": "alarms: $0.50 a million publishes (factualminds.com, SNS pricing), under a cent",
    "aws:sns/topicPolicy:TopicPolicy": "no charge",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": "billed as log ingestion",
    "aws:xray/encryptionConfig:EncryptionConfig": "billed as traces recorded",
    "aws:shield/protection:Protection": "part of the Shield Advanced subscription (off by default; $3,000/month)",
    "aws:shield/proactiveEngagement:ProactiveEngagement": "part of the Shield Advanced subscription",
    "aws:shield/subscription:Subscription": "Shield Advanced: $3,000/month when switched on (README), not priced here",
    "aws:route53/record:Record": "records in a zone the stack does not create",
    "aws:acm/certificateValidation:CertificateValidation": "no charge",
}
# Types the lines below price (from the settings or by counting them).
PRICED_TYPES = frozenset(
    {
        "aws:backup/vault:Vault",
        "aws:cfg/recorder:Recorder",
        "aws:cfg/rule:Rule",
        "aws:cloudtrail/trail:Trail",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "aws:ecr/repository:Repository",
        "aws:eks/nodeGroup:NodeGroup",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "aws:guardduty/detector:Detector",
        "aws:kms/key:Key",
        "aws:mq/broker:Broker",
        "aws:rds/instance:Instance",
        "aws:rds/proxy:Proxy",
        "aws:s3/bucket:Bucket",
        "aws:secretsmanager/secret:Secret",
        "aws:securityhub/account:Account",
        "aws:wafv2/webAcl:WebAcl",
    }
)


class _Lines:
    """Collects the lines of one estimate."""

    def __init__(self) -> None:
        self.lines: list[Line] = []

    def add(self, layer: str, item: str, quantity: float, unit: str, price_key: str, basis: str) -> None:
        """A line priced from the price table; an unpriced line when the key is in ``UNPRICED``."""
        price = PRICES.get(price_key)
        if price is None:
            reason = UNPRICED.get(price_key, "no recorded price")
            self.lines.append(Line(layer, item, quantity, unit, None, f"{basis}; unpriced: {reason}"))
            return
        self.lines.append(Line(layer, item, quantity, unit, round(quantity * price.usd, 2), basis))

    def instance_hours(self, layer: str, item: str, count: float, name: str, service: Service, basis: str) -> None:
        """``count`` instances of ``name`` for the month, priced from the instance catalogue."""
        hourly = instance_types.get(name, service).hourly_usd
        quantity = count * HOURS_PER_MONTH
        usd = None if hourly is None else round(quantity * hourly, 2)
        why = basis if hourly is not None else f"{basis}; unpriced: no list price for {name} in the catalogue"
        self.lines.append(Line(layer, f"{item} ({name})", quantity, "instance-hours", usd, why))


def _waf_rules(resources: Sequence[Declared]) -> int:
    """Rules of the declared web ACLs (a managed rule group counts as one rule)."""
    count = 0
    for resource in resources:
        rules = resource.inputs.get("rules") if resource.type == "aws:wafv2/webAcl:WebAcl" else None
        count += len(rules) if isinstance(rules, list) else 0
    return count


def _network(settings: Settings, out: _Lines) -> None:
    zones = len(settings.network.availability_zones)
    nat = zones if settings.network.nat_gateways == "one_per_az" else 1
    out.add("network", "NAT gateway hours", nat * HOURS_PER_MONTH, "hours", "nat_gateway_hour", f"{nat} NAT gateways")
    out.add(
        "network", "NAT public IPv4", nat * HOURS_PER_MONTH, "address-hours", "public_ipv4_hour", "one per NAT gateway"
    )
    nat_gb = usage.nat_gb_per_month(settings)
    out.add("network", "NAT data processed", nat_gb.value, "GB", "nat_gateway_gb", nat_gb.basis)
    endpoints = len(settings.network.interface_endpoints)
    out.add(
        "network",
        "interface endpoint hours",
        endpoints * zones * HOURS_PER_MONTH,
        "endpoint-AZ-hours",
        "interface_endpoint_hour",
        f"{endpoints} interface endpoints x {zones} AZs",
    )
    logs = usage.container_log_gb_per_month(settings)
    out.add("network", "interface endpoint data", logs.value, "GB", "interface_endpoint_gb", "the container logs")


def _edge(settings: Settings, out: _Lines, resources: Sequence[Declared]) -> None:
    requests = usage.api_requests_per_month(settings)
    out.add("edge", "ALB hours", HOURS_PER_MONTH, "hours", "alb_hour", "one ALB (AWS Load Balancer Controller)")
    out.add("edge", "ALB LCUs", requests.value, "requests", "alb_lcu_hour", requests.basis)
    out.add("edge", "WAF web ACL", 1, "ACL-months", "waf_web_acl_month", "the stack's web ACL")
    rules = _waf_rules(resources)
    out.add("edge", "WAF rules", rules, "rule-months", "waf_rule_month", f"{rules} rules of the declared web ACL")
    out.add("edge", "WAF requests", requests.value / 1e6, "million requests", "waf_million_requests", requests.basis)


def _cluster(settings: Settings, out: _Lines) -> None:
    out.add("cluster", "EKS control plane", HOURS_PER_MONTH, "hours", "eks_cluster_hour", "one cluster")
    at_average = usage.application_nodes_at_average(settings, DAEMONSET_OVERHEAD)
    disks = 0.0
    for group in settings.cluster.node_groups:
        nodes = at_average.value if group.runs_applications else group.desired_size
        basis = at_average.basis if group.runs_applications else f"desired_size {group.desired_size}"
        spot = group.capacity_type == "SPOT"
        out.instance_hours(
            "cluster",
            f"{group.name} nodes{' (spot, x0.35 assumed)' if spot else ''}",
            nodes * (SPOT_DISCOUNT if spot else 1.0),
            group.instance_types[0],
            "ec2",
            basis,
        )
        disks += nodes * group.disk_size_gib
    out.add("cluster", "node root volumes", disks, "GB-months", "ebs_gp3_gb_month", "gp3, disk_size_gib per node")


def _data(settings: Settings, out: _Lines) -> None:
    postgres = settings.postgres
    copies = 2 if postgres.multi_az else 1
    out.instance_hours(
        "postgres",
        "instances",
        copies,
        postgres.instance_class,
        "rds",
        "Multi-AZ: primary and standby" if copies == 2 else "single-AZ",
    )
    out.add(
        "postgres",
        "storage",
        copies * postgres.allocated_storage_gib,
        "GB-months",
        "rds_gp3_gb_month",
        f"allocated_storage_gib {postgres.allocated_storage_gib} x {copies}",
    )
    out.add("postgres", "RDS Proxy", 1, "proxy", "rds_proxy_vcpu_hour", "fronts the instance")
    if settings.backup.copy_to_dr_region:
        change = usage.ASSUMED["database_daily_change"].value
        moved = postgres.allocated_storage_gib * change * 30
        kept = postgres.allocated_storage_gib + postgres.allocated_storage_gib * change * postgres.backup_retention_days
        out.add(
            "postgres",
            "DR: backups copied to the DR region",
            moved,
            "GB",
            "inter_region_gb",
            f"{change:.0%} of {postgres.allocated_storage_gib} GB a day (assumed) x 30",
        )
        out.add(
            "postgres",
            "DR: replicated backup storage",
            kept,
            "GB-months",
            "rds_backup_gb_month",
            f"a full copy plus {postgres.backup_retention_days} days of changes",
        )
    redis = settings.redis
    out.instance_hours(
        "redis",
        "nodes",
        redis.num_cache_clusters,
        redis.node_type,
        "elasticache",
        f"num_cache_clusters {redis.num_cache_clusters}",
    )
    out.add("redis", "snapshots", redis.snapshot_retention_days, "snapshots kept", "elasticache_snapshot", "daily")
    rabbit = settings.rabbitmq
    brokers = 3 if rabbit.deployment_mode == "CLUSTER_MULTI_AZ" else 1
    out.instance_hours("rabbitmq", "brokers", brokers, rabbit.host_instance_type, "mq", rabbit.deployment_mode)
    out.add("rabbitmq", "broker storage", brokers, "brokers", "mq_storage", "included or not: no price read")
    out.add("neo4j", "data volume", settings.neo4j.volume_size_gib, "GB-months", "ebs_gp3_gb_month", "gp3")
    out.add(
        "neo4j",
        "backup dump volume",
        settings.neo4j.volume_size_gib,
        "GB-months",
        "ebs_gp3_gb_month",
        "gp3, the size of the data volume (data/neo4j.py)",
    )


def _backup(settings: Settings, out: _Lines) -> None:
    neo4j = settings.neo4j
    dump_gb = neo4j.volume_size_gib * usage.ASSUMED["neo4j_dump_share"].value
    standard_gb = dump_gb * 4 * min(settings.backup.transition_to_ia_days, 30)  # 6-hourly dumps until Standard-IA
    basis = f"Neo4j dumps of {dump_gb:g} GB (assumed {usage.ASSUMED['neo4j_dump_share'].value:.0%}) x 4 a day"
    out.add("backup", "backup bucket (S3 Standard)", standard_gb, "GB-months", "s3_standard_gb_month", basis)
    out.add("backup", "backup bucket (Standard-IA, Glacier)", standard_gb, "GB-months", "s3_ia_glacier_gb_month", basis)
    if settings.backup.replicate_bucket_to_dr_region:
        out.add(
            "backup", "DR: bucket replication transfer", standard_gb, "GB", "inter_region_gb", "every object copied"
        )
        out.add("backup", "DR: replica bucket storage", standard_gb, "GB-months", "s3_standard_gb_month", "same size")
        replicated = standard_gb + _redis_exports(settings, out)
        out.add("backup", "DR: replication time control", replicated, "GB", "s3_rtc_gb", "the buckets' copies above")
    out.add(
        "backup",
        "AWS Backup snapshots (Neo4j volume)",
        neo4j.volume_size_gib,
        "GB",
        "ebs_snapshot_gb_month",
        "hourly, daily and weekly recovery points, incremental",
    )
    if settings.backup.copy_to_dr_region:
        out.add(
            "backup",
            "DR: recovery points copied",
            neo4j.volume_size_gib,
            "GB",
            "ebs_snapshot_gb_month",
            "copy in the DR vault",
        )
    out.add(
        "backup",
        "ECR images",
        len(settings.registry.repositories),
        "repositories",
        "ecr_gb_month",
        f"keep_tagged_images {settings.registry.keep_tagged_images} per repository",
    )


def _redis_exports(settings: Settings, out: _Lines) -> float:
    """The cache's daily snapshot exported as an RDB file (exports.py), kept for a week and replicated to the DR
    region; the GB replicated a month."""
    node_gib = instance_types.get(settings.redis.node_type, "elasticache").memory_gib
    share = usage.ASSUMED["redis_rdb_share"]
    rdb_gb = node_gib * share.value
    basis = f"RDB of {rdb_gb:g} GB ({share.value:.0%} of {settings.redis.node_type}'s memory, assumed)"
    kept = rdb_gb * REDIS_EXPORT_RETENTION_DAYS
    out.add(
        "backup",
        "Redis exports (S3 Standard)",
        kept,
        "GB-months",
        "s3_standard_gb_month",
        f"{basis}, {REDIS_EXPORT_RETENTION_DAYS} days kept",
    )
    out.add("backup", "DR: Redis export replication transfer", rdb_gb * 30, "GB", "inter_region_gb", f"{basis}, daily")
    out.add("backup", "DR: Redis export replica storage", kept, "GB-months", "s3_standard_gb_month", "same size")
    return rdb_gb * 30


def _observability(settings: Settings, out: _Lines, count: Counter[str]) -> None:
    logs = usage.container_log_gb_per_month(settings)
    flow = usage.ASSUMED["flow_log_gb_per_day"].value * 30
    control = usage.ASSUMED["control_plane_log_gb_per_day"].value * 30
    out.add("observability", "container logs ingested", logs.value, "GB", "logs_ingested_gb", logs.basis)
    out.add("observability", "VPC flow logs ingested", flow, "GB", "logs_ingested_gb", "assumed 2 GB/day")
    out.add("observability", "EKS control-plane logs ingested", control, "GB", "logs_ingested_gb", "assumed 1 GB/day")
    stored = (
        logs.value * settings.observability.container_log_retention_days / 30
        + flow * min(settings.network.flow_log_retention_days, 365) / 30
        + control * min(settings.cluster.log_retention_days, 365) / 30
    )
    out.add(
        "observability",
        "logs stored",
        stored * 0.2,
        "GB-months",
        "logs_stored_gb_month",
        "retained GB at steady state, a year at most for the 7-year groups (year one), 5:1 compression (assumed)",
    )
    observability = settings.observability
    volumes = (
        observability.prometheus_volume_gib * observability.prometheus_replicas
        + 10 * observability.alertmanager_replicas
    )
    out.add(
        "observability",
        "Prometheus and Alertmanager volumes",
        volumes,
        "GB-months",
        "ebs_gp3_gb_month",
        f"{observability.prometheus_volume_gib} GiB x {observability.prometheus_replicas} Prometheus, "
        f"10 GiB x {observability.alertmanager_replicas} Alertmanager (observability/stack.py)",
    )
    alarms = count["aws:cloudwatch/metricAlarm:MetricAlarm"]
    out.add("observability", "CloudWatch alarms", alarms, "alarms", "alarm_month", f"{alarms} declared alarms")
    traces = usage.traces_per_month(settings)
    billable = max(traces.value - 100_000, 0) / 1e6
    out.add(
        "observability", "X-Ray traces", billable, "million traces", "xray_million_traces", f"{traces.basis}, 100k free"
    )


def _security(settings: Settings, out: _Lines, count: Counter[str]) -> None:
    keys = count["aws:kms/key:Key"]
    out.add(
        "security",
        "KMS keys",
        keys,
        "key-months",
        "kms_key_month",
        f"{keys} declared keys, before their first rotation (each rotation adds $1 a key-month)",
    )
    out.add("security", "KMS requests", 0, "requests", "kms_requests_usage", "S3 Bucket Keys; usage not modelled")
    secrets = count["aws:secretsmanager/secret:Secret"]
    out.add(
        "security", "Secrets Manager secrets", secrets, "secret-months", "secret_month", f"{secrets} declared secrets"
    )
    calls = secrets * HOURS_PER_MONTH / 10_000
    out.add(
        "security",
        "Secrets Manager API calls",
        calls,
        "10k calls",
        "secrets_10k_calls",
        "External Secrets refresh hourly",
    )
    if count["aws:guardduty/detector:Detector"]:
        events = usage.ASSUMED["cloudtrail_events_per_month"].value
        out.add(
            "security",
            "GuardDuty: CloudTrail events",
            events / 1e6,
            "million events",
            "guardduty_million_cloudtrail_events",
            "assumed 2 M management events a month",
        )
        flow = usage.ASSUMED["flow_log_gb_per_day"].value * 30
        out.add("security", "GuardDuty: flow and DNS logs", flow, "GB", "guardduty_flow_dns_gb", "the flow-log volume")
        out.add("security", "GuardDuty: EKS protection", 1, "account", "guardduty_eks_runtime", "detector features")
    if count["aws:cfg/recorder:Recorder"]:
        items = usage.ASSUMED["config_items_per_month"].value
        out.add("security", "AWS Config items", items, "items", "config_item", "assumed 5,000 changes a month")
        out.add(
            "security",
            "AWS Config rule evaluations",
            items,
            "evaluations",
            "config_rule_evaluation",
            f"{count['aws:cfg/rule:Rule']} rules, one evaluation per change on average (assumed)",
        )
    if count["aws:securityhub/account:Account"]:
        out.add("security", "Security Hub checks", 1, "account", "security_hub_check", "two standards")
    if count["aws:cloudtrail/trail:Trail"]:
        out.add("security", "CloudTrail", 1, "trail", "cloudtrail_data_events", "the multi-region trail")


def monthly_cost(settings: Settings, resources: Sequence[Declared]) -> Estimate:
    """USD per month, line by line, for the stack whose settings and declared resources are given (a DR standby,
    ``recovery.standby``, declares the pilot light only: its estimate is that)."""
    if settings.recovery.standby:
        return Estimate(_pilot_light(settings))
    count = Counter(resource.type for resource in resources)
    out = _Lines()
    _network(settings, out)
    _edge(settings, out, resources)
    _cluster(settings, out)
    _data(settings, out)
    _backup(settings, out)
    _observability(settings, out, count)
    _security(settings, out, count)
    return Estimate(out.lines)


def standby_cost(settings: Settings) -> dict[str, float]:
    """USD per month that each recovery mode keeps running in the DR region before a disaster. Cold: nothing (the
    copies kept there are billed to the stack that makes them). Pilot light: see ``_pilot_light``."""
    return {"cold": 0.0, "pilot_light": Estimate(_pilot_light(settings)).total}


def _pilot_light(settings: Settings) -> list[Line]:
    """The pilot light's lines: the NAT gateways and interface endpoints, the EKS control plane and the node groups
    at their minimum size with their root volumes, from which the autoscaler grows them during a recovery."""
    out = _Lines()
    zones = len(settings.network.availability_zones)
    nat = zones if settings.network.nat_gateways == "one_per_az" else 1
    out.add("dr", "NAT gateway hours", nat * HOURS_PER_MONTH, "hours", "nat_gateway_hour", "")
    out.add(
        "dr",
        "interface endpoint hours",
        len(settings.network.interface_endpoints) * zones * HOURS_PER_MONTH,
        "hours",
        "interface_endpoint_hour",
        "",
    )
    out.add("dr", "EKS control plane", HOURS_PER_MONTH, "hours", "eks_cluster_hour", "")
    for group in settings.cluster.node_groups:
        spot = SPOT_DISCOUNT if group.capacity_type == "SPOT" else 1.0
        out.instance_hours("dr", group.name, group.min_size * spot, group.instance_types[0], "ec2", "min_size")
        out.add(
            "dr",
            f"{group.name} root volumes",
            group.min_size * group.disk_size_gib,
            "GB-months",
            "ebs_gp3_gb_month",
            "",
        )
    return out.lines


# What each line buys, for the README's comparison with the budget (keyed by the line's item, instance type left off).
BUYS: dict[str, str] = {
    "NAT gateway hours": "availability: egress survives an AZ loss (one per AZ; a single one is a third)",
    "NAT public IPv4": "the NAT gateways' addresses",
    "Redis exports (S3 Standard)": "recovery: the cache's newest snapshots as RDB files a new cache is seeded from",
    "DR: Redis export replication transfer": "regional recovery: the RDB files copied to the DR region",
    "DR: Redis export replica storage": "regional recovery: the RDB files kept there (the dr stack's Redis seed)",
    "DR: replication time control": "regional recovery: copies within 15 minutes, part of the RPO",
    "NAT data processed": "traffic: workflows' calls to third parties",
    "interface endpoint hours": "security: ECR, STS, logs and Secrets Manager reached privately, in every AZ",
    "interface endpoint data": "traffic: log shipping kept off the NAT gateways",
    "ALB hours": "the ingress",
    "ALB LCUs": "traffic: the ingress's capacity units",
    "WAF web ACL": "security: the design's WAF",
    "WAF rules": "security: AWS managed rule groups and the rate limit",
    "WAF requests": "traffic: every request inspected",
    "EKS control plane": "the Kubernetes API",
    "system nodes": "availability: the add-ons on their own nodes, one per AZ",
    "apps nodes": "capacity: the average load with the capacity headroom (the autoscaler adds nodes for peaks)",
    "node root volumes": "the nodes' disks",
    "instances": "availability: half of it is the Multi-AZ standby that takes over on an AZ loss",
    "storage": "the database, mirrored to the standby",
    "RDS Proxy": "connection pooling in front of PostgreSQL",
    "DR: backups copied to the DR region": "regional recovery: point-in-time restore in the DR region (RPO 1 h)",
    "DR: replicated backup storage": "regional recovery: the replicated backups kept there",
    "nodes": "availability: a replica in another AZ that takes over",
    "snapshots": "the cache's daily snapshots",
    "brokers": "availability: a three-node cluster across the AZs (two of the three brokers)",
    "broker storage": "the brokers' disks",
    "data volume": "the graph's data",
    "backup dump volume": "recovery: room for a whole-graph dump before its upload",
    "Prometheus and Alertmanager volumes": "operations: two replicas of metrics and alert state (HA)",
    "backup bucket (S3 Standard)": "recovery: Neo4j dumps every 6 hours",
    "backup bucket (Standard-IA, Glacier)": "recovery: older dumps",
    "DR: bucket replication transfer": "regional recovery: the dumps copied to the DR region",
    "DR: replica bucket storage": "regional recovery: the copies kept there",
    "AWS Backup snapshots (Neo4j volume)": "recovery: the Neo4j volume's hourly snapshots (RPO 1 h)",
    "DR: recovery points copied": "regional recovery: the snapshots copied to the DR vault",
    "ECR images": "rollback depth: the kept images",
    "container logs ingested": "traffic: the application's logs for investigations",
    "VPC flow logs ingested": "compliance: the network audit trail",
    "EKS control-plane logs ingested": "compliance: the Kubernetes audit log",
    "logs stored": "compliance: retention (7 years for audit-class logs)",
    "CloudWatch alarms": "operations: paging on the managed services",
    "X-Ray traces": "traffic: the sampled traces",
    "KMS keys": "compliance: customer-managed encryption keys, one per data class",
    "KMS requests": "compliance: encryption calls",
    "Secrets Manager secrets": "security: the credentials, rotated",
    "Secrets Manager API calls": "security: the hourly refresh into the cluster",
    "GuardDuty: CloudTrail events": "security: threat detection on the account's API calls",
    "GuardDuty: flow and DNS logs": "security: threat detection on the network",
    "GuardDuty: EKS protection": "security: threat detection in the cluster",
    "AWS Config items": "compliance: the configuration history",
    "AWS Config rule evaluations": "compliance: the managed rules",
    "Security Hub checks": "compliance: the Foundational and CIS standards",
    "CloudTrail": "compliance: the account's audit trail",
}


def buys(line: Line) -> str:
    """What ``line`` buys: its item, or its item without the instance type in brackets."""
    return BUYS.get(line.item) or BUYS.get(line.item.split(" (")[0], "")


@dataclass(frozen=True)
class Alternative:
    """A configuration change the estimate prices against the stack as it is: what it would save, whether the
    result still meets the design's availability and capacity targets, and why it is not the default."""

    change: str
    section: str
    values: dict[str, object]
    compliant: bool
    why: str


ALTERNATIVES: tuple[Alternative, ...] = (
    Alternative(
        "PostgreSQL db.r6g.large (16 GiB)",
        "postgres",
        {"instance_class": "db.r6g.large"},
        True,
        "the throughput model's connections still fit; nothing measures the working set, so measure (load test) first",
    ),
    Alternative(
        "Redis cache.m6g.large (6.38 GiB)",
        "redis",
        {"node_type": "cache.m6g.large"},
        True,
        "nothing measures the cache's size; the backend refills it from PostgreSQL, so a measured fit can take it",
    ),
    Alternative(
        "one NAT gateway",
        "network",
        {"nat_gateways": "single"},
        False,
        "an AZ loss would cut every other AZ's egress",
    ),
    Alternative("PostgreSQL single-AZ", "postgres", {"multi_az": False}, False, "the design requires Multi-AZ"),
    Alternative(
        "RabbitMQ single instance",
        "rabbitmq",
        {"deployment_mode": "SINGLE_INSTANCE"},
        False,
        "the design requires a clustered broker",
    ),
    Alternative(
        "no DR copies (backups and bucket)",
        "backup",
        {"copy_to_dr_region": False, "replicate_bucket_to_dr_region": False},
        False,
        "production's regional recovery (RPO 1 h in the DR region) depends on them",
    ),
)


def alternatives(settings: Settings, resources: Sequence[Declared]) -> list[tuple[Alternative, float]]:
    """Each alternative with what it saves a month against ``settings`` (priced lines only)."""
    base = monthly_cost(settings, resources).total
    priced = []
    for alternative in ALTERNATIVES:
        section = getattr(settings, alternative.section)
        changed = settings.model_copy(update={alternative.section: section.model_copy(update=alternative.values)})
        priced.append((alternative, round(base - monthly_cost(changed, resources).total, 2)))
    return priced


def smallest_compliant(settings: Settings, resources: Sequence[Declared]) -> Estimate:
    """The estimate with every alternative that keeps the design's availability applied together."""
    for alternative in ALTERNATIVES:
        if alternative.compliant:
            section = getattr(settings, alternative.section)
            settings = settings.model_copy(update={alternative.section: section.model_copy(update=alternative.values)})
    return monthly_cost(settings, resources)


COST_BEGIN = "<!-- BEGIN COST TABLE: generated by `python -m silhouette_infra docs`, do not edit -->"
COST_END = "<!-- END COST TABLE -->"


def budget_verdict(total: float) -> str:
    """How far ``total`` is over or under the design's budget."""
    gap = total - BUDGET_USD
    return f"${gap:,.0f} over" if gap > 0 else f"${-gap:,.0f} under"


def render_markdown(
    production: Estimate, staging: Estimate, options: list[tuple[Alternative, float]], smallest: Estimate
) -> str:
    """The README's cost table: production line by line against the design's budget, and staging's total."""
    verdict = budget_verdict(production.total)
    rows = [
        f"Production: **${production.total:,.0f} a month** priced, against the design's ${BUDGET_USD:,} "
        f"({verdict}); staging: ${staging.total:,.0f}. Unpriced lines are left out of both totals (lower bounds).",
        "",
        "| layer | line | quantity | USD/month | what it buys | basis |",
        "|---|---|---|---|---|---|",
    ]
    for line in production.lines:
        usd = "unpriced" if line.usd is None else f"{line.usd:,.2f}"
        basis = line.basis.replace("|", "/")
        rows.append(
            f"| {line.layer} | {line.item} | {line.quantity:,.1f} {line.unit} | {usd} | {buys(line)} | {basis} |"
        )
    rows += ["", "| layer | production | staging |", "|---|---|---|"]
    for layer, layer_usd in production.layers.items():
        rows.append(f"| {layer} | {layer_usd:,.2f} | {staging.layers.get(layer, 0.0):,.2f} |")
    rows.append(f"| **total** | **{production.total:,.2f}** | **{staging.total:,.2f}** |")
    rows += [
        "",
        "Changes priced against production as committed (synth/cost.py ALTERNATIVES):",
        "",
        "| change | saves USD/month | keeps the design's availability | why it is not the default |",
        "|---|---|---|---|",
    ]
    for alternative, saving in options:
        keeps = "yes" if alternative.compliant else "no"
        rows.append(f"| {alternative.change} | {saving:,.2f} | {keeps} | {alternative.why} |")
    rows += [
        "",
        f"Smallest compliant configuration priced here (production with every change above that keeps the "
        f"availability): **${smallest.total:,.0f} a month**, ${smallest.total - BUDGET_USD:,.0f} above the "
        f"design's ${BUDGET_USD:,}.",
    ]
    return "\n".join(rows)
