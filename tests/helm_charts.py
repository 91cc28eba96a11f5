"""The Helm charts the program installs, as data: for each release, the chart version the record was made at,
the value keys the program sets as they were verified in that chart's values.yaml and templates, and what the
chart's PodDisruptionBudget templates read. tests/test_helm_values.py and tests/test_monitoring.py check the
program's values against it.

Chart sources cannot be reached from CI, so nothing here is read from a chart: each chart was read once, at
the commit below, from a mirror of its upstream repository (its Chart.yaml has the version pinned in
settings), and what the program relies on was copied here by hand as key paths and a few defaults. When a
pinned version changes, tests fail until the chart is read again at the new version and this record updated.

Key paths are Helm ``--set`` paths: dots separate keys, ``\\.`` is a dot inside a key (``grafana\\.ini``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

Values = Mapping[str, Any]
DISRUPTION_FIELDS = ("minAvailable", "maxUnavailable")


def split_path(path: str) -> tuple[str, ...]:
    return tuple(key.replace("\\.", ".") for key in re.split(r"(?<!\\)\.", path))


def join_path(keys: tuple[str, ...]) -> str:
    return ".".join(key.replace(".", "\\.") for key in keys)


def dig(values: Any, path: str) -> Any:
    """The value at ``path``, or None when any key on the way is missing."""
    for key in split_path(path):
        if not isinstance(values, Mapping):
            return None
        values = values.get(key)
    return values


def truthy(value: Any) -> bool:
    """Go template truth (``if``, ``with``, ``and``): false, 0, nil and empty strings, maps and lists are false.
    Helm's values are JSON-like, so Python's truth of the same data agrees."""
    return bool(value)


def helm_merge(defaults: Values, overrides: Values) -> dict[str, Any]:
    """The values a chart's templates see: ``overrides`` coalesced over the chart's ``defaults`` the way Helm
    does (maps merge key by key, anything else, lists included, replaces; a null deletes the key)."""
    merged = dict(defaults)
    for key, value in overrides.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = helm_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class PdbTemplate:
    """One PodDisruptionBudget template of a chart: when it renders, and which disruption fields it writes."""

    template: str  # path in the chart, e.g. templates/pdb.yaml
    renders: Callable[[Values], bool]
    fields: Callable[[Values], dict[str, Any]]


def each_non_empty(budget: Any) -> dict[str, Any]:
    """``{{- if .minAvailable }} minAvailable: ...`` then ``{{- if .maxUnavailable }} maxUnavailable: ...``
    (``with`` instead of ``if`` is the same test): each field that is non-empty, both if both are."""
    return {name: budget[name] for name in DISRUPTION_FIELDS if truthy(dig(budget, name))}


def max_else_min(budget: Any) -> dict[str, Any]:
    """``{{- if .maxUnavailable }} ... {{- else if .minAvailable }} ...``: never both."""
    for name in ("maxUnavailable", "minAvailable"):
        if truthy(dig(budget, name)):
            return {name: budget[name]}
    return {}


def whole_map(budget: Any, *, omit: tuple[str, ...] = ()) -> dict[str, Any]:
    """``{{ toYaml .podDisruptionBudget }}``: every key that is there, empty or not (an empty one is written
    as it is, and the API server rejects an empty string)."""
    return {name: budget[name] for name in DISRUPTION_FIELDS if name in budget and name not in omit}


class ChartTemplateError(Exception):
    """A chart template's ``fail``: Helm refuses to render, the atomic release fails."""


def one_or_fail(budget: Any) -> dict[str, Any]:
    """cluster-autoscaler's: ``fail`` when both are non-empty, else the one that is."""
    if all(truthy(dig(budget, name)) for name in DISRUPTION_FIELDS):
        raise ChartTemplateError("Only one of podDisruptionBudget.minAvailable or podDisruptionBudget.maxUnavailable")
    return each_non_empty(budget)


