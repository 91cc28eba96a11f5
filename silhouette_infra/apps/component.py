"""The application: backend and frontend web services, their credentials, migrations and the ingress."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from silhouette_infra.apps.web_service import (
    HTTP_PORT,
    RUN_AS,
    SECRETS_DIR,
    TAG_PINNING_REASON,
    WebService,
    WebServiceArgs,
)
from silhouette_infra.apps.worker import Worker, WorkerArgs
from silhouette_infra.aws.context import LayerArgs
from silhouette_infra.aws.iam import own_prefix_policy
from silhouette_infra.aws.roles import prefix_writer_role
from silhouette_infra.cluster.handle import ClusterHandle
from silhouette_infra.kubernetes.declare import declare
from silhouette_infra.kubernetes.external_secrets import EXTERNAL_SECRETS_API_VERSION, external_secret_spec
from silhouette_infra.kubernetes.images import in_stack_repository
from silhouette_infra.kubernetes.labels import PART_OF
from silhouette_infra.kubernetes.workloads import (
    Container,
    Image,
    RepositoryImage,
    Resources,
    VolumeMount,
    checkov_skips,
    image_reference,
    job_spec,
    pod_template,
    secret_volume,
    tag_pinning_reasons,
)
from silhouette_infra.namespaces.component import PlatformNamespaces
from silhouette_infra.planning.release import NAME_LABEL, ReleasePlan, migration_job_name, plan_release
from silhouette_infra.settings.models import AppsSettings, Environment

# TLS 1.3, and TLS 1.2 only with forward-secret AEAD ciphers (the "Res" policy drops the weaker ones).
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
MIGRATIONS = "backend-migrations"
# The services whose credentials the backend mounts: each is the Kubernetes Secret `<service>-credentials`,
# materialised by External Secrets from the Secrets Manager secret of that service (username, password).
CREDENTIALS = ("postgres", "redis", "rabbitmq", "neo4j")


def backend_policy(*, bucket_arn: str, kms_key_arn: str, stack: str, region: str) -> dict[str, Any]:
    """The backend writes and reads workflow artefacts under its prefix of the backup bucket, and nothing else."""
    return own_prefix_policy(
        sid="WriteOwnPrefix",
        bucket_arn=bucket_arn,
        prefix=f"app/{stack}/",
        actions=["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"],
        kms_key_arn=kms_key_arn,
        region=region,
    )


def ingress_annotations(
    *, certificate_arn: str, web_acl_arn: str, plan: ReleasePlan, production: bool, load_balancer_name: str
) -> dict[str, str]:
    """ALB: internet-facing, HTTPS only with TLS 1.3, HTTP redirected, WAF attached, weighted canary; a
    fixed name, by which the alarms find its metrics."""
    if not re.fullmatch(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?", load_balancer_name):
        raise ValueError(f"ALB name {load_balancer_name!r}: 1-32 letters, digits and inner hyphens")
    attributes = ["routing.http.drop_invalid_header_fields.enabled=true"]
    if production:
        attributes.append("deletion_protection.enabled=true")
    annotations = {
        "alb.ingress.kubernetes.io/load-balancer-name": load_balancer_name,
        "alb.ingress.kubernetes.io/scheme": "internet-facing",
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/listen-ports": json.dumps([{"HTTP": 80}, {"HTTPS": 443}]),
        "alb.ingress.kubernetes.io/ssl-redirect": "443",
        "alb.ingress.kubernetes.io/certificate-arn": certificate_arn,
        "alb.ingress.kubernetes.io/ssl-policy": TLS_POLICY,
        "alb.ingress.kubernetes.io/wafv2-acl-arn": web_acl_arn,
        "alb.ingress.kubernetes.io/load-balancer-attributes": ",".join(attributes),
    }
    if plan.canary_weight_percent is not None:
        weight = plan.canary_weight_percent
        annotations["alb.ingress.kubernetes.io/actions.backend-weighted"] = json.dumps(
            {
                "type": "forward",
                "forwardConfig": {
                    "targetGroups": [
                        {"serviceName": "backend", "servicePort": str(HTTP_PORT), "weight": 100 - weight},
                        {"serviceName": "backend-canary", "servicePort": str(HTTP_PORT), "weight": weight},
                    ]
                },
            }
        )
    return annotations


def ingress_rules(domain: str, plan: ReleasePlan) -> list[dict[str, Any]]:
    """``/api`` to the backend (through the weighted action during a canary), everything else to the frontend."""
    api_backend = (
        {"service": {"name": "backend-weighted", "port": {"name": "use-annotation"}}}
        if plan.canary_weight_percent is not None
        else {"service": {"name": "backend", "port": {"number": HTTP_PORT}}}
    )
    return [
        {
            "host": domain,
            "http": {
                "paths": [
                    {"path": "/api", "pathType": "Prefix", "backend": api_backend},
                    {
                        "path": "/",
                        "pathType": "Prefix",
                        "backend": {"service": {"name": "frontend", "port": {"number": HTTP_PORT}}},
                    },
                ]
            },
        }
    ]


def _load_balancer_hostname(status: Any) -> str:
    """The ALB's DNS name from the Ingress status ("" until the controller has created it)."""
    try:
        return str(status.load_balancer.ingress[0].hostname or "")
    except (AttributeError, IndexError, TypeError):
        return ""


