"""The usage a stack's cost depends on, derived from its settings and the throughput and capacity models, each
figure with how it was reached. Pure, no Pulumi.

What the settings give (the throughput targets, replicas, retention, sampling) is used as given. What nothing in
the repository measures (bytes logged per request, egress per workflow) is an assumption in ``ASSUMED``, named
as such next to its figure wherever the estimate is shown: replace it with a measurement (the load test's
results, the first month's Cost Explorer) when there is one. None of them is a setting: they describe the
application's behaviour, not a choice a person makes per stack.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from silhouette_infra.kubernetes.quantities import cpu_millicores, memory_mib
from silhouette_infra.planning import instance_types
from silhouette_infra.planning.capacity import Resources, allocatable, reserved_cpu_millicores
from silhouette_infra.planning.throughput import backend_max_replicas
from silhouette_infra.settings.models import Settings

HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
GB = 1e9


@dataclass(frozen=True)
class Assumption:
    value: float
    unit: str
    why: str


ASSUMED: dict[str, Assumption] = {
    "log_bytes_per_request": Assumption(
        1000, "bytes", "one structured access-log line per API request (backend and ALB controller)"
    ),
    "log_bytes_per_workflow": Assumption(
        20_000, "bytes", "a workflow execution's worker log lines (start, each node, result)"
    ),
    "flow_log_gb_per_day": Assumption(
        2.0, "GB/day", "VPC flow-log records of a cluster of this size (ENIs of nodes, pods, endpoints)"
    ),
    "control_plane_log_gb_per_day": Assumption(
        1.0, "GB/day", "EKS control-plane logs with the audit log on (the API server, the autoscaler, controllers)"
    ),
    "nat_bytes_per_workflow": Assumption(
        100_000, "bytes", "third-party calls a workflow makes (webhooks, SaaS APIs) through the NAT gateways"
    ),
    "cloudtrail_events_per_month": Assumption(
        2_000_000, "events", "management events of an account running EKS with autoscaling (GuardDuty analyses them)"
    ),
    "config_items_per_month": Assumption(
        5_000, "items", "configuration changes recorded (nodes, ENIs and volumes churn with the autoscaler)"
    ),
    "database_daily_change": Assumption(
        0.05, "of storage per day", "share of the database rewritten each day (WAL copied to the DR region)"
    ),
    "neo4j_dump_share": Assumption(0.10, "of the volume", "a Neo4j dump's size against its data volume"),
    "redis_rdb_share": Assumption(0.5, "of a node's memory", "an exported RDB file's size against the node's memory"),
}


@dataclass(frozen=True)
class Driver:
    value: float
    unit: str
    basis: str


def _assumed(key: str) -> float:
    return ASSUMED[key].value


def api_average_requests_per_second(settings: Settings) -> Driver:
    """The API's average load: its target over the peak factor the workflows use (the design states a peak
    target, 1,000 req/s at p95, and no average; the same peak-to-average ratio is applied to both)."""
    throughput = settings.apps.throughput
    average = throughput.api_requests_per_second / throughput.workflow_peak_factor
    return Driver(
        average,
        "req/s",
        f"apps.throughput.api_requests_per_second {throughput.api_requests_per_second} / workflow_peak_factor "
        f"{throughput.workflow_peak_factor:g}",
    )


def _busy_share(settings: Settings) -> tuple[float, str]:
    hours = settings.apps.throughput.traffic_hours_per_day
    return hours / 24, f"{hours:g} h a day (apps.throughput.traffic_hours_per_day)"


def api_requests_per_month(settings: Settings) -> Driver:
    average = api_average_requests_per_second(settings)
    share, busy = _busy_share(settings)
    return Driver(
        average.value * SECONDS_PER_MONTH * share, "requests", f"{average.value:,.0f} req/s average, {busy}, 730 h"
    )


def workflows_per_month(settings: Settings) -> Driver:
    hourly = settings.apps.throughput.workflows_per_hour
    share, busy = _busy_share(settings)
    return Driver(
        hourly * HOURS_PER_MONTH * share, "workflows", f"apps.throughput.workflows_per_hour {hourly:,}, {busy}, 730 h"
    )


def container_log_gb_per_month(settings: Settings) -> Driver:
    requests, workflows = api_requests_per_month(settings), workflows_per_month(settings)
    gb = (
        requests.value * _assumed("log_bytes_per_request") + workflows.value * _assumed("log_bytes_per_workflow")
    ) / GB
    return Driver(
        gb,
        "GB",
        f"{requests.value / 1e6:,.0f} M requests x {_assumed('log_bytes_per_request'):,.0f} B + "
        f"{workflows.value / 1e6:,.1f} M workflows x {_assumed('log_bytes_per_workflow'):,.0f} B (assumed sizes)",
    )


def nat_gb_per_month(settings: Settings) -> Driver:
    workflows = workflows_per_month(settings)
    gb = workflows.value * _assumed("nat_bytes_per_workflow") / GB
    return Driver(
        gb,
        "GB",
        f"{workflows.value / 1e6:,.1f} M workflows x {_assumed('nat_bytes_per_workflow') / 1000:,.0f} KB egress "
        "(assumed); AWS APIs go through the VPC endpoints and S3 through its gateway endpoint",
    )


def traces_per_month(settings: Settings) -> Driver:
    requests = api_requests_per_month(settings)
    percent = settings.observability.tracing.sampling_percent
    return Driver(
        requests.value * percent / 100,
        "traces",
        f"{requests.value / 1e6:,.0f} M requests x observability.tracing.sampling_percent {percent:g} %",
    )


def _requests(cpu: str, memory: str) -> Resources:
    return Resources(cpu_millicores(cpu), memory_mib(memory))


def pods_at_average(settings: Settings) -> dict[str, int]:
    """Replicas each application workload runs at the average load: what the throughput model's per-pod figures
    need, never below the workload's minimum (the HPA and KEDA floors)."""
    apps, throughput = settings.apps, settings.apps.throughput
    backend = math.ceil(
        api_average_requests_per_second(settings).value / throughput.backend_requests_per_second_per_pod
    )
    workers = math.ceil(throughput.workflows_per_hour / (throughput.worker_workflows_per_minute_per_pod * 60))
    return {
        "backend": min(max(backend, apps.backend.min_replicas), backend_max_replicas(settings)),
        "frontend": apps.frontend.min_replicas,
        "worker": min(max(workers, apps.worker.min_replicas), apps.worker.max_replicas),
        "neo4j": 1,
    }


