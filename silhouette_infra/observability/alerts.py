"""Prometheus rules as plain data: SLO recording rules, burn-rate alerts and cluster health alerts.

The groups have the shape of a PrometheusRule's ``spec.groups`` and of a promtool rule file.

Metric contract of the backend (scraped with ``job="backend"`` by its ServiceMonitor):

- ``http_requests_total`` counter, label ``code`` (HTTP status): availability and error rate;
- ``http_request_duration_seconds_bucket`` histogram with a bucket at the latency objective
  (``le="0.2"`` for 200 ms; a whole second matches both ``"1"`` and ``"1.0"``): latency;
- ``silhouette_datastore_duration_seconds_bucket`` histogram, label ``store`` (postgres, redis,
  rabbitmq), client-side latency of each data store call, with buckets at half and twice each
  store's objective; its ``_count`` counts every call, failed ones included;
- ``silhouette_datastore_errors_total`` counter, label ``store``: the calls that failed for want of
  the store (connection refused or reset, timeout, failover, the server's own error), not those the
  application caused (a constraint violation, a missing key). Created at 0 for each store at start-up,
  so that a store without errors still has a series.

Any workload that exposes these (the backend today) counts: the data-store rules select on ``store``,
not on ``job``.

SLIs and budgets:

- Availability: the share of requests answered with a 5xx. The 0.1 % error-rate objective is the
  same SLI (a 5xx *is* an error; 4xx are the client's) and 99.9 % availability leaves exactly 0.1 %
  of errors, so both objectives share one budget, the stricter of the two, and one alert. A second
  alert on the same ratio would only page twice for one incident.
- Data-store availability: the share of calls to each store that failed for want of it, against
  that store's own budget (PostgreSQL 99.95 %, Redis and RabbitMQ 99.9 %: 0.05 % and 0.1 %).
- Latency: "p95 < 200 ms" means at most 5 % of requests take longer than 200 ms, so the SLI is the
  share of requests slower than the threshold and its budget is 5 %. Unlike a quantile, that share
  averages correctly over long windows, which the burn-rate method needs.

Burn-rate alerts follow the Google SRE workbook, "Alerting on SLOs", multiwindow multi-burn-rate:
page when 2 % of a 30-day budget burns in 1 h (burn 14.4, checked over 1 h and 5 m) or 5 % in 6 h
(burn 6, 6 h and 30 m); ticket when 10 % burns in 1 d (burn 3, 1 d and 2 h) or 10 % in 3 d (burn 1,
3 d and 6 h). The short window makes the alert stop soon after the burn stops. Page and ticket share
an alert name and differ in ``severity``, so Alertmanager's inhibition mutes the ticket while the page
fires.

Data-store availability and latency are alerted from the application's client metrics, which are
in-cluster: no exporter of the managed services runs in the cluster, so their own metrics (RDS,
ElastiCache, Amazon MQ: storage and command latency, cache hit ratio, queue throughput) live in
CloudWatch and are alarmed there (``alarms.py``), not here.
"""

from __future__ import annotations

from typing import Any

import yaml

from silhouette_infra.settings.models import SloSettings

UPSTREAM_RUNBOOKS = "https://runbooks.prometheus-operator.dev/runbooks/kubernetes"

WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
LATENCY_BUDGET = 0.05  # a p95 objective tolerates 5 % of requests above the threshold

PAGE_BURN_RATE = 14.4  # 2 % of a 30-day budget in an hour
# (severity, [(burn rate, long window, short window), ...]) from the SRE workbook, table 5-8.
BURN_RATE_ALERTS: tuple[tuple[str, tuple[tuple[float, str, str], ...]], ...] = (
    ("critical", ((PAGE_BURN_RATE, "1h", "5m"), (6.0, "6h", "30m"))),
    ("warning", ((3.0, "1d", "2h"), (1.0, "3d", "6h"))),
)

BACKEND = 'job="backend"'
ERROR_RATIO = "slo:api_request_errors:ratio_rate{window}"
SLOW_RATIO = "slo:api_request_slow:ratio_rate{window}"
DATASTORE_ERROR_RATIO = "slo:datastore_errors:ratio_rate{window}"