@dataclass
class Endpoints:
    postgres_host: pulumi.Input[str]
    postgres_port: int
    postgres_secret_arn: pulumi.Input[str]
    redis_host: pulumi.Input[str]
    redis_port: int
    rabbitmq_endpoint: pulumi.Input[str]
    neo4j_uri: str
    otlp_endpoint: str  # the OpenTelemetry Collector (gRPC OTLP)


@dataclass
class AppsArgs(LayerArgs):
    settings: AppsSettings
    environment: Environment
    domain: str  # the public hostname (edge.domain)
    cluster: ClusterHandle
    namespaces: PlatformNamespaces
    backup_bucket: pulumi.Input[str]
    backup_bucket_arn: pulumi.Input[str]
    backups_key_arn: pulumi.Input[str]
    endpoints: Endpoints
    certificate_arn: pulumi.Input[str]
    web_acl_arn: pulumi.Input[str]
    repository_urls: Mapping[str, pulumi.Input[str]]  # the stack's ECR repositories by name
    queues: list[str]  # the broker's queues (rabbitmq.queues), declared by the backend at start

    @property
    def namespace(self) -> str:
        return self.namespaces.app_namespace

    @property
    def ready(self) -> list[pulumi.Resource]:
        return self.namespaces.workloads_ready


class Apps(pulumi.ComponentResource):
    """Backend and frontend, their credentials and migrations, and the ALB ingress."""

    url: str
    release: dict[str, Any]  # strategy, colour, canary weight and the image each Deployment pulls
    ingress: k8s.networking.v1.Ingress
    alb_hostname: pulumi.Output[str]  # the ALB the load balancer controller created for the Ingress
    load_balancer_name: str  # the ALB's name (at most 32 characters)
    load_balancer_ready_name: pulumi.Output[str]  # the same, known only once the Ingress reports the ALB

    def __init__(self, name: str, args: AppsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:apps:Apps", name, None, opts)
        self._args = args
        apps = args.settings
        backend_plan = plan_release("backend", apps.backend, apps)
        frontend_plan = plan_release("frontend", apps.frontend, apps)
        self._images = {
            name: {setting: self._image(name, setting) for setting in plan.images}
            for name, plan in (("backend", backend_plan), ("frontend", frontend_plan))
        }

        credentials = self._credentials()
        shared_config = self._shared_config()
        backend_config = self._backend_config(shared_config)
        role_arn = self._artefact_role_arn("backend", "Silhouette backend")
        migrations = self._migrations(backend_plan, backend_config, credentials)
        backend = self._backend(backend_plan, backend_config, role_arn, migrations, credentials)
        self._worker(backend_plan, backend_config, migrations, credentials)
        frontend = self._frontend(frontend_plan, shared_config)
        self.load_balancer_name = args.naming.physical("alb")
        self.ingress = self._ingress(backend_plan, backend, frontend)
        self.alb_hostname = self.ingress.status.apply(_load_balancer_hostname)
        # Pulumi waits for an Ingress to report its load balancer: the name resolves after the ALB exists.
        self.load_balancer_ready_name = self.alb_hostname.apply(lambda _: self.load_balancer_name)
        self.url = f"https://{args.domain}"
        self.release = self._release(backend_plan)
        self.register_outputs({"url": self.url, "release": self.release})

    def _shared_config(self) -> dict[str, str]:
        """What both web services are told: where they run, their public URL and the feature flags."""
        args = self._args
        flags = args.settings.feature_flags
        return {
            "ENVIRONMENT": args.environment,
            "AWS_REGION": args.region,
            "PUBLIC_URL": f"https://{args.domain}",
            "ENABLE_AI_ML": str(flags.enable_ai_ml).lower(),
            "ENABLE_COLLABORATION": str(flags.enable_collaboration).lower(),
            "ENABLE_COMPLIANCE": str(flags.enable_compliance).lower(),
            "ENABLE_ADVANCED_MONITORING": str(flags.enable_advanced_monitoring).lower(),
        }

    def _backend_config(self, shared_config: Mapping[str, str]) -> dict[str, pulumi.Input[str]]:
        """The shared settings, the data services' endpoints, the artefact prefix and the tracing settings."""
        args = self._args
        endpoints = args.endpoints
        return {
            **shared_config,
            "POSTGRES_HOST": endpoints.postgres_host,
            "POSTGRES_PORT": str(endpoints.postgres_port),
            "POSTGRES_DB": "silhouette",
            "POSTGRES_SSLMODE": "verify-full",
            "REDIS_HOST": endpoints.redis_host,
            "REDIS_PORT": str(endpoints.redis_port),
            "REDIS_TLS": "true",
            "RABBITMQ_URL": endpoints.rabbitmq_endpoint,
            "RABBITMQ_QUEUES": ",".join(args.queues),
            "DATABASE_POOL_SIZE": str(args.settings.throughput.backend_database_pool_size),
            "NEO4J_URI": endpoints.neo4j_uri,
            "ARTIFACT_BUCKET": args.backup_bucket,
            "ARTIFACT_PREFIX": f"app/{args.naming.stack}/",
            # OpenTelemetry SDK settings (the standard variables): every span to the collector, which samples.
            "OTEL_SERVICE_NAME": "backend",
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoints.otlp_endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_TRACES_SAMPLER": "parentbased_always_on",
            "OTEL_PROPAGATORS": "tracecontext,baggage",
            "OTEL_RESOURCE_ATTRIBUTES": f"deployment.environment={args.environment}",
        }

    def _artefact_role_arn(self, service: str, who: str) -> pulumi.Output[str]:
        """The IRSA role of ``service``'s ServiceAccount, which may use the stack's prefix of the backup bucket
        (``backend_policy``): workflow artefacts, written by the backend and the workers."""
        args = self._args
        return prefix_writer_role(
            service,
            naming=args.naming,
            oidc=args.cluster.oidc,
            namespace=args.namespace,
            service_account=service,
            description=f"{who}: writes workflow artefacts to its prefix of the backup bucket",
            bucket_arn=args.backup_bucket_arn,
            kms_key_arn=args.backups_key_arn,
            policy=lambda bucket, key: backend_policy(
                bucket_arn=bucket, kms_key_arn=key, stack=args.naming.stack, region=args.region
            ),
            parent=self,
        ).arn

    def _worker(
        self,
        plan: ReleasePlan,
        backend_config: Mapping[str, pulumi.Input[str]],
        migrations: dict[str, list[pulumi.Resource]],
        credentials: list[pulumi.Resource],
    ) -> Worker:
        """The workflow workers: the backend's serving image and settings, their own queue, pool and role."""
        args = self._args
        worker, image = args.settings.worker, plan.serving_image
        return Worker(
            "worker",
            WorkerArgs(
                namespace=args.namespace,
                settings=worker,
                image=self._images["backend"][image],
                provider=args.cluster.provider,
                config={
                    **backend_config,
                    "WORKER_QUEUE": worker.queue,
                    "DATABASE_POOL_SIZE": str(args.settings.throughput.worker_database_pool_size),
                    "OTEL_SERVICE_NAME": "worker",
                },
                secret_files=[f"{service}-credentials" for service in CREDENTIALS],
                role_arn=self._artefact_role_arn("worker", "Silhouette workflow workers"),
                secret_store=args.cluster.secret_store_name,
                rabbitmq_secret=args.naming.secret("rabbitmq"),
                rabbitmq_endpoint=args.endpoints.rabbitmq_endpoint,
                after=[*args.ready, *credentials, *migrations.get(image, ())],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _backend(
        self,
        plan: ReleasePlan,
        config: dict[str, pulumi.Input[str]],
        role_arn: pulumi.Input[str],
        migrations: dict[str, list[pulumi.Resource]],
        credentials: list[pulumi.Resource],
    ) -> WebService:
        """The backend: every credential mounted, its IRSA role, each Deployment after its image's migration."""
        args = self._args
        return WebService(
            "backend",
            WebServiceArgs(
                name="backend",
                namespace=args.namespace,
                settings=args.settings.backend,
                plan=plan,
                provider=args.cluster.provider,
                config=config,
                secret_files=[f"{service}-credentials" for service in CREDENTIALS],
                images=self._images["backend"],
                role_arn=role_arn,
                depends_on=migrations,
                after=[*args.ready, *credentials],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _frontend(self, plan: ReleasePlan, shared_config: Mapping[str, str]) -> WebService:
        """The frontend: no credentials, no AWS role; it calls the backend through ``/api``."""
        args = self._args
        return WebService(
            "frontend",
            WebServiceArgs(
                name="frontend",
                namespace=args.namespace,
                settings=args.settings.frontend,
                plan=plan,
                provider=args.cluster.provider,
                config={**shared_config, "API_BASE_URL": "/api"},
                images=self._images["frontend"],
                after=args.ready,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _ingress(
        self, backend_plan: ReleasePlan, backend: WebService, frontend: WebService
    ) -> k8s.networking.v1.Ingress:
        """The ALB Ingress (``ingress_annotations``, ``ingress_rules``), after both web services."""
        args = self._args
        production = args.environment == "production"
        return declare(
            k8s.networking.v1.Ingress,
            "ingress",
            metadata={
                "name": "silhouette",
                "namespace": args.namespace,
                "labels": dict(PART_OF),
                "annotations": pulumi.Output.all(args.certificate_arn, args.web_acl_arn).apply(
                    lambda values: ingress_annotations(
                        certificate_arn=values[0],
                        web_acl_arn=values[1],
                        plan=backend_plan,
                        production=production,
                        load_balancer_name=self.load_balancer_name,
                    )
                ),
            },
            spec={"ingressClassName": "alb", "rules": ingress_rules(args.domain, backend_plan)},
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.cluster.provider, depends_on=[backend, frontend, *args.ready]
            ),
        )

    def _release(self, backend_plan: ReleasePlan) -> dict[str, Any]:
        """The release output: strategy, active colour, canary weight and the image of each backend variant."""
        return {
            "strategy": self._args.settings.release.strategy,
            "active_color": backend_plan.active_color,
            "canary_weight_percent": backend_plan.canary_weight_percent,
            "images": {
                variant.name: image_reference(self._images["backend"][variant.image])
                for variant in backend_plan.variants
            },
        }

    def _image(self, workload: str, setting: str) -> Image:
        """An image setting as the pods pull it: a tag or digest in the stack's own ECR repository, or a
        full reference from an allowed registry (both validated by the settings)."""
        if in_stack_repository(setting):
            return RepositoryImage(self._args.repository_urls[workload], setting)
        return setting

    def _k8s(self, *after: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self, provider=self._args.cluster.provider, depends_on=[*self._args.ready, *after]
        )

    def _credentials(self) -> list[pulumi.Resource]:
        """ExternalSecrets: each Kubernetes Secret is materialised from one Secrets Manager secret."""
        args = self._args
        sources: dict[str, pulumi.Input[str]] = {
            "postgres": args.endpoints.postgres_secret_arn,
            **{service: args.naming.secret(service) for service in CREDENTIALS if service != "postgres"},
        }
        secrets: list[pulumi.Resource] = []
        for service, source in sources.items():
            secrets.append(
                k8s.apiextensions.CustomResource(
                    f"{service}-credentials",
                    api_version=EXTERNAL_SECRETS_API_VERSION,
                    kind="ExternalSecret",
                    metadata={"name": f"{service}-credentials", "namespace": args.namespace, "labels": dict(PART_OF)},
                    spec=external_secret_spec(
                        store=args.cluster.secret_store_name,
                        target=f"{service}-credentials",
                        source=source,
                        keys=("username", "password"),
                        deletion_policy="Retain",
                    ),
                    opts=self._k8s(),
                )
            )
        return secrets

    def _migrations(
        self,
        plan: ReleasePlan,
        config: dict[str, pulumi.Input[str]],
        credentials: list[pulumi.Resource],
    ) -> dict[str, list[pulumi.Resource]]:
        """One Job per backend image, run before any Deployment of that image (Pulumi waits for it to
        complete). Migrations must be backward compatible (expand, then contract a release later), as the
        previous version keeps serving until the rollout finishes."""
        args = self._args
        account = k8s.core.v1.ServiceAccount(
            "migrations-service-account",
            metadata={"name": MIGRATIONS, "namespace": args.namespace, "labels": {NAME_LABEL: MIGRATIONS, **PART_OF}},
            automount_service_account_token=False,
            opts=self._k8s(),
        )
        database_env = {key: value for key, value in config.items() if key.startswith(("POSTGRES_", "ENVIRONMENT"))}
        jobs: dict[str, list[pulumi.Resource]] = {}
        for setting, image in self._images["backend"].items():
            name = migration_job_name(setting)
            labels = {NAME_LABEL: MIGRATIONS, **PART_OF}
            container = Container(
                name="migrate",
                image=image,
                args=("migrate",),
                resources=Resources(cpu_request="500m", cpu_limit="500m", memory_request="512Mi", memory_limit="512Mi"),
                env={**database_env, "SECRETS_DIR": SECRETS_DIR},
                volume_mounts=(VolumeMount("postgres-credentials", f"{SECRETS_DIR}/postgres-credentials", True),),
                writable_paths={"/tmp": "64Mi"},
            )
            template = pod_template(
                labels=labels,
                containers=[container],
                service_account=MIGRATIONS,
                run_as_user=RUN_AS,
                run_as_group=RUN_AS,
                fs_group=RUN_AS,
                restart_policy="Never",
                volumes=[secret_volume("postgres-credentials", "postgres-credentials")],
            )
            job = declare(
                k8s.batch.v1.Job,
                name,
                metadata={
                    "name": name,
                    "namespace": args.namespace,
                    "labels": labels,
                    "annotations": {
                        "silhouette.io/image": image_reference(image),
                        **checkov_skips(tag_pinning_reasons([image], TAG_PINNING_REASON)),
                    },
                },
                # No TTL: the finished Job stays so that Pulumi does not recreate (re-run) it.
                spec=job_spec(
                    template=template, backoff_limit=2, active_deadline_seconds=1800, ttl_seconds_after_finished=None
                ),
                opts=self._k8s(account, *credentials),
            )
            jobs[setting] = [job]
        return jobs
