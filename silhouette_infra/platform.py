"""The platform in dependency order: each layer receives the outputs of the layers before it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from silhouette_infra.apps.component import Apps, AppsArgs, Endpoints
from silhouette_infra.apps.namespaces import PlatformNamespaces, PlatformNamespacesArgs
from silhouette_infra.audit import Audit, AuditArgs
from silhouette_infra.aws.naming import Naming
from silhouette_infra.backup import (
    COMPLETION_WINDOW_MINUTES,
    DATABASE_PITR_RPO_MINUTES,
    REPLICATION_TIME_MINUTES,
    SNAPSHOT_INTERVAL_HOURS,
    START_WINDOW_MINUTES,
    Backup,
    BackupArgs,
)
from silhouette_infra.cluster.addons import ClusterAddons, ClusterAddonsArgs, system_placement
from silhouette_infra.cluster.eks import Cluster, ClusterArgs
from silhouette_infra.data.common import DataPlacement
from silhouette_infra.data.neo4j import Neo4j, Neo4jArgs, backup_prefix
from silhouette_infra.data.postgres import Postgres, PostgresArgs
from silhouette_infra.data.rabbitmq import RabbitMq, RabbitMqArgs
from silhouette_infra.data.redis import Redis, RedisArgs
from silhouette_infra.edge import Edge, EdgeArgs
from silhouette_infra.keys import Keys, KeysArgs
from silhouette_infra.network.component import Network, NetworkArgs
from silhouette_infra.observability.alarms import Alarms, AlarmsArgs
from silhouette_infra.observability.stack import RECEIVERS_SECRET, Monitoring, MonitoringArgs
from silhouette_infra.observability.tracing import otlp_endpoint
from silhouette_infra.planning.operations import BackupSchedule, recovery_outputs, secret_policy
from silhouette_infra.providers import AwsProviders, build_aws_providers
from silhouette_infra.registry import Registry, RegistryArgs
from silhouette_infra.settings.models import Settings
from silhouette_infra.validation.rules import availability_zone_names


@dataclass(frozen=True)
class _Foundation:
    """The stack's naming, providers and account, and the layers everything else stands on."""

    naming: Naming
    providers: AwsProviders
    account_id: pulumi.Output[str]
    keys: Keys
    network: Network
    cluster: Cluster
    addons: ClusterAddons
    namespaces: PlatformNamespaces
    backup: Backup


@dataclass(frozen=True)
class _DataServices:
    postgres: Postgres
    redis: Redis
    rabbitmq: RabbitMq
    neo4j: Neo4j


@dataclass(frozen=True)
class _Front:
    edge: Edge
    registry: Registry
    apps: Apps


def build_platform(settings: Settings, stack: str) -> dict[str, Any]:
    """Declare every layer for ``stack``, in dependency order, and return the stack outputs."""
    foundation = _foundation(settings, stack)
    data = _data_services(settings, foundation)
    front = _front(settings, foundation, data)
    audit, alarms = _operations(settings, foundation, data, front)
    return _outputs(settings, foundation, data, front, audit, alarms)


def _foundation(settings: Settings, stack: str) -> _Foundation:
    """Providers, the account, keys, network, cluster with its add-ons, namespaces and backup."""
    naming = Naming(stack)
    providers = build_aws_providers(settings, stack)
    aws_primary = pulumi.ResourceOptions(providers={"aws": providers.primary})
    region = settings.aws.region
    # One STS lookup for every layer that names the account (key policies, bucket names, confused-deputy
    # conditions), through the stack's provider so it is the account allowed_account_ids pins.
    account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=providers.primary)).account_id

    keys = Keys(
        "keys",
        KeysArgs(
            settings=settings.keys,
            naming=naming,
            region=region,
            account_id=account_id,
            protect=settings.protect_stateful,
        ),
        opts=aws_primary,
    )
    network = Network(
        "network",
        NetworkArgs(
            settings=settings.network,
            naming=naming,
            region=region,
            availability_zones=availability_zone_names(settings),
            logs_key_arn=keys.arns.logs,
            account_id=account_id,
        ),
        opts=aws_primary,
    )
    cluster, addons = _cluster(settings, naming, account_id, keys, network, aws_primary)
    namespaces = PlatformNamespaces(
        "namespaces",
        PlatformNamespacesArgs(
            stack=stack,
            apps=settings.apps,
            provider=cluster.provider,
            cluster_ready=[*cluster.ready, addons],
            vpc_cidr=settings.network.vpc_cidr,
            layout=network.layout,
            peered_cidrs=settings.network.peered_cidrs,
        ),
        opts=aws_primary,
    )
    backup = Backup(
        "backup",
        BackupArgs(
            settings=settings.backup,
            naming=naming,
            region=region,
            account_id=account_id,
            dr_region=settings.aws.dr_region,
            backups_key_arn=keys.arns.backups,
            dr_provider=providers.dr,
            protect=settings.protect_stateful,
        ),
        opts=aws_primary,
    )
    return _Foundation(naming, providers, account_id, keys, network, cluster, addons, namespaces, backup)