def application_nodes_at_average(settings: Settings, daemonset_overhead: Resources) -> Driver:
    """Nodes of the application groups the autoscaler keeps at the average load: the pods of
    ``pods_at_average`` plus the daemon sets, in the capacity model's allocatable per node of the first
    application group's first type, with the cluster's capacity headroom kept free; at least the groups'
    minimum and one per availability zone."""
    groups = [group for group in settings.cluster.node_groups if group.runs_applications]
    pods = pods_at_average(settings)
    apps, neo4j = settings.apps, settings.neo4j
    per_pod = {
        "backend": _requests(apps.backend.cpu_request, apps.backend.memory_request),
        "frontend": _requests(apps.frontend.cpu_request, apps.frontend.memory_request),
        "worker": _requests(apps.worker.cpu_request, apps.worker.memory_request),
        "neo4j": _requests(neo4j.cpu_request, neo4j.memory_request),
    }
    need = sum((per_pod[name].times(count) for name, count in pods.items()), Resources(0, 0))
    node_type = groups[0].instance_types[0] if groups else settings.cluster.node_groups[0].instance_types[0]
    usable = allocatable(node_type).times(1 - settings.cluster.capacity_headroom_percent / 100)
    per_node = Resources(
        usable.cpu_millicores - daemonset_overhead.cpu_millicores,
        usable.memory_mib - daemonset_overhead.memory_mib,
    )
    nodes = max(
        math.ceil(need.cpu_millicores / per_node.cpu_millicores),
        math.ceil(need.memory_mib / per_node.memory_mib),
        sum(group.min_size for group in groups),
        len(settings.network.availability_zones) if settings.is_production else 1,
    )
    shown = ", ".join(f"{name} {count}" for name, count in pods.items())
    return Driver(
        nodes,
        "nodes",
        f"pods at the average load ({shown}) need {need.cpu_millicores / 1000:.1f} vCPU / "
        f"{need.memory_mib / 1024:.1f} GiB; one {node_type} offers {per_node.cpu_millicores / 1000:.2f} vCPU / "
        f"{per_node.memory_mib / 1024:.1f} GiB after {settings.cluster.capacity_headroom_percent} % headroom and "
        f"the daemon sets ({instance_types.get(node_type, 'ec2').vcpus} vCPUs less "
        f"{reserved_cpu_millicores(instance_types.get(node_type, 'ec2').vcpus):.0f}m reserved)",
    )
