"""Traces: an OpenTelemetry Collector in ``monitoring`` receives OTLP from the backend and exports to X-Ray.

What is decided here, and why:

* **X-Ray, not Jaeger.** Jaeger would be one more stateful system to run, back up and secure (its
  storage is Elasticsearch or Cassandra); X-Ray is managed, encrypted with our logs key, kept 30 days,
  priced per trace, and its trace map sits next to the CloudWatch alarms and logs the runbooks use. The
  applications speak only OTLP, so moving to another backend later changes this collector, not them.
* **The AWS Distro for OpenTelemetry collector** (``aws-otel-collector``): the upstream collector with the
  ``awsxray`` exporter, built and supported by AWS. It runs as our own Deployment through the hardened
  builder (not a Helm chart), so its objects pass the same schema and checkov checks as ours.
* **Sampling in the collector**, by trace id (``probabilistic_sampler``), so a trace is kept or dropped
  whole and one setting bounds the cost: at 1,000 requests/s, keeping every trace would cost X-Ray about
  $13,000 a month; production keeps 10 %, staging everything.
* **Least privilege**: the collector's IRSA role may only put trace segments and telemetry records
  (X-Ray has no resource-level permissions for them: ``aws/iam.py``) and use the logs key through
  X-Ray. The pod takes OTLP only from the backend's pods and sends only HTTPS, never to link-local
  addresses (instance metadata).
* In-cluster OTLP is plain gRPC/HTTP inside the VPC, like the backend's other in-cluster hops; the
  NetworkPolicies limit who may talk to the collector. The collector reaches X-Ray over TLS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import yaml

from silhouette_infra.aws.context import LayerArgs
from silhouette_infra.aws.iam import otel_collector_policy
from silhouette_infra.aws.roles import service_account_role
from silhouette_infra.cluster.handle import ClusterHandle
from silhouette_infra.kubernetes.declare import declare
from silhouette_infra.kubernetes.labels import PART_OF, ROLE_ARN_ANNOTATION
from silhouette_infra.kubernetes.workloads import (
    CONFIG_CHECKSUM_ANNOTATION,
    Container,
    Probe,
    Resources,
    Spread,
    VolumeMount,
    checkov_skips,
    config_checksum,
    deployment_spec,
    pod_template,
    tag_pinning_reasons,
)
from silhouette_infra.namespaces.network_policies import (
    ANYWHERE,
    BACKEND,
    LINK_LOCAL,
    NAMESPACE_NAME_LABEL,
    OTEL_COLLECTOR,
    OTLP_GRPC_PORT,
    OTLP_HTTP_PORT,
    WORKER,
)
from silhouette_infra.planning.release import NAME_LABEL
from silhouette_infra.settings.models import TracingSettings

HEALTH_PORT = 13133
METRICS_PORT = 8888
RUN_AS = 10001  # the ADOT image's own unprivileged user
CONFIG_FILE = "collector.yaml"
CONFIG_DIR = "/etc/otel"
LABELS = {NAME_LABEL: OTEL_COLLECTOR, **PART_OF}
RESOURCES = Resources("200m", "1", "512Mi", "512Mi")
GOMEMLIMIT = "400MiB"  # ~80 % of the memory limit: the Go runtime collects before the kernel kills
TAG_PINNING_REASON = (
    "the collector image is an exact release tag from the stack settings - reviewed in pull requests - and "
    "its digest is not known offline; append @sha256 to observability.tracing.collector_image"
)


def otlp_endpoint(namespace: str) -> str:
    """The gRPC OTLP endpoint the applications export to (``OTEL_EXPORTER_OTLP_ENDPOINT``)."""
    return f"http://{OTEL_COLLECTOR}.{namespace}.svc.cluster.local:{OTLP_GRPC_PORT}"


def collector_config(settings: TracingSettings, *, region: str, environment: str) -> dict[str, Any]:
    """The collector's configuration: OTLP in, memory limit, sampling, environment attribute, batches, X-Ray out."""
    processors: dict[str, Any] = {
        # First: refuse data (OTLP clients retry) rather than be OOM-killed.
        "memory_limiter": {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 20},
        "resource": {"attributes": [{"key": "deployment.environment", "value": environment, "action": "upsert"}]},
        "batch": {"timeout": "5s", "send_batch_size": 256, "send_batch_max_size": 512},
    }
    pipeline = ["memory_limiter"]
    if settings.sampling_percent < 100:
        processors["probabilistic_sampler"] = {"sampling_percentage": settings.sampling_percent}
        pipeline.append("probabilistic_sampler")
    pipeline += ["resource", "batch"]
    return {
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": f"0.0.0.0:{OTLP_GRPC_PORT}"},
                    "http": {"endpoint": f"0.0.0.0:{OTLP_HTTP_PORT}"},
                }
            }
        },
        "processors": processors,
        "exporters": {"awsxray": {"region": region}},
        "extensions": {"health_check": {"endpoint": f"0.0.0.0:{HEALTH_PORT}"}},
        "service": {
            "extensions": ["health_check"],
            "pipelines": {"traces": {"receivers": ["otlp"], "processors": pipeline, "exporters": ["awsxray"]}},
            "telemetry": {
                "logs": {"level": "info"},
                "metrics": {
                    "level": "normal",
                    "readers": [{"pull": {"exporter": {"prometheus": {"host": "0.0.0.0", "port": METRICS_PORT}}}}],
                },
            },
        },
    }


