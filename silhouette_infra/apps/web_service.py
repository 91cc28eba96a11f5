"""The one reusable web-service component: backend and frontend (and anything later) are instances.

Per service: a ServiceAccount (optionally with an IAM role and a least-privilege Role), a ConfigMap
with the environment's settings and feature flags, one Deployment + HPA + PDB per release variant
(see ``release.py``), and the Services the ingress routes to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from silhouette_infra.kubernetes.declare import declare
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
from silhouette_infra.planning.release import NAME_LABEL, ReleasePlan, Variant
from silhouette_infra.settings.models import WorkloadSettings

HTTP_PORT = 8080
METRICS_PORT = 9090
RUN_AS = 10001  # the images' unprivileged user (no name in /etc/passwd is needed)
HEALTHCHECK_ANNOTATION = "alb.ingress.kubernetes.io/healthcheck-path"
SECRETS_DIR = "/var/run/secrets/silhouette"
TAG_PINNING_REASON = (
    "the image is an exact release tag from the stack settings - reviewed in pull requests - and its "
    "digest is not known offline; append @sha256 to the image setting to pin by digest"
)


def hpa_spec(deployment: str, variant: Variant, cpu_target_percent: int) -> dict[str, Any]:
    """autoscaling/v2: scale on CPU; scale up fast, scale down slowly (5-minute stabilisation)."""
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
        "minReplicas": variant.min_replicas,
        "maxReplicas": variant.max_replicas,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": cpu_target_percent},
                },
            }
        ],
        "behavior": {
            "scaleUp": {
                "stabilizationWindowSeconds": 0,
                "policies": [{"type": "Percent", "value": 100, "periodSeconds": 30}],
            },
            "scaleDown": {
                "stabilizationWindowSeconds": 300,
                "policies": [{"type": "Percent", "value": 20, "periodSeconds": 60}],
            },
        },
    }


def pdb_spec(labels: Mapping[str, str]) -> dict[str, Any]:
    """maxUnavailable 1: a drain can always evict one pod, even at minimum replicas (never blocks every
    eviction, unlike minAvailable equal to the replica count)."""
    return {"maxUnavailable": 1, "selector": {"matchLabels": dict(labels)}}


@dataclass
class WebServiceArgs:
    name: str
    namespace: str
    settings: WorkloadSettings
    plan: ReleasePlan
    provider: k8s.Provider
    config: Mapping[str, pulumi.Input[str]]
    images: Mapping[str, Image]  # every image setting of the plan's variants, as the pods pull it
    # Kubernetes Secrets mounted read-only as files under SECRETS_DIR/<secret> (never environment variables).
    secret_files: Sequence[str] = ()
    role_arn: pulumi.Input[str] | None = None
    # RBAC rules of the service's own Role (no wildcard verbs or resources): empty means no Role at all.
    role_rules: Sequence[Mapping[str, Any]] = ()
    health_path: str = "/healthz"
    depends_on: Mapping[str, Sequence[pulumi.Resource]] = field(default_factory=dict)  # per variant image
    after: Sequence[pulumi.Resource] = ()


class WebService(pulumi.ComponentResource):
    """ServiceAccount, ConfigMap, Deployments with HPA and PDB, Services."""

    service_name: str
    canary_service_name: str | None
    deployment_names: list[str]

    def __init__(self, name: str, args: WebServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:apps:WebService", name, None, opts)
        self._args = args
        service = args.name
        automount = bool(args.role_rules)
        account_annotations = {ROLE_ARN_ANNOTATION: args.role_arn} if args.role_arn else {}
        account = declare(
            k8s.core.v1.ServiceAccount,
            f"{service}-service-account",
            metadata=self._metadata(service, annotations=account_annotations),
            automount_service_account_token=automount,
            opts=self._opts(),
        )
        if args.role_rules:
            role = declare(
                k8s.rbac.v1.Role,
                f"{service}-role",
                metadata=self._metadata(service),
                rules=list(args.role_rules),
                opts=self._opts(),
            )
            declare(
                k8s.rbac.v1.RoleBinding,
                f"{service}-role-binding",
                metadata=self._metadata(service),
                role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": service},
                subjects=[{"kind": "ServiceAccount", "name": service, "namespace": args.namespace}],
                opts=self._opts(depends_on=[role, account]),
            )
        config_name = f"{service}-config"
        self._config_checksum = pulumi.Output.from_input(dict(args.config)).apply(config_checksum)
        config = declare(
            k8s.core.v1.ConfigMap,
            f"{service}-config",
            metadata=self._metadata(config_name),
            data=dict(args.config),
            opts=self._opts(),
        )

        self.deployment_names = []
        for variant in args.plan.variants:
            self._variant(variant, service, config_name, automount, depends_on=[account, config])
            self.deployment_names.append(variant.name)

        self.service_name = service
        self._service(service, args.plan.service_selector)
        self.canary_service_name = None
        if args.plan.canary_selector:
            self.canary_service_name = f"{service}-canary"
            self._service(self.canary_service_name, args.plan.canary_selector)
        self.register_outputs({"service": self.service_name, "deployments": self.deployment_names})

    def _variant(
        self,
        variant: Variant,
        service: str,
        config_name: str,
        automount: bool,
        depends_on: list[pulumi.Resource],
    ) -> None:
        args = self._args
        workload = args.settings
        labels = {**PART_OF, **variant.labels}
        container = Container(
            name=service,
            image=args.images[variant.image],
            resources=Resources(
                cpu_request=workload.cpu_request,
                cpu_limit=workload.cpu_limit,
                memory_request=workload.memory_request,
                memory_limit=workload.memory_limit,
            ),
            ports=(("http", HTTP_PORT), ("metrics", METRICS_PORT)),
            env={"SECRETS_DIR": SECRETS_DIR},
            env_from_config_maps=(config_name,),
            volume_mounts=tuple(
                VolumeMount(secret, f"{SECRETS_DIR}/{secret}", read_only=True) for secret in args.secret_files
            ),
            startup=Probe(port="http", http_path=args.health_path, period_seconds=5, failure_threshold=24),
            readiness=Probe(port="http", http_path=args.health_path, period_seconds=5),
            liveness=Probe(port="http", http_path=args.health_path, period_seconds=10, failure_threshold=6),
            writable_paths={"/tmp": "256Mi"},
        )
        template = pod_template(
            labels=labels,
            containers=[container],
            service_account=service,
            automount_token=automount,
            run_as_user=RUN_AS,
            run_as_group=RUN_AS,
            fs_group=RUN_AS,
            spread=Spread(),
            termination_grace_seconds=45,
            # A changed ConfigMap (feature flags) changes the template, so the pods roll and read it.
            annotations={"prometheus.io/port": str(METRICS_PORT), CONFIG_CHECKSUM_ANNOTATION: self._config_checksum},
            volumes=[secret_volume(secret, secret) for secret in args.secret_files],
        )
        annotations = checkov_skips(tag_pinning_reasons([args.images[variant.image]], TAG_PINNING_REASON))
        deployment = declare(
            k8s.apps.v1.Deployment,
            variant.name,
            metadata=self._metadata(variant.name, labels=labels, annotations=annotations),
            spec=deployment_spec(labels=labels, template=template, replicas=None),
            opts=self._opts(depends_on=[*depends_on, *args.depends_on.get(variant.image, ())]),
        )
        declare(
            k8s.autoscaling.v2.HorizontalPodAutoscaler,
            f"{variant.name}-hpa",
            metadata=self._metadata(variant.name, labels=labels),
            spec=hpa_spec(variant.name, variant, workload.cpu_target_percent),
            opts=self._opts(depends_on=[deployment]),
        )
        declare(
            k8s.policy.v1.PodDisruptionBudget,
            f"{variant.name}-pdb",
            metadata=self._metadata(variant.name, labels=labels),
            spec=pdb_spec(labels),
            opts=self._opts(depends_on=[deployment]),
        )

    def _service(self, name: str, selector: Mapping[str, str]) -> None:
        declare(
            k8s.core.v1.Service,
            f"{name}-service",
            metadata=self._metadata(
                name,
                labels={NAME_LABEL: self._args.name, **PART_OF},
                annotations={HEALTHCHECK_ANNOTATION: self._args.health_path},
            ),
            spec={
                "type": "ClusterIP",
                "selector": dict(selector),
                "ports": [
                    {"name": "http", "port": HTTP_PORT, "targetPort": "http", "protocol": "TCP"},
                    {"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics", "protocol": "TCP"},
                ],
            },
            opts=self._opts(),
        )

    def _metadata(
        self,
        name: str,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, pulumi.Input[str]] | None = None,
    ) -> dict[str, Any]:
        metadata: dict[str, Any] = {
            "name": name,
            "namespace": self._args.namespace,
            "labels": dict(labels or {NAME_LABEL: self._args.name, **PART_OF}),
        }
        if annotations:
            metadata["annotations"] = dict(annotations)
        return metadata

    def _opts(self, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self, provider=self._args.provider, depends_on=[*self._args.after, *depends_on]
        )