@dataclass(frozen=True)
class Chart:
    release: str
    chart: str
    version: str
    source: str  # <repository>@<commit>:<chart directory>, read with `fetch`
    keys: frozenset[str]  # paths declared in the chart's values.yaml (the subchart's, under a subchart's key)
    template_keys: Mapping[str, str]  # paths only commented in values.yaml -> the template that reads them
    free_form: Mapping[str, str]  # paths whose content the chart writes whole -> where (not descended into)
    pdb_defaults: Values  # the defaults the PDB templates read, copied from values.yaml
    pdbs: tuple[PdbTemplate, ...] = ()
    service_accounts: tuple[str, ...] = ()  # paths of {create, name, annotations} of a ServiceAccount
    notes: tuple[str, ...] = ()  # what else was checked in the chart, for the reader

    def rendered_pdbs(self, values: Values) -> dict[str, dict[str, Any]]:
        """Each PDB template that renders for these release values -> the disruption fields it writes."""
        merged = helm_merge(self.pdb_defaults, values)
        return {pdb.template: pdb.fields(merged) for pdb in self.pdbs if pdb.renders(merged)}


def value_paths(values: Values, free_form: Mapping[str, str], prefix: tuple[str, ...] = ()) -> Iterator[str]:
    """Every key path set in ``values``: down to a leaf (a scalar, a list, an empty map) or to a free-form path."""
    for key, value in values.items():
        path = (*prefix, key)
        if join_path(path) not in free_form and isinstance(value, Mapping) and value:
            yield from value_paths(value, free_form, path)
        else:
            yield join_path(path)


_POD_PLACEMENT = "the pod spec (toYaml)"

AWS_LOAD_BALANCER_CONTROLLER = Chart(
    release="aws-load-balancer-controller",
    chart="aws-load-balancer-controller",
    version="1.14.0",
    source="aws/eks-charts@049a6f7f1cca1b7efb34302f20f02dbac88e0540:stable/aws-load-balancer-controller",
    keys=frozenset(
        {
            "clusterName",
            "region",
            "vpcId",
            "replicaCount",
            "enableServiceMutatorWebhook",
            "serviceAccount.create",
            "serviceAccount.name",
        }
    ),
    template_keys={},
    free_form={
        "serviceAccount.annotations": "templates/serviceaccount.yaml (toYaml)",
        "podDisruptionBudget": "templates/pdb.yaml: the budget's spec (toYaml)",
        "resources": "templates/deployment.yaml (toYaml)",
        "nodeSelector": f"templates/deployment.yaml, {_POD_PLACEMENT}",
        "tolerations": f"templates/deployment.yaml, {_POD_PLACEMENT}",
    },
    pdb_defaults={"replicaCount": 2, "podDisruptionBudget": {}},
    pdbs=(
        PdbTemplate(
            "templates/pdb.yaml",
            # {{- if and .Values.podDisruptionBudget (gt (int .Values.replicaCount) 1) }}
            lambda v: truthy(v["podDisruptionBudget"]) and int(v["replicaCount"]) > 1,
            lambda v: whole_map(v["podDisruptionBudget"]),
        ),
    ),
    service_accounts=("serviceAccount",),
)

METRICS_SERVER = Chart(
    release="metrics-server",
    chart="metrics-server",
    version="3.13.0",
    source="kubernetes-sigs/metrics-server@1a64100c33acf2d7dfa4439f20c75bc64d86983f:charts/metrics-server",
    keys=frozenset({"replicas", "podDisruptionBudget.enabled", "podDisruptionBudget.minAvailable"}),
    template_keys={},
    free_form={
        "resources": "templates/deployment.yaml (toYaml)",
        "nodeSelector": f"templates/deployment.yaml, {_POD_PLACEMENT}",
        "tolerations": f"templates/deployment.yaml, {_POD_PLACEMENT}",
    },
    pdb_defaults={"podDisruptionBudget": {"enabled": False, "minAvailable": None, "maxUnavailable": None}},
    pdbs=(
        PdbTemplate(
            "templates/pdb.yaml",
            lambda v: truthy(dig(v, "podDisruptionBudget.enabled")),
            lambda v: each_non_empty(v["podDisruptionBudget"]),
        ),
    ),
)