def _number(value: float) -> str:
    """A PromQL literal without float noise (0.1 + 0.2 style)."""
    return f"{round(value, 9):g}"


def _le_matcher(seconds: float) -> str:
    """Match a bucket bound however the client library spells it ("1" in Go, "1.0" in Python)."""
    text = _number(seconds)
    return f'le="{text}"' if "." in text else f'le=~"{text}|{text}[.]0"'


def availability_budget(slo: SloSettings) -> float:
    """Allowed share of 5xx responses: the stricter of the availability and error-rate objectives."""
    return round(min(100 - slo.availability_percent, slo.error_rate_percent) / 100, 9)


def datastore_availability_budgets(slo: SloSettings) -> dict[str, tuple[str, float, float]]:
    """Per store (the ``store`` label): its role, its availability objective in percent and the allowed share
    of failed calls."""
    objectives = (
        ("postgres", "database", slo.database_availability_percent),
        ("redis", "cache", slo.cache_availability_percent),
        ("rabbitmq", "queue", slo.queue_availability_percent),
    )
    return {store: (role, percent, round((100 - percent) / 100, 9)) for store, role, percent in objectives}


def runbook_url(runbook_base_url: str, alert: str) -> str:
    """Our runbooks are README headings named after the alert (``#### ApiLatencyErrorBudgetBurn``), so the
    link is the heading's anchor: the alert name in lower case."""
    return f"{runbook_base_url}#{alert.lower()}"


def _annotations(summary: str, description: str, runbook_url: str) -> dict[str, str]:
    return {"summary": summary, "description": description, "runbook_url": runbook_url}


def _record(ratio: str, window: str, expr: str) -> dict[str, str]:
    return {"record": ratio.format(window=window), "expr": expr}


def recording_rules(slo: SloSettings) -> list[dict[str, Any]]:
    """Error ratio and slow-request ratio of the API per namespace, and each data store's failed-call ratio per
    namespace and store, over every burn-rate window."""
    threshold = _le_matcher(slo.latency_p95_ms / 1000)
    rules: list[dict[str, Any]] = []
    for window in WINDOWS:
        rules += [
            _record(
                ERROR_RATIO,
                window,
                f'sum by (namespace) (rate(http_requests_total{{{BACKEND},code=~"5.."}}[{window}]))\n'
                f"/\nsum by (namespace) (rate(http_requests_total{{{BACKEND}}}[{window}]))",
            ),
            _record(
                SLOW_RATIO,
                window,
                f"1 - (\n  sum by (namespace) (rate(http_request_duration_seconds_bucket{{{BACKEND},{threshold}}}"
                f"[{window}]))\n  /\n  sum by (namespace) (rate(http_request_duration_seconds_bucket"
                f'{{{BACKEND},le="+Inf"}}[{window}]))\n)',
            ),
            _record(
                DATASTORE_ERROR_RATIO,
                window,
                f"sum by (namespace, store) (rate(silhouette_datastore_errors_total[{window}]))\n/\n"
                f"sum by (namespace, store) (rate(silhouette_datastore_duration_seconds_count[{window}]))",
            ),
        ]
    rules.append(
        {
            "record": "slo:api_request_duration_seconds:p95_rate5m",
            "expr": (
                "histogram_quantile(0.95, sum by (namespace, le) "
                f"(rate(http_request_duration_seconds_bucket{{{BACKEND}}}[5m])))"
            ),
        }
    )
    return rules


def _burn_rate_expr(ratio: str, budget: float, conditions: tuple[tuple[float, str, str], ...], selector: str) -> str:
    """The multiwindow condition: the ratio above burn x budget over both the long and the short window."""
    return "\nor\n".join(
        f"(\n  {ratio.format(window=long)}{selector} > ({_number(burn)} * {_number(budget)})\n  and\n"
        f"  {ratio.format(window=short)}{selector} > ({_number(burn)} * {_number(budget)})\n)"
        for burn, long, short in conditions
    )


def _burn_windows(conditions: tuple[tuple[float, str, str], ...]) -> str:
    return " or ".join(f"{_number(burn)}x over {long} and {short}" for burn, long, short in conditions)