def _cluster(
    settings: Settings,
    naming: Naming,
    account_id: pulumi.Output[str],
    keys: Keys,
    network: Network,
    aws_primary: pulumi.ResourceOptions,
) -> tuple[Cluster, ClusterAddons]:
    """The EKS cluster in the private subnets, then its add-ons (load balancer controller, autoscaler,
    metrics, External Secrets, the encrypted default StorageClass)."""
    region = settings.aws.region
    cluster = Cluster(
        "cluster",
        ClusterArgs(
            settings=settings.cluster,
            naming=naming,
            region=region,
            vpc_id=network.vpc_id,
            private_subnet_ids=network.private_subnet_ids,
            cluster_key_arn=keys.arns.cluster,
            ebs_key_arn=keys.arns.ebs,
            logs_key_arn=keys.arns.logs,
        ),
        opts=aws_primary,
    )
    addons = ClusterAddons(
        "cluster-addons",
        ClusterAddonsArgs(
            settings=settings.cluster_addons,
            cluster_settings=settings.cluster,
            naming=naming,
            region=region,
            account_id=account_id,
            cluster_name=cluster.name,
            vpc_id=network.vpc_id,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            ebs_key_arn=keys.arns.ebs,
            secrets_key_arn=keys.arns.databases,
            provider=cluster.provider,
            cluster_ready=cluster.ready,
            retain_volumes=settings.protect_stateful,
        ),
        opts=aws_primary,
    )
    return cluster, addons


def _data_services(settings: Settings, foundation: _Foundation) -> _DataServices:
    """PostgreSQL, Redis and RabbitMQ in the isolated subnets; Neo4j in the cluster."""
    naming, providers, keys, network, cluster = (
        foundation.naming,
        foundation.providers,
        foundation.keys,
        foundation.network,
        foundation.cluster,
    )
    addons, namespaces, backup, region = (
        foundation.addons,
        foundation.namespaces,
        foundation.backup,
        settings.aws.region,
    )
    data = pulumi.ResourceOptions(providers={"aws": providers.primary, "random": providers.random})
    placement = vars(
        DataPlacement(
            naming=naming,
            vpc_id=network.vpc_id,
            subnet_ids=network.isolated_subnet_ids,
            node_security_group_id=cluster.node_security_group_id,
            kms_key_arn=keys.arns.databases,
            logs_key_arn=keys.arns.logs,
            log_retention_days=settings.observability.service_log_retention_days,
            protect=settings.protect_stateful,
        )
    )
    postgres = Postgres(
        "postgres",
        PostgresArgs(
            **placement,
            settings=settings.postgres,
            dr_provider=providers.dr,
            dr_key_arn=backup.dr_key_arn if settings.backup.copy_to_dr_region else None,
        ),
        opts=data,
    )
    redis = Redis("redis", RedisArgs(**placement, settings=settings.redis), opts=data)
    rabbitmq = RabbitMq("rabbitmq", RabbitMqArgs(**placement, settings=settings.rabbitmq), opts=data)
    neo4j = Neo4j(
        "neo4j",
        Neo4jArgs(
            settings=settings.neo4j,
            naming=naming,
            region=region,
            provider=cluster.provider,
            cluster_ready=cluster.ready,
            secret_store_name=addons.secret_store_name,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            credentials_key_arn=keys.arns.databases,
            backup_bucket=backup.bucket_name,
            backup_bucket_arn=backup.bucket_arn,
            backup_kms_key_arn=keys.arns.backups,
            ebs_key_arn=keys.arns.ebs,
            app_namespace=namespaces.app_namespace,
            storage_class=addons.storage_class_name,
            protect=settings.protect_stateful,
        ),
        opts=data,
    )
    return _DataServices(postgres, redis, rabbitmq, neo4j)