CLUSTER_AUTOSCALER = Chart(
    release="cluster-autoscaler",
    chart="cluster-autoscaler",
    version="9.50.1",
    source="kubernetes/autoscaler@6283c908843c36e6c82b96ae276902abc02b1f1a:charts/cluster-autoscaler",
    keys=frozenset(
        {
            "autoDiscovery.clusterName",
            "awsRegion",
            "cloudProvider",
            "image.tag",
            "rbac.serviceAccount.create",
            "rbac.serviceAccount.name",
        }
    ),
    template_keys={},
    free_form={
        "rbac.serviceAccount.annotations": "templates/serviceaccount.yaml (each key: value, through tpl)",
        "extraArgs": "templates/deployment.yaml: each key is a --<key>=<value> flag (merged with the chart's)",
        "resources": "templates/deployment.yaml (toYaml)",
        "nodeSelector": f"templates/deployment.yaml, {_POD_PLACEMENT}",
        "tolerations": f"templates/deployment.yaml, {_POD_PLACEMENT}",
    },
    pdb_defaults={"podDisruptionBudget": {"maxUnavailable": 1}},
    pdbs=(
        PdbTemplate(
            "templates/pdb.yaml",
            lambda v: truthy(v["podDisruptionBudget"]),
            lambda v: one_or_fail(v["podDisruptionBudget"]),
        ),
    ),
    service_accounts=("rbac.serviceAccount",),
)

EXTERNAL_SECRETS = Chart(
    release="external-secrets",
    chart="external-secrets",
    version="0.20.4",
    source="external-secrets/external-secrets@e594d361184afb8bd76f246490fff2d74c9a4849:deploy/charts/external-secrets",
    keys=frozenset(
        {
            "installCRDs",
            "replicaCount",
            "leaderElect",
            "podDisruptionBudget.enabled",
            "podDisruptionBudget.minAvailable",
            "serviceAccount.create",
            "serviceAccount.name",
            "webhook.replicaCount",
        }
    ),
    template_keys={},
    free_form={
        "serviceAccount.annotations": "templates/serviceaccount.yaml (toYaml)",
        "nodeSelector": f"templates/deployment.yaml, {_POD_PLACEMENT}",
        "tolerations": f"templates/deployment.yaml, {_POD_PLACEMENT}",
        "webhook.nodeSelector": f"templates/webhook-deployment.yaml, {_POD_PLACEMENT}",
        "webhook.tolerations": f"templates/webhook-deployment.yaml, {_POD_PLACEMENT}",
        "certController.nodeSelector": f"templates/cert-controller-deployment.yaml, {_POD_PLACEMENT}",
        "certController.tolerations": f"templates/cert-controller-deployment.yaml, {_POD_PLACEMENT}",
    },
    pdb_defaults={
        "podDisruptionBudget": {"enabled": False, "minAvailable": 1},
        "webhook": {"create": True, "podDisruptionBudget": {"enabled": False, "minAvailable": 1}},
        "certController": {"create": True, "podDisruptionBudget": {"enabled": False, "minAvailable": 1}},
    },
    pdbs=(
        PdbTemplate(
            "templates/poddisruptionbudget.yaml",
            lambda v: truthy(dig(v, "podDisruptionBudget.enabled")),
            lambda v: max_else_min(v["podDisruptionBudget"]),
        ),
        PdbTemplate(
            "templates/webhook-poddisruptionbudget.yaml",
            lambda v: truthy(dig(v, "webhook.create")) and truthy(dig(v, "webhook.podDisruptionBudget.enabled")),
            lambda v: max_else_min(v["webhook"]["podDisruptionBudget"]),
        ),
        PdbTemplate(
            # Also off with webhook.certManager.enabled, which is false by default and not set here.
            "templates/cert-controller-poddisruptionbudget.yaml",
            lambda v: (
                truthy(dig(v, "certController.create")) and truthy(dig(v, "certController.podDisruptionBudget.enabled"))
            ),
            lambda v: max_else_min(v["certController"]["podDisruptionBudget"]),
        ),
    ),
    service_accounts=("serviceAccount",),
    notes=(
        "values.schema.json at this commit accepts the production values (jsonschema, checked once by hand).",
        "leaderElect: templates/deployment.yaml passes --enable-leader-election=true; the leader-election Role "
        "is created with rbac.create (default true).",
    ),
)


