"""The platform in dependency order: each layer receives the outputs of the layers before it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from silhouette_infra.apps.component import Apps, AppsArgs, Endpoints
from silhouette_infra.audit import Audit, AuditArgs
from silhouette_infra.aws.context import StackContext
from silhouette_infra.aws.replication import REPLICATION_TIME_MINUTES
from silhouette_infra.backup import COMPLETION_WINDOW_MINUTES, PVC_NAMESPACE_TAG, Backup, BackupArgs
from silhouette_infra.cluster.addons import ClusterAddons, ClusterAddonsArgs
from silhouette_infra.cluster.eks import Cluster, ClusterArgs
from silhouette_infra.cluster.handle import ClusterHandle
from silhouette_infra.data.common import DataPlacement, SecretReplica
from silhouette_infra.data.neo4j import Neo4j, Neo4jArgs, backup_prefix
from silhouette_infra.data.postgres import Postgres, PostgresArgs
from silhouette_infra.data.rabbitmq import RabbitMq, RabbitMqArgs
from silhouette_infra.data.redis import Redis, RedisArgs
from silhouette_infra.edge import Edge, EdgeArgs
from silhouette_infra.exports import Exports, ExportsArgs
from silhouette_infra.keys import Keys, KeysArgs
from silhouette_infra.namespaces.component import PlatformNamespaces, PlatformNamespacesArgs
from silhouette_infra.network.component import Network, NetworkArgs
from silhouette_infra.observability.alarms import Alarms, AlarmsArgs
from silhouette_infra.observability.stack import RECEIVERS_SECRET, Monitoring, MonitoringArgs
from silhouette_infra.observability.tracing import otlp_endpoint
from silhouette_infra.planning.operations import BackupSchedule, recovery_outputs, secret_policy
from silhouette_infra.planning.recovery import (
    DATABASE_PITR_RPO_MINUTES,
    SNAPSHOT_INTERVAL_HOURS,
    START_WINDOW_MINUTES,
    standby_cluster,
)
from silhouette_infra.planning.throughput import connection_line
from silhouette_infra.providers import stack_context
from silhouette_infra.registry import Registry, RegistryArgs
from silhouette_infra.settings.models import Settings
from silhouette_infra.validation.rules import availability_zone_names


@dataclass(frozen=True)
class _Foundation:
    """The stack's context, and the layers everything else stands on."""

    context: StackContext
    keys: Keys
    network: Network
    cluster: Cluster
    k8s: ClusterHandle
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
    """Declare every layer for ``stack``, in dependency order, and return the stack outputs; for the DR region's
    standby (``recovery.mode: pilot_light`` without sources) only what the pilot light keeps running."""
    if settings.recovery.standby:
        return _standby(settings, stack)
    foundation = _foundation(settings, stack)
    data = _data_services(settings, foundation)
    front = _front(settings, foundation, data)
    audit, alarms = _operations(settings, foundation, data, front)
    return _outputs(settings, foundation, data, front, audit, alarms)


def _standby(settings: Settings, stack: str) -> dict[str, Any]:
    """The pilot light: keys, network, the EKS cluster and its add-ons with the node groups at their minimum, and
    nothing stateful. The same resources, under the same names, as the full stack that adding the recovery sources
    turns it into at a disaster (README, "Regional recovery")."""
    at_minimum = settings.model_copy(update={"cluster": standby_cluster(settings)})
    context, keys, network, cluster, _ = _core(at_minimum, stack)
    return {
        **_core_outputs(settings, keys, network, cluster),
        "recovery_mode": "pilot_light standby",
        "node_group_names": [group.node_group_name for group in cluster.node_groups],
        "backup_selection_tag": context.naming.backup_tag(),
    }


def _core_outputs(settings: Settings, keys: Keys, network: Network, cluster: Cluster) -> dict[str, Any]:
    """The outputs of the core, which the standby and the full stack share."""
    return {
        "region": settings.aws.region,
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
    }


def _core(settings: Settings, stack: str) -> tuple[StackContext, Keys, Network, Cluster, ClusterHandle]:
    """The stack context, keys, network, and the cluster with its add-ons: what the pilot light keeps running."""
    context = stack_context(settings, stack)
    keys = Keys("keys", KeysArgs(context, settings=settings.keys), opts=context.options())
    network = Network(
        "network",
        NetworkArgs(
            context,
            settings=settings.network,
            availability_zones=availability_zone_names(settings),
            logs_key_arn=keys.arns.logs,
        ),
        opts=context.options(),
    )
    cluster, k8s = _cluster(settings, context, keys, network)
    return context, keys, network, cluster, k8s


