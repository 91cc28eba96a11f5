"""Per-stack defaults. The model defaults are the production profile; staging overrides them to be
cheap: one NAT gateway, single-instance data services, small nodes, nothing protected. A stack's own
config is deep-merged on top of its profile, which is deep-merged on top of the model defaults: every
key a stack leaves out takes its profile's value, then the production default. A profile says what
kind of environment a stack is; what belongs to one stack alone (its VPC range, its domain, its
account) is in that stack's file, never here."""

from __future__ import annotations

from typing import Any

STAGING: dict[str, Any] = {
    "protect_stateful": False,
    "keys": {"deletion_window_days": 7},
    "network": {"nat_gateways": "single"},
    "cluster": {
        "deletion_protection": False,
        "node_groups": [
            {
                "name": "system",
                "instance_types": ["t3.large"],
                "min_size": 1,
                "desired_size": 2,
                "max_size": 3,
                "labels": {"silhouette.io/pool": "system"},
                "taints": [{"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}],
                "runs_applications": False,
            },
            {
                "name": "apps",
                "instance_types": ["m6i.large", "m6a.large"],
                "capacity_type": "SPOT",
                "min_size": 1,
                "desired_size": 2,
                "max_size": 4,
                "labels": {"silhouette.io/pool": "apps"},
            },
        ],
    },
    "postgres": {
        "instance_class": "db.t4g.medium",
        "multi_az": False,
        "allocated_storage_gib": 20,
        "max_allocated_storage_gib": 100,
        "backup_retention_days": 7,
        "monitoring_interval_seconds": 60,
        "deletion_protection": False,
    },
    "redis": {
        "node_type": "cache.t4g.small",
        "num_cache_clusters": 1,
        "automatic_failover": False,
        "multi_az": False,
        "snapshot_retention_days": 1,
    },
    "rabbitmq": {"host_instance_type": "mq.t3.micro", "deployment_mode": "SINGLE_INSTANCE"},
    "neo4j": {
        "volume_size_gib": 20,
        "cpu_request": "500m",
        "cpu_limit": "1",
        "memory_request": "2Gi",
        "memory_limit": "2Gi",
    },
    "backup": {"copy_to_dr_region": False, "replicate_bucket_to_dr_region": False},
    "audit": {"replicate_to_dr_region": False},
    "registry": {"replicate_to_dr_region": False},
    "apps": {
        "backend": {"min_replicas": 1, "max_replicas": 4},
        "frontend": {"min_replicas": 1, "max_replicas": 3},
        "worker": {"min_replicas": 1, "max_replicas": 3, "cpu_request": "250m", "memory_request": "512Mi"},
        # Staging proves the release and the load test's shape at a tenth of production's targets.
        "throughput": {"api_requests_per_second": 100, "workflows_per_hour": 1000, "traffic_hours_per_day": 2},
    },
    "observability": {
        "prometheus_retention_days": 7,
        "prometheus_volume_gib": 20,
        "prometheus_replicas": 1,
        "alertmanager_replicas": 1,
        "container_log_retention_days": 30,
        "tracing": {"collector_replicas": 1, "sampling_percent": 100},
    },
}

PROFILES: dict[str, dict[str, Any]] = {"production": {}, "staging": STAGING}

# The stack that rebuilds production in the DR region from the replicated data (Pulumi.dr.yaml): environment
# production, plus the recovery sources it is created from.
DR_STACK = "dr"
