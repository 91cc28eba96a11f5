"""kube-prometheus-stack (Prometheus, Alertmanager, Grafana) in ``monitoring``, with typed values,
credentials from Secrets Manager, ServiceMonitors, SLO rules and dashboards as code."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from silhouette_infra.aws.context import LayerArgs
from silhouette_infra.aws.iam import log_group_writer_policy
from silhouette_infra.aws.roles import service_account_role
from silhouette_infra.cluster.handle import ClusterHandle
from silhouette_infra.data.common import SecretReplica, generated_credentials
from silhouette_infra.kubernetes.declare import declare
from silhouette_infra.kubernetes.external_secrets import EXTERNAL_SECRETS_API_VERSION, external_secret_spec
from silhouette_infra.kubernetes.labels import PART_OF, ROLE_ARN_ANNOTATION
from silhouette_infra.namespaces.component import PlatformNamespaces
from silhouette_infra.observability import alertmanager, alerts
from silhouette_infra.observability.dashboards import DASHBOARD_LABEL, dashboards
from silhouette_infra.observability.tracing import Tracing, TracingArgs
from silhouette_infra.settings.models import ObservabilitySettings

GRAFANA_ADMIN_SECRET = "grafana-admin"
RECEIVERS_SECRET = "alertmanager-receivers"
RECEIVER_KEYS = ("pagerduty-routing-key", "slack-webhook-url", "smtp-password")
RULE_LABELS = {"release": "kube-prometheus-stack", **PART_OF}


def _resources(cpu: str, memory: str, memory_limit: str) -> dict[str, Any]:
    # The charts default to `resources: {}` (aws-for-fluent-bit aside): without requests nothing reserves room.
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory_limit}}


def replica_disruption_budget(replicas: int) -> dict[str, Any]:
    """``prometheus.podDisruptionBudget`` / ``alertmanager.podDisruptionBudget``: one replica down at a time.

    Only ``minAvailable`` is set, on purpose. kube-prometheus-stack 79.5.0 defaults ``minAvailable: 1``
    (charts/kube-prometheus-stack/values.yaml) and its templates/prometheus/podDisruptionBudget.yaml and
    templates/alertmanager/podDisruptionBudget.yaml write each of ``minAvailable`` and ``maxUnavailable``
    that is non-empty (``{{- if ... }}``): adding ``maxUnavailable`` rendered both, which the API server
    rejects, and the atomic release rolled back. Blanking ``minAvailable`` instead (``""``: ``None`` is
    dropped by Pulumi, pulumi/pulumi-kubernetes#3811) would rely on that ``if``, and later charts write the
    map whole (``toYaml``, prometheus-community/helm-charts#6669), empty value included. ``replicas - 1``
    available is one replica down at a time for any count (the chart's 1 for 2 replicas). One replica gets
    no budget: ``minAvailable: 1`` on it would block every node drain.
    """
    return {"enabled": replicas > 1, "minAvailable": max(replicas - 1, 1)}


def chart_values(settings: ObservabilitySettings, *, storage_class: str, system: dict[str, Any]) -> dict[str, Any]:
    """Helm values of kube-prometheus-stack 79.5.0 from typed settings (never a free-form dict in the stack
    file). Every key is checked against the chart's values.yaml and templates at that version (with Grafana
    10.1.4, kube-state-metrics 6.4.1 and prometheus-node-exporter 4.49.1, its subcharts) in
    tests/test_helm_values.py."""
    return {
        # Object names kps-prometheus, kps-alertmanager, kps-operator (default: the release name).
        "fullnameOverride": "kps",
        "prometheusOperator": {"resources": _resources("100m", "256Mi", "512Mi"), **system},
        "prometheus": _prometheus_values(settings, storage_class=storage_class, system=system),
        "alertmanager": _alertmanager_values(settings, storage_class=storage_class, system=system),
        "grafana": _grafana_values(system),
        "kube-state-metrics": {"resources": _resources("50m", "128Mi", "256Mi"), **system},
        # A DaemonSet on every node: the chart's default toleration (NoSchedule, Exists) covers the system taint.
        "prometheus-node-exporter": {"resources": _resources("20m", "32Mi", "64Mi")},
    }


def _hardened_pod() -> dict[str, Any]:
    """The chart's own pod securityContext for Prometheus and Alertmanager at 79.5.0; stated so that a chart
    upgrade cannot loosen it."""
    return {
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "runAsGroup": 2000,
        "fsGroup": 2000,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _volume(storage_class: str, size_gib: int) -> dict[str, Any]:
    """A persistent volume claim template of the given size in the stack's StorageClass."""
    return {
        "volumeClaimTemplate": {
            "spec": {
                "storageClassName": storage_class,
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": f"{size_gib}Gi"}},
            }
        }
    }


def _prometheus_values(
    settings: ObservabilitySettings, *, storage_class: str, system: dict[str, Any]
) -> dict[str, Any]:
    """``prometheus``: replicas, retention bounded by time and by size, and every namespace's monitors and rules."""
    return {
        "podDisruptionBudget": replica_disruption_budget(settings.prometheus_replicas),
        "prometheusSpec": {
            "replicas": settings.prometheus_replicas,
            "retention": f"{settings.prometheus_retention_days}d",
            "retentionSize": f"{int(settings.prometheus_volume_gib * 0.85)}GB",
            "storageSpec": _volume(storage_class, settings.prometheus_volume_gib),
            "resources": _resources("500m", "2Gi", "4Gi"),
            "securityContext": _hardened_pod(),
            # Pick up ServiceMonitors and rules from every namespace, not only the chart's release
            # (chart default true: only objects labelled release=kube-prometheus-stack).
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False,
            "ruleSelectorNilUsesHelmValues": False,
            **system,
        },
    }


def _alertmanager_values(
    settings: ObservabilitySettings, *, storage_class: str, system: dict[str, Any]
) -> dict[str, Any]:
    """``alertmanager``: our routes and receivers, and the secret their credentials are read from."""
    return {
        "podDisruptionBudget": replica_disruption_budget(settings.alertmanager_replicas),
        # Deep-merged by Helm into the chart's default config: its `global` and `templates` stay, the
        # rest is replaced (tests/test_alertmanager.py runs amtool on the merged file).
        "config": alertmanager.alertmanager_config(
            slack_channel=settings.slack_channel,
            email_to=settings.alert_emails,
            smtp_from=settings.smtp_from,
            smtp_smarthost=settings.smtp_smarthost,
            smtp_username=settings.smtp_username,
        ),
        "alertmanagerSpec": {
            "replicas": settings.alertmanager_replicas,
            # Mounted at /etc/alertmanager/secrets/<name>/, where the receivers read their credentials.
            "secrets": [RECEIVERS_SECRET],
            "storage": _volume(storage_class, 10),
            "resources": _resources("50m", "128Mi", "256Mi"),
            "securityContext": _hardened_pod(),
            **system,
        },
    }


def _grafana_values(system: dict[str, Any]) -> dict[str, Any]:
    """``grafana``: the admin from our secret, the dashboards sidecar, no anonymous access or sign-up."""
    return {
        # With an existing secret the chart never generates or defaults ("prom-operator") a password.
        "admin": {"existingSecret": GRAFANA_ADMIN_SECRET, "userKey": "username", "passwordKey": "password"},
        # The chart's defaults at 79.5.0, pinned because our dashboards' ConfigMaps carry this label.
        "sidecar": {
            "dashboards": {"enabled": True, "label": DASHBOARD_LABEL, "labelValue": "1", "searchNamespace": "ALL"}
        },
        "resources": _resources("100m", "256Mi", "512Mi"),
        # Grafana 10.1.4 defaults to no budget ({}); its templates/poddisruptionbudget.yaml writes each field
        # that is set, so exactly this one. With the chart's one replica it never blocks a drain.
        "podDisruptionBudget": {"maxUnavailable": 1},
        # Deep-merged into the chart's grafana.ini (paths, log, server stay).
        "grafana.ini": {"auth.anonymous": {"enabled": False}, "users": {"allow_sign_up": False}},
        **system,
    }


def monitoring_network_policies(namespace: str, vpc_cidr: str, service_cidr: str) -> list[dict[str, Any]]:
    """Allows on top of the namespace's default deny: the stack talks to itself; Prometheus scrapes
    pods in every namespace and the nodes (kubelet, node-exporter) in the VPC; everything resolves
    DNS; Alertmanager and Grafana reach PagerDuty, Slack and SMTP on 443/587; kube-state-metrics
    watches the Kubernetes API on 443 (the ``kubernetes`` Service in the service CIDR, and the control
    plane's cross-account ENIs in the cluster's subnets, inside the VPC:
    https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html)."""
    dns = {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }
    same_namespace: list[dict[str, Any]] = [{"podSelector": {}}]
    return [
        {
            "metadata": {"name": "monitoring-internal", "namespace": namespace},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": same_namespace}],
                "egress": [{"to": same_namespace}, dns],
            },
        },
        {
            "metadata": {"name": "prometheus-scrapes", "namespace": namespace},
            "spec": {
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
                "policyTypes": ["Egress"],
                "egress": [
                    {"to": [{"namespaceSelector": {}}]},
                    {"to": [{"ipBlock": {"cidr": vpc_cidr}}]},
                ],
            },
        },
        {
            "metadata": {"name": "kubernetes-api", "namespace": namespace},
            "spec": {
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "kube-state-metrics"}},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [{"ipBlock": {"cidr": service_cidr}}, {"ipBlock": {"cidr": vpc_cidr}}],
                        "ports": [{"protocol": "TCP", "port": 443}],
                    }
                ],
            },
        },
        {
            "metadata": {"name": "notifications-out", "namespace": namespace},
            "spec": {
                "podSelector": {
                    "matchExpressions": [
                        {
                            "key": "app.kubernetes.io/name",
                            "operator": "In",
                            "values": [
                                "alertmanager",
                                "grafana",
                                "kube-prometheus-stack-prometheus-operator",
                                "aws-for-fluent-bit",
                            ],
                        }
                    ]
                },
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16"]}}],
                        "ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 587}],
                    }
                ],
            },
        },
    ]


