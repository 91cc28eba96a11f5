"""Rough monthly cost of a stack from its settings: a sanity check that staging is cheap, not a bill.

Prices are AWS on-demand list prices for us-east-1 (USD, Linux, no reserved or savings plans) as
published in 2025-2026, from the instance catalogue; data transfer, requests and log ingestion are
left out, and so is RDS Proxy (billed per vCPU-hour of its instance: no price recorded here). An instance
type the catalogue has no price for is listed as unpriced, never a failure:
an estimate must not block a synth. The tests only compare stacks with each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from silhouette_infra.planning import instance_types
from silhouette_infra.planning.instance_types import Service
from silhouette_infra.settings.models import Settings

HOURS_PER_MONTH = 730
SPOT_DISCOUNT = 0.35  # spot typically costs about a third of on-demand for these families

# Fixed hourly prices; instance prices are in the instance catalogue (silhouette_infra/planning/instance_types.py).
HOURLY: dict[str, float] = {"eks": 0.10, "nat": 0.045, "interface_endpoint_az": 0.01}
GP3_EBS_GB_MONTH = 0.08
RDS_GP3_GB_MONTH = 0.115
KMS_KEY_MONTH = 1.0


@dataclass(frozen=True)
class Estimate:
    """USD per month per layer, and the instance types without a recorded price (their layer's figure
    leaves them out, so the total is then a lower bound)."""

    layers: dict[str, float]
    unpriced: dict[str, list[str]] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.layers.values())


class _Prices:
    """Looks up instance prices for one estimate and remembers, per layer, what it could not price."""

    def __init__(self) -> None:
        self.unpriced: dict[str, list[str]] = {}

    def hourly(self, layer: str, name: str, service: Service) -> float:
        price = instance_types.get(name, service).hourly_usd
        if price is None:
            self.unpriced.setdefault(layer, []).append(name)
            return 0.0
        return price


def _network(settings: Settings) -> float:
    zones = len(settings.network.availability_zones)
    nat = zones if settings.network.nat_gateways == "one_per_az" else 1
    return HOURS_PER_MONTH * (
        nat * HOURLY["nat"] + len(settings.network.interface_endpoints) * zones * HOURLY["interface_endpoint_az"]
    )


def standby_cost(settings: Settings) -> dict[str, float]:
    """USD per month that each recovery mode keeps running in the DR region before a disaster. Cold: nothing (the
    copies kept there are billed to the stack that makes them). Pilot light: the network, the EKS control plane
    and the node groups at their minimum size, from which the autoscaler grows them during a recovery."""
    prices = _Prices()
    nodes = sum(
        group.min_size
        * prices.hourly("cluster", group.instance_types[0], "ec2")
        * (SPOT_DISCOUNT if group.capacity_type == "SPOT" else 1.0)
        for group in settings.cluster.node_groups
    )
    disks = sum(group.min_size * group.disk_size_gib for group in settings.cluster.node_groups) * GP3_EBS_GB_MONTH
    pilot = _network(settings) + HOURS_PER_MONTH * (HOURLY["eks"] + nodes) + disks
    return {"cold": 0.0, "pilot_light": round(pilot, 2)}


def monthly_cost(settings: Settings) -> Estimate:
    """USD per month per layer, at the node groups' desired size."""
    prices = _Prices()
    network = _network(settings)
    nodes = sum(
        group.desired_size
        * prices.hourly("cluster", group.instance_types[0], "ec2")
        * (SPOT_DISCOUNT if group.capacity_type == "SPOT" else 1.0)
        for group in settings.cluster.node_groups
    )
    node_disks = sum(g.desired_size * g.disk_size_gib for g in settings.cluster.node_groups) * GP3_EBS_GB_MONTH
    cluster = HOURS_PER_MONTH * (HOURLY["eks"] + nodes) + node_disks
    postgres_copies = 2 if settings.postgres.multi_az else 1
    postgres = postgres_copies * (
        HOURS_PER_MONTH * prices.hourly("postgres", settings.postgres.instance_class, "rds")
        + settings.postgres.allocated_storage_gib * RDS_GP3_GB_MONTH
    )
    redis = (
        HOURS_PER_MONTH
        * settings.redis.num_cache_clusters
        * prices.hourly("redis", settings.redis.node_type, "elasticache")
    )
    brokers = 3 if settings.rabbitmq.deployment_mode == "CLUSTER_MULTI_AZ" else 1
    rabbitmq = HOURS_PER_MONTH * brokers * prices.hourly("rabbitmq", settings.rabbitmq.host_instance_type, "mq")
    neo4j = settings.neo4j.volume_size_gib * GP3_EBS_GB_MONTH
    keys = 6 * KMS_KEY_MONTH
    layers = {
        "network": network,
        "cluster": cluster,
        "postgres": postgres,
        "redis": redis,
        "rabbitmq": rabbitmq,
        "neo4j volume": neo4j,
        "keys": keys,
    }
    return Estimate({layer: round(cost, 2) for layer, cost in layers.items()}, prices.unpriced)
