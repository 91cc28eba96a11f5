"""Alert rules: promtool accepts them, and each alert fires on a synthetic breach and stays quiet when healthy.

One ``promtool test rules`` run holds every scenario; each scenario lives in its own namespace (or
pod, volume, node) so the series never mix. promtool compares annotations exactly, so the unit-test
copy of the rules drops them; ``promtool check rules`` validates the shipped file, templates included.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from silhouette_infra.observability.alerts import (
    availability_budget,
    datastore_availability_budgets,
    rule_file,
    rule_groups,
)
from silhouette_infra.settings.models import ObservabilitySettings, SloSettings
from silhouette_infra.synth.checks.cache import ValidatorCache, run_validator
from tests.support import PROJECT_ROOT

SLO = SloSettings()
RUNBOOKS = ObservabilitySettings().runbook_base_url
README = Path(__file__).resolve().parents[1] / "README.md"
REQUESTS_PER_MINUTE = 1000
SAMPLE_MINUTES = 2  # scrape spacing of the three-day series: coarse, so promtool runs in seconds
THREE_DAYS_SAMPLES = 3 * 24 * 60 // SAMPLE_MINUTES


def promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool not found: apt-get install -y prometheus"
    return path


def _series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    selector = ",".join(f'{key}="{value}"' for key, value in labels.items())
    return {"series": f"{name}{{{selector}}}", "values": values}


def _api_traffic(namespace: str, error_share: float, slow_share: float, burst_minutes: int) -> list[dict[str, str]]:
    """Three days of backend traffic with the given shares of 5xx and of requests above 200 ms.

    With ``burst_minutes`` every request is fast and successful until that many minutes before the end.
    """
    threshold = f"{SLO.latency_p95_ms / 1000:g}"
    burst = burst_minutes // SAMPLE_MINUTES if burst_minutes else THREE_DAYS_SAMPLES
    calm = THREE_DAYS_SAMPLES - burst

    def counter(per_minute: float, calm_per_minute: float = 0) -> str:
        step, calm_step = per_minute * SAMPLE_MINUTES, calm_per_minute * SAMPLE_MINUTES
        if not calm:
            return f"0+{step:g}x{burst}"
        return f"0+{calm_step:g}x{calm - 1} {calm * calm_step:g}+{step:g}x{burst}"

    backend = {"job": "backend", "namespace": namespace}
    return [
        _series("http_requests_total", {**backend, "code": "500"}, counter(REQUESTS_PER_MINUTE * error_share)),
        _series(
            "http_requests_total",
            {**backend, "code": "200"},
            counter(REQUESTS_PER_MINUTE * (1 - error_share), REQUESTS_PER_MINUTE),
        ),
        _series(
            "http_request_duration_seconds_bucket",
            {**backend, "le": threshold},
            counter(REQUESTS_PER_MINUTE * (1 - slow_share), REQUESTS_PER_MINUTE),
        ),
        _series(
            "http_request_duration_seconds_bucket",
            {**backend, "le": "+Inf"},
            counter(REQUESTS_PER_MINUTE, REQUESTS_PER_MINUTE),
        ),
    ]


# namespace -> burn rate of both SLIs (multiples of their budgets), minutes of burst at the end of
# an otherwise perfect three days (0: the whole three days), and the severities expected to fire.
BURN_SCENARIOS: dict[str, tuple[float, int, tuple[str, ...]]] = {
    "burst-20": (20, 90, ("critical",)),  # > 14.4 for 90 minutes: pages through the 1 h / 5 m pair only
    "burn-20": (20, 0, ("critical", "warning")),
    "burn-8": (8, 0, ("critical", "warning")),  # between 6 and 14.4: pages through the 6 h / 30 m pair only
    "burn-4": (4, 0, ("warning",)),  # between 3 and 6: a ticket, no page
    "burn-1-5": (1.5, 0, ("warning",)),  # between 1 and 3: a ticket through the 3 d / 6 h pair only
    "burn-0-5": (0.5, 0, ()),  # healthy: inside the budget, nothing fires
}


def slo_test_group() -> dict[str, Any]:
    availability = availability_budget(SLO)
    series = [
        series
        for namespace, (burn, burst_minutes, _) in BURN_SCENARIOS.items()
        for series in _api_traffic(namespace, burn * availability, burn * 0.05, burst_minutes)
    ]

    def expected(slo: str) -> list[dict[str, Any]]:
        return [
            {"exp_labels": {"namespace": namespace, "service": "backend", "slo": slo, "severity": severity}}
            for namespace, (_, _, severities) in BURN_SCENARIOS.items()
            for severity in severities
        ]

    return {
        "name": "slo burn rates",
        "interval": f"{SAMPLE_MINUTES}m",
        "input_series": series,
        "alert_rule_test": [
            {"eval_time": "3d", "alertname": "ApiAvailabilityErrorBudgetBurn", "exp_alerts": expected("availability")},
            {"eval_time": "3d", "alertname": "ApiLatencyErrorBudgetBurn", "exp_alerts": expected("latency")},
        ],
    }


# Steady shares over three days need no fine samples: every 10 minutes, the 30-minute and longer windows
# (the 6 h / 30 m page and both tickets) have their points; the 5-minute one has none, which only drops the
# 1 h / 5 m page pair, a pair the burst scenario of the API tests already covers.
DATASTORE_SAMPLE_MINUTES = 10


def _datastore_calls(namespace: str, store: str, error_share: float) -> list[dict[str, str]]:
    """Three days of calls to a store (every call in the histogram's count) with the given share failing."""
    labels = {"job": "backend", "namespace": namespace, "store": store}
    step = REQUESTS_PER_MINUTE * DATASTORE_SAMPLE_MINUTES
    samples = 3 * 24 * 60 // DATASTORE_SAMPLE_MINUTES
    return [
        _series("silhouette_datastore_duration_seconds_count", labels, f"0+{step:g}x{samples}"),
        _series("silhouette_datastore_errors_total", labels, f"0+{step * error_share:g}x{samples}"),
    ]


# namespace -> share of failed calls (the same for every store) and the severities expected per store. One
# share means a different burn for each store: PostgreSQL's budget is 0.05 %, Redis's and RabbitMQ's 0.1 %.
DATASTORE_SCENARIOS: dict[str, tuple[float, dict[str, tuple[str, ...]]]] = {
    # 2 %: burn 40 on PostgreSQL, 20 on the others: everything pages and tickets
    "stores-down": (0.02, dict.fromkeys(("postgres", "redis", "rabbitmq"), ("critical", "warning"))),
    # 0.09 %: burn 1.8 on PostgreSQL (a ticket through the 3 d / 6 h pair), 0.9 on the others (inside budget)
    "stores-degraded": (0.0009, {"postgres": ("warning",), "redis": (), "rabbitmq": ()}),
    "stores-healthy": (0.0002, {"postgres": (), "redis": (), "rabbitmq": ()}),  # burn 0.4 and 0.2: quiet
}


def datastore_availability_test_group() -> dict[str, Any]:
    """Each store against its own budget: the same error share pages for one store and not for another."""
    budgets = datastore_availability_budgets(SLO)
    assert budgets["postgres"][2] == 0.0005 and budgets["redis"][2] == budgets["rabbitmq"][2] == 0.001, (
        "the scenarios below assume PostgreSQL 99.95 %, Redis and RabbitMQ 99.9 %"
    )
    series = [
        series
        for namespace, (share, stores) in DATASTORE_SCENARIOS.items()
        for store in stores
        for series in _datastore_calls(namespace, store, share)
    ]
    return {
        "name": "data store availability burn rates",
        "interval": f"{DATASTORE_SAMPLE_MINUTES}m",
        "input_series": series,
        "alert_rule_test": [
            {
                "eval_time": "3d",
                "alertname": "DataStoreAvailabilityErrorBudgetBurn",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            "namespace": namespace,
                            "store": store,
                            "service": store,
                            "slo": "availability",
                            "severity": severity,
                        }
                    }
                    for namespace, (_, stores) in DATASTORE_SCENARIOS.items()
                    for store, severities in stores.items()
                    for severity in severities
                ],
            }
        ],
    }


