"""The workflow workers: the backend's image run as queue consumers, scaled by KEDA on the queue's length.

A ServiceAccount of their own (no API token: they never call Kubernetes) with an IRSA role for their prefix of
the artefact bucket, a ConfigMap, one hardened Deployment whose replicas KEDA owns, a PDB, a ScaledObject on the
RabbitMQ queue, and its TriggerAuthentication, whose credentials External Secrets builds from the broker's
secret. The image contract: ``<backend image> worker`` consumes ``WORKER_QUEUE`` and serves ``/healthz`` and
``/metrics`` on the metrics port.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pulumi
import pulumi_kubernetes as k8s

from silhouette_infra.apps.web_service import (
    METRICS_PORT,
    RUN_AS,
    SECRETS_DIR,
    TAG_PINNING_REASON,
    pdb_spec,
)
from silhouette_infra.kubernetes.declare import declare
from silhouette_infra.kubernetes.external_secrets import EXTERNAL_SECRETS_API_VERSION, external_secret_spec
from silhouette_infra.kubernetes.labels import PART_OF, ROLE_ARN_ANNOTATION
from silhouette_infra.kubernetes.workloads import (
    CONFIG_CHECKSUM_ANNOTATION,
    Container,
    Image,
    Probe,
    Resources,
    Spread,
    VolumeMount,
    checkov_skips,
    config_checksum,
    deployment_spec,
    pod_template,
    secret_volume,
    tag_pinning_reasons,
)
from silhouette_infra.planning.release import NAME_LABEL
from silhouette_infra.settings.models import WorkerSettings

WORKER = "worker"
KEDA_API_VERSION = "keda.sh/v1alpha1"
BROKER_SECRET = "rabbitmq-keda"
TRIGGER_AUTHENTICATION = "worker-rabbitmq"  # the management API URL with the broker's credentials, for KEDA only
POLLING_SECONDS = 15
COOLDOWN_SECONDS = 300
# Long enough for a worker to finish the step it is running and hand the rest back to the queue.
TERMINATION_GRACE_SECONDS = 120


def management_url_template(amqps_endpoint: str) -> str:
    """The ExternalSecret template of KEDA's ``host``: the broker's management API (HTTPS 443 on Amazon MQ) with
    the credentials of its secret (their characters need no escaping: data/rabbitmq.py, PASSWORD_SPECIAL)."""
    host = urlsplit(amqps_endpoint).hostname
    if not host:
        raise ValueError(f"not an amqps:// endpoint: {amqps_endpoint!r}")
    return f"https://{{{{ .username }}}}:{{{{ .password }}}}@{host}"


def scaled_object_spec(settings: WorkerSettings, *, deployment: str, authentication: str) -> dict[str, Any]:
    """KEDA's RabbitMQ scaler over the management API (protocol http): one replica per ``messages_per_replica``
    ready messages, between the settings' minimum and maximum; scale down slowly, like the HPAs."""
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
        "minReplicaCount": settings.min_replicas,
        "maxReplicaCount": settings.max_replicas,
        "pollingInterval": POLLING_SECONDS,
        "cooldownPeriod": COOLDOWN_SECONDS,
        "triggers": [
            {
                "type": "rabbitmq",
                "metadata": {
                    "protocol": "http",
                    "queueName": settings.queue,
                    "mode": "QueueLength",
                    "value": str(settings.messages_per_replica),
                    "vhostName": "/",
                },
                "authenticationRef": {"name": authentication, "kind": "TriggerAuthentication"},
            }
        ],
        "advanced": {
            "horizontalPodAutoscalerConfig": {
                "behavior": {
                    "scaleUp": {
                        "stabilizationWindowSeconds": 0,
                        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 30}],
                    },
                    "scaleDown": {
                        "stabilizationWindowSeconds": 300,
                        "policies": [{"type": "Percent", "value": 20, "periodSeconds": 60}],
                    },
                }
            }
        },
    }


@dataclass
class WorkerArgs:
    namespace: str
    settings: WorkerSettings
    image: Image  # the backend's serving image
    provider: k8s.Provider
    config: Mapping[str, pulumi.Input[str]]
    secret_files: Sequence[str]  # Kubernetes Secrets mounted read-only under SECRETS_DIR/<secret>
    role_arn: pulumi.Input[str]
    secret_store: str
    rabbitmq_secret: pulumi.Input[str]  # the broker's Secrets Manager secret (username, password)
    rabbitmq_endpoint: pulumi.Input[str]  # amqps://<host>:5671
    after: Sequence[pulumi.Resource] = ()  # the namespaces, the credentials, this image's migrations