def _front(settings: Settings, foundation: _Foundation, data: _DataServices) -> _Front:
    """Certificate, WAF and DNS; the image repositories; the backend and frontend behind the ALB."""
    naming, keys, cluster, addons = foundation.naming, foundation.keys, foundation.cluster, foundation.addons
    namespaces, backup, region = foundation.namespaces, foundation.backup, settings.aws.region
    postgres, redis, rabbitmq, neo4j = data.postgres, data.redis, data.rabbitmq, data.neo4j
    aws_primary = pulumi.ResourceOptions(providers={"aws": foundation.providers.primary})
    edge = Edge(
        "edge",
        EdgeArgs(
            settings=settings.edge,
            naming=naming,
            logs_key_arn=keys.arns.logs,
            log_retention_days=settings.edge.waf_log_retention_days,
        ),
        opts=aws_primary,
    )
    registry = Registry(
        "registry",
        RegistryArgs(
            settings=settings.registry,
            naming=naming,
            key_arn=keys.arns.registry,
            protect=settings.protect_stateful,
        ),
        opts=aws_primary,
    )

    apps = Apps(
        "apps",
        AppsArgs(
            settings=settings.apps,
            environment=settings.environment,
            region=region,
            domain=settings.edge.domain,
            naming=naming,
            namespace=namespaces.app_namespace,
            provider=cluster.provider,
            ready=[*cluster.ready, addons, *namespaces.ready],
            secret_store_name=addons.secret_store_name,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            backup_bucket=backup.bucket_name,
            backup_bucket_arn=backup.bucket_arn,
            backups_key_arn=keys.arns.backups,
            endpoints=Endpoints(
                postgres_host=postgres.endpoint,
                postgres_port=postgres.port,
                postgres_secret_arn=postgres.secret_arn,
                redis_host=redis.endpoint,
                redis_port=redis.port,
                rabbitmq_endpoint=rabbitmq.endpoint,
                neo4j_uri=f"bolt://{neo4j.service_host}:{neo4j.bolt_port}",
                otlp_endpoint=otlp_endpoint(namespaces.monitoring_namespace),
            ),
            certificate_arn=edge.certificate_arn,
            web_acl_arn=edge.web_acl_arn,
            repository_urls=registry.repository_urls,
        ),
        opts=aws_primary,
    )
    edge.dns_record(apps.alb_hostname, region)
    return _Front(edge, registry, apps)


def _operations(
    settings: Settings, foundation: _Foundation, data: _DataServices, front: _Front
) -> tuple[Audit, Alarms]:
    """Monitoring in the cluster, the account's audit services and the managed services' alarms."""
    naming, keys, cluster, addons = foundation.naming, foundation.keys, foundation.cluster, foundation.addons
    namespaces, account_id, region = foundation.namespaces, foundation.account_id, settings.aws.region
    providers = foundation.providers
    aws_primary = pulumi.ResourceOptions(providers={"aws": providers.primary})
    data_options = pulumi.ResourceOptions(providers={"aws": providers.primary, "random": providers.random})
    postgres, redis, rabbitmq, apps = data.postgres, data.redis, data.rabbitmq, front.apps
    Monitoring(
        "monitoring",
        MonitoringArgs(
            settings=settings.observability,
            naming=naming,
            namespace=namespaces.monitoring_namespace,
            app_namespace=namespaces.app_namespace,
            vpc_cidr=settings.network.vpc_cidr,
            service_cidr=settings.cluster.service_ipv4_cidr,
            provider=cluster.provider,
            ready=[*cluster.ready, addons, *namespaces.ready],
            secret_store_name=addons.secret_store_name,
            storage_class=addons.storage_class_name,
            system_placement=system_placement(settings.cluster),
            secrets_key_arn=keys.arns.databases,
            protect=settings.protect_stateful,
            region=region,
            environment=settings.environment,
            logs_key_arn=keys.arns.logs,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
        ),
        opts=data_options,
    )
    audit = Audit(
        "audit",
        AuditArgs(
            settings=settings.audit,
            naming=naming,
            region=region,
            account_id=account_id,
            logs_key_arn=keys.arns.logs,
            protect=settings.protect_stateful,
            require_multi_az_databases=settings.postgres.multi_az,
        ),
        opts=aws_primary,
    )
    alarms = Alarms(
        "alarms",
        AlarmsArgs(
            observability=settings.observability,
            postgres=settings.postgres,
            redis=settings.redis,
            rabbitmq=settings.rabbitmq,
            region=region,
            key_deletion_window_days=settings.keys.deletion_window_days,
            naming=naming,
            account_id=account_id,
            postgres_identifier=postgres.identifier,
            redis_replication_group_id=redis.replication_group_id,
            rabbitmq_broker_name=rabbitmq.broker_name,
            load_balancer_name=apps.load_balancer_ready_name,
            protect=settings.protect_stateful,
        ),
        opts=aws_primary,
    )
    return audit, alarms