def _keda_pdb(template: str, component: str, switch: str | None) -> PdbTemplate:
    """KEDA 2.20.2's keda/templates/<component>/poddisruptionbudget.yaml: rendered when the component is on and a
    global or the component's budget is set; writes the global fields, then the component's non-empty ones."""

    def renders(v: Values) -> bool:
        on = switch is None or truthy(dig(v, switch))
        budget = dig(v, "podDisruptionBudget") or {}
        return on and (
            truthy(budget.get("minAvailable")) or truthy(budget.get("maxUnavailable")) or truthy(budget.get(component))
        )

    def fields(v: Values) -> dict[str, Any]:
        budget = dig(v, "podDisruptionBudget") or {}
        return {**each_non_empty(budget), **each_non_empty(budget.get(component) or {})}

    return PdbTemplate(template, renders, fields)


KEDA = Chart(
    release="keda",
    chart="keda",
    version="2.20.2",
    source='kedacore/charts@cbb9bb8:keda (commit "prepare v2.20.2 release")',
    keys=frozenset(
        {
            "operator.replicaCount",
            "metricsServer.replicaCount",
            "webhooks.replicaCount",
            "networkPolicy.enabled",
        }
    ),
    template_keys={},
    free_form={
        "podDisruptionBudget.operator": "templates/manager/poddisruptionbudget.yaml (minAvailable / maxUnavailable)",
        "podDisruptionBudget.metricServer": "templates/metrics-server/poddisruptionbudget.yaml (same fields)",
        "podDisruptionBudget.webhooks": "templates/webhooks/poddisruptionbudget.yaml (same fields)",
        "nodeSelector": f"templates/*/deployment.yaml, each component's nodeSelector | default this, {_POD_PLACEMENT}",
        "tolerations": f"templates/*/deployment.yaml, each component's tolerations | default this, {_POD_PLACEMENT}",
    },
    pdb_defaults={
        "metricsServer": {"enabled": True},
        "webhooks": {"enabled": True},
        "podDisruptionBudget": {"operator": {}, "metricServer": {}, "webhooks": {}},
    },
    pdbs=(
        _keda_pdb("templates/manager/poddisruptionbudget.yaml", "operator", None),
        _keda_pdb("templates/metrics-server/poddisruptionbudget.yaml", "metricServer", "metricsServer.enabled"),
        _keda_pdb("templates/webhooks/poddisruptionbudget.yaml", "webhooks", "webhooks.enabled"),
    ),
    notes=(
        "No ServiceAccount annotation: KEDA gets no AWS role (its scaler credentials come from a "
        "TriggerAuthentication).",
        "Securities kept at the chart's defaults: securityContext.{operator,metricServer,webhooks} drop ALL, no "
        "privilege escalation, read-only root, RuntimeDefault seccomp; podSecurityContext.* runAsNonRoot.",
    ),
)


# kube-prometheus-stack's PDB templates share one shape: rendered when <component>.enabled (where the chart
# has the switch) and <component>.podDisruptionBudget.enabled, each disruption field written when non-empty.
_KPS_BUDGET_DEFAULT = {"enabled": False, "minAvailable": 1, "unhealthyPodEvictionPolicy": "AlwaysAllow"}


