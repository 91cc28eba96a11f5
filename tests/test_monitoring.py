"""kube-prometheus-stack and what it watches (issue: observability, points 1, 2 and 4)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from silhouette_infra.cluster.addons import system_placement
from silhouette_infra.observability.stack import chart_values
from silhouette_infra.synth.engine import CapturedResource, SynthResult
from silhouette_infra.validation.loader import load_settings
from tests.helm_charts import KUBE_PROMETHEUS_STACK
from tests.support import config_with, synth

RELEASE = "kubernetes:helm.sh/v3:Release"
CUSTOM = "kubernetes:monitoring.coreos.com/v1:"


def _values(stack: SynthResult) -> dict[str, object]:
    values: dict[str, object] = stack.named(RELEASE, "kube-prometheus-stack").inputs["values"]
    return values


def test_stack_is_pinned_in_monitoring(stack: SynthResult) -> None:
    release = stack.named(RELEASE, "kube-prometheus-stack").inputs
    assert release["version"] == stack.settings.observability.kube_prometheus_stack_chart
    assert release["namespace"] == "monitoring" and release["atomic"] is True


def test_prometheus_keeps_its_data_on_an_encrypted_volume_for_the_retention(stack: SynthResult) -> None:
    settings = stack.settings.observability
    spec = _values(stack)["prometheus"]["prometheusSpec"]  # type: ignore[index]
    assert spec["retention"] == f"{settings.prometheus_retention_days}d"
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "gp3-encrypted"
    assert claim["resources"]["requests"]["storage"] == f"{settings.prometheus_volume_gib}Gi"
    assert spec["replicas"] == settings.prometheus_replicas and spec["resources"]["requests"]


def test_production_runs_ha_prometheus_and_alertmanager_with_pdbs(production: SynthResult) -> None:
    values = _values(production)
    assert values["prometheus"]["prometheusSpec"]["replicas"] == 2  # type: ignore[index]
    assert values["alertmanager"]["alertmanagerSpec"]["replicas"] == 2  # type: ignore[index]
    assert values["prometheus"]["podDisruptionBudget"]["enabled"] is True  # type: ignore[index]
    assert values["alertmanager"]["podDisruptionBudget"]["enabled"] is True  # type: ignore[index]


def _kube_prometheus_stack_values(stack: str, replicas: int | None) -> dict[str, Any]:
    """The release's values as synthesised, or with both replica counts set (the same function, on settings)."""
    if replicas is None:
        return dict(synth(stack).named(RELEASE, "kube-prometheus-stack").inputs["values"])
    overrides = {"prometheus_replicas": replicas, "alertmanager_replicas": replicas}
    settings = load_settings(stack, config_with(stack, observability=overrides))
    return chart_values(
        settings.observability, storage_class="gp3-encrypted", system=system_placement(settings.cluster)
    )


@pytest.mark.parametrize(
    ("stack", "replicas", "expected"),
    [("production", None, 2), ("staging", None, 1), ("staging", 2, 2), ("production", 3, 3)],
)
def test_prometheus_and_alertmanager_budgets_write_one_field_at_any_replica_count(
    stack: str, replicas: int | None, expected: int
) -> None:
    """Issue 17: kube-prometheus-stack 79.5.0 writes every non-empty one of minAvailable and maxUnavailable
    (templates/prometheus/podDisruptionBudget.yaml, templates/alertmanager/podDisruptionBudget.yaml, emulated
    in tests/helm_charts.py over its default minAvailable 1); the API server rejects both. One replica gets no
    budget (it would block every node drain); more get one replica down at a time."""
    values = _kube_prometheus_stack_values(stack, replicas)
    assert values["prometheus"]["prometheusSpec"]["replicas"] == expected
    budgets = KUBE_PROMETHEUS_STACK.rendered_pdbs(values)
    for component in ("prometheus", "alertmanager"):
        template = f"templates/{component}/podDisruptionBudget.yaml"
        if expected == 1:
            assert template not in budgets, f"{stack}: {component}: a budget on one replica blocks node drains"
        else:
            assert budgets[template] == {"minAvailable": expected - 1}, f"{stack}, {expected} replicas: {component}"


def test_grafana_has_no_default_password(stack: SynthResult) -> None:
    grafana = _values(stack)["grafana"]
    assert grafana.get("adminPassword") is None  # type: ignore[attr-defined]
    assert grafana["admin"]["existingSecret"] == "grafana-admin"  # type: ignore[index]
    secrets = {s.inputs["metadata"]["name"] for s in stack.of_type("kubernetes:external-secrets.io/v1:ExternalSecret")}
    assert {"grafana-admin", "alertmanager-receivers"} <= secrets
    names = {s.inputs["name"] for s in stack.of_type("aws:secretsmanager/secret:Secret")}
    assert f"silhouette/{stack.stack}/grafana-admin" in names


def test_service_monitors_scrape_backend_frontend_and_collector_metrics(stack: SynthResult) -> None:
    monitors = {m.inputs["metadata"]["name"]: m.inputs for m in stack.of_type(CUSTOM + "ServiceMonitor")}
    assert set(monitors) == {"backend", "frontend", "otel-collector"}
    for name, monitor in monitors.items():
        assert monitor["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": name}
        assert monitor["spec"]["endpoints"][0]["port"] == "metrics"


def test_slo_rules_are_deployed_as_a_prometheus_rule(stack: SynthResult) -> None:
    (rule,) = stack.of_type(CUSTOM + "PrometheusRule")
    alerts = [r["alert"] for group in rule.inputs["spec"]["groups"] for r in group["rules"] if "alert" in r]
    assert len(alerts) >= 6, alerts


def _dashboards(stack: SynthResult) -> list[CapturedResource]:
    return [
        c
        for c in stack.of_type("kubernetes:core/v1:ConfigMap")
        if c.inputs["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
    ]


def test_dashboards_are_config_maps_the_sidecar_picks_up(stack: SynthResult) -> None:
    dashboards = _dashboards(stack)
    assert len(dashboards) == 4
    for config_map in dashboards:
        (content,) = config_map.inputs["data"].values()
        assert json.loads(content)["panels"]


def test_container_logs_go_to_an_encrypted_group_through_their_own_role(stack: SynthResult) -> None:
    group = stack.named("aws:cloudwatch/logGroup:LogGroup", "container-logs").inputs
    assert group["retentionInDays"] == stack.settings.observability.container_log_retention_days
    assert group["kmsKeyId"] == stack.named("aws:kms/key:Key", "logs-key").outputs["arn"]
    release = stack.named(RELEASE, "aws-for-fluent-bit").inputs
    assert release["version"] == stack.settings.observability.fluent_bit_chart
    values = release["values"]
    assert (
        values["cloudWatchLogs"]["logGroupName"] == group["name"]
        and values["cloudWatchLogs"]["autoCreateGroup"] is False
    )
    assert values["tolerations"] == [{"operator": "Exists"}], "a DaemonSet on every node, tainted ones too"
    role_arn = values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    (role,) = [r for r in stack.of_type("aws:iam/role:Role") if r.outputs["arn"] == role_arn]
    policy = json.loads(stack.named("aws:iam/rolePolicy:RolePolicy", "fluent-bit-container-logs").inputs["policy"])
    (statement,) = policy["Statement"]
    assert all(resource.startswith("arn:aws:logs:") for resource in statement["Resource"]), "only its log group"
    assert "monitoring:aws-for-fluent-bit" in role.inputs["assumeRolePolicy"]
