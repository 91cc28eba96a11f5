"""Redis OSS (or Valkey) on ElastiCache in the isolated subnets, reachable only from the cluster's nodes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from silhouette_infra.data.common import DataPlacement, from_nodes, generated_credentials, service_security_group
from silhouette_infra.settings.models import RedisSettings

PORT = 6379
# With an AUTH token (no RBAC user group) clients authenticate as Redis's built-in user.
USERNAME = "default"
# ElastiCache AUTH tokens: 16-128 printable characters, and the only non-alphanumeric characters
# allowed are ! & # $ ^ < > - (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html).
AUTH_TOKEN_LENGTH = 64
AUTH_TOKEN_SPECIAL = "!&#$^<>-"
# Set on top of the family's defaults. Commands slower than 10 ms (twice the cache's 5 ms p95
# objective) land in the slow log, which is delivered to CloudWatch Logs.
PARAMETERS = {"slowlog-log-slower-than": "10000"}
# Both logs ElastiCache can deliver: slow commands, and the engine's own events (failovers, syncs).
LOG_TYPES = ("slow-log", "engine-log")


def parameter_group_family(engine: str, engine_version: str) -> str:
    """The ElastiCache parameter group family of an engine version: redis7 for Redis OSS 7.1,
    valkey8 for Valkey 8.0, redis6.x for Redis OSS 6.2
    (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ParameterGroups.Engine.html)."""
    major = engine_version.split(".", 1)[0]
    families = {
        ("redis", "6"): "redis6.x",
        ("redis", "7"): "redis7",
        ("valkey", "7"): "valkey7",
        ("valkey", "8"): "valkey8",
    }
    if (engine, major) not in families:
        raise ValueError(f"no ElastiCache parameter group family for {engine} {engine_version}")
    return families[(engine, major)]


@dataclass
class RedisArgs(DataPlacement):
    settings: RedisSettings


class Redis(pulumi.ComponentResource):
    """An ElastiCache replication group: encrypted at rest and in transit, AUTH token in Secrets Manager."""

    endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    port: int
    secret_arn: pulumi.Output[str]
    replication_group_id: str  # known before the group exists: alarms name its nodes by it

    def __init__(self, name: str, args: RedisArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:data:Redis", name, None, opts)
        self._args = args
        self._child = pulumi.ResourceOptions(parent=self)
        self.replication_group_id = args.naming.physical("redis")
        family = parameter_group_family(args.settings.engine, args.settings.engine_version)
        self.port = PORT

        subnet_group, security_group = self._placement()
        parameter_group = self._parameter_group(family)
        log_groups = self._log_groups()
        # The secret holds the connection details next to the token, so it is written once the
        # replication group's endpoints exist; the replication group itself needs the token first.
        credentials = generated_credentials(
            "redis",
            naming=args.naming,
            kms_key_arn=args.kms_key_arn,
            username=USERNAME,
            description=f"{args.settings.engine} AUTH token and endpoints of {self.replication_group_id}",
            protect=args.protect,
            parent=self,
            length=AUTH_TOKEN_LENGTH,
            override_special=AUTH_TOKEN_SPECIAL,
            connection_later=True,
        )
        replication_group = self._replication_group(
            subnet_group=subnet_group,
            security_group=security_group,
            parameter_group=parameter_group,
            log_groups=log_groups,
            auth_token=credentials.password,
        )
        self.endpoint = replication_group.primary_endpoint_address
        self.reader_endpoint = replication_group.reader_endpoint_address
        credentials.connect(
            pulumi.Output.all(self.endpoint, self.reader_endpoint).apply(
                lambda hosts: _connection(primary=hosts[0], reader=hosts[1])
            )
        )
        self.secret_arn = credentials.secret.arn
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "reader_endpoint": self.reader_endpoint,
                "port": PORT,
                "secret_arn": self.secret_arn,
            }
        )

    def _placement(self) -> tuple[aws.elasticache.SubnetGroup, aws.ec2.SecurityGroup]:
        """The isolated subnets the cache lives in, and its security group open to the nodes only."""
        args, naming = self._args, self._args.naming
        subnet_group = aws.elasticache.SubnetGroup(
            "redis-subnets",
            name=self.replication_group_id,
            description="Isolated data subnets, one per AZ",
            subnet_ids=args.subnet_ids,
            tags=naming.name_tag("redis"),
            opts=self._child,
        )
        security_group = service_security_group(
            "redis",
            naming=naming,
            vpc_id=args.vpc_id,
            ingress=[from_nodes("redis", PORT, args.node_security_group_id)],
            description=f"{args.settings.engine} {PORT} from the EKS nodes only",
            parent=self,
        )
        return subnet_group, security_group

    def _parameter_group(self, family: str) -> aws.elasticache.ParameterGroup:
        """``PARAMETERS`` over the engine version's family.

        The family is in the name: an engine or major-version change creates the new group before
        the replication group moves to it, and only then deletes the old one."""
        naming = self._args.naming
        return aws.elasticache.ParameterGroup(
            "redis-parameters",
            name=naming.physical("redis", family.replace(".", "-")),
            family=family,
            description=f"{family} with the slow-log threshold we alert on",
            parameters=[
                aws.elasticache.ParameterGroupParameterArgs(name=key, value=value) for key, value in PARAMETERS.items()
            ],
            tags=naming.name_tag("redis"),
            opts=self._child,
        )

    def _log_groups(self) -> dict[str, aws.cloudwatch.LogGroup]:
        """Log type -> the encrypted log group ElastiCache delivers it to."""
        args = self._args
        return {
            log_type: aws.cloudwatch.LogGroup(
                f"redis-{log_type}",
                name=args.naming.log_group("redis", log_type),
                retention_in_days=args.log_retention_days,
                kms_key_id=args.logs_key_arn,
                tags=args.naming.name_tag("redis", log_type),
                opts=self._child,
            )
            for log_type in LOG_TYPES
        }

    def _replication_group(
        self,
        *,
        subnet_group: aws.elasticache.SubnetGroup,
        security_group: aws.ec2.SecurityGroup,
        parameter_group: aws.elasticache.ParameterGroup,
        log_groups: dict[str, aws.cloudwatch.LogGroup],
        auth_token: pulumi.Output[str],
    ) -> aws.elasticache.ReplicationGroup:
        """The replication group: encrypted at rest and in transit (required), AUTH token, both logs delivered."""
        args, settings, naming = self._args, self._args.settings, self._args.naming
        replication_group_id = self.replication_group_id
        return aws.elasticache.ReplicationGroup(
            "redis",
            replication_group_id=replication_group_id,
            description=f"Silhouette cache ({naming.stack})",
            engine=settings.engine,
            engine_version=settings.engine_version,
            auto_minor_version_upgrade=True,
            node_type=settings.node_type,
            num_cache_clusters=settings.num_cache_clusters,
            automatic_failover_enabled=settings.automatic_failover,
            multi_az_enabled=settings.multi_az,
            port=PORT,
            parameter_group_name=parameter_group.name,
            subnet_group_name=subnet_group.name,
            security_group_ids=[security_group.id],
            at_rest_encryption_enabled=True,
            kms_key_id=args.kms_key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=auth_token,
            # Rotation: replace the generated password (`pulumi up --replace` on redis-password). With
            # ROTATE, ElastiCache accepts the old and the new token side by side while the secret
            # already holds the new one and External Secrets carries it to the pods. Once every client
            # has reconnected, drop the old token with `aws elasticache modify-replication-group
            # --auth-token <new token> --auth-token-update-strategy SET --apply-immediately` (AWS allows
            # SET only after a ROTATE; the provider sends a strategy only with a token change, so this
            # last step is not a Pulumi apply). The strategy is not used when the group is created.
            auth_token_update_strategy="ROTATE",
            snapshot_retention_limit=settings.snapshot_retention_days,
            snapshot_window=settings.snapshot_window,
            maintenance_window=settings.maintenance_window,
            final_snapshot_identifier=f"{replication_group_id}-final" if args.protect else None,
            log_delivery_configurations=[
                aws.elasticache.ReplicationGroupLogDeliveryConfigurationArgs(
                    destination=log_group.name,
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type=log_type,
                )
                for log_type, log_group in log_groups.items()
            ],
            apply_immediately=False,
            tags={**naming.name_tag("redis"), **naming.backup_tag()},
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )


def _connection(*, primary: str, reader: str) -> dict[str, Any]:
    """What a client needs besides the token: TLS is required, so the scheme is rediss://."""
    return {"host": primary, "reader_host": reader, "port": PORT, "tls": True}
