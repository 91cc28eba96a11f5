"""Pure capacity arithmetic: do the application node groups hold every workload at full scale?

Allocatable per node follows the EKS AMI's kubelet reservations (AL2023 bootstrap): CPU reserved
6 % of the first core, 1 % of the second, 0.5 % of the next two and 0.25 % of the rest; memory
reserved 255 MiB + 11 MiB per pod the node may run, plus a 100 MiB hard eviction threshold
(https://docs.aws.amazon.com/eks/latest/userguide/choosing-instance-type.html and the
amazon-eks-ami bootstrap). Max pods is the ENI-based limit of the VPC CNI without prefix delegation;
the figures per instance type come from the one catalogue, ``silhouette_infra/planning/instance_types.py``.

CPU and memory are the constraints; a node's root disk is not modelled. Workloads that write in bulk
have EBS volumes of their own (Neo4j's data and its backup's dump, Prometheus's and Alertmanager's
storage), attached beside the root volume; what stays on the root disk (images, container logs, the
size-limited ``emptyDir`` scratch paths) is small and bounded per pod.
"""

from __future__ import annotations

from dataclasses import dataclass

from silhouette_infra.planning import instance_types


@dataclass(frozen=True)
class Resources:
    cpu_millicores: float
    memory_mib: float

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.cpu_millicores + other.cpu_millicores, self.memory_mib + other.memory_mib)

    def times(self, factor: float) -> Resources:
        return Resources(self.cpu_millicores * factor, self.memory_mib * factor)

    def fits_in(self, other: Resources) -> bool:
        return self.cpu_millicores <= other.cpu_millicores and self.memory_mib <= other.memory_mib


@dataclass(frozen=True)
class Workload:
    """Something scheduled on the application nodes: per-replica requests and its maximum replicas."""

    name: str
    requests: Resources
    max_replicas: int


def pod_requests(init_containers: list[Resources], containers: list[Resources]) -> Resources:
    """What the scheduler reserves for a pod: per resource, the larger of its largest init container
    (they run one at a time, before the others) and the sum of its containers
    (https://kubernetes.io/docs/concepts/workloads/pods/init-containers/#resource-sharing-within-containers)."""
    running = sum(containers, Resources(0, 0))
    return Resources(
        max([running.cpu_millicores, *(c.cpu_millicores for c in init_containers)]),
        max([running.memory_mib, *(c.memory_mib for c in init_containers)]),
    )


def reserved_cpu_millicores(vcpus: int) -> float:
    cores = [60.0, 10.0, 5.0, 5.0] + [2.5] * max(0, vcpus - 4)
    return sum(cores[:vcpus])


def allocatable(instance_type: str) -> Resources:
    """What the kubelet offers pods on one node of ``instance_type``."""
    node = instance_types.get(instance_type, "ec2")
    reserved_memory = 255 + 11 * (node.max_pods or 0) + 100
    return Resources(node.vcpus * 1000 - reserved_cpu_millicores(node.vcpus), node.memory_mib - reserved_memory)


def demand(workloads: list[Workload], per_node_overhead: Resources, nodes: int) -> Resources:
    """Requests of every workload at its maximum replicas plus the daemon sets on every node."""
    total = per_node_overhead.times(nodes)
    for workload in workloads:
        total = total + workload.requests.times(workload.max_replicas)
    return total


def capacity(instance_types: list[str], max_size: int) -> Resources:
    """Capacity of a node group at its maximum, assuming the smallest of its instance types."""
    per_node = [allocatable(instance_type) for instance_type in instance_types]
    smallest = min(per_node, key=lambda r: (r.cpu_millicores, r.memory_mib))
    return smallest.times(max_size)
