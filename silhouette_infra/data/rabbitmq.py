"""RabbitMQ on Amazon MQ in the isolated subnets, private, reachable only from the cluster's nodes on AMQPS."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pulumi
import pulumi_aws as aws

from silhouette_infra.data.common import DataPlacement, from_nodes, generated_credentials, service_security_group
from silhouette_infra.settings.models import RabbitMqSettings

# AMQP 0-9-1 over TLS: the only port the applications use.
PORT = 5671
# The management HTTP API (HTTPS, 443 on Amazon MQ): KEDA reads the queue length there. The security
# group opens it to the nodes, and the NetworkPolicies let only KEDA's operator reach it (every other pod's
# egress excludes the isolated subnets' 443), so the admin API is not in reach of the workloads.
MANAGEMENT_PORT = 443
USERNAME = "silhouette"
# Amazon MQ passwords: 12+ characters, 4+ unique, no commas, colons or equals signs
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-amazonmq-broker-user.html).
# The specials are also the ones RFC 3986 allows unescaped in a URL's userinfo, so an
# amqps://user:password@host URL built from the secret needs no percent-encoding.
PASSWORD_SPECIAL = "!$&*()+-_.~"

T = TypeVar("T")


def broker_subnets(deployment_mode: str, subnet_ids: Sequence[T]) -> list[T]:
    """A single-instance broker lives in exactly one subnet; a cluster spreads its three nodes over
    three AZs and takes one subnet per AZ (subnets of one broker must be in different AZs).

    https://docs.aws.amazon.com/amazon-mq/latest/api-reference/brokers.html (subnetIds),
    https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/best-practices-broker-setup.html
    """
    if not subnet_ids:
        raise ValueError("a private broker needs at least one subnet")
    if deployment_mode == "SINGLE_INSTANCE":
        return [subnet_ids[0]]
    return list(subnet_ids)


def amqps_endpoint(endpoints: Sequence[str]) -> str:
    """The AMQPS URL among a broker instance's wire-level endpoints (RabbitMQ lists only that one)."""
    for endpoint in endpoints:
        if endpoint.startswith("amqps://"):
            return endpoint
    raise ValueError(f"no amqps:// endpoint among {list(endpoints)}")


def connection_details(endpoint: str) -> dict[str, Any]:
    """What a client needs besides the credentials, from ``amqps://<host>:5671``."""
    parts = urlsplit(endpoint)
    return {"url": endpoint, "host": parts.hostname, "port": parts.port or PORT, "tls": True}


@dataclass
class RabbitMqArgs(DataPlacement):
    settings: RabbitMqSettings


class RabbitMq(pulumi.ComponentResource):
    """An Amazon MQ for RabbitMQ broker with its admin credentials in Secrets Manager.

    Not in AWS Backup (which does not support Amazon MQ): in a cluster deployment Amazon MQ keeps
    every message on the three nodes in three AZs, and queues and exchanges are declared by the
    applications themselves.
    """

    endpoint: pulumi.Output[str]
    port: int
    secret_arn: pulumi.Output[str]
    broker_name: str  # known before the broker exists: alarms select its metrics by it

    def __init__(self, name: str, args: RabbitMqArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:data:RabbitMq", name, None, opts)
        settings, naming = args.settings, args.naming
        broker_name = self.broker_name = naming.physical("rabbitmq")
        self.port = PORT

        security_group = service_security_group(
            "rabbitmq",
            naming=naming,
            vpc_id=args.vpc_id,
            ingress=[
                from_nodes("rabbitmq", PORT, args.node_security_group_id),
                from_nodes("rabbitmq", MANAGEMENT_PORT, args.node_security_group_id, " management API"),
            ],
            description=f"RabbitMQ AMQPS {PORT} and management API {MANAGEMENT_PORT} from the EKS nodes only",
            parent=self,
        )
        # The secret holds the endpoint next to the password, so it is written once the broker
        # exists; the broker itself needs the password first.
        credentials = generated_credentials(
            "rabbitmq",
            naming=naming,
            kms_key_arn=args.kms_key_arn,
            username=USERNAME,
            description=f"RabbitMQ credentials and endpoint of {broker_name}",
            protect=args.protect,
            parent=self,
            override_special=PASSWORD_SPECIAL,
            connection_later=True,
        )
        broker = aws.mq.Broker(
            "rabbitmq",
            broker_name=broker_name,
            engine_type="RabbitMQ",
            engine_version=settings.engine_version,
            # RabbitMQ 3.13 and later can only be created with automatic minor version upgrades on.
            auto_minor_version_upgrade=True,
            host_instance_type=settings.host_instance_type,
            deployment_mode=settings.deployment_mode,
            subnet_ids=broker_subnets(settings.deployment_mode, args.subnet_ids),
            security_groups=[security_group.id],
            publicly_accessible=False,
            # Amazon MQ for RabbitMQ encrypts its EBS volumes with an AWS-owned KMS key and accepts no
            # customer-managed key: "EncryptionOptions: Does not apply to RabbitMQ brokers"
            # (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-amazonmq-broker-encryptionoptions.html;
            # the API sets UseAwsOwnedKey to true "for example, for RabbitMQ brokers",
            # https://docs.aws.amazon.com/amazon-mq/latest/api-reference/brokers.html). Stated here
            # explicitly so that the plan shows the decision.
            encryption_options=aws.mq.BrokerEncryptionOptionsArgs(use_aws_owned_key=True),
            users=[aws.mq.BrokerUserArgs(username=USERNAME, password=credentials.password)],
            # General logs go to CloudWatch Logs; audit logs exist only for ActiveMQ.
            logs=aws.mq.BrokerLogsArgs(general=True),
            maintenance_window_start_time=aws.mq.BrokerMaintenanceWindowStartTimeArgs(
                day_of_week=settings.maintenance_day,
                time_of_day=settings.maintenance_time,
                time_zone="UTC",
            ),
            apply_immediately=False,
            tags=naming.name_tag("rabbitmq"),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                # Amazon MQ never returns RabbitMQ users, and the provider replaces the whole broker
                # (queues included) when the users block changes. The admin user is therefore set at
                # creation only; to rotate its password, replace rabbitmq-password (the secret
                # follows) and set the same value through the RabbitMQ management API.
                ignore_changes=["users"],
                # The provider's schema does not mark the users block secret; the state must.
                additional_secret_outputs=["users"],
            ),
        )
        self.endpoint = broker.instances.apply(lambda instances: amqps_endpoint(instances[0].endpoints or []))
        credentials.connect(self.endpoint.apply(connection_details))
        self.secret_arn = credentials.secret.arn
        self.register_outputs({"endpoint": self.endpoint, "port": PORT, "secret_arn": self.secret_arn})