def _kps_component_pdb(template: str, component: str, *, switch: str | None) -> PdbTemplate:
    return PdbTemplate(
        template,
        lambda v: (
            (switch is None or truthy(dig(v, switch))) and truthy(dig(v, f"{component}.podDisruptionBudget.enabled"))
        ),
        lambda v: each_non_empty(dig(v, f"{component}.podDisruptionBudget")),
    )


KUBE_PROMETHEUS_STACK = Chart(
    release="kube-prometheus-stack",
    chart="kube-prometheus-stack",
    version="79.5.0",
    source="prometheus-community/helm-charts@a064fc60bca54b09eb35aa3be0e71239c1dadce3:charts/kube-prometheus-stack "
    "(subcharts: grafana/helm-charts@1dcaa30574cd4ce4c54a7d5ca16867f88de7ee16:charts/grafana 10.1.4, "
    "prometheus-community/helm-charts@505440cc6c6981164c7b334de8dfb60a74fa69b7:charts/kube-state-metrics 6.4.1, "
    "prometheus-community/helm-charts@e632856c8b8ee7862f90ec72edf6fc39896e9101:charts/prometheus-node-exporter "
    "4.49.1)",
    keys=frozenset(
        {
            "fullnameOverride",
            "prometheus.podDisruptionBudget.enabled",
            "prometheus.podDisruptionBudget.minAvailable",
            "prometheus.prometheusSpec.replicas",
            "prometheus.prometheusSpec.retention",
            "prometheus.prometheusSpec.retentionSize",
            "prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues",
            "prometheus.prometheusSpec.podMonitorSelectorNilUsesHelmValues",
            "prometheus.prometheusSpec.ruleSelectorNilUsesHelmValues",
            "alertmanager.podDisruptionBudget.enabled",
            "alertmanager.podDisruptionBudget.minAvailable",
            "alertmanager.alertmanagerSpec.replicas",
            "alertmanager.alertmanagerSpec.secrets",
            # Grafana's values.yaml (and kube-prometheus-stack's grafana: section for the sidecar)
            "grafana.admin.existingSecret",
            "grafana.admin.userKey",
            "grafana.admin.passwordKey",
            "grafana.sidecar.dashboards.enabled",
            "grafana.sidecar.dashboards.label",
            "grafana.sidecar.dashboards.labelValue",
            "grafana.sidecar.dashboards.searchNamespace",
        }
    ),
    template_keys={
        "grafana.podDisruptionBudget.maxUnavailable": "charts/grafana/templates/poddisruptionbudget.yaml",
    },
    free_form={
        "prometheusOperator.resources": "templates/prometheus-operator/deployment.yaml (toYaml)",
        "prometheusOperator.nodeSelector": f"templates/prometheus-operator/deployment.yaml, {_POD_PLACEMENT}",
        "prometheusOperator.tolerations": f"templates/prometheus-operator/deployment.yaml, {_POD_PLACEMENT}",
        "prometheus.prometheusSpec.storageSpec": "templates/prometheus/prometheus.yaml: the StorageSpec (toYaml)",
        "prometheus.prometheusSpec.resources": "templates/prometheus/prometheus.yaml (toYaml)",
        "prometheus.prometheusSpec.securityContext": "templates/prometheus/prometheus.yaml: a PodSecurityContext",
        "prometheus.prometheusSpec.nodeSelector": "templates/prometheus/prometheus.yaml (toYaml)",
        "prometheus.prometheusSpec.tolerations": "templates/prometheus/prometheus.yaml (toYaml)",
        "alertmanager.config": "templates/alertmanager/secret.yaml: alertmanager.yaml (toYaml)",
        "alertmanager.alertmanagerSpec.storage": "templates/alertmanager/alertmanager.yaml: the StorageSpec",
        "alertmanager.alertmanagerSpec.resources": "templates/alertmanager/alertmanager.yaml (toYaml)",
        "alertmanager.alertmanagerSpec.securityContext": "templates/alertmanager/alertmanager.yaml",
        "alertmanager.alertmanagerSpec.nodeSelector": "templates/alertmanager/alertmanager.yaml (toYaml)",
        "alertmanager.alertmanagerSpec.tolerations": "templates/alertmanager/alertmanager.yaml (toYaml)",
        "grafana.resources": "charts/grafana/templates/_pod.tpl (toYaml)",
        "grafana.nodeSelector": f"charts/grafana/templates/_pod.tpl, {_POD_PLACEMENT}",
        "grafana.tolerations": f"charts/grafana/templates/_pod.tpl, {_POD_PLACEMENT}",
        "grafana.grafana\\.ini": "charts/grafana/templates/_config.tpl: each section and key into grafana.ini",
        "kube-state-metrics.resources": "charts/kube-state-metrics/templates/deployment.yaml (toYaml)",
        "kube-state-metrics.nodeSelector": f"charts/kube-state-metrics/templates/deployment.yaml, {_POD_PLACEMENT}",
        "kube-state-metrics.tolerations": f"charts/kube-state-metrics/templates/deployment.yaml, {_POD_PLACEMENT}",
        "prometheus-node-exporter.resources": "charts/prometheus-node-exporter/templates/daemonset.yaml (toYaml)",
    },
    pdb_defaults={
        "prometheus": {"enabled": True, "podDisruptionBudget": _KPS_BUDGET_DEFAULT},
        "alertmanager": {"enabled": True, "podDisruptionBudget": _KPS_BUDGET_DEFAULT},
        "thanosRuler": {"enabled": False, "podDisruptionBudget": _KPS_BUDGET_DEFAULT},
        "prometheusOperator": {
            "podDisruptionBudget": _KPS_BUDGET_DEFAULT,
            "admissionWebhooks": {"deployment": {"enabled": False, "podDisruptionBudget": _KPS_BUDGET_DEFAULT}},
        },
        "grafana": {"enabled": True, "podDisruptionBudget": {}},  # grafana 10.1.4's default
        "kubeStateMetrics": {"enabled": True},
        "kube-state-metrics": {"podDisruptionBudget": {}},  # kube-state-metrics 6.4.1's default
    },
    pdbs=(
        _kps_component_pdb("templates/prometheus/podDisruptionBudget.yaml", "prometheus", switch="prometheus.enabled"),
        _kps_component_pdb(
            "templates/alertmanager/podDisruptionBudget.yaml", "alertmanager", switch="alertmanager.enabled"
        ),
        _kps_component_pdb(
            "templates/thanos-ruler/podDisruptionBudget.yaml", "thanosRuler", switch="thanosRuler.enabled"
        ),
        PdbTemplate(
            "templates/prometheus-operator/pdb.yaml",
            lambda v: truthy(dig(v, "prometheusOperator.podDisruptionBudget.enabled")),
            lambda v: whole_map(dig(v, "prometheusOperator.podDisruptionBudget"), omit=("enabled",)),
        ),
        PdbTemplate(
            "templates/prometheus-operator/admission-webhooks/deployment/pdb.yaml",
            lambda v: (
                truthy(dig(v, "prometheusOperator.admissionWebhooks.deployment.enabled"))
                and truthy(dig(v, "prometheusOperator.admissionWebhooks.deployment.podDisruptionBudget.enabled"))
            ),
            lambda v: whole_map(
                dig(v, "prometheusOperator.admissionWebhooks.deployment.podDisruptionBudget"), omit=("enabled",)
            ),
        ),
        PdbTemplate(
            # {{- if .Values.podDisruptionBudget }} ... {{- with .minAvailable }} ... {{- with .maxUnavailable }}
            "charts/grafana/templates/poddisruptionbudget.yaml",
            lambda v: truthy(dig(v, "grafana.enabled")) and truthy(dig(v, "grafana.podDisruptionBudget")),
            lambda v: each_non_empty(dig(v, "grafana.podDisruptionBudget")),
        ),
        PdbTemplate(
            "charts/kube-state-metrics/templates/pdb.yaml",
            lambda v: (
                truthy(dig(v, "kubeStateMetrics.enabled")) and truthy(dig(v, "kube-state-metrics.podDisruptionBudget"))
            ),
            lambda v: whole_map(dig(v, "kube-state-metrics.podDisruptionBudget")),
        ),
    ),
    notes=(
        "The ServiceMonitor/PodMonitor/rule selectors: templates/prometheus/prometheus.yaml reads the three "
        "*SelectorNilUsesHelmValues keys set here (probe and scrapeConfig selectors keep the chart's default).",
        "alertmanager.alertmanagerSpec.secrets are mounted at /etc/alertmanager/secrets/<name>/ by the operator.",
        "Grafana: with admin.existingSecret, templates/secret.yaml renders no admin password secret.",
    ),
)

