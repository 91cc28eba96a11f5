"""Pure capacity arithmetic: do the application node groups hold every workload at full scale?

Allocatable per node follows the EKS AMI's kubelet reservations (AL2023 bootstrap): CPU reserved
6 % of the first core, 1 % of the second, 0.5 % of the next two and 0.25 % of the rest; memory
reserved 255 MiB + 11 MiB per pod the node may run, plus a 100 MiB hard eviction threshold
(https://docs.aws.amazon.com/eks/latest/userguide/choosing-instance-type.html and the
amazon-eks-ami bootstrap). Max pods is the ENI-based limit of the VPC CNI without prefix delegation.
"""

from __future__ import annotations

from dataclasses import dataclass

# instance type -> (vCPUs, memory MiB, max pods with the VPC CNI)
INSTANCE_TYPES: dict[str, tuple[int, int, int]] = {
    "t3.medium": (2, 4096, 17),
    "t3.large": (2, 8192, 35),
    "t3.xlarge": (4, 16384, 58),
    "t3.2xlarge": (8, 32768, 58),
    "m5.large": (2, 8192, 29),
    "m5.xlarge": (4, 16384, 58),
    "m5.2xlarge": (8, 32768, 58),
    "m6i.large": (2, 8192, 29),
    "m6i.xlarge": (4, 16384, 58),
    "m6i.2xlarge": (8, 32768, 58),
    "m6i.4xlarge": (16, 65536, 234),
    "m6a.large": (2, 8192, 29),
    "m6a.xlarge": (4, 16384, 58),
    "m6a.2xlarge": (8, 32768, 58),
    "m7i.large": (2, 8192, 29),
    "m7i.xlarge": (4, 16384, 58),
    "m7i.2xlarge": (8, 32768, 58),
    "m6g.large": (2, 8192, 29),
    "m6g.xlarge": (4, 16384, 58),
    "m7g.large": (2, 8192, 29),
    "m7g.xlarge": (4, 16384, 58),
    "c6i.large": (2, 4096, 29),
    "c6i.xlarge": (4, 8192, 58),
    "c6i.2xlarge": (8, 16384, 58),
    "r6i.large": (2, 16384, 29),
    "r6i.xlarge": (4, 32768, 58),
    "r6i.2xlarge": (8, 65536, 58),
}


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


def reserved_cpu_millicores(vcpus: int) -> float:
    cores = [60.0, 10.0, 5.0, 5.0] + [2.5] * max(0, vcpus - 4)
    return sum(cores[:vcpus])


def allocatable(instance_type: str) -> Resources:
    """What the kubelet offers pods on one node of ``instance_type``."""
    if instance_type not in INSTANCE_TYPES:
        raise KeyError(instance_type)
    vcpus, memory, max_pods = INSTANCE_TYPES[instance_type]
    reserved_memory = 255 + 11 * max_pods + 100
    return Resources(vcpus * 1000 - reserved_cpu_millicores(vcpus), memory - reserved_memory)


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