def _outputs(
    settings: Settings, foundation: _Foundation, data: _DataServices, front: _Front, audit: Audit, alarms: Alarms
) -> dict[str, Any]:
    """Every identifier the operators and the pipeline need, as stack outputs."""
    network, keys, cluster, namespaces, backup = (
        foundation.network,
        foundation.keys,
        foundation.cluster,
        foundation.namespaces,
        foundation.backup,
    )
    postgres, redis, rabbitmq, neo4j = data.postgres, data.redis, data.rabbitmq, data.neo4j
    edge, registry, apps = front.edge, front.registry, front.apps
    region = settings.aws.region
    return {
        "region": region,
        "dr_region": settings.aws.dr_region,
        "vpc_id": network.vpc_id,
        "public_subnet_ids": network.public_subnet_ids,
        "private_subnet_ids": network.private_subnet_ids,
        "isolated_subnet_ids": network.isolated_subnet_ids,
        "kms_key_arns": keys.arns.by_purpose(),
        "cluster_name": cluster.name,
        "cluster_endpoint": cluster.endpoint,
        "kubeconfig": cluster.kubeconfig,
        "oidc_provider_arn": cluster.oidc_provider_arn,
        "node_security_group_id": cluster.node_security_group_id,
        "repository_urls": registry.repository_urls,
        "postgres_endpoint": postgres.endpoint,
        "postgres_port": postgres.port,
        "postgres_secret_arn": postgres.secret_arn,
        "redis_endpoint": redis.endpoint,
        "redis_reader_endpoint": redis.reader_endpoint,
        "redis_port": redis.port,
        "redis_secret_arn": redis.secret_arn,
        "rabbitmq_endpoint": rabbitmq.endpoint,
        "rabbitmq_port": rabbitmq.port,
        "rabbitmq_secret_arn": rabbitmq.secret_arn,
        "trail_arn": audit.trail_arn,
        "audit_bucket": audit.audit_bucket_name,
        "alarm_topic_arn": alarms.topic_arn,
        "url": apps.url,
        "app_namespace": namespaces.app_namespace,
        "release": apps.release,
        "certificate_validation_records": edge.validation_records,
        "neo4j_endpoint": f"bolt://{neo4j.service_host}:{neo4j.bolt_port}",
        "neo4j_secret_arn": neo4j.secret_arn,
        "backup_bucket": backup.bucket_name,
        "backup_vault_arn": backup.vault_arn,
        "dr_backup_vault_arn": backup.dr_vault_arn,
        # What `silhouette-ops` (silhouette_infra/ops) reads besides the above (README, Operations).
        "postgres_identifier": postgres.identifier,
        "redis_replication_group_id": redis.replication_group_id,
        "rabbitmq_broker_name": rabbitmq.broker_name,
        "node_group_names": [group.node_group_name for group in cluster.node_groups],
        "load_balancer_name": apps.load_balancer_ready_name,
        "backup_vault_name": backup.vault_name,
        "dr_backup_vault_name": backup.dr_vault_name,
        "neo4j_backup_prefix": backup_prefix(foundation.naming.stack),
        "backup_selection_tag": foundation.naming.backup_tag(),
        "recovery": recovery_outputs(
            settings,
            BackupSchedule(
                aws_backup_interval_minutes=SNAPSHOT_INTERVAL_HOURS * 60,
                aws_backup_start_window_minutes=START_WINDOW_MINUTES,
                aws_backup_completion_window_minutes=COMPLETION_WINDOW_MINUTES,
                database_pitr_lag_minutes=DATABASE_PITR_RPO_MINUTES,
                bucket_replication_minutes=REPLICATION_TIME_MINUTES,
            ),
        ),
        "secrets": _secrets(settings, foundation, data),
    }


def _secrets(settings: Settings, foundation: _Foundation, data: _DataServices) -> dict[str, Any]:
    """Every Secrets Manager secret of the stack (ARN, or name where the layer keeps no handle) with its
    rotation policy. RDS rotates the PostgreSQL master secret itself; the others change by hand (README,
    "Where credentials live")."""
    policy, naming = settings.secrets, foundation.naming
    return {
        "postgres": secret_policy(policy, data.postgres.secret_arn, "rds"),
        "redis": secret_policy(policy, data.redis.secret_arn, "operator"),
        "rabbitmq": secret_policy(policy, data.rabbitmq.secret_arn, "operator"),
        "neo4j": secret_policy(policy, data.neo4j.secret_arn, "operator"),
        "grafana-admin": secret_policy(policy, naming.secret("grafana-admin"), "operator"),
        RECEIVERS_SECRET: secret_policy(policy, naming.secret(RECEIVERS_SECRET), "operator"),
    }