AWS_FOR_FLUENT_BIT = Chart(
    release="aws-for-fluent-bit",
    chart="aws-for-fluent-bit",
    version="0.1.35",
    source="aws/eks-charts@3eb7a62644aa18444668622aa4699e563ed2029b:stable/aws-for-fluent-bit",
    keys=frozenset(
        {
            "serviceAccount.create",
            "serviceAccount.name",
            "cloudWatch.enabled",
            "firehose.enabled",
            "kinesis.enabled",
            "elasticsearch.enabled",
            "cloudWatchLogs.enabled",
            "cloudWatchLogs.region",
            "cloudWatchLogs.logGroupName",
            "cloudWatchLogs.autoCreateGroup",
            "cloudWatchLogs.logStreamPrefix",
        }
    ),
    template_keys={},
    free_form={
        "serviceAccount.annotations": "templates/serviceaccount.yaml (toYaml)",
        "resources": "templates/daemonset.yaml (toYaml)",
        "tolerations": f"templates/daemonset.yaml, {_POD_PLACEMENT}",
    },
    pdb_defaults={},  # a DaemonSet: the chart has no PDB template
    service_accounts=("serviceAccount",),
    notes=(
        "templates/configmap.yaml writes auto_create_group only when cloudWatchLogs.autoCreateGroup is true: "
        "false leaves Fluent Bit's default, off.",
    ),
)