def _histogram(namespace: str, store: str, objective_seconds: float, slow: bool) -> list[dict[str, str]]:
    """A store whose calls all land just under half its objective (fast) or between 1x and 2x (slow)."""
    labels = {"job": "backend", "namespace": namespace, "store": store}
    bounds = (f"{objective_seconds / 2:g}", f"{objective_seconds * 2:g}", "+Inf")
    fast_bucket = "0+0x30" if slow else "0+100x30"
    return [
        _series("silhouette_datastore_duration_seconds_bucket", {**labels, "le": bounds[0]}, fast_bucket),
        _series("silhouette_datastore_duration_seconds_bucket", {**labels, "le": bounds[1]}, "0+100x30"),
        _series("silhouette_datastore_duration_seconds_bucket", {**labels, "le": bounds[2]}, "0+100x30"),
    ]


STORE_OBJECTIVES = {"postgres": SLO.database_p95_ms, "redis": SLO.cache_p95_ms, "rabbitmq": SLO.queue_p95_ms}


def datastore_test_group() -> dict[str, Any]:
    series = [
        series
        for namespace in ("slow", "fast")
        for store, milliseconds in STORE_OBJECTIVES.items()
        for series in _histogram(namespace, store, milliseconds / 1000, slow=namespace == "slow")
    ]
    return {
        "name": "data store latency",
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [
            {
                "eval_time": "25m",
                "alertname": "DataStoreLatencyAboveObjective",
                "exp_alerts": [
                    {"exp_labels": {"namespace": "slow", "store": store, "service": store, "severity": "warning"}}
                    for store in STORE_OBJECTIVES
                ],
            }
        ],
    }


