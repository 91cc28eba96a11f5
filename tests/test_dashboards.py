"""Grafana dashboards as code: every panel query is valid PromQL (promtool parses it), SLO lines follow
the settings, and the sidecar finds every dashboard."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from silhouette_infra.observability.dashboards import dashboards, queries
from silhouette_infra.validation.loader import load_settings

SLO = load_settings("production", {}).observability.slo


def _promtool() -> str:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: apt-get install prometheus (.ci/run installs it)"
    return promtool


def test_every_panel_query_parses(tmp_path: Path) -> None:
    """promtool checks recording rules' expressions with the real PromQL parser, so each query is wrapped
    as one rule (https://prometheus.io/docs/prometheus/latest/configuration/unit_testing_rules/)."""
    rules = [
        {"record": f"dashboard:{name.removesuffix('.json').replace('-', '_')}:query{index}", "expr": expr}
        for name, dashboard in dashboards(SLO).items()
        for index, expr in enumerate(queries(dashboard))
    ]
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    checked = subprocess.run([_promtool(), "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(rules)} rules found" in checked.stdout


@pytest.mark.parametrize(
    "name", ["api-golden-signals.json", "workflows.json", "data-services.json", "cluster-capacity.json"]
)
def test_dashboard_is_well_formed(name: str) -> None:
    dashboard = dashboards(SLO)[name]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and dashboard["uid"].startswith("silhouette-")
    assert all(panel["targets"] for panel in dashboard["panels"])


def test_api_dashboard_draws_the_slo_lines() -> None:
    api = dashboards(SLO)["api-golden-signals.json"]
    exprs = queries(api)
    assert f"vector({SLO.latency_p95_ms / 1000})" in exprs
    assert f"vector({SLO.error_rate_percent / 100})" in exprs
