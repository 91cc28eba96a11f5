"""PostgreSQL on RDS in the isolated subnets, behind RDS Proxy: the nodes reach the proxy, the proxy the
instance, and nothing else reaches either."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from silhouette_infra.aws.iam import rds_proxy_secret_policy, service_assume_role_policy
from silhouette_infra.aws.roles import service_role
from silhouette_infra.data.common import DataPlacement, Ingress, from_nodes, service_security_group
from silhouette_infra.settings.models import PostgresSettings, RecoverySources

PORT = 5432
DATABASE = "silhouette"
MASTER_USERNAME = "silhouette_admin"
LOG_EXPORTS = ["postgresql", "upgrade"]
ENHANCED_MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"


def parameter_group_family(major_version: str) -> str:
    """RDS parameter group family of a PostgreSQL major version (postgres17 for 17)."""
    return f"postgres{major_version}"


def parameters(settings: PostgresSettings) -> dict[str, tuple[str, str]]:
    """Parameter -> (value, apply method). TLS is forced; slow statements and connections are logged."""
    return {
        "rds.force_ssl": ("1", "immediate"),
        "ssl_min_protocol_version": ("TLSv1.2", "immediate"),
        "log_min_duration_statement": (str(settings.slow_statement_ms), "immediate"),
        "log_connections": ("1", "immediate"),
        "log_disconnections": ("1", "immediate"),
        "log_lock_waits": ("1", "immediate"),
        "log_statement": ("ddl", "immediate"),
        # Static parameter: takes effect at the next reboot (maintenance window).
        "shared_preload_libraries": ("pg_stat_statements", "pending-reboot"),
    }


@dataclass
class PostgresArgs(DataPlacement):
    settings: PostgresSettings
    # Replicates automated backups (and so point-in-time restore) to the DR region when set.
    dr_key_arn: pulumi.Input[str] | None = None
    # The dr stack: the instance is a point-in-time restore of these replicated automated backups.
    restore_from: RecoverySources | None = None


def point_in_time_restore(sources: RecoverySources | None) -> aws.rds.InstanceRestoreToPointInTimeArgs | None:
    """A point-in-time restore from the replicated automated backups: to the time named, or the latest
    restorable (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReplicateBackups.html)."""
    if sources is None:
        return None
    latest = sources.postgres_restore_time == "latest"
    return aws.rds.InstanceRestoreToPointInTimeArgs(
        source_db_instance_automated_backups_arn=sources.postgres_automated_backups_arn,
        use_latest_restorable_time=True if latest else None,
        restore_time=None if latest else sources.postgres_restore_time,
    )


class Postgres(pulumi.ComponentResource):
    """An RDS PostgreSQL instance with a managed master password, TLS only, PITR and monitoring, behind RDS
    Proxy (TLS required, authenticating with the managed secret) that pools the pods' connections."""

    endpoint: pulumi.Output[str]  # the proxy's: every client connects through it
    instance_endpoint: pulumi.Output[str]  # the instance's own, for operators (restores, drills)
    port: int
    secret_arn: pulumi.Output[str]
    identifier: str
    proxy_name: str  # known before the proxy exists: alarms select its metrics by it

    def __init__(self, name: str, args: PostgresArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:data:Postgres", name, None, opts)
        self._args = args
        self._child = pulumi.ResourceOptions(parent=self)
        self.identifier = args.naming.physical("postgres")
        self.port = PORT

        self.proxy_name = args.naming.physical("postgres")
        subnet_group, proxy_security_group, security_group = self._placement()
        parameter_group = self._parameter_group()
        log_groups = self._log_groups()
        monitoring_role = self._monitoring_role()
        instance = self._instance(
            subnet_group=subnet_group,
            security_group=security_group,
            parameter_group=parameter_group,
            log_groups=log_groups,
            monitoring_role=monitoring_role,
        )
        if args.dr_key_arn is not None:
            self._replicate_backups(instance, args.dr_key_arn)
        self.instance_endpoint = instance.address
        # The master password is created and rotated by RDS in Secrets Manager, encrypted with our key.
        self.secret_arn = instance.master_user_secrets.apply(
            lambda secrets: str(secrets[0].secret_arn) if secrets else ""
        )
        self.endpoint = self._proxy(instance, proxy_security_group)
        self.register_outputs(
            {"endpoint": self.endpoint, "instance_endpoint": self.instance_endpoint, "port": PORT}
            | {"secret_arn": self.secret_arn, "proxy_name": self.proxy_name}
        )

    def _placement(self) -> tuple[aws.rds.SubnetGroup, aws.ec2.SecurityGroup, aws.ec2.SecurityGroup]:
        """The isolated subnets the instance lives in; the proxy's security group, open to the nodes and
        reaching 5432 in the isolated subnets only; the instance's, open to the proxy only."""
        args, naming = self._args, self._args.naming
        subnet_group = aws.rds.SubnetGroup(
            "postgres-subnets",
            name=naming.physical("postgres"),
            description="Isolated data subnets, one per AZ",
            subnet_ids=args.subnet_ids,
            tags=naming.name_tag("postgres"),
            opts=self._child,
        )
        proxy_security_group = service_security_group(
            "postgres-proxy",
            naming=naming,
            vpc_id=args.vpc_id,
            ingress=[from_nodes("postgres-proxy", PORT, args.node_security_group_id)],
            egress=[(PORT, args.subnet_cidrs)],
            description="RDS Proxy 5432 from the EKS nodes only, to PostgreSQL in the isolated subnets",
            parent=self,
        )
        security_group = service_security_group(
            "postgres",
            naming=naming,
            vpc_id=args.vpc_id,
            ingress=[Ingress(PORT, proxy_security_group.id, "postgres from RDS Proxy")],
            # A group's description cannot change in place, and a replacement under the same name fails
            # (InvalidGroup.Duplicate): it keeps the text it was created with; the rule says who gets in.
            description="PostgreSQL 5432 from the EKS nodes only",
            parent=self,
        )
        return subnet_group, proxy_security_group, security_group

    def _parameter_group(self) -> aws.rds.ParameterGroup:
        """The engine parameters of ``parameters`` in a group of the major version's family."""
        settings, naming = self._args.settings, self._args.naming
        return aws.rds.ParameterGroup(
            "postgres-parameters",
            name_prefix=naming.physical("postgres", settings.major_version, ""),
            family=parameter_group_family(settings.major_version),
            description="TLS only, slow statements and connections logged",
            parameters=[
                aws.rds.ParameterGroupParameterArgs(name=key, value=value, apply_method=method)
                for key, (value, method) in parameters(settings).items()
            ],
            tags=naming.name_tag("postgres"),
            # name_prefix: a new family (major upgrade) gets a new group, created before the old one goes.
            opts=self._child,
        )

    def _log_groups(self) -> list[aws.cloudwatch.LogGroup]:
        """RDS writes exported logs to /aws/rds/instance/<id>/<log>; creating the groups sets KMS and retention."""
        args = self._args
        return [
            aws.cloudwatch.LogGroup(
                f"postgres-{log}-logs",
                name=f"/aws/rds/instance/{self.identifier}/{log}",
                retention_in_days=args.log_retention_days,
                kms_key_id=args.logs_key_arn,
                tags=args.naming.name_tag("postgres", log),
                opts=self._child,
            )
            for log in LOG_EXPORTS
        ]

    def _monitoring_role(self) -> aws.iam.Role | None:
        """The role enhanced monitoring publishes OS metrics through; none when monitoring is off."""
        naming, child = self._args.naming, self._child
        if not self._args.settings.monitoring_interval_seconds:
            return None
        monitoring_role = aws.iam.Role(
            "postgres-monitoring-role",
            name=naming.physical("rds-monitoring"),
            description="RDS enhanced monitoring publishes OS metrics to CloudWatch Logs",
            assume_role_policy=json.dumps(service_assume_role_policy("monitoring.rds.amazonaws.com")),
            tags=naming.name_tag("rds-monitoring"),
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            "postgres-monitoring-policy",
            role=monitoring_role.name,
            policy_arn=ENHANCED_MONITORING_POLICY,
            opts=child,
        )
        return monitoring_role

    def _instance(
        self,
        *,
        subnet_group: aws.rds.SubnetGroup,
        security_group: aws.ec2.SecurityGroup,
        parameter_group: aws.rds.ParameterGroup,
        log_groups: list[aws.cloudwatch.LogGroup],
        monitoring_role: aws.iam.Role | None,
    ) -> aws.rds.Instance:
        """The instance: encrypted, private, IAM authentication, a final snapshot, created after its log groups."""
        args, settings, naming = self._args, self._args.settings, self._args.naming
        return aws.rds.Instance(
            "postgres",
            identifier=self.identifier,
            engine="postgres",
            engine_version=settings.major_version,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            instance_class=settings.instance_class,
            multi_az=settings.multi_az,
            storage_type="gp3",
            allocated_storage=settings.allocated_storage_gib,
            max_allocated_storage=settings.max_allocated_storage_gib,
            storage_encrypted=True,
            kms_key_id=args.kms_key_arn,
            db_name=DATABASE,
            username=MASTER_USERNAME,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=args.kms_key_arn,
            iam_database_authentication_enabled=True,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[security_group.id],
            publicly_accessible=False,
            port=PORT,
            parameter_group_name=parameter_group.name,
            ca_cert_identifier="rds-ca-rsa2048-g1",
            backup_retention_period=settings.backup_retention_days,
            backup_window=settings.backup_window,
            maintenance_window=settings.maintenance_window,
            copy_tags_to_snapshot=True,
            delete_automated_backups=not args.protect,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{self.identifier}-final",
            deletion_protection=settings.deletion_protection,
            enabled_cloudwatch_logs_exports=LOG_EXPORTS,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=args.kms_key_arn,
            performance_insights_retention_period=settings.performance_insights_retention_days,
            monitoring_interval=settings.monitoring_interval_seconds,
            monitoring_role_arn=monitoring_role.arn if monitoring_role else None,
            apply_immediately=False,
            restore_to_point_in_time=point_in_time_restore(args.restore_from),
            tags={**naming.name_tag("postgres"), **naming.backup_tag()},
            # Where the data came from matters once: editing or removing the recovery sources after the restore
            # must never replace the restored database (restore_to_point_in_time forces a new instance).
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                depends_on=log_groups,
                ignore_changes=["restoreToPointInTime"] if args.restore_from is not None else None,
            ),
        )

    def _proxy(self, instance: aws.rds.Instance, security_group: aws.ec2.SecurityGroup) -> pulumi.Output[str]:
        """RDS Proxy in the isolated subnets: TLS required, clients authenticate with the managed secret's
        password (SCRAM), the proxy reads that secret with a role of its own; at most
        ``proxy_max_connections_percent`` of max_connections. Returns its endpoint."""
        args, naming, settings = self._args, self._args.naming, self._args.settings
        role = service_role(
            "postgres-proxy",
            naming=naming,
            service="rds.amazonaws.com",
            description="RDS Proxy reads the PostgreSQL secret",
            source_account=args.account_id,
            inline_policies={
                "read-secret": pulumi.Output.all(self.secret_arn, args.kms_key_arn).apply(
                    lambda values: json.dumps(
                        rds_proxy_secret_policy(secret_arn=values[0], kms_key_arn=values[1], region=args.region)
                    )
                )
            },
            parent=self,
        )
        proxy = aws.rds.Proxy(
            "postgres-proxy",
            name=self.proxy_name,
            engine_family="POSTGRESQL",
            require_tls=True,
            idle_client_timeout=1800,
            debug_logging=False,
            role_arn=role.arn,
            vpc_subnet_ids=args.subnet_ids,
            vpc_security_group_ids=[security_group.id],
            auths=[
                aws.rds.ProxyAuthArgs(
                    auth_scheme="SECRETS",
                    secret_arn=self.secret_arn,
                    iam_auth="DISABLED",
                    client_password_auth_type="POSTGRES_SCRAM_SHA_256",
                    description="The managed master secret",
                )
            ],
            tags=naming.name_tag("postgres-proxy"),
            opts=self._child,
        )
        target_group = aws.rds.ProxyDefaultTargetGroup(
            "postgres-proxy-target-group",
            db_proxy_name=proxy.name,
            connection_pool_config=aws.rds.ProxyDefaultTargetGroupConnectionPoolConfigArgs(
                max_connections_percent=settings.proxy_max_connections_percent,
                max_idle_connections_percent=min(50, settings.proxy_max_connections_percent),
                connection_borrow_timeout=120,
            ),
            opts=self._child,
        )
        aws.rds.ProxyTarget(
            "postgres-proxy-target",
            db_proxy_name=proxy.name,
            target_group_name=target_group.name,
            db_instance_identifier=instance.identifier,
            opts=self._child,
        )
        return proxy.endpoint

    def _replicate_backups(self, instance: aws.rds.Instance, dr_key_arn: pulumi.Input[str]) -> None:
        """Continuous replication of automated backups and transaction logs to the DR region: a
        point-in-time restore there loses minutes, not the hours of a copied snapshot
        (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReplicateBackups.html)."""
        aws.rds.InstanceAutomatedBackupsReplication(
            "postgres-backups-dr",
            source_db_instance_arn=instance.arn,
            kms_key_id=dr_key_arn,
            retention_period=self._args.settings.backup_retention_days,
            opts=pulumi.ResourceOptions(parent=self, provider=self._args.context.providers.dr),
        )