def collector_network_policy(*, namespace: str, app_namespace: str) -> dict[str, Any]:
    """OTLP in from the backend's and the workers' pods only; out, HTTPS to X-Ray and STS (never link-local
    addresses).
    Prometheus scrapes the metrics port under the namespace's own ``monitoring-internal`` policy."""
    return {
        "metadata": {"name": OTEL_COLLECTOR, "namespace": namespace},
        "spec": {
            "podSelector": {"matchLabels": {NAME_LABEL: OTEL_COLLECTOR}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: app_namespace}},
                            "podSelector": {"matchLabels": {NAME_LABEL: sender}},
                        }
                        for sender in (BACKEND, WORKER)
                    ],
                    "ports": [
                        {"protocol": "TCP", "port": OTLP_GRPC_PORT},
                        {"protocol": "TCP", "port": OTLP_HTTP_PORT},
                    ],
                }
            ],
            "egress": [
                {
                    "to": [{"ipBlock": {"cidr": ANYWHERE, "except": [LINK_LOCAL]}}],
                    "ports": [{"protocol": "TCP", "port": 443}],
                }
            ],
        },
    }


def collector_deployment(
    settings: TracingSettings, *, config_data: dict[str, str], system: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The Deployment's spec and its checkov annotations, from the one hardened builder."""
    container = Container(
        name="collector",
        image=settings.collector_image,
        args=(f"--config={CONFIG_DIR}/{CONFIG_FILE}",),
        resources=RESOURCES,
        ports=(("otlp-grpc", OTLP_GRPC_PORT), ("otlp-http", OTLP_HTTP_PORT), ("metrics", METRICS_PORT)),
        env={"GOMEMLIMIT": GOMEMLIMIT},
        readiness=Probe(port=HEALTH_PORT, http_path="/", period_seconds=5),
        liveness=Probe(port=HEALTH_PORT, http_path="/", period_seconds=10, failure_threshold=6),
        writable_paths={"/tmp": "64Mi"},
        volume_mounts=(VolumeMount("config", CONFIG_DIR, read_only=True),),
    )
    template = pod_template(
        labels=LABELS,
        containers=[container],
        service_account=OTEL_COLLECTOR,
        run_as_user=RUN_AS,
        run_as_group=RUN_AS,
        fs_group=RUN_AS,
        spread=Spread() if settings.collector_replicas > 1 else None,
        node_selector=system.get("nodeSelector"),
        tolerations=system.get("tolerations", ()),
        annotations={CONFIG_CHECKSUM_ANNOTATION: config_checksum(config_data)},
        volumes=[{"name": "config", "configMap": {"name": OTEL_COLLECTOR}}],
    )
    spec = deployment_spec(labels=LABELS, template=template, replicas=settings.collector_replicas)
    return spec, checkov_skips(tag_pinning_reasons([settings.collector_image], TAG_PINNING_REASON))


@dataclass
class TracingArgs(LayerArgs):
    settings: TracingSettings
    namespace: str
    app_namespace: str
    environment: str
    cluster: ClusterHandle
    ready: list[pulumi.Resource]  # the cluster's and the namespaces' readiness (MonitoringArgs.ready)
    monitoring_crds: list[pulumi.Resource]  # what installs the ServiceMonitor CRD (kube-prometheus-stack)
    logs_key_arn: pulumi.Input[str]


class Tracing(pulumi.ComponentResource):
    """The OpenTelemetry Collector (Deployment, Service, PDB, NetworkPolicy, IRSA role) and X-Ray's encryption."""

    endpoint: str

    def __init__(self, name: str, args: TracingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:observability:Tracing", name, None, opts)
        self._args = args
        if args.settings.manage_xray_encryption:
            # X-Ray stores every trace of the account and region under this key (an account-wide setting).
            aws.xray.EncryptionConfig(
                "xray-encryption", type="KMS", key_id=args.logs_key_arn, opts=pulumi.ResourceOptions(parent=self)
            )
        role = self._role()
        self._metadata = {"name": OTEL_COLLECTOR, "namespace": args.namespace, "labels": dict(LABELS)}
        self._k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.cluster.provider, depends_on=args.ready)
        deployment = self._collector(role)
        self._service()
        if args.settings.collector_replicas > 1:
            self._disruption_budget(deployment)
        self._service_monitor()
        self.endpoint = otlp_endpoint(args.namespace)
        self.register_outputs({"endpoint": self.endpoint})

    def _role(self) -> aws.iam.Role:
        """The collector's IRSA role: put trace segments into X-Ray, through the logs key."""
        args = self._args
        return service_account_role(
            OTEL_COLLECTOR,
            naming=args.naming,
            oidc=args.cluster.oidc,
            namespace=args.namespace,
            service_account=OTEL_COLLECTOR,
            description="OpenTelemetry Collector: puts trace segments into X-Ray",
            inline_policies={
                OTEL_COLLECTOR: pulumi.Output.from_input(args.logs_key_arn).apply(
                    lambda key: json.dumps(otel_collector_policy(kms_key_arn=key, region=args.region))
                )
            },
            parent=self,
        )

    def _collector(self, role: aws.iam.Role) -> k8s.apps.v1.Deployment:
        """The collector's Deployment, after its service account, configuration and NetworkPolicy."""
        args, metadata, k8s_opts = self._args, self._metadata, self._k8s_opts
        account = declare(
            k8s.core.v1.ServiceAccount,
            f"{OTEL_COLLECTOR}-service-account",
            k8s_opts,
            metadata={**metadata, "annotations": {ROLE_ARN_ANNOTATION: role.arn}},
            automount_service_account_token=False,
        )
        config_data = {
            CONFIG_FILE: yaml.safe_dump(
                collector_config(args.settings, region=args.region, environment=args.environment), sort_keys=False
            )
        }
        config = declare(
            k8s.core.v1.ConfigMap, f"{OTEL_COLLECTOR}-config", k8s_opts, metadata=metadata, data=config_data
        )
        policy = declare(
            k8s.networking.v1.NetworkPolicy,
            f"{OTEL_COLLECTOR}-network-policy",
            k8s_opts,
            **collector_network_policy(namespace=args.namespace, app_namespace=args.app_namespace),
        )
        spec, annotations = collector_deployment(
            args.settings,
            config_data=config_data,
            system=args.cluster.system_placement,
        )
        return declare(
            k8s.apps.v1.Deployment,
            OTEL_COLLECTOR,
            pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[account, config, policy])),
            metadata={**metadata, "annotations": annotations},
            spec=spec,
        )

    def _service(self) -> None:
        """The ClusterIP Service: the OTLP ports the applications export to, and the metrics port."""
        declare(
            k8s.core.v1.Service,
            f"{OTEL_COLLECTOR}-service",
            self._k8s_opts,
            metadata=self._metadata,
            spec={
                "type": "ClusterIP",
                "selector": dict(LABELS),
                "ports": [
                    {"name": "otlp-grpc", "port": OTLP_GRPC_PORT, "targetPort": "otlp-grpc", "protocol": "TCP"},
                    {"name": "otlp-http", "port": OTLP_HTTP_PORT, "targetPort": "otlp-http", "protocol": "TCP"},
                    {"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics", "protocol": "TCP"},
                ],
            },
        )

    def _disruption_budget(self, deployment: pulumi.Resource) -> None:
        """One collector down at a time (declared only with more than one replica)."""
        declare(
            k8s.policy.v1.PodDisruptionBudget,
            f"{OTEL_COLLECTOR}-pdb",
            pulumi.ResourceOptions.merge(self._k8s_opts, pulumi.ResourceOptions(depends_on=[deployment])),
            metadata=self._metadata,
            spec={"maxUnavailable": 1, "selector": {"matchLabels": dict(LABELS)}},
        )

    def _service_monitor(self) -> None:
        """Prometheus scrapes the collector's own metrics, once kube-prometheus-stack has installed the CRD."""
        declare(
            k8s.apiextensions.CustomResource,
            f"{OTEL_COLLECTOR}-service-monitor",
            pulumi.ResourceOptions.merge(self._k8s_opts, pulumi.ResourceOptions(depends_on=self._args.monitoring_crds)),
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata=self._metadata,
            spec={
                "selector": {"matchLabels": {NAME_LABEL: OTEL_COLLECTOR}},
                "namespaceSelector": {"matchNames": [self._args.namespace]},
                "endpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s", "scheme": "http"}],
            },
        )
