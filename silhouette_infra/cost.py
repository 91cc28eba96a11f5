"""Rough monthly cost of a stack from its settings: a sanity check that staging is cheap, not a bill.

Prices are AWS on-demand list prices for us-east-1 (USD, Linux, no reserved or savings plans) as
published in 2025-2026; data transfer, requests and log ingestion are left out. Update the table
when AWS changes prices: the tests only compare stacks with each other.
"""

from __future__ import annotations

from silhouette_infra.settings import Settings

HOURS_PER_MONTH = 730
SPOT_DISCOUNT = 0.35  # spot typically costs about a third of on-demand for these families

HOURLY: dict[str, float] = {
    # EC2 (node groups)
    "t3.medium": 0.0416,
    "t3.large": 0.0832,
    "t3.xlarge": 0.1664,
    "t3.2xlarge": 0.3328,
    "m5.large": 0.096,
    "m5.xlarge": 0.192,
    "m5.2xlarge": 0.384,
    "m6i.large": 0.096,
    "m6i.xlarge": 0.192,
    "m6i.2xlarge": 0.384,
    "m6i.4xlarge": 0.768,
    "m6a.large": 0.0864,
    "m6a.xlarge": 0.1728,
    "m6a.2xlarge": 0.3456,
    "m7i.large": 0.1008,
    "m7i.xlarge": 0.2016,
    "m7i.2xlarge": 0.4032,
    "m6g.large": 0.077,
    "m6g.xlarge": 0.154,
    "m7g.large": 0.0816,
    "m7g.xlarge": 0.1632,
    "c6i.large": 0.085,
    "c6i.xlarge": 0.17,
    "c6i.2xlarge": 0.34,
    "r6i.large": 0.126,
    "r6i.xlarge": 0.252,
    "r6i.2xlarge": 0.504,
    # RDS for PostgreSQL, single-AZ (Multi-AZ doubles it)
    "db.t4g.micro": 0.016,
    "db.t4g.small": 0.032,
    "db.t4g.medium": 0.065,
    "db.t4g.large": 0.129,
    "db.r6g.large": 0.225,
    "db.r6g.xlarge": 0.45,
    "db.r6g.2xlarge": 0.899,
    "db.r5.xlarge": 0.5,
    "db.m6g.large": 0.152,
    "db.m6g.xlarge": 0.304,
    # ElastiCache, per node
    "cache.t4g.micro": 0.016,
    "cache.t4g.small": 0.032,
    "cache.t4g.medium": 0.065,
    "cache.r6g.large": 0.206,
    "cache.r6g.xlarge": 0.411,
    "cache.m6g.large": 0.149,
    # Amazon MQ, per broker instance
    "mq.t3.micro": 0.027,
    "mq.m5.large": 0.288,
    "mq.m7g.large": 0.2304,
    # Fixed prices
    "eks": 0.10,
    "nat": 0.045,
    "interface_endpoint_az": 0.01,
}
GP3_EBS_GB_MONTH = 0.08
RDS_GP3_GB_MONTH = 0.115
KMS_KEY_MONTH = 1.0


def _hourly(instance_type: str) -> float:
    if instance_type not in HOURLY:
        raise KeyError(f"no price for {instance_type}; add it to silhouette_infra/cost.py")
    return HOURLY[instance_type]


def monthly_cost(settings: Settings) -> dict[str, float]:
    """USD per month per layer, at the node groups' desired size."""
    zones = len(settings.network.availability_zones)
    nat = zones if settings.network.nat_gateways == "one_per_az" else 1
    network = HOURS_PER_MONTH * (
        nat * HOURLY["nat"] + len(settings.network.interface_endpoints) * zones * HOURLY["interface_endpoint_az"]
    )
    nodes = sum(
        group.desired_size
        * _hourly(group.instance_types[0])
        * (SPOT_DISCOUNT if group.capacity_type == "SPOT" else 1.0)
        for group in settings.cluster.node_groups
    )
    node_disks = sum(g.desired_size * g.disk_size_gib for g in settings.cluster.node_groups) * GP3_EBS_GB_MONTH
    cluster = HOURS_PER_MONTH * (HOURLY["eks"] + nodes) + node_disks
    postgres_copies = 2 if settings.postgres.multi_az else 1
    postgres = postgres_copies * (
        HOURS_PER_MONTH * _hourly(settings.postgres.instance_class)
        + settings.postgres.allocated_storage_gib * RDS_GP3_GB_MONTH
    )
    redis = HOURS_PER_MONTH * settings.redis.num_cache_clusters * _hourly(settings.redis.node_type)
    brokers = 3 if settings.rabbitmq.deployment_mode == "CLUSTER_MULTI_AZ" else 1
    rabbitmq = HOURS_PER_MONTH * brokers * _hourly(settings.rabbitmq.host_instance_type)
    neo4j = settings.neo4j.volume_size_gib * GP3_EBS_GB_MONTH
    keys = 6 * KMS_KEY_MONTH
    return {
        "network": round(network, 2),
        "cluster": round(cluster, 2),
        "postgres": round(postgres, 2),
        "redis": round(redis, 2),
        "rabbitmq": round(rabbitmq, 2),
        "neo4j volume": round(neo4j, 2),
        "keys": round(keys, 2),
    }
