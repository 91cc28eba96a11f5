"""The recovery time (issue 14, item 4): the estimated `pulumi up` critical path of a stack, the dr stack's RTO
estimate; the design's RTO is 4 h and the goal with the pilot light at most 1 h."""

from __future__ import annotations

import pytest

from silhouette_infra.planning.rto import (
    API_CALL,
    CREATION_TIMES,
    Node,
    creation_time,
    critical_path,
    in_pilot_light,
)
from silhouette_infra.settings.models import PostgresSettings, Settings
from silhouette_infra.synth.cost import monthly_cost, standby_cost
from silhouette_infra.synth.critical_path import dependency_graph, rto_lines, stack_critical_path
from silhouette_infra.synth.engine import SynthResult
from tests.support import synth

PILOT_LIGHT_GOAL_MINUTES = 60  # the goal for the pilot-light mode


@pytest.fixture(scope="module")
def production() -> SynthResult:
    return synth("production")


def _settings(storage_gib: int = 100) -> Settings:
    return Settings(environment="production", postgres=PostgresSettings(allocated_storage_gib=storage_gib))


def test_production_rebuilt_cold_within_the_rto_and_with_the_pilot_light_within_an_hour(
    production: SynthResult,
) -> None:
    cold, pilot = stack_critical_path(production), stack_critical_path(production, pilot_light=True)
    path = " -> ".join(f"{step.name} ({step.type}) {step.minutes:.0f} min" for step in cold.steps)
    assert cold.minutes <= production.settings.recovery.rto_minutes == 240, f"cold: {cold.minutes} min: {path}"
    assert pilot.minutes <= PILOT_LIGHT_GOAL_MINUTES, f"pilot light: {pilot.minutes} min, above 1 h"
    assert pilot.minutes < cold.minutes, "the pilot light must save the control plane's creation"


def test_the_critical_path_follows_real_dependencies(production: SynthResult) -> None:
    """The database waits for the cluster (its security group admits the nodes' group), and the proxy for the
    database: the path is a chain of dependencies, not a sum of the slowest resources."""
    steps = [step.type for step in stack_critical_path(production).steps if step.minutes >= 1]
    assert steps[:2] == ["eks:index:Cluster", "aws:rds/instance:Instance"], steps
    for node in dependency_graph(production):
        for dependency in node.depends_on:
            assert not production.by_urn[dependency].type.startswith("silhouette:"), (
                f"{node.name}: its dependency on component {dependency} must be expanded to the component's resources"
            )


def _urn(component: str, type_token: str, name: str) -> str:
    return f"urn:pulumi:dr::silhouette::{component}${type_token}::{name}"


def test_longest_path_is_weighted_by_creation_time() -> None:
    """a (cluster, 15) -> b (1 API call) and a -> c (broker, 20): the path is a -> c, 35 min."""
    a = _urn("silhouette:cluster:Cluster", "eks:index:Cluster", "a")
    b = _urn("silhouette:cluster:Cluster", "aws:iam/role:Role", "b")
    c = _urn("silhouette:data:RabbitMq", "aws:mq/broker:Broker", "c")
    nodes = [
        Node(a, "eks:index:Cluster", "a", ()),
        Node(b, "aws:iam/role:Role", "b", (a,)),
        Node(c, "aws:mq/broker:Broker", "c", (a,)),
        Node(_urn("silhouette:apps:Apps", "aws:iam/role:Role", "d"), "aws:iam/role:Role", "d", (b,)),
    ]
    path = critical_path(nodes, _settings())
    assert [step.name for step in path.steps] == ["a", "c"] and path.minutes == 35, path
    pilot = critical_path(nodes, _settings(), pilot_light=True)
    assert pilot.minutes == 20, "with the pilot light the cluster exists: only the broker is created"


def test_rds_restore_grows_with_the_data_size() -> None:
    small, large = (
        creation_time("aws:rds/instance:Instance", _settings(100)),
        creation_time("aws:rds/instance:Instance", _settings(1000)),
    )
    assert large.minutes - small.minutes == pytest.approx(180), "0.2 min per GiB of allocated storage"


def test_every_creation_time_says_where_it_comes_from() -> None:
    for type_token, time in {**CREATION_TIMES, "(an API call)": API_CALL}.items():
        assert time.evidence == "measured" or "assumed" in time.source, f"{type_token}: an assumption must say so"
        assert time.evidence == "assumed" or "https://" in time.source, f"{type_token}: a measured figure cites"
    assert in_pilot_light(_urn("silhouette:cluster:Cluster", "eks:index:Cluster", "cluster"))


def test_the_pilot_light_costs_the_network_control_plane_and_a_minimal_node_group(production: SynthResult) -> None:
    standby = standby_cost(production.settings)
    full = monthly_cost(production.settings, production.resources)
    assert standby["cold"] == 0
    assert full.layers["network"] < standby["pilot_light"] < full.layers["network"] + full.layers["cluster"], (
        f"pilot light ${standby['pilot_light']}: more than the network, less than network and full cluster"
    )


def test_synth_prints_the_estimate_for_every_stack() -> None:
    for stack in ("production", "staging"):
        (headline, cold_path, standby, sources) = rto_lines(synth(stack))
        assert standby.startswith("    standby in the DR region: cold $0/month, pilot light $"), standby
        assert headline.startswith("pulumi up critical path") and "with the pilot light" in headline, headline
        assert "eks 15" in cold_path and "measured" in sources, f"{stack}: {cold_path} / {sources}"
