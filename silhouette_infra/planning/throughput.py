"""The throughput model, pure: do the declared maxima carry the design's targets, and do the connection
pools fit the database?

- The API: the backend's Deployments at their maximum replicas times what one pod sustains at p95 < 200 ms
  must reach the API target plus headroom.
- Workflows: the workers at their maximum times what one worker completes per minute must reach the
  hourly target times the peak factor (the workers at maximum absorb the peak hour).
- Connections: every backend and worker pod at maximum holds its pool open through RDS Proxy; without
  counting on multiplexing (a pinned session holds its database connection), the pools must fit in the
  share of the instance's max_connections the proxy may open.

The per-pod figures are settings with their source (``apps.throughput``): assumptions until a load test
measures them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from silhouette_infra.planning import instance_types
from silhouette_infra.planning.instance_types import Service
from silhouette_infra.planning.release import plan_release
from silhouette_infra.settings.models import Settings

GIB = 1024**3
# RDS for PostgreSQL: max_connections = LEAST(DBInstanceClassMemory / 9531392, 5000)
# (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections).
POSTGRES_BYTES_PER_CONNECTION = 9_531_392
POSTGRES_MAX_CONNECTIONS = 5000


def instance_memory_gib(instance_class: str) -> float:
    """Memory of an RDS instance class or an Amazon MQ broker type, from the instance catalogue."""
    service: Service = "mq" if instance_class.startswith("mq.") else "rds"
    return instance_types.get(instance_class, service).memory_gib


def postgres_max_connections(instance_class: str) -> int:
    """The default max_connections of RDS for PostgreSQL on ``instance_class``."""
    return min(
        int(instance_memory_gib(instance_class) * GIB) // POSTGRES_BYTES_PER_CONNECTION, POSTGRES_MAX_CONNECTIONS
    )


@dataclass(frozen=True)
class Line:
    """One line of the throughput table: a target, what the declared maximum carries, the key to change."""

    name: str
    unit: str
    target: float  # what must be carried (with headroom or peak factor applied)
    capacity: float  # what the declared maxima carry
    key: str  # the setting that raises the capacity
    basis: str  # how the capacity is computed, for the table and the error

    @property
    def headroom_percent(self) -> float:
        """Capacity above the target, in percent of the target (negative: short)."""
        return (self.capacity / self.target - 1) * 100

    @property
    def fits(self) -> bool:
        return self.capacity >= self.target


def backend_max_replicas(settings: Settings) -> int:
    """Backend pods at maximum: every Deployment of the release plan (blue-green keeps both colours)."""
    apps = settings.apps
    return plan_release("backend", apps.backend, apps).max_replicas


def api_line(settings: Settings) -> Line:
    throughput = settings.apps.throughput
    replicas = backend_max_replicas(settings)
    return Line(
        name="API",
        unit="req/s",
        target=throughput.api_requests_per_second * (1 + throughput.api_headroom_percent / 100),
        capacity=replicas * throughput.backend_requests_per_second_per_pod,
        key="apps.backend.max_replicas",
        basis=f"{replicas} backend pods x {throughput.backend_requests_per_second_per_pod:g} req/s "
        f"(target {throughput.api_requests_per_second} + {throughput.api_headroom_percent} % headroom)",
    )


def workflow_line(settings: Settings) -> Line:
    throughput, worker = settings.apps.throughput, settings.apps.worker
    return Line(
        name="Workflows",
        unit="per hour",
        target=throughput.workflows_per_hour * throughput.workflow_peak_factor,
        capacity=worker.max_replicas * throughput.worker_workflows_per_minute_per_pod * 60,
        key="apps.worker.max_replicas",
        basis=f"{worker.max_replicas} workers x {throughput.worker_workflows_per_minute_per_pod:g}/min "
        f"(target {throughput.workflows_per_hour}/h x peak {throughput.workflow_peak_factor:g})",
    )


def connection_line(settings: Settings) -> Line:
    """Database connections: the pools at maximum against what the proxy may open (``target`` is the demand,
    ``capacity`` the allowance)."""
    throughput, postgres = settings.apps.throughput, settings.postgres
    backend = backend_max_replicas(settings) * throughput.backend_database_pool_size
    workers = settings.apps.worker.max_replicas * throughput.worker_database_pool_size
    allowed = math.floor(
        postgres_max_connections(postgres.instance_class) * postgres.proxy_max_connections_percent / 100
    )
    return Line(
        name="Database connections",
        unit="connections",
        target=backend + workers,
        capacity=allowed,
        key="apps.throughput.backend_database_pool_size",
        basis=f"pools {backend} (backend) + {workers} (workers) within {postgres.proxy_max_connections_percent} % of "
        f"max_connections {postgres_max_connections(postgres.instance_class)} on {postgres.instance_class}",
    )


def throughput_table(settings: Settings) -> list[Line]:
    return [api_line(settings), workflow_line(settings), connection_line(settings)]