@dataclass
class MonitoringArgs(LayerArgs):
    settings: ObservabilitySettings
    cluster: ClusterHandle
    namespaces: PlatformNamespaces
    vpc_cidr: str
    service_cidr: str  # the cluster's Kubernetes service CIDR (the API server's ClusterIP)
    secrets_key_arn: pulumi.Input[str]
    environment: str
    logs_key_arn: pulumi.Input[str]
    receivers_replica: SecretReplica | None = None  # the DR region's copy of what an operator put (production)

    @property
    def namespace(self) -> str:
        return self.namespaces.monitoring_namespace

    @property
    def app_namespace(self) -> str:
        return self.namespaces.app_namespace

    @property
    def ready(self) -> list[pulumi.Resource]:
        return self.namespaces.workloads_ready


class Monitoring(pulumi.ComponentResource):
    """Prometheus, Alertmanager and Grafana, with what they watch and whom they call."""

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:observability:Monitoring", name, None, opts)
        self._args = args
        secrets = self._credentials()
        policies = [
            declare(k8s.networking.v1.NetworkPolicy, policy["metadata"]["name"], self._k8s(), **policy)
            for policy in monitoring_network_policies(args.namespace, args.vpc_cidr, args.service_cidr)
        ]
        release = self._prometheus_stack(after=[*secrets, *policies])
        self._service_monitors_and_rules(release)
        self._dashboards()
        self._container_logs(policies)
        self._tracing(release)
        self.register_outputs({})

    def _credentials(self) -> list[pulumi.Resource]:
        """Grafana's admin and the receivers' credentials in Secrets Manager, and the ExternalSecrets that
        bring them into the namespace. Returns the ExternalSecrets."""
        args, naming = self._args, self._args.naming
        # Grafana's admin: generated, in Secrets Manager, never the chart's default password.
        generated_credentials(
            "grafana-admin",
            naming=naming,
            kms_key_arn=args.secrets_key_arn,
            username="admin",
            description="Grafana admin (materialised in monitoring by External Secrets)",
            protect=args.protect,
            parent=self,
        )
        # Receiver credentials are issued by PagerDuty, Slack and the SMTP relay: the secret is created
        # here, its value is put by an operator (README, Operations), never by this program.
        aws.secretsmanager.Secret(
            "alertmanager-receivers-secret",
            name=naming.secret(RECEIVERS_SECRET),
            description=f"Alertmanager receivers: JSON with {', '.join(RECEIVER_KEYS)}",
            kms_key_id=args.secrets_key_arn,
            recovery_window_in_days=30 if args.protect else 7,
            # Put by an operator, not generated: the DR region has it only if it is replicated.
            replicas=args.receivers_replica.args() if args.receivers_replica is not None else None,
            tags=naming.name_tag(RECEIVERS_SECRET),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        return [
            self._external_secret(GRAFANA_ADMIN_SECRET, naming.secret("grafana-admin"), ("username", "password")),
            self._external_secret(RECEIVERS_SECRET, naming.secret(RECEIVERS_SECRET), RECEIVER_KEYS),
        ]

    def _prometheus_stack(self, after: Sequence[pulumi.Resource]) -> k8s.helm.v3.Release:
        """The kube-prometheus-stack release, once its credentials and NetworkPolicies are in place."""
        args = self._args
        return k8s.helm.v3.Release(
            "kube-prometheus-stack",
            name="kube-prometheus-stack",
            chart="kube-prometheus-stack",
            version=args.settings.kube_prometheus_stack_chart,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo="https://prometheus-community.github.io/helm-charts"),
            namespace=args.namespace,
            values=chart_values(
                args.settings, storage_class=args.cluster.storage_class, system=args.cluster.system_placement
            ),
            atomic=True,
            cleanup_on_fail=True,
            max_history=10,
            timeout=900,
            opts=self._k8s(*after),
        )

    def _service_monitors_and_rules(self, release: pulumi.Resource) -> None:
        """Scraping of the backend and frontend, and the SLO alert rules, once the release has installed the CRDs."""
        args = self._args
        for service in ("backend", "frontend"):
            declare(
                k8s.apiextensions.CustomResource,
                f"{service}-service-monitor",
                self._k8s(release),
                api_version="monitoring.coreos.com/v1",
                kind="ServiceMonitor",
                metadata={"name": service, "namespace": args.app_namespace, "labels": dict(RULE_LABELS)},
                spec={
                    "selector": {"matchLabels": {"app.kubernetes.io/name": service}},
                    "namespaceSelector": {"matchNames": [args.app_namespace]},
                    "endpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s", "scheme": "http"}],
                },
            )
        declare(
            k8s.apiextensions.CustomResource,
            "slo-rules",
            self._k8s(release),
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata={"name": "silhouette-slo", "namespace": args.namespace, "labels": dict(RULE_LABELS)},
            spec={"groups": alerts.rule_groups(args.settings.slo, args.settings.runbook_base_url)},
        )

    def _dashboards(self) -> None:
        """One ConfigMap per dashboard, labelled for the Grafana sidecar."""
        for file_name, dashboard in dashboards(self._args.settings.slo).items():
            config_name = f"dashboard-{file_name.removesuffix('.json')}"
            declare(
                k8s.core.v1.ConfigMap,
                config_name,
                self._k8s(),
                metadata={"name": config_name, "namespace": self._args.namespace, "labels": {DASHBOARD_LABEL: "1"}},
                data={file_name: json.dumps(dashboard, indent=1, sort_keys=True)},
            )

    def _tracing(self, release: pulumi.Resource) -> None:
        """The OpenTelemetry Collector; its ServiceMonitor waits for the release's CRDs."""
        args = self._args
        Tracing(
            "tracing",
            TracingArgs(
                settings=args.settings.tracing,
                context=args.context,
                namespace=args.namespace,
                app_namespace=args.app_namespace,
                environment=args.environment,
                cluster=args.cluster,
                ready=args.ready,
                monitoring_crds=[release],
                logs_key_arn=args.logs_key_arn,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _container_logs(self, policies: Sequence[pulumi.Resource]) -> None:
        """Every container's stdout/stderr to a KMS-encrypted CloudWatch log group, by a Fluent Bit
        DaemonSet on every node (it tolerates every taint)."""
        args, naming = self._args, self._args.naming
        log_group = aws.cloudwatch.LogGroup(
            "container-logs",
            name=naming.log_group("containers"),
            retention_in_days=args.settings.container_log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags=naming.name_tag("container-logs"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        role = service_account_role(
            "fluent-bit",
            naming=naming,
            oidc=args.cluster.oidc,
            namespace=args.namespace,
            service_account="aws-for-fluent-bit",
            description="Fluent Bit: ships container logs to its CloudWatch log group",
            inline_policies={
                "container-logs": log_group.arn.apply(
                    lambda arn: json.dumps(log_group_writer_policy("WriteContainerLogs", arn))
                )
            },
            parent=self,
        )
        k8s.helm.v3.Release(
            "aws-for-fluent-bit",
            name="aws-for-fluent-bit",
            chart="aws-for-fluent-bit",
            version=args.settings.fluent_bit_chart,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo="https://aws.github.io/eks-charts"),
            namespace=args.namespace,
            # Keys checked against stable/aws-for-fluent-bit/values.yaml and templates at 0.1.35 (aws/eks-charts)
            # in tests/test_helm_values.py.
            values={
                "serviceAccount": {
                    "create": True,
                    # Chart default: the release's full name; the role trusts exactly this name.
                    "name": "aws-for-fluent-bit",
                    "annotations": {ROLE_ARN_ANNOTATION: role.arn},
                },
                # The other outputs are off by default at 0.1.35; stated so that only CloudWatch Logs is written.
                "cloudWatch": {"enabled": False},
                "firehose": {"enabled": False},
                "kinesis": {"enabled": False},
                "elasticsearch": {"enabled": False},
                "cloudWatchLogs": {
                    "enabled": True,
                    "region": args.region,  # chart default us-east-1, whatever the stack's region
                    "logGroupName": log_group.name,
                    # Chart default true; the group is ours (KMS key, retention), the role cannot create groups.
                    "autoCreateGroup": False,
                    "logStreamPrefix": "pod-",
                },
                # Chart default none: a DaemonSet on every node, tainted ones too.
                "tolerations": [{"operator": "Exists"}],
                "resources": _resources("50m", "64Mi", "256Mi"),
            },
            atomic=True,
            cleanup_on_fail=True,
            max_history=10,
            timeout=600,
            opts=self._k8s(*policies),
        )

    def _k8s(self, *after: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self, provider=self._args.cluster.provider, depends_on=[*self._args.ready, *after]
        )

    def _external_secret(self, name: str, source: str, keys: tuple[str, ...]) -> pulumi.Resource:
        return declare(
            k8s.apiextensions.CustomResource,
            f"{name}-external-secret",
            self._k8s(),
            api_version=EXTERNAL_SECRETS_API_VERSION,
            kind="ExternalSecret",
            metadata={"name": name, "namespace": self._args.namespace},
            spec=external_secret_spec(
                store=self._args.cluster.secret_store_name, target=name, source=source, keys=keys
            ),
        )