def _burn_rate_alerts(
    name: str, ratio: str, budget: float, objective: str, sli: str, slo_label: str, runbook_base_url: str
) -> list[dict[str, Any]]:
    alerts = []
    for severity, conditions in BURN_RATE_ALERTS:
        expr = _burn_rate_expr(ratio, budget, conditions, selector="")
        windows = _burn_windows(conditions)
        alerts.append(
            {
                "alert": name,
                "expr": expr,
                "for": "2m" if severity == "critical" else "15m",
                "labels": {"severity": severity, "service": "backend", "slo": slo_label},
                "annotations": _annotations(
                    summary=f"API {slo_label} error budget is burning too fast ({objective})",
                    description=(
                        f"In namespace {{{{ $labels.namespace }}}} the {sli} exceeds {windows} the budget of "
                        f"{_number(budget * 100)} %: at this pace the 30-day budget of {objective} runs out early."
                    ),
                    runbook_url=runbook_url(runbook_base_url, name),
                ),
            }
        )
    return alerts


def slo_alerts(slo: SloSettings, runbook_base_url: str) -> list[dict[str, Any]]:
    """Page and ticket burn-rate alerts for API availability (with error rate) and latency."""
    return [
        *_burn_rate_alerts(
            "ApiAvailabilityErrorBudgetBurn",
            ERROR_RATIO,
            availability_budget(slo),
            objective=(
                f"{_number(slo.availability_percent)} % availability, < {_number(slo.error_rate_percent)} % errors"
            ),
            sli="share of 5xx responses",
            slo_label="availability",
            runbook_base_url=runbook_base_url,
        ),
        *_burn_rate_alerts(
            "ApiLatencyErrorBudgetBurn",
            SLOW_RATIO,
            LATENCY_BUDGET,
            objective=f"p95 < {slo.latency_p95_ms} ms",
            sli=f"share of requests slower than {slo.latency_p95_ms} ms",
            slo_label="latency",
            runbook_base_url=runbook_base_url,
        ),
    ]


def datastore_alerts(slo: SloSettings, runbook_base_url: str) -> list[dict[str, Any]]:
    """p95 latency of each data store, as the backend sees it, above its objective for 10 minutes."""
    objectives = (
        ("postgres", "database", slo.database_p95_ms),
        ("redis", "cache", slo.cache_p95_ms),
        ("rabbitmq", "queue", slo.queue_p95_ms),
    )
    return [
        {
            "alert": "DataStoreLatencyAboveObjective",
            "expr": (
                f"histogram_quantile(0.95, sum by (namespace, store, le) "
                f'(rate(silhouette_datastore_duration_seconds_bucket{{store="{store}"}}[5m])))\n'
                f"> {_number(milliseconds / 1000)}"
            ),
            "for": "10m",
            "labels": {"severity": "warning", "service": store},
            "annotations": _annotations(
                summary=f"{role.capitalize()} ({store}) p95 latency is above {milliseconds} ms",
                description=(
                    f"The backend in {{{{ $labels.namespace }}}} sees a p95 of {{{{ $value | humanizeDuration }}}} "
                    f"for {store} calls, above the {milliseconds} ms objective, for 10 minutes."
                ),
                runbook_url=runbook_url(runbook_base_url, "DataStoreLatencyAboveObjective"),
            ),
        }
        for store, role, milliseconds in objectives
    ]


def datastore_availability_alerts(slo: SloSettings, runbook_base_url: str) -> list[dict[str, Any]]:
    """Page and ticket burn-rate alerts on each data store's failed calls, against that store's own budget."""
    name = "DataStoreAvailabilityErrorBudgetBurn"
    alerts = []
    for store, (role, percent, budget) in datastore_availability_budgets(slo).items():
        for severity, conditions in BURN_RATE_ALERTS:
            alerts.append(
                {
                    "alert": name,
                    "expr": _burn_rate_expr(DATASTORE_ERROR_RATIO, budget, conditions, selector=f'{{store="{store}"}}'),
                    "for": "2m" if severity == "critical" else "15m",
                    "labels": {"severity": severity, "service": store, "slo": "availability"},
                    "annotations": _annotations(
                        summary=f"{role.capitalize()} ({store}) error budget is burning too fast "
                        f"({_number(percent)} % availability)",
                        description=(
                            f"In namespace {{{{ $labels.namespace }}}} the share of {store} calls that fail for want "
                            f"of the {role} exceeds {_burn_windows(conditions)} the budget of "
                            f"{_number(budget * 100)} %: at this pace the 30-day budget runs out early."
                        ),
                        runbook_url=runbook_url(runbook_base_url, name),
                    ),
                }
            )
    return alerts