def cluster_health_test_group() -> dict[str, Any]:
    def restarts(pod: str, values: str) -> dict[str, str]:
        return _series(
            "kube_pod_container_status_restarts_total",
            {"namespace": "silhouette", "pod": pod, "container": "app"},
            values,
        )

    def hpa(name: str, current: str, maximum: str) -> list[dict[str, str]]:
        labels = {"namespace": "silhouette", "horizontalpodautoscaler": name}
        return [
            _series("kube_horizontalpodautoscaler_status_current_replicas", labels, current),
            _series("kube_horizontalpodautoscaler_spec_max_replicas", labels, maximum),
        ]

    def volume(claim: str, used: str) -> list[dict[str, str]]:
        labels = {"namespace": "silhouette", "persistentvolumeclaim": claim}
        return [
            _series("kubelet_volume_stats_used_bytes", labels, used),
            _series("kubelet_volume_stats_capacity_bytes", labels, "100x30"),
        ]

    def node(name: str, ready: str) -> dict[str, str]:
        return _series("kube_node_status_condition", {"node": name, "condition": "Ready", "status": "true"}, ready)

    series = [
        restarts("looping", "0+1x30"),  # restarts every minute
        restarts("restarted-once", "0x9 1x20"),  # one restart at minute 10
        *hpa("pinned", "20x30", "20x30"),  # at its maximum for 25+ minutes
        *hpa("briefly-at-max", "15x14 20x15", "20x30"),  # at its maximum for 10 minutes only
        *hpa("has-room", "10x30", "20x30"),
        *volume("full", "85x30"),
        *volume("roomy", "70x30"),
        node("down", "0x30"),
        node("blip", "1x10 0x2 1x17"),  # unready for 3 minutes, then back
        node("healthy", "1x30"),
    ]

    def alerts(name: str, *labels: dict[str, str]) -> dict[str, Any]:
        return {
            "eval_time": "25m",
            "alertname": name,
            "exp_alerts": [{"exp_labels": {**label, "severity": "warning"}} for label in labels],
        }

    return {
        "name": "cluster health",
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [
            alerts("PodCrashLooping", {"namespace": "silhouette", "pod": "looping", "container": "app"}),
            alerts("HpaAtMaxReplicas", {"namespace": "silhouette", "horizontalpodautoscaler": "pinned"}),
            alerts("PersistentVolumeFillingUp", {"namespace": "silhouette", "persistentvolumeclaim": "full"}),
            alerts("NodeNotReady", {"node": "down", "condition": "Ready", "status": "true"}),
        ],
    }


def _without_annotations(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**group, "rules": [{k: v for k, v in rule.items() if k != "annotations"} for rule in group["rules"]]}
        for group in groups
    ]


