"""Node groups must hold every workload at full scale (issue: cluster layer, node groups)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from silhouette_infra.kubernetes.quantities import cpu_millicores, memory_mib
from silhouette_infra.planning.capacity import (
    Resources,
    allocatable,
    capacity,
    demand,
    pod_requests,
    reserved_cpu_millicores,
)
from silhouette_infra.settings.models import Settings
from silhouette_infra.validation import rules
from silhouette_infra.validation.loader import SettingsError, load_settings
from silhouette_infra.validation.rules import DAEMONSET_OVERHEAD, workloads_at_full_scale
from tests.support import config_with


def test_kubelet_reservations_follow_the_eks_ami_formula() -> None:
    assert reserved_cpu_millicores(2) == 70
    assert reserved_cpu_millicores(4) == 80
    assert reserved_cpu_millicores(8) == 90
    # m6i.xlarge: 16 GiB minus 255 MiB + 11 MiB x 58 pods, minus the 100 MiB eviction threshold.
    assert allocatable("m6i.xlarge") == Resources(3920, 16384 - 255 - 638 - 100)


def test_a_group_is_sized_by_its_smallest_instance_type() -> None:
    assert capacity(["m6i.xlarge", "m6i.large"], 3) == allocatable("m6i.large").times(3)


def test_demand_counts_every_replica_at_maximum_and_the_daemon_sets_on_every_node() -> None:
    settings = load_settings("production", {})
    needed = demand(workloads_at_full_scale(settings), DAEMONSET_OVERHEAD, nodes=15)
    # backend 20 x 250m, frontend 10 x 100m, workers 20 x 500m, neo4j 1 x 1 CPU, its backup job 250m,
    # 15 nodes x 300m of daemon sets
    assert needed.cpu_millicores == 20 * 250 + 10 * 100 + 20 * 500 + 1000 + 250 + 15 * 300


def test_blue_green_needs_room_for_both_colours() -> None:
    rolling = load_settings("production", {})
    blue_green = load_settings("production", {"silhouette:apps": json.dumps({"release": {"strategy": "blue_green"}})})
    backend = {w.name: w.max_replicas for w in workloads_at_full_scale(rolling)}["backend"]
    assert {w.name: w.max_replicas for w in workloads_at_full_scale(blue_green)}["backend"] == 2 * backend


def test_a_pod_requests_its_largest_init_container_or_the_sum_of_its_containers() -> None:
    """Kubernetes, "Init containers", resource sharing within containers."""
    assert pod_requests([Resources(250, 1024)], [Resources(100, 256), Resources(100, 256)]) == Resources(250, 1024)
    assert pod_requests([Resources(50, 64)], [Resources(100, 256), Resources(100, 256)]) == Resources(200, 512)
    assert pod_requests([], [Resources(100, 256)]) == Resources(100, 256)


@pytest.mark.parametrize("stack", ["production", "staging"])
def test_the_neo4j_backup_job_is_counted_as_its_pod_requests(stack: str) -> None:
    """The capacity check counts the backup CronJob's pod with exactly what its manifest requests."""
    from tests.test_neo4j import objects, pod_spec

    spec = pod_spec(objects(stack)["CronJob/neo4j-backup"])

    def requests(containers: list[dict[str, Any]]) -> list[Resources]:
        return [
            Resources(
                cpu_millicores(c["resources"]["requests"]["cpu"]), memory_mib(c["resources"]["requests"]["memory"])
            )
            for c in containers
        ]

    declared = pod_requests(requests(spec["initContainers"]), requests(spec["containers"]))
    counted = {w.name: w for w in workloads_at_full_scale(load_settings(stack, config_with(stack)))}["neo4j-backup"]
    assert (counted.requests, counted.max_replicas) == (declared, 1)


def test_a_node_group_with_room_for_everything_but_the_backup_job_is_a_settings_error() -> None:
    """Grow staging's backend until the capacity rule refuses the apps group: at that point everything but
    the backup job still fits, so the job is what the rule counted."""
    staging = load_settings("staging", config_with("staging"))

    def with_backend_max_replicas(replicas: int) -> Settings:
        backend = staging.apps.backend.model_copy(update={"max_replicas": replicas})
        return staging.model_copy(update={"apps": staging.apps.model_copy(update={"backend": backend})})

    def too_small(settings: Settings) -> bool:
        return any("is too small" in message for _, message in rules.check(settings))

    replicas = next(n for n in range(staging.apps.backend.max_replicas, 500) if too_small(with_backend_max_replicas(n)))
    tipped = with_backend_max_replicas(replicas)
    [apps] = [group for group in tipped.cluster.node_groups if group.runs_applications]
    usable = capacity(apps.instance_types, apps.max_size).times(1 - tipped.cluster.capacity_headroom_percent / 100)
    everything_but_the_backup = [w for w in workloads_at_full_scale(tipped) if w.name != "neo4j-backup"]
    assert demand(everything_but_the_backup, DAEMONSET_OVERHEAD, apps.max_size).fits_in(usable)


@pytest.mark.parametrize("stack", ["production", "staging"])
def test_shrinking_the_application_node_group_is_a_settings_error_naming_it(stack: str) -> None:
    groups = load_settings(stack, config_with(stack)).model_dump(mode="json")["cluster"]["node_groups"]
    index = next(i for i, group in enumerate(groups) if group["name"] == "apps")
    groups[index].update(min_size=1, desired_size=1, max_size=1)
    with pytest.raises(SettingsError) as raised:
        load_settings(stack, config_with(stack, cluster={"node_groups": groups}))
    message = str(raised.value)
    assert f"silhouette:cluster.node_groups[{index}].max_size: node group 'apps' is too small" in message, message


def test_an_unknown_instance_type_is_a_settings_error_naming_the_closest_known() -> None:
    groups = load_settings("staging", {}).model_dump(mode="json")["cluster"]["node_groups"]
    groups[1]["instance_types"] = ["m6i.larg"]
    with pytest.raises(
        SettingsError,
        match=r"node_groups\[1\]\.instance_types\[0\]: unknown EC2 instance type \(EKS node\) 'm6i.larg'; "
        r"closest known: m6i.large",
    ):
        load_settings("staging", config_with("staging", cluster={"node_groups": groups}))


def test_kube_proxy_must_match_the_cluster_minor_version() -> None:
    with pytest.raises(
        SettingsError, match=re.escape("cluster.addon_versions.kube_proxy: kube-proxy v1.34.1-eksbuild.1")
    ):
        load_settings(
            "staging", config_with("staging", cluster={"addon_versions": {"kube_proxy": "v1.34.1-eksbuild.1"}})
        )
