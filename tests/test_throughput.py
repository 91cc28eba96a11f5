"""The throughput model (issue 15, part 3): the declared maxima carry the design's targets, the pools fit
what RDS Proxy may open, and a stack that does not is refused with the key and the numbers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from silhouette_infra.planning.throughput import (
    api_line,
    connection_line,
    postgres_max_connections,
    throughput_table,
    workflow_line,
)
from silhouette_infra.synth.engine.run import stack_config
from silhouette_infra.synth.throughput import summary_lines
from silhouette_infra.validation.loader import SettingsError, load_settings


def _settings(stack: str, **sections: dict[str, Any]) -> Any:
    return load_settings(stack, {f"silhouette:{name}": json.dumps(value) for name, value in sections.items()})


def _refusal(stack: str, **sections: dict[str, Any]) -> str:
    with pytest.raises(SettingsError) as raised:
        _settings(stack, **sections)
    return str(raised.value)


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_committed_stacks_carry_their_targets(stack: str) -> None:
    settings = load_settings(stack, stack_config(stack))
    for line in throughput_table(settings):
        assert line.fits, f"{stack}: {line.name} needs {line.target} but the maximum carries {line.capacity}"


def test_production_carries_the_design_targets_with_their_headroom() -> None:
    """1,000 req/s with 25 % headroom and 10,000 workflows/h at a peak factor of 2 (the design's figures)."""
    settings = load_settings("production", stack_config("production"))
    assert api_line(settings).target == 1000 * 1.25
    assert workflow_line(settings).target == 10_000 * 2
    assert api_line(settings).capacity == 20 * settings.apps.throughput.backend_requests_per_second_per_pod


def test_api_capacity_counts_both_colours_of_a_blue_green_release() -> None:
    rolling = _settings("production")
    both = _settings("production", apps={"release": {"strategy": "blue_green"}})
    assert api_line(both).capacity == 2 * api_line(rolling).capacity


def test_connections_are_the_pools_at_maximum_within_the_proxy_share_of_max_connections() -> None:
    settings = _settings("production")
    line = connection_line(settings)
    throughput = settings.apps.throughput
    assert line.target == 20 * throughput.backend_database_pool_size + 20 * throughput.worker_database_pool_size
    assert line.capacity == postgres_max_connections("db.r6g.xlarge") * 90 // 100


def test_too_few_backend_replicas_for_the_api_target_are_refused() -> None:
    message = _refusal("production", apps={"backend": {"max_replicas": 10}})
    assert "silhouette:apps.backend.max_replicas: API" in message
    assert "carries 750 req/s but 1250 are needed" in message


def test_too_few_workers_for_the_workflow_target_are_refused() -> None:
    message = _refusal("production", apps={"worker": {"max_replicas": 5}})
    assert "silhouette:apps.worker.max_replicas: Workflows" in message
    assert "carries 6000 per hour but 20000 are needed" in message


def test_pools_that_do_not_fit_the_database_are_refused() -> None:
    message = _refusal("staging", apps={"throughput": {"backend_database_pool_size": 150}})
    assert "silhouette:apps.throughput.backend_database_pool_size: Database connections" in message
    assert "need 615 but RDS Proxy may open 405" in message


@pytest.mark.parametrize(
    ("apps", "key", "expected"),
    [
        ({"worker": {"min_replicas": 4, "max_replicas": 3}}, "worker.min_replicas", "above max_replicas 3"),
        ({"worker": {"queue": "workflow-execution"}}, "worker.queue", "did you mean 'workflow-executions'?"),
        (
            {"throughput": {"worker_workflows_per_minute_per_pod": 0}},
            "throughput.worker_workflows_per_minute_per_pod",
            "greater than 0",
        ),
        (
            {"throughput": {"backend_requests_per_second_per_pod": -5}},
            "throughput.backend_requests_per_second_per_pod",
            "greater than 0",
        ),
        ({"throughput": {"api_requests_per_second": 0}}, "throughput.api_requests_per_second", "greater than or equal"),
        ({"throughput": {"backend_figure_source": "x"}}, "throughput.backend_figure_source", "at least 10"),
    ],
)
def test_bad_worker_and_throughput_settings_are_refused_by_key(apps: dict[str, Any], key: str, expected: str) -> None:
    message = _refusal("staging", apps=apps)
    lines = [line for line in message.splitlines() if f"silhouette:apps.{key}:" in line]
    assert lines and expected in lines[0], f"silhouette:apps.{key}: expected {expected!r} in\n{message}"


def test_production_workers_survive_a_node_loss() -> None:
    assert "silhouette:apps.worker.min_replicas: production requires 2 or more replicas" in _refusal(
        "production", apps={"worker": {"min_replicas": 1}}
    )


def test_a_duplicate_queue_is_refused() -> None:
    message = _refusal("staging", rabbitmq={"queues": ["workflow-executions", "workflow-executions"]})
    assert "silhouette:rabbitmq.queues: workflow-executions listed more than once" in message


def test_synth_prints_the_table_with_the_sources_of_the_figures() -> None:
    lines = summary_lines(load_settings("production", {}))
    assert any(line.startswith("    API: need 1,250 req/s, capacity at maximum 1,500") for line in lines), lines
    assert any("worker figure: assumed, not measured" in line for line in lines), lines
