"""Pure sizing of the app namespace's ResourceQuota and LimitRange from the workloads at full scale."""

from __future__ import annotations

import math
from dataclasses import dataclass

from silhouette_infra.kubernetes.quantities import cpu_millicores, memory_mib
from silhouette_infra.planning.release import plan_release
from silhouette_infra.settings.models import AppsSettings, WorkerSettings, WorkloadSettings

ROLLOUT_SURGE = 0.25  # maxSurge of every Deployment: a rollout briefly runs 25 % more pods
MIGRATION_POD = (500, 512)  # cpu millicores, memory MiB of a migration Job's pod (requests = limits)


@dataclass(frozen=True)
class Quota:
    requests_cpu_millicores: int
    requests_memory_mib: int
    limits_cpu_millicores: int
    limits_memory_mib: int
    pods: int

    def as_hard(self) -> dict[str, str]:
        return {
            "requests.cpu": f"{self.requests_cpu_millicores}m",
            "requests.memory": f"{self.requests_memory_mib}Mi",
            "limits.cpu": f"{self.limits_cpu_millicores}m",
            "limits.memory": f"{self.limits_memory_mib}Mi",
            "pods": str(self.pods),
        }


def required_quota(apps: AppsSettings) -> Quota:
    """What every Deployment at its maximum (HPA or KEDA), during a rollout surge, plus the migration Jobs needs."""
    requests_cpu = requests_memory = limits_cpu = limits_memory = pods = 0.0
    migrations = 0
    # Every Deployment with its maximum: each variant of the release plans (HPA), and the workers (KEDA).
    deployments: list[tuple[WorkloadSettings | WorkerSettings, int]] = []
    for service, workload in (("backend", apps.backend), ("frontend", apps.frontend)):
        plan = plan_release(service, workload, apps)
        if service == "backend":
            migrations = len(plan.images)
        deployments += [(workload, variant.max_replicas) for variant in plan.variants]
    deployments.append((apps.worker, apps.worker.max_replicas))
    for pods_of, maximum in deployments:
        replicas = math.ceil(maximum * (1 + ROLLOUT_SURGE))
        requests_cpu += replicas * cpu_millicores(pods_of.cpu_request)
        requests_memory += replicas * memory_mib(pods_of.memory_request)
        limits_cpu += replicas * cpu_millicores(pods_of.cpu_limit)
        limits_memory += replicas * memory_mib(pods_of.memory_limit)
        pods += replicas
    requests_cpu += migrations * MIGRATION_POD[0]
    limits_cpu += migrations * MIGRATION_POD[0]
    requests_memory += migrations * MIGRATION_POD[1]
    limits_memory += migrations * MIGRATION_POD[1]
    pods += migrations
    return Quota(
        math.ceil(requests_cpu),
        math.ceil(requests_memory),
        math.ceil(limits_cpu),
        math.ceil(limits_memory),
        math.ceil(pods),
    )


def namespace_quota(apps: AppsSettings) -> Quota:
    """The quota the namespace gets: the requirement plus headroom, or the explicit settings."""
    need = required_quota(apps)
    factor = 1 + apps.quota_headroom_percent / 100
    return Quota(
        cpu_millicores(apps.quota_cpu) if apps.quota_cpu else math.ceil(need.requests_cpu_millicores * factor),
        math.ceil(memory_mib(apps.quota_memory)) if apps.quota_memory else math.ceil(need.requests_memory_mib * factor),
        math.ceil(need.limits_cpu_millicores * factor),
        math.ceil(need.limits_memory_mib * factor),
        math.ceil(need.pods * factor),
    )


def limit_range(apps: AppsSettings) -> dict[str, dict[str, str]]:
    """Defaults for a container that states nothing, and the largest container the namespace admits."""
    workloads = (apps.backend, apps.frontend, apps.worker)
    return {
        "default": {"cpu": "250m", "memory": "256Mi"},
        "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
        "max": {
            "cpu": f"{max(max(cpu_millicores(w.cpu_limit) for w in workloads), MIGRATION_POD[0])}m",
            "memory": f"{math.ceil(max(max(memory_mib(w.memory_limit) for w in workloads), MIGRATION_POD[1]))}Mi",
        },
    }
