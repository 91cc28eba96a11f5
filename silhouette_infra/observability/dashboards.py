"""Grafana dashboards as code: JSON generated from Python, picked up by the Grafana sidecar.

Metric names are the backend's contract: ``http_requests_total`` and
``http_request_duration_seconds_bucket`` (job "backend", label ``code``),
``silhouette_workflow_executions_total`` (label ``status``) and
``silhouette_workflow_duration_seconds_bucket``, and the client-side latency histograms of its data
stores ``silhouette_datastore_duration_seconds_bucket`` (label ``store``: postgres, redis, rabbitmq,
neo4j) with the failed calls ``silhouette_datastore_errors_total`` (``alerts.py`` states the contract).
Cluster panels use kube-state-metrics and node-exporter from kube-prometheus-stack.
"""

from __future__ import annotations

from typing import Any

from silhouette_infra.observability.alerts import datastore_availability_budgets
from silhouette_infra.settings.models import SloSettings

DASHBOARD_LABEL = "grafana_dashboard"


def _panel(panel_id: int, title: str, exprs: list[tuple[str, str]], unit: str, y: int, x: int = 0) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + index), "expr": expr, "legendFormat": legend}
            for index, (expr, legend) in enumerate(exprs)
        ],
    }


def _dashboard(uid: str, title: str, panels: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "uid": uid,
        "title": title,
        "tags": ["silhouette"],
        "timezone": "utc",
        "schemaVersion": 39,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "panels": panels,
    }


def dashboards(slo: SloSettings) -> dict[str, dict[str, Any]]:
    """File name -> dashboard JSON."""
    return {
        "api-golden-signals.json": _api_golden_signals(slo),
        "workflows.json": _workflows(),
        "data-services.json": _data_services(slo),
        "cluster-capacity.json": _cluster_capacity(),
    }


def _api_golden_signals(slo: SloSettings) -> dict[str, Any]:
    """The backend's traffic, errors and latency against their SLO lines, and its CPU saturation."""
    latency_slo = slo.latency_p95_ms / 1000
    return _dashboard(
        "silhouette-api",
        "Silhouette API golden signals",
        [
            _panel(
                1, "Requests per second", [('sum(rate(http_requests_total{job="backend"}[5m]))', "req/s")], "reqps", 0
            ),
            _panel(
                2,
                "Error rate (SLO line)",
                [
                    (
                        'sum(rate(http_requests_total{job="backend",code=~"5.."}[5m]))'
                        ' / sum(rate(http_requests_total{job="backend"}[5m]))',
                        "5xx ratio",
                    ),
                    (f"vector({slo.error_rate_percent / 100})", "SLO"),
                ],
                "percentunit",
                0,
                12,
            ),
            _panel(
                3,
                "Latency p95 (SLO line)",
                [
                    (
                        "histogram_quantile(0.95, sum by (le) "
                        '(rate(http_request_duration_seconds_bucket{job="backend"}[5m])))',
                        "p95",
                    ),
                    (f"vector({latency_slo})", "SLO"),
                ],
                "s",
                8,
            ),
            _panel(
                4,
                "Saturation: CPU of the backend vs requests",
                [
                    (
                        'sum(rate(container_cpu_usage_seconds_total{container="backend"}[5m]))'
                        ' / sum(kube_pod_container_resource_requests{container="backend",resource="cpu"})',
                        "CPU used / requested",
                    )
                ],
                "percentunit",
                8,
                12,
            ),
        ],
    )


def _workflows() -> dict[str, Any]:
    """Workflow executions by status and their duration."""
    return _dashboard(
        "silhouette-workflows",
        "Silhouette workflows",
        [
            _panel(
                1,
                "Executions per hour by status",
                [("sum by (status) (increase(silhouette_workflow_executions_total[1h]))", "{{status}}")],
                "short",
                0,
            ),
            _panel(
                2,
                "Execution duration p95",
                [
                    (
                        "histogram_quantile(0.95, sum by (le) (rate(silhouette_workflow_duration_seconds_bucket[5m])))",
                        "p95",
                    )
                ],
                "s",
                0,
                12,
            ),
        ],
    )


def _data_services(slo: SloSettings) -> dict[str, Any]:
    """Data store latency and failed calls as the application sees them, against each store's SLO."""
    budgets = datastore_availability_budgets(slo)
    return _dashboard(
        "silhouette-data-services",
        "Silhouette data services (client side)",
        [
            _panel(
                1,
                "Data store latency p95 by store (SLO: database 50 ms, cache 5 ms, queue 100 ms)",
                [
                    (
                        "histogram_quantile(0.95, sum by (le, store) "
                        "(rate(silhouette_datastore_duration_seconds_bucket[5m])))",
                        "{{store}}",
                    ),
                    (f"vector({slo.database_p95_ms / 1000})", "database SLO"),
                    (f"vector({slo.cache_p95_ms / 1000})", "cache SLO"),
                    (f"vector({slo.queue_p95_ms / 1000})", "queue SLO"),
                ],
                "s",
                0,
            ),
            _panel(
                2,
                "Failed calls by store (budgets: "
                + ", ".join(f"{role} {budget * 100:g} %" for role, _, budget in budgets.values())
                + ")",
                [
                    (
                        "sum by (store) (rate(silhouette_datastore_errors_total[5m]))\n/\n"
                        "sum by (store) (rate(silhouette_datastore_duration_seconds_count[5m]))",
                        "{{store}}",
                    ),
                    *((f"vector({budget})", f"{role} budget") for role, _, budget in budgets.values()),
                ],
                "percentunit",
                0,
                12,
            ),
        ],
    )


def _cluster_capacity() -> dict[str, Any]:
    """Requested against allocatable CPU and memory, HPA headroom and ready nodes."""
    return _dashboard(
        "silhouette-capacity",
        "Cluster capacity",
        [
            _panel(
                1,
                "CPU requested / allocatable",
                [
                    (
                        'sum(kube_pod_container_resource_requests{resource="cpu"})'
                        ' / sum(kube_node_status_allocatable{resource="cpu"})',
                        "requested",
                    )
                ],
                "percentunit",
                0,
            ),
            _panel(
                2,
                "Memory requested / allocatable",
                [
                    (
                        'sum(kube_pod_container_resource_requests{resource="memory"})'
                        ' / sum(kube_node_status_allocatable{resource="memory"})',
                        "requested",
                    )
                ],
                "percentunit",
                0,
                12,
            ),
            _panel(
                3,
                "HPA replicas vs maximum",
                [
                    ("kube_horizontalpodautoscaler_status_current_replicas", "{{horizontalpodautoscaler}}"),
                    ("kube_horizontalpodautoscaler_spec_max_replicas", "{{horizontalpodautoscaler}} max"),
                ],
                "short",
                8,
            ),
            _panel(
                4,
                "Nodes ready",
                [('sum(kube_node_status_condition{condition="Ready",status="true"})', "ready")],
                "short",
                8,
                12,
            ),
        ],
    )


def queries(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