def test_promtool_accepts_the_rule_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(rule_file(rule_groups(SLO, RUNBOOKS)))
    result = subprocess.run([promtool(), "check", "rules", str(rules)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_fires_on_a_breach_and_stays_quiet_when_healthy(tmp_path: Path) -> None:
    rule_groups_in_order = rule_groups(SLO, RUNBOOKS)
    (tmp_path / "rules.yaml").write_text(rule_file(_without_annotations(rule_groups_in_order)))
    # promtool 2.42 sets the evaluation interval per file: three days of burn-rate series are
    # evaluated every 30 minutes to keep the run short, the health alerts every minute.
    suites = {
        "slo.yaml": ("30m", [slo_test_group(), datastore_availability_test_group()]),
        "health.yaml": ("1m", [datastore_test_group(), cluster_health_test_group()]),
    }
    # Without group_eval_order promtool evaluates the groups in random (Go map) order. When the alert
    # group runs before the recording group, it reads recordings one 30-minute step old, beyond the
    # 5-minute lookback, and nothing fires: the test failed about one run in four. Prometheus itself
    # evaluates every group each 30 s, so its alerts never see recordings older than the lookback.
    group_eval_order = [group["name"] for group in rule_groups_in_order]
    for file_name, (interval, groups) in suites.items():
        suite = {
            "rule_files": ["rules.yaml"],
            "evaluation_interval": interval,
            "group_eval_order": group_eval_order,
            "tests": groups,
        }
        (tmp_path / file_name).write_text(yaml.safe_dump(suite, sort_keys=False))
    # promtool's verdict on the same files may come from the validator cache (synth/checks/cache.py).
    inputs = [tmp_path / name for name in ("rules.yaml", *suites)]
    store = ValidatorCache.for_project(PROJECT_ROOT)
    result = run_validator(store, promtool(), None, ["test", "rules", *suites], tmp_path, inputs=inputs)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_and_severity_has_a_firing_case() -> None:
    """Every alert in the rules has an expected firing alert in the suite (absence elsewhere is its quiet case)."""
    declared = {
        (rule["alert"], rule["labels"]["severity"])
        for group in rule_groups(SLO, RUNBOOKS)
        for rule in group["rules"]
        if "alert" in rule
    }
    tested = {
        (case["alertname"], alert["exp_labels"]["severity"])
        for group in (
            slo_test_group(),
            datastore_availability_test_group(),
            datastore_test_group(),
            cluster_health_test_group(),
        )
        for case in group["alert_rule_test"]
        for alert in case["exp_alerts"]
    }
    assert declared - tested == set(), f"alerts without a firing test: {sorted(declared - tested)}"


def test_error_rate_objective_shares_the_availability_budget() -> None:
    """0.1 % errors and 99.9 % availability are one SLI: the stricter of the two is the budget."""
    assert availability_budget(SLO) == 0.001
    assert availability_budget(SloSettings(availability_percent=99.5, error_rate_percent=0.1)) == 0.001
    assert availability_budget(SloSettings(availability_percent=99.95, error_rate_percent=0.1)) == 0.0005


def _github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_critical_alert_links_a_runbook_heading_of_the_readme() -> None:
    """Issue 6: one short runbook per critical alert. Each of our alerts links `<runbook_base_url>#<anchor>`,
    and the README (where runbook_base_url points) has a heading with that anchor."""
    anchors = {_github_anchor(line.lstrip("#")) for line in README.read_text().splitlines() if line.startswith("#")}
    ours = [
        rule
        for group in rule_groups(SLO, RUNBOOKS)
        for rule in group["rules"]
        if "alert" in rule and rule["annotations"]["runbook_url"].startswith(RUNBOOKS)
    ]
    critical = {
        rule["alert"]
        for group in rule_groups(SLO, RUNBOOKS)
        for rule in group["rules"]
        if rule.get("labels", {}).get("severity") == "critical"
    }
    assert critical <= {rule["alert"] for rule in ours}, f"critical alerts without our runbook: {critical}"
    for rule in ours:
        anchor = rule["annotations"]["runbook_url"].removeprefix(f"{RUNBOOKS}#")
        assert anchor in anchors, f"alert {rule['alert']}: runbook_url anchor #{anchor} is no README heading"