def cluster_health_alerts() -> list[dict[str, Any]]:
    """Crash loops, HPAs pinned at their maximum, filling volumes and unready nodes (kube-state-metrics, kubelet)."""
    return [
        {
            "alert": "PodCrashLooping",
            # CrashLoopBackOff backs off up to 5 minutes, so a crash loop restarts about 3 times in
            # 15 minutes; a single restart (a deploy, an OOM kill) does not page anyone.
            "expr": "increase(kube_pod_container_status_restarts_total[15m]) > 2",
            "for": "5m",
            "labels": {"severity": "warning"},
            "annotations": _annotations(
                summary="A container is restarting repeatedly",
                description=(
                    "Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} restarted "
                    '{{ $value | printf "%.0f" }} times in 15 minutes.'
                ),
                runbook_url=f"{UPSTREAM_RUNBOOKS}/kubepodcrashlooping",
            ),
        },
        {
            "alert": "HpaAtMaxReplicas",
            "expr": (
                "max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_current_replicas)\n"
                ">=\nmax by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas)"
            ),
            "for": "15m",
            "labels": {"severity": "warning"},
            "annotations": _annotations(
                summary="An autoscaler has been at its maximum for 15 minutes",
                description=(
                    "HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} cannot add replicas: "
                    "raise its maximum (and the namespace quota) or find why load grew."
                ),
                runbook_url=f"{UPSTREAM_RUNBOOKS}/kubehpamaxedout",
            ),
        },
        {
            "alert": "PersistentVolumeFillingUp",
            "expr": (
                "max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes)\n/\n"
                "max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_capacity_bytes)\n> 0.8"
            ),
            "for": "5m",
            "labels": {"severity": "warning"},
            "annotations": _annotations(
                summary="A persistent volume is more than 80 % full",
                description=(
                    "PVC {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is "
                    "{{ $value | humanizePercentage }} full."
                ),
                runbook_url=f"{UPSTREAM_RUNBOOKS}/kubepersistentvolumefillingup",
            ),
        },
        {
            "alert": "NodeNotReady",
            "expr": 'kube_node_status_condition{condition="Ready",status="true"} == 0',
            "for": "5m",
            "labels": {"severity": "warning"},
            "annotations": _annotations(
                summary="A node is not ready",
                description="Node {{ $labels.node }} has not been Ready for 5 minutes; its pods are being evicted.",
                runbook_url=f"{UPSTREAM_RUNBOOKS}/kubenodenotready",
            ),
        },
    ]


def rule_groups(slo: SloSettings, runbook_base_url: str) -> list[dict[str, Any]]:
    """Every rule group of the platform, in PrometheusRule ``spec.groups`` shape; our alerts link their
    runbook under ``runbook_base_url`` (the upstream health alerts link the prometheus-operator runbooks)."""
    return [
        {"name": "silhouette-slo-recording", "rules": recording_rules(slo)},
        {"name": "silhouette-slo-alerts", "rules": slo_alerts(slo, runbook_base_url)},
        {
            "name": "silhouette-datastores",
            "rules": [*datastore_availability_alerts(slo, runbook_base_url), *datastore_alerts(slo, runbook_base_url)],
        },
        {"name": "silhouette-cluster-health", "rules": cluster_health_alerts()},
    ]


def rule_file(groups: list[dict[str, Any]]) -> str:
    """The groups as the YAML rule file promtool and Prometheus read."""
    return yaml.safe_dump({"groups": groups}, sort_keys=False, width=1000)