CHARTS: dict[str, Chart] = {
    chart.release: chart
    for chart in (
        AWS_LOAD_BALANCER_CONTROLLER,
        METRICS_SERVER,
        CLUSTER_AUTOSCALER,
        EXTERNAL_SECRETS,
        KEDA,
        KUBE_PROMETHEUS_STACK,
        AWS_FOR_FLUENT_BIT,
    )
}

# kube-prometheus-stack 79.5.0's default alertmanager.config (values.yaml), which Helm merges ours into.
KPS_DEFAULT_ALERTMANAGER_CONFIG: dict[str, Any] = {
    "global": {"resolve_timeout": "5m"},
    "inhibit_rules": [
        {
            "source_matchers": ["severity = critical"],
            "target_matchers": ["severity =~ warning|info"],
            "equal": ["namespace", "alertname"],
        },
        {
            "source_matchers": ["severity = warning"],
            "target_matchers": ["severity = info"],
            "equal": ["namespace", "alertname"],
        },
        {
            "source_matchers": ["alertname = InfoInhibitor"],
            "target_matchers": ["severity = info"],
            "equal": ["namespace"],
        },
        {"target_matchers": ["alertname = InfoInhibitor"]},
    ],
    "route": {
        "group_by": ["namespace"],
        "group_wait": "30s",
        "group_interval": "5m",
        "repeat_interval": "12h",
        "receiver": "null",
        "routes": [{"receiver": "null", "matchers": ['alertname = "Watchdog"']}],
    },
    "receivers": [{"name": "null"}],
    "templates": ["/etc/alertmanager/config/*.tmpl"],
}
