"""One catalogue of the instance types the platform accepts: vCPUs, memory, list price and the service
that runs them. Settings validation, the node capacity check, the CloudWatch alarms and the cost
estimate all read it, so a type is either known everywhere or refused by the settings, naming the key.

Pure data, no Pulumi. Sources:
- EC2 (EKS nodes): https://aws.amazon.com/ec2/instance-types/ ; max pods is the VPC CNI's ENI limit
  without prefix delegation (amazon-eks-ami ``eni-max-pods.txt``).
- RDS: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Summary.html
  (burstable classes by size; the others 4 GiB per vCPU for m, 8 GiB for r).
- ElastiCache: https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheNodes.SupportedTypes.html
  and the node memory of https://aws.amazon.com/elasticache/pricing/.
- Amazon MQ: https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rmq-broker-instance-types.html
  (RabbitMQ on mq.t3.micro, mq.m5 and mq.m7g).
- Prices: AWS on-demand list prices for us-east-1 (USD per hour, Linux, single-AZ for RDS, per node
  for ElastiCache, per broker instance for Amazon MQ) as published in 2025-2026, on
  https://aws.amazon.com/ec2/pricing/on-demand/ , https://aws.amazon.com/rds/postgresql/pricing/ ,
  https://aws.amazon.com/elasticache/pricing/ and https://aws.amazon.com/amazon-mq/pricing/ (not re-read when
  the dated table of the other prices, ``planning/prices.py``, was built). A type without a recorded price is
  still accepted; the estimate lists it as unpriced rather than guess.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

Service = Literal["ec2", "rds", "elasticache", "mq"]

SERVICE_NAMES: dict[Service, str] = {
    "ec2": "EC2 instance type (EKS node)",
    "rds": "RDS instance class",
    "elasticache": "ElastiCache node type",
    "mq": "Amazon MQ broker instance type",
}


@dataclass(frozen=True)
class InstanceType:
    name: str
    service: Service
    vcpus: int
    memory_gib: float
    hourly_usd: float | None = None  # None: no recorded list price (the estimate says so)
    max_pods: int | None = None  # EC2 only: pods per node with the VPC CNI

    @property
    def memory_mib(self) -> int:
        return round(self.memory_gib * 1024)


# Size name -> vCPUs for the non-burstable families (the same ladder on every service).
_SIZE_VCPUS = {
    "medium": 1,
    "large": 2,
    "xlarge": 4,
    "2xlarge": 8,
    "4xlarge": 16,
    "8xlarge": 32,
    "12xlarge": 48,
    "16xlarge": 64,
    "24xlarge": 96,
    "32xlarge": 128,
}
_BURSTABLE = {
    "micro": (2, 1),
    "small": (2, 2),
    "medium": (2, 4),
    "large": (2, 8),
    "xlarge": (4, 16),
    "2xlarge": (8, 32),
}


def _ladder(
    service: Service, prefix: str, sizes: str, gib_per_vcpu: int, prices: dict[str, float] | None = None
) -> list[InstanceType]:
    prices = prices or {}
    return [
        InstanceType(f"{prefix}.{size}", service, _SIZE_VCPUS[size], _SIZE_VCPUS[size] * gib_per_vcpu, prices.get(size))
        for size in sizes.split()
    ]


def _burstable(service: Service, prefix: str, sizes: str, prices: dict[str, float] | None = None) -> list[InstanceType]:
    prices = prices or {}
    return [
        InstanceType(f"{prefix}.{size}", service, *_BURSTABLE[size], hourly_usd=prices.get(size))
        for size in sizes.split()
    ]


def _ec2(name: str, vcpus: int, memory_gib: int, max_pods: int, hourly_usd: float) -> InstanceType:
    return InstanceType(name, "ec2", vcpus, memory_gib, hourly_usd, max_pods)


_TO_16XL = "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"
_TO_24XL = f"{_TO_16XL} 24xlarge"
_TO_32XL = f"{_TO_24XL} 32xlarge"

# ElastiCache reserves part of each node for itself, so its memory is not the EC2 figure.
_CACHE_MEMORY_GIB = {
    "r": {
        "large": 13.07,
        "xlarge": 26.32,
        "2xlarge": 52.82,
        "4xlarge": 105.81,
        "8xlarge": 209.55,
        "12xlarge": 317.77,
        "16xlarge": 419.09,
    },
    "m": {
        "large": 6.38,
        "xlarge": 12.93,
        "2xlarge": 26.04,
        "4xlarge": 52.26,
        "8xlarge": 103.68,
        "12xlarge": 157.12,
        "16xlarge": 209.55,
    },
    "t": {"micro": 0.5, "small": 1.37, "medium": 3.09},
}


def _cache(prefix: str, prices: dict[str, float] | None = None) -> list[InstanceType]:
    prices = prices or {}
    kind = prefix.split(".")[1][0]
    return [
        InstanceType(
            f"{prefix}.{size}",
            "elasticache",
            _BURSTABLE[size][0] if kind == "t" else _SIZE_VCPUS[size],
            memory,
            prices.get(size),
        )
        for size, memory in _CACHE_MEMORY_GIB[kind].items()
    ]


_ALL: list[InstanceType] = [
    # EC2, for the EKS node groups: (vCPUs, memory GiB, max pods, price)
    _ec2("t3.medium", 2, 4, 17, 0.0416),
    _ec2("t3.large", 2, 8, 35, 0.0832),
    _ec2("t3.xlarge", 4, 16, 58, 0.1664),
    _ec2("t3.2xlarge", 8, 32, 58, 0.3328),
    _ec2("m5.large", 2, 8, 29, 0.096),
    _ec2("m5.xlarge", 4, 16, 58, 0.192),
    _ec2("m5.2xlarge", 8, 32, 58, 0.384),
    _ec2("m6i.large", 2, 8, 29, 0.096),
    _ec2("m6i.xlarge", 4, 16, 58, 0.192),
    _ec2("m6i.2xlarge", 8, 32, 58, 0.384),
    _ec2("m6i.4xlarge", 16, 64, 234, 0.768),
    _ec2("m6a.large", 2, 8, 29, 0.0864),
    _ec2("m6a.xlarge", 4, 16, 58, 0.1728),
    _ec2("m6a.2xlarge", 8, 32, 58, 0.3456),
    _ec2("m7i.large", 2, 8, 29, 0.1008),
    _ec2("m7i.xlarge", 4, 16, 58, 0.2016),
    _ec2("m7i.2xlarge", 8, 32, 58, 0.4032),
    _ec2("m6g.large", 2, 8, 29, 0.077),
    _ec2("m6g.xlarge", 4, 16, 58, 0.154),
    _ec2("m7g.large", 2, 8, 29, 0.0816),
    _ec2("m7g.xlarge", 4, 16, 58, 0.1632),
    _ec2("c6i.large", 2, 4, 29, 0.085),
    _ec2("c6i.xlarge", 4, 8, 58, 0.17),
    _ec2("c6i.2xlarge", 8, 16, 58, 0.34),
    _ec2("r6i.large", 2, 16, 29, 0.126),
    _ec2("r6i.xlarge", 4, 32, 58, 0.252),
    _ec2("r6i.2xlarge", 8, 64, 58, 0.504),
    # RDS for PostgreSQL
    *_burstable("rds", "db.t3", "micro small medium large xlarge 2xlarge"),
    *_burstable(
        "rds",
        "db.t4g",
        "micro small medium large xlarge 2xlarge",
        {"micro": 0.016, "small": 0.032, "medium": 0.065, "large": 0.129},
    ),
    *_ladder("rds", "db.m5", _TO_24XL, 4),
    *_ladder("rds", "db.m6g", _TO_16XL, 4, {"large": 0.152, "xlarge": 0.304}),
    *_ladder("rds", "db.m6i", _TO_32XL, 4),
    *_ladder("rds", "db.m7g", _TO_16XL, 4),
    *_ladder("rds", "db.r5", _TO_24XL, 8, {"xlarge": 0.5}),
    *_ladder("rds", "db.r6g", _TO_16XL, 8, {"large": 0.225, "xlarge": 0.45, "2xlarge": 0.899}),
    *_ladder("rds", "db.r6i", _TO_32XL, 8),
    *_ladder("rds", "db.r7g", _TO_16XL, 8),
    # ElastiCache (Redis OSS and Valkey)
    *_cache("cache.t3"),
    *_cache("cache.t4g", {"micro": 0.016, "small": 0.032, "medium": 0.065}),
    *_cache("cache.m6g", {"large": 0.149}),
    *_cache("cache.m7g"),
    *_cache("cache.r6g", {"large": 0.206, "xlarge": 0.411}),
    *_cache("cache.r7g"),
    # Amazon MQ for RabbitMQ
    *_burstable("mq", "mq.t3", "micro", {"micro": 0.027}),
    *_ladder("mq", "mq.m5", "large xlarge 2xlarge 4xlarge", 4, {"large": 0.288}),
    *_ladder("mq", "mq.m7g", f"medium {_TO_16XL}", 4, {"large": 0.2304}),
]

CATALOGUE: dict[str, InstanceType] = {instance.name: instance for instance in _ALL}


def known(service: Service) -> list[str]:
    return [name for name, instance in CATALOGUE.items() if instance.service == service]


def lookup(name: str, service: Service) -> InstanceType | None:
    instance = CATALOGUE.get(name)
    return instance if instance is not None and instance.service == service else None


def unknown_message(name: str, service: Service) -> str:
    """Why ``name`` is refused, with the closest known types of ``service``."""
    closest = difflib.get_close_matches(name, known(service), n=3, cutoff=0.6)
    hint = f"; closest known: {', '.join(closest)}" if closest else ""
    return (
        f"unknown {SERVICE_NAMES[service]} {name!r}{hint} (a real type missing from the catalogue goes into "
        "silhouette_infra/planning/instance_types.py with its vCPUs and memory)"
    )


def get(name: str, service: Service) -> InstanceType:
    """The catalogue entry; settings validation has refused anything else before this is called."""
    instance = lookup(name, service)
    if instance is None:
        raise KeyError(unknown_message(name, service))
    return instance
