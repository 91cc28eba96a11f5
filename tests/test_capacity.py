"""Node groups must hold every workload at full scale (issue: cluster layer, node groups)."""

from __future__ import annotations

import json
import re

import pytest

from silhouette_infra.cluster.capacity import Resources, allocatable, capacity, demand, reserved_cpu_millicores
from silhouette_infra.settings import SettingsError, load_settings
from silhouette_infra.settings.rules import DAEMONSET_OVERHEAD, workloads_at_full_scale
from tests.conftest import config_with


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
    # backend 20 x 250m, frontend 10 x 100m, neo4j 1 x 1 CPU, 15 nodes x 300m of daemon sets
    assert needed.cpu_millicores == 20 * 250 + 10 * 100 + 1000 + 15 * 300


def test_blue_green_needs_room_for_both_colours() -> None:
    rolling = load_settings("production", {})
    blue_green = load_settings("production", {"silhouette:apps": json.dumps({"release": {"strategy": "blue_green"}})})
    backend = {w.name: w.max_replicas for w in workloads_at_full_scale(rolling)}["backend"]
    assert {w.name: w.max_replicas for w in workloads_at_full_scale(blue_green)}["backend"] == 2 * backend


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