class Worker(pulumi.ComponentResource):
    """ServiceAccount, ConfigMap, Deployment, PDB, ScaledObject and TriggerAuthentication of the workers."""

    deployment_name: str

    def __init__(self, name: str, args: WorkerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:apps:Worker", name, None, opts)
        self._args = args
        self.deployment_name = WORKER
        labels = {NAME_LABEL: WORKER, **PART_OF}
        account = declare(
            k8s.core.v1.ServiceAccount,
            "worker-service-account",
            metadata=self._metadata(WORKER, annotations={ROLE_ARN_ANNOTATION: args.role_arn}),
            automount_service_account_token=False,
            opts=self._opts(),
        )
        config_name = "worker-config"
        config = declare(
            k8s.core.v1.ConfigMap,
            config_name,
            metadata=self._metadata(config_name),
            data=dict(args.config),
            opts=self._opts(),
        )
        checksum = pulumi.Output.from_input(dict(args.config)).apply(config_checksum)
        deployment = declare(
            k8s.apps.v1.Deployment,
            WORKER,
            metadata=self._metadata(
                WORKER, annotations=checkov_skips(tag_pinning_reasons([args.image], TAG_PINNING_REASON))
            ),
            spec=deployment_spec(labels=labels, template=self._template(labels, config_name, checksum), replicas=None),
            opts=self._opts([account, config]),
        )
        declare(
            k8s.policy.v1.PodDisruptionBudget,
            "worker-pdb",
            metadata=self._metadata(WORKER),
            spec=pdb_spec(labels),
            opts=self._opts([deployment]),
        )
        authentication = self._trigger_authentication()
        k8s.apiextensions.CustomResource(
            "worker-scaled-object",
            api_version=KEDA_API_VERSION,
            kind="ScaledObject",
            metadata=self._metadata(WORKER),
            spec=scaled_object_spec(args.settings, deployment=WORKER, authentication=TRIGGER_AUTHENTICATION),
            opts=self._opts([deployment, authentication]),
        )
        self.register_outputs({"deployment": self.deployment_name})

    def _template(self, labels: dict[str, str], config_name: str, checksum: pulumi.Output[str]) -> dict[str, Any]:
        args, settings = self._args, self._args.settings
        container = Container(
            name=WORKER,
            image=args.image,
            args=tuple(settings.args),
            resources=Resources(
                cpu_request=settings.cpu_request,
                cpu_limit=settings.cpu_limit,
                memory_request=settings.memory_request,
                memory_limit=settings.memory_limit,
            ),
            ports=(("metrics", METRICS_PORT),),
            env={"SECRETS_DIR": SECRETS_DIR},
            env_from_config_maps=(config_name,),
            volume_mounts=tuple(
                VolumeMount(secret, f"{SECRETS_DIR}/{secret}", read_only=True) for secret in args.secret_files
            ),
            startup=Probe(port="metrics", http_path="/healthz", period_seconds=5, failure_threshold=24),
            readiness=Probe(port="metrics", http_path="/healthz", period_seconds=10),
            liveness=Probe(port="metrics", http_path="/healthz", period_seconds=10, failure_threshold=6),
            writable_paths={"/tmp": "512Mi"},
        )
        return pod_template(
            labels=labels,
            containers=[container],
            service_account=WORKER,
            run_as_user=RUN_AS,
            run_as_group=RUN_AS,
            fs_group=RUN_AS,
            spread=Spread(),
            termination_grace_seconds=TERMINATION_GRACE_SECONDS,
            annotations={"prometheus.io/port": str(METRICS_PORT), CONFIG_CHECKSUM_ANNOTATION: checksum},
            volumes=[secret_volume(secret, secret) for secret in args.secret_files],
        )

    def _trigger_authentication(self) -> k8s.apiextensions.CustomResource:
        """KEDA's credentials for the management API: a Secret that External Secrets builds from the broker's
        secret, named by a TriggerAuthentication in this namespace."""
        args = self._args
        secret = k8s.apiextensions.CustomResource(
            "worker-broker-credentials",
            api_version=EXTERNAL_SECRETS_API_VERSION,
            kind="ExternalSecret",
            metadata=self._metadata(BROKER_SECRET),
            spec=pulumi.Output.all(args.rabbitmq_endpoint, args.rabbitmq_secret).apply(
                lambda values: external_secret_spec(
                    store=args.secret_store,
                    target=BROKER_SECRET,
                    source=values[1],
                    keys=("username", "password"),
                    template={"engineVersion": "v2", "data": {"host": management_url_template(values[0])}},
                )
            ),
            opts=self._opts(),
        )
        return k8s.apiextensions.CustomResource(
            "worker-trigger-authentication",
            api_version=KEDA_API_VERSION,
            kind="TriggerAuthentication",
            metadata=self._metadata(TRIGGER_AUTHENTICATION),
            spec={"secretTargetRef": [{"parameter": "host", "name": BROKER_SECRET, "key": "host"}]},
            opts=self._opts([secret]),
        )

    def _metadata(self, name: str, annotations: Mapping[str, pulumi.Input[str]] | None = None) -> dict[str, Any]:
        metadata: dict[str, Any] = {
            "name": name,
            "namespace": self._args.namespace,
            "labels": {NAME_LABEL: WORKER, **PART_OF},
        }
        if annotations:
            metadata["annotations"] = dict(annotations)
        return metadata

    def _opts(self, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self, provider=self._args.provider, depends_on=[*self._args.after, *depends_on]
        )