def _foundation(settings: Settings, stack: str) -> _Foundation:
    """The core (context, keys, network, cluster with its add-ons), the platform namespaces and backup."""
    context, keys, network, cluster, k8s = _core(settings, stack)
    namespaces = PlatformNamespaces(
        "namespaces",
        PlatformNamespacesArgs(
            stack=stack,
            apps=settings.apps,
            cluster=k8s,
            vpc_cidr=settings.network.vpc_cidr,
            layout=network.layout,
            peered_cidrs=settings.network.peered_cidrs,
        ),
        opts=context.options(),
    )
    backup = Backup(
        "backup",
        BackupArgs(context, settings=settings.backup, backups_key_arn=keys.arns.backups),
        opts=context.options(),
    )
    return _Foundation(context, keys, network, cluster, k8s, namespaces, backup)


def _cluster(settings: Settings, context: StackContext, keys: Keys, network: Network) -> tuple[Cluster, ClusterHandle]:
    """The EKS cluster in the private subnets, then its add-ons (load balancer controller, autoscaler,
    metrics, External Secrets, the encrypted default StorageClass); the handle the layers in it receive."""
    cluster = Cluster(
        "cluster",
        ClusterArgs(
            context,
            settings=settings.cluster,
            vpc_id=network.vpc_id,
            private_subnet_ids=network.private_subnet_ids,
            cluster_key_arn=keys.arns.cluster,
            ebs_key_arn=keys.arns.ebs,
            logs_key_arn=keys.arns.logs,
        ),
        opts=context.options(),
    )
    addons = ClusterAddons(
        "cluster-addons",
        ClusterAddonsArgs(
            context,
            settings=settings.cluster_addons,
            cluster_settings=settings.cluster,
            cluster=cluster,
            vpc_id=network.vpc_id,
            ebs_key_arn=keys.arns.ebs,
            secrets_key_arn=keys.arns.databases,
            private_subnet_cidrs=list(network.layout.private),
            isolated_subnet_cidrs=list(network.layout.isolated),
        ),
        opts=context.options(),
    )
    return cluster, ClusterHandle.of(cluster, addons, settings.cluster)


def _data_services(settings: Settings, foundation: _Foundation) -> _DataServices:
    """PostgreSQL, Redis and RabbitMQ in the isolated subnets; Neo4j in the cluster."""
    context, keys, network, backup = foundation.context, foundation.keys, foundation.network, foundation.backup
    placement = vars(
        DataPlacement(
            context,
            vpc_id=network.vpc_id,
            subnet_ids=network.isolated_subnet_ids,
            subnet_cidrs=list(network.layout.isolated),
            node_security_group_id=foundation.cluster.node_security_group_id,
            kms_key_arn=keys.arns.databases,
            logs_key_arn=keys.arns.logs,
            log_retention_days=settings.observability.service_log_retention_days,
        )
    )
    data = context.data_options()
    sources = settings.recovery.sources  # the dr stack's: its data services start from them
    postgres = Postgres(
        "postgres",
        PostgresArgs(
            **placement,
            settings=settings.postgres,
            dr_key_arn=backup.dr_key_arn if settings.backup.copy_to_dr_region else None,
            restore_from=sources,
        ),
        opts=data,
    )
    redis = Redis(
        "redis",
        RedisArgs(**placement, settings=settings.redis, seed_rdb_arn=sources.redis_rdb_object if sources else None),
        opts=data,
    )
    rabbitmq = RabbitMq("rabbitmq", RabbitMqArgs(**placement, settings=settings.rabbitmq), opts=data)
    neo4j = Neo4j(
        "neo4j",
        Neo4jArgs(
            context,
            settings=settings.neo4j,
            cluster=foundation.k8s,
            credentials_key_arn=keys.arns.databases,
            backup_bucket=backup.bucket_name,
            backup_bucket_arn=backup.bucket_arn,
            backup_kms_key_arn=keys.arns.backups,
            ebs_key_arn=keys.arns.ebs,
            app_namespace=foundation.namespaces.app_namespace,
            credentials_replica=_secret_replica(settings, backup),
            dump_object=sources.neo4j_dump_object if sources else None,
            dump_key_arn=sources.neo4j_dump_key_arn if sources else None,
        ),
        opts=data,
    )
    return _DataServices(postgres, redis, rabbitmq, neo4j)


def _secret_replica(settings: Settings, backup: Backup) -> SecretReplica | None:
    """Secrets whose value a recovery cannot regenerate are replicated to the DR region, under the DR region's
    backups key (the key that already guards every copy there), when the stack copies to the DR region."""
    if not settings.backup.copy_to_dr_region or backup.dr_key_arn is None:
        return None
    return SecretReplica(settings.aws.dr_region, backup.dr_key_arn)


