"""How long a `pulumi up` of a whole stack takes, pure: the longest path through the dependency graph of its
resources, each weighted by a typical creation time for its type. For the dr stack this is the recovery time
(RTO) estimate; with the pilot light, what already runs in the DR region weighs nothing.

Pulumi creates every resource as soon as the resources it depends on exist, in parallel otherwise
(https://www.pulumi.com/docs/iac/concepts/how-pulumi-works/), so the stack is up when its longest chain of
dependencies is: the critical path, not the sum.

The creation times are figures with their source. Only the EKS control plane's is measured (by a third party);
the rest are assumptions, to be replaced by the timings of a restore drill (README, "Regional recovery"): the
table says which is which, and synth prints it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from silhouette_infra.settings.models import Settings

Evidence = Literal["measured", "assumed"]
ASSUMED = "assumed, not measured: replace with the restore drill's timing"


@dataclass(frozen=True)
class CreationTime:
    minutes: float
    evidence: Evidence
    source: str


# A resource that is one control-plane API call (IAM, KMS, S3 settings, Kubernetes objects that do not wait).
API_CALL = CreationTime(0.1, "assumed", f"a few seconds for one API call; {ASSUMED}")

CREATION_TIMES: dict[str, CreationTime] = {
    "eks:index:Cluster": CreationTime(
        15,
        "measured",
        "EKS control plane creation measured at 15 min in us-west-2 "
        "(https://easontechtalk.com/unofficial-eks-cluster-creation-performance-across-aws-regions, unofficial)",
    ),
    "aws:eks/nodeGroup:NodeGroup": CreationTime(5, "assumed", f"instances launched and joined; {ASSUMED}"),
    "aws:eks/addon:Addon": CreationTime(2, "assumed", ASSUMED),
    "kubernetes:helm.sh/v3:Release": CreationTime(3, "assumed", f"the chart's pods ready; {ASSUMED}"),
    "kubernetes:apps/v1:Deployment": CreationTime(2, "assumed", f"the rollout's pods ready; {ASSUMED}"),
    "kubernetes:apps/v1:StatefulSet": CreationTime(3, "assumed", f"volume attached, pod ready; {ASSUMED}"),
    "kubernetes:batch/v1:Job": CreationTime(2, "assumed", f"the migration Job completed; {ASSUMED}"),
    "kubernetes:networking.k8s.io/v1:Ingress": CreationTime(3, "assumed", f"the ALB provisioned; {ASSUMED}"),
    "aws:ec2/natGateway:NatGateway": CreationTime(2, "assumed", ASSUMED),
    "aws:ec2/vpcEndpoint:VpcEndpoint": CreationTime(2, "assumed", ASSUMED),
    "aws:rds/instance:Instance": CreationTime(20, "assumed", f"a Multi-AZ instance available; {ASSUMED}"),
    "aws:rds/proxy:Proxy": CreationTime(10, "assumed", ASSUMED),
    "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": CreationTime(1, "assumed", ASSUMED),
    "aws:rds/proxyTarget:ProxyTarget": CreationTime(5, "assumed", f"the target registered and available; {ASSUMED}"),
    "aws:elasticache/replicationGroup:ReplicationGroup": CreationTime(15, "assumed", ASSUMED),
    "aws:mq/broker:Broker": CreationTime(20, "assumed", f"a 3-node cluster broker running; {ASSUMED}"),
    "aws:acm/certificateValidation:CertificateValidation": CreationTime(5, "assumed", ASSUMED),
    "aws:guardduty/detector:Detector": CreationTime(1, "assumed", ASSUMED),
    "aws:securityhub/standardsSubscription:StandardsSubscription": CreationTime(2, "assumed", ASSUMED),
}

# A point-in-time restore replays the transaction logs since the snapshot it starts from; the larger the
# database, the longer the instance takes to become available.
RESTORE_MINUTES_PER_GIB = 0.2
RESTORE_SOURCE = f"20 min plus 0.2 min per GiB of allocated storage; {ASSUMED}"

# What the pilot light keeps running in the DR region: the components the dr stack's standby declares
# (platform.py, _core), every resource under them. Nothing of these is created during a recovery.
PILOT_LIGHT_COMPONENTS = frozenset(
    {
        "silhouette:keys:Keys",
        "silhouette:network:Network",
        "silhouette:cluster:Cluster",
        "silhouette:cluster:ClusterAddons",
        # The add-ons, each a component of its own (cluster/addons.py).
        "silhouette:cluster:LoadBalancerController",
        "silhouette:cluster:MetricsServer",
        "silhouette:cluster:ClusterAutoscaler",
        "silhouette:cluster:ExternalSecrets",
        "silhouette:cluster:DefaultStorageClass",
        "silhouette:cluster:Keda",
    }
)


def in_pilot_light(urn: str) -> bool:
    """Whether the resource of ``urn`` is part of the pilot light: its outermost component is one the standby
    declares (``urn:pulumi:<stack>::<project>::<component>$...$<type>::<name>``)."""
    parts = urn.split("::")
    return len(parts) >= 4 and parts[2].split("$", 1)[0] in PILOT_LIGHT_COMPONENTS


@dataclass(frozen=True)
class Node:
    """One resource of the graph: its URN, type, name and the URNs of the resources it waits for."""

    urn: str
    type: str
    name: str
    depends_on: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    name: str
    type: str
    minutes: float


@dataclass(frozen=True)
class CriticalPath:
    minutes: float
    steps: tuple[Step, ...]


def creation_time(type_token: str, settings: Settings) -> CreationTime:
    """The typical creation time of one resource of ``type_token`` in the stack of ``settings``."""
    if type_token == "aws:rds/instance:Instance":
        base = CREATION_TIMES[type_token].minutes
        return CreationTime(
            base + RESTORE_MINUTES_PER_GIB * settings.postgres.allocated_storage_gib, "assumed", RESTORE_SOURCE
        )
    return CREATION_TIMES.get(type_token, API_CALL)


def critical_path(nodes: Iterable[Node], settings: Settings, *, pilot_light: bool = False) -> CriticalPath:
    """The longest chain of dependencies, weighted by creation time; ``nodes`` come in registration order, in
    which every resource follows the ones it depends on (a dependency on an unknown URN counts as done)."""
    finish: dict[str, float] = {}
    previous: dict[str, str | None] = {}
    by_urn: dict[str, Node] = {}
    weights: dict[str, float] = {}
    for node in nodes:
        by_urn[node.urn] = node
        weight = 0.0 if pilot_light and in_pilot_light(node.urn) else creation_time(node.type, settings).minutes
        weights[node.urn] = weight
        known = [urn for urn in node.depends_on if urn in finish]
        before = max(known, key=lambda urn: finish[urn], default=None)
        finish[node.urn] = (finish[before] if before else 0.0) + weight
        previous[node.urn] = before
    if not finish:
        return CriticalPath(0.0, ())
    end = max(finish, key=lambda urn: finish[urn])
    steps: list[Step] = []
    current: str | None = end
    while current is not None:
        node = by_urn[current]
        steps.append(Step(node.name, node.type, weights[current]))
        current = previous[current]
    return CriticalPath(finish[end], tuple(reversed(steps)))