def _front(settings: Settings, foundation: _Foundation, data: _DataServices) -> _Front:
    """Certificate, WAF and DNS; the image repositories; the backend and frontend behind the ALB."""
    context, keys, namespaces, backup = foundation.context, foundation.keys, foundation.namespaces, foundation.backup
    postgres, redis, rabbitmq, neo4j = data.postgres, data.redis, data.rabbitmq, data.neo4j
    edge = Edge(
        "edge",
        EdgeArgs(
            context,
            settings=settings.edge,
            logs_key_arn=keys.arns.logs,
            log_retention_days=settings.edge.waf_log_retention_days,
        ),
        opts=context.options(),
    )
    registry = Registry(
        "registry",
        RegistryArgs(context, settings=settings.registry, key_arn=keys.arns.registry),
        opts=context.options(),
    )
    apps = Apps(
        "apps",
        AppsArgs(
            context,
            settings=settings.apps,
            environment=settings.environment,
            domain=settings.edge.domain,
            cluster=foundation.k8s,
            namespaces=namespaces,
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
            queues=settings.rabbitmq.queues,
        ),
        opts=context.options(),
    )
    edge.dns_record(apps.alb_hostname, context.region)
    edge.shield(apps.load_balancer_ready_name)
    return _Front(edge, registry, apps)


def _operations(
    settings: Settings, foundation: _Foundation, data: _DataServices, front: _Front
) -> tuple[Audit, Alarms]:
    """Monitoring in the cluster, the account's audit services and the managed services' alarms."""
    context, keys = foundation.context, foundation.keys
    Monitoring(
        "monitoring",
        MonitoringArgs(
            context,
            settings=settings.observability,
            cluster=foundation.k8s,
            namespaces=foundation.namespaces,
            vpc_cidr=settings.network.vpc_cidr,
            service_cidr=settings.cluster.service_ipv4_cidr,
            secrets_key_arn=keys.arns.databases,
            environment=settings.environment,
            logs_key_arn=keys.arns.logs,
            receivers_replica=_secret_replica(settings, foundation.backup),
        ),
        opts=context.data_options(),
    )
    # What a recovery in the DR region starts from and the managed services do not copy there themselves.
    Exports(
        "exports",
        ExportsArgs(
            context,
            settings=settings.recovery,
            cluster=foundation.k8s,
            broker_secret_name=data.rabbitmq.secret_name,
            backup_bucket=foundation.backup.bucket_name,
            backup_bucket_arn=foundation.backup.bucket_arn,
            backup_kms_key_arn=keys.arns.backups,
            broker=data.rabbitmq,
            sources=settings.recovery.sources,
            redis_replication_group_id=data.redis.replication_group_id,
            redis_export_bucket=foundation.backup.redis_export_bucket_name,
            redis_export_bucket_arn=foundation.backup.redis_export_bucket_arn,
        ),
        opts=context.options(),
    )
    audit = Audit(
        "audit",
        AuditArgs(
            context,
            settings=settings.audit,
            logs_key_arn=keys.arns.logs,
            require_multi_az_databases=settings.postgres.multi_az,
        ),
        opts=context.options(),
    )
    alarms = Alarms(
        "alarms",
        AlarmsArgs(
            context,
            observability=settings.observability,
            postgres=settings.postgres,
            redis=settings.redis,
            rabbitmq=settings.rabbitmq,
            key_deletion_window_days=settings.keys.deletion_window_days,
            postgres_identifier=data.postgres.identifier,
            proxy_name=data.postgres.proxy_name,
            planned_client_connections=int(connection_line(settings).target),
            redis_replication_group_id=data.redis.replication_group_id,
            rabbitmq_broker_name=data.rabbitmq.broker_name,
            load_balancer_name=front.apps.load_balancer_ready_name,
        ),
        opts=context.options(),
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
    return {
        **_core_outputs(settings, keys, network, cluster),
        "repository_urls": registry.repository_urls,
        "postgres_endpoint": postgres.endpoint,
        "postgres_instance_endpoint": postgres.instance_endpoint,
        "postgres_identifier": postgres.identifier,
        "postgres_proxy_name": postgres.proxy_name,
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
        "redis_replication_group_id": redis.replication_group_id,
        "rabbitmq_broker_name": rabbitmq.broker_name,
        "node_group_names": [group.node_group_name for group in cluster.node_groups],
        "load_balancer_name": apps.load_balancer_ready_name,
        "backup_vault_name": backup.vault_name,
        "dr_backup_vault_name": backup.dr_vault_name,
        "neo4j_backup_prefix": backup_prefix(foundation.context.naming.stack),
        "backup_selection_tag": foundation.context.naming.backup_tag(),
        # The tags of Neo4j's volume, which the hourly plan selects (backup.py): `backups verify` finds it by them.
        "neo4j_volume_tags": {**foundation.context.naming.backup_tag(), PVC_NAMESPACE_TAG: neo4j.namespace},
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
    policy, naming = settings.secrets, foundation.context.naming
    return {
        "postgres": secret_policy(policy, data.postgres.secret_arn, "rds"),
        "redis": secret_policy(policy, data.redis.secret_arn, "operator"),
        "rabbitmq": secret_policy(policy, data.rabbitmq.secret_arn, "operator"),
        "neo4j": secret_policy(policy, data.neo4j.secret_arn, "operator"),
        "grafana-admin": secret_policy(policy, naming.secret("grafana-admin"), "operator"),
        RECEIVERS_SECRET: secret_policy(policy, naming.secret(RECEIVERS_SECRET), "operator"),
    }
