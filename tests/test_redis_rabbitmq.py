"""Redis on ElastiCache and RabbitMQ on Amazon MQ (issue: data services), asserted on each stack's
captured inputs, plus the pure decisions behind them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from silhouette_infra.aws.naming import Naming
from silhouette_infra.data.rabbitmq import PASSWORD_SPECIAL, amqps_endpoint, broker_subnets, connection_details
from silhouette_infra.data.redis import AUTH_TOKEN_SPECIAL, parameter_group_family
from silhouette_infra.settings.models import LOG_RETENTION_DAYS
from silhouette_infra.settings.versions import AMAZON_MQ_RABBITMQ_VERSIONS, ELASTICACHE_ENGINE_VERSIONS
from silhouette_infra.synth.engine import CapturedResource, SynthResult
from silhouette_infra.synth.engine.mocks import unwrap_secrets

REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
BROKER = "aws:mq/broker:Broker"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
PASSWORD = "random:index/randomPassword:RandomPassword"


def _cache(result: SynthResult) -> CapturedResource:
    return result.named(REPLICATION_GROUP, "redis")


def _broker(result: SynthResult) -> CapturedResource:
    return result.named(BROKER, "rabbitmq")


def _key_arn(result: SynthResult, purpose: str) -> Any:
    return result.named("aws:kms/key:Key", f"{purpose}-key").outputs["arn"]


def _isolated_subnets(result: SynthResult) -> list[CapturedResource]:
    return [s for s in result.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["Tier"] == "isolated"]


def _secret_contents(result: SynthResult, service: str) -> dict[str, Any]:
    version = result.named(SECRET_VERSION, f"{service}-secret-value")
    assert set(version.inputs["secretString"]) == {"__secret__"}, f"{service}: secret value not marked secret"
    contents: dict[str, Any] = json.loads(unwrap_secrets(version.inputs["secretString"]))
    return contents


def _assert_only_nodes_reach(result: SynthResult, service: str, *ports: int) -> CapturedResource:
    group = result.named(SECURITY_GROUP, f"{service}-security-group")
    node_sg = result.outputs["node_security_group_id"]
    opened = [(rule["fromPort"], rule["toPort"], rule["protocol"]) for rule in group.inputs["ingress"]]
    assert opened == [(port, port, "tcp") for port in ports], (
        f"{result.stack}: {service} security group opens {opened}, not {ports}"
    )
    for ingress in group.inputs["ingress"]:
        assert ingress["securityGroups"] == [node_sg], f"{result.stack}: {service} reachable from {ingress}"
        assert not ingress.get("cidrBlocks") and not ingress.get("ipv6CidrBlocks"), f"{service}: no CIDR may reach it"
    assert group.inputs.get("egress", []) == [], f"{result.stack}: {service} needs no egress"
    return group


# ------------------------------------------------------------------------------------ pure decisions
@pytest.mark.parametrize(
    ("engine", "version", "family"),
    [
        ("redis", "7.1", "redis7"),
        ("redis", "7.0", "redis7"),
        ("redis", "6.2", "redis6.x"),
        ("valkey", "7.2", "valkey7"),
        ("valkey", "8.0", "valkey8"),
        ("valkey", "8.1", "valkey8"),
    ],
)
def test_cache_parameter_group_family_follows_engine_and_major_version(engine: str, version: str, family: str) -> None:
    """Families per engine version:
    https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ParameterGroups.Engine.html"""
    assert parameter_group_family(engine, version) == family


def test_every_engine_version_the_settings_accept_has_a_parameter_group_family() -> None:
    """The allowed versions (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/supported-engine-versions.html)
    and the families must not drift apart: a version without a family would fail at `pulumi up`."""
    for engine, versions in ELASTICACHE_ENGINE_VERSIONS.items():
        for version in versions:
            assert parameter_group_family(engine, version).startswith(engine)


def test_an_engine_version_without_a_known_family_is_refused() -> None:
    with pytest.raises(ValueError, match=r"no ElastiCache parameter group family for redis 5\.0\.6"):
        parameter_group_family("redis", "5.0.6")


def test_a_single_instance_broker_takes_one_subnet_and_a_cluster_one_per_zone() -> None:
    """SINGLE_INSTANCE needs exactly one subnet; a cluster's three nodes spread over three AZs, and a
    broker's subnets must be in different AZs
    (https://docs.aws.amazon.com/amazon-mq/latest/api-reference/brokers.html, subnetIds;
    https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/best-practices-broker-setup.html)."""
    subnets = ["subnet-a", "subnet-b", "subnet-c"]
    assert broker_subnets("SINGLE_INSTANCE", subnets) == ["subnet-a"]
    assert broker_subnets("CLUSTER_MULTI_AZ", subnets) == subnets
    with pytest.raises(ValueError, match="at least one subnet"):
        broker_subnets("CLUSTER_MULTI_AZ", [])


def test_broker_endpoint_is_the_amqps_url_with_host_and_port() -> None:
    url = "amqps://b-1234.mq.us-east-1.on.aws:5671"
    assert amqps_endpoint(["https://b-1234.mq.us-east-1.on.aws", url]) == url
    assert connection_details(url) == {"url": url, "host": "b-1234.mq.us-east-1.on.aws", "port": 5671, "tls": True}
    with pytest.raises(ValueError, match="no amqps:// endpoint"):
        amqps_endpoint(["https://b-1234.mq.us-east-1.on.aws"])


# ------------------------------------------------------------------------------------ Redis
def test_production_cache_survives_an_az_loss(production: SynthResult) -> None:
    """Automatic failover needs a replica to promote (2+ nodes), and Multi-AZ needs automatic failover
    (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/AutoFailover.html)."""
    inputs = _cache(production).inputs
    assert inputs["numCacheClusters"] >= 2, "production cache: a primary and at least one replica"
    assert inputs["automaticFailoverEnabled"] is True, "production cache: a replica is promoted on failure"
    assert inputs["multiAzEnabled"] is True, "production cache: replicas in other AZs"
    subnet_group = production.named("aws:elasticache/subnetGroup:SubnetGroup", "redis-subnets")
    zones = {s.inputs["availabilityZone"] for s in _isolated_subnets(production)}
    assert len(zones) == 3 and len(subnet_group.inputs["subnetIds"]) == 3, "the cache may use all three AZs"


def test_staging_cache_is_a_single_cheap_node(staging: SynthResult) -> None:
    inputs = _cache(staging).inputs
    assert inputs["numCacheClusters"] == 1
    assert inputs["automaticFailoverEnabled"] is False and inputs["multiAzEnabled"] is False
    assert inputs["nodeType"].startswith("cache.t4g."), f"staging cache node type {inputs['nodeType']}"


def test_cache_lives_in_the_isolated_subnets(stack: SynthResult) -> None:
    subnet_group = stack.named("aws:elasticache/subnetGroup:SubnetGroup", "redis-subnets")
    assert subnet_group.inputs["subnetIds"] == [s.id for s in _isolated_subnets(stack)]
    assert _cache(stack).inputs["subnetGroupName"] == subnet_group.inputs["name"]


def test_cache_runs_the_configured_engine_with_its_parameter_family(stack: SynthResult) -> None:
    """Redis OSS 7.1 by default, Valkey selectable; only versions ElastiCache offers
    (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/supported-engine-versions.html)."""
    settings = stack.settings.redis
    inputs = _cache(stack).inputs
    assert (inputs["engine"], inputs["engineVersion"]) == (settings.engine, settings.engine_version)
    assert inputs["engineVersion"] in ELASTICACHE_ENGINE_VERSIONS[inputs["engine"]]
    assert inputs["autoMinorVersionUpgrade"] is True and inputs["applyImmediately"] is False
    group = stack.named("aws:elasticache/parameterGroup:ParameterGroup", "redis-parameters")
    assert group.inputs["family"] == parameter_group_family(settings.engine, settings.engine_version)
    assert inputs["parameterGroupName"] == group.inputs["name"]
    assert {"name": "slowlog-log-slower-than", "value": "10000"} in group.inputs["parameters"]


def test_cache_is_encrypted_at_rest_and_in_transit(stack: SynthResult) -> None:
    """At rest with the databases key; TLS required, so AUTH works
    (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/in-transit-encryption.html)."""
    inputs = _cache(stack).inputs
    assert inputs["atRestEncryptionEnabled"] is True
    assert inputs["kmsKeyId"] == _key_arn(stack, "databases"), "cache: encrypted with the databases CMK"
    assert inputs["transitEncryptionEnabled"] is True and inputs["transitEncryptionMode"] == "required"
    assert set(inputs["authToken"]) == {"__secret__"}, "the AUTH token must be a secret"
    assert inputs["authTokenUpdateStrategy"] == "ROTATE"


def test_cache_auth_token_satisfies_elasticache_rules(stack: SynthResult) -> None:
    """16-128 printable characters; the only non-alphanumerics allowed are ! & # $ ^ < > -
    (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html)."""
    password = stack.named(PASSWORD, "redis-password").inputs
    assert 16 <= password["length"] <= 128
    assert set(password["overrideSpecial"]) <= set("!&#$^<>-") and password["overrideSpecial"] == AUTH_TOKEN_SPECIAL


def test_only_the_nodes_reach_the_cache_on_6379(stack: SynthResult) -> None:
    group = _assert_only_nodes_reach(stack, "redis", 6379)
    assert _cache(stack).inputs["securityGroupIds"] == [group.id]
    assert _cache(stack).inputs["port"] == 6379


def test_cache_snapshots_and_maintenance_follow_the_settings(stack: SynthResult) -> None:
    settings = stack.settings.redis
    inputs = _cache(stack).inputs
    assert inputs["snapshotRetentionLimit"] == settings.snapshot_retention_days > 0
    assert inputs["snapshotWindow"] == settings.snapshot_window
    assert inputs["maintenanceWindow"] == settings.maintenance_window


def test_production_cache_is_protected_and_keeps_a_final_snapshot(
    production: SynthResult, staging: SynthResult
) -> None:
    cache = _cache(production)
    assert cache.protect, "production cache: Pulumi protect"
    assert production.named(SECRET, "redis-secret").protect, "production cache secret: Pulumi protect"
    assert cache.inputs["finalSnapshotIdentifier"] == "silhouette-production-redis-final"
    assert not _cache(staging).protect and "finalSnapshotIdentifier" not in _cache(staging).inputs


def test_cache_is_selected_by_aws_backup(stack: SynthResult) -> None:
    tags = _cache(stack).inputs["tags"]
    assert tags == {"Name": f"silhouette-{stack.stack}-redis", **Naming(stack.stack).backup_tag()}


def test_cache_logs_go_to_encrypted_log_groups_with_retention(stack: SynthResult) -> None:
    """CloudWatch Logs accepts only a fixed set of retention values
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html)."""
    deliveries = {d["logType"]: d for d in _cache(stack).inputs["logDeliveryConfigurations"]}
    assert "slow-log" in deliveries, "the slow log must be delivered"
    groups = {group.inputs["name"]: group for group in stack.of_type(LOG_GROUP)}
    for log_type, delivery in deliveries.items():
        assert delivery["destinationType"] == "cloudwatch-logs"
        group = groups[delivery["destination"]]
        assert group.inputs["kmsKeyId"] == _key_arn(stack, "logs"), f"{log_type}: log group not on the logs key"
        assert group.inputs["retentionInDays"] in LOG_RETENTION_DAYS, f"{log_type}: retention"


def test_cache_credentials_live_in_secrets_manager_not_in_outputs(stack: SynthResult) -> None:
    secret = stack.named(SECRET, "redis-secret")
    assert secret.inputs["name"] == f"silhouette/{stack.stack}/redis"
    assert secret.inputs["kmsKeyId"] == _key_arn(stack, "databases")
    contents = _secret_contents(stack, "redis")
    assert contents["username"] == "default"
    assert contents["password"] == unwrap_secrets(_cache(stack).inputs["authToken"])
    assert (contents["host"], contents["port"], contents["tls"]) == (stack.outputs["redis_endpoint"], 6379, True)
    assert contents["reader_host"] == stack.outputs["redis_reader_endpoint"]
    assert stack.outputs["redis_secret_arn"] == secret.outputs["arn"]
    assert contents["password"] not in json.dumps(stack.outputs), "the AUTH token leaked into a stack output"


# ------------------------------------------------------------------------------------ RabbitMQ
def test_production_broker_is_a_three_zone_cluster(production: SynthResult) -> None:
    """A cluster deployment is three nodes in three AZs
    (https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rabbitmq-broker-architecture.html)."""
    inputs = _broker(production).inputs
    assert inputs["deploymentMode"] == "CLUSTER_MULTI_AZ", "production broker must survive an AZ loss"
    assert inputs["subnetIds"] == [s.id for s in _isolated_subnets(production)], "one isolated subnet per AZ"
    # RabbitMQ 4.2 on mq.m7g, what Amazon MQ recommends; reached from 3.13 on mq.m5 in place (instance type, then
    # engine version; https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/upgrading-rabbitmq-v3-to-v4-inplace.html)
    assert (inputs["hostInstanceType"], inputs["engineVersion"]) == ("mq.m7g.large", "4.2")
    assert _broker(production).protect, "production broker: Pulumi protect"


def test_staging_broker_is_a_single_small_instance_in_one_subnet(staging: SynthResult) -> None:
    """mq.t3.micro runs single-instance brokers only, in exactly one subnet
    (https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rmq-broker-instance-types.html)."""
    inputs = _broker(staging).inputs
    assert (inputs["deploymentMode"], inputs["hostInstanceType"]) == ("SINGLE_INSTANCE", "mq.t3.micro")
    assert inputs["subnetIds"] == [_isolated_subnets(staging)[0].id]
    assert not _broker(staging).protect


def test_broker_runs_a_supported_rabbitmq_with_automatic_minor_upgrades(stack: SynthResult) -> None:
    """RabbitMQ 3.11 and 3.12 can no longer be created, and 3.13+ brokers require automatic minor
    version upgrades (https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rabbitmq-version-management.html)."""
    inputs = _broker(stack).inputs
    assert inputs["engineType"] == "RabbitMQ"
    assert inputs["engineVersion"] == stack.settings.rabbitmq.engine_version
    assert inputs["engineVersion"] in AMAZON_MQ_RABBITMQ_VERSIONS
    assert inputs["autoMinorVersionUpgrade"] is True and inputs["applyImmediately"] is False


def test_broker_is_private_and_reachable_only_from_nodes_on_amqps_and_the_management_api(stack: SynthResult) -> None:
    """AMQPS for the applications; the management API (443) for KEDA's queue-length reads, which the
    NetworkPolicies give to KEDA's operator alone (test_network_policies.py)."""
    inputs = _broker(stack).inputs
    assert inputs["publiclyAccessible"] is False
    group = _assert_only_nodes_reach(stack, "rabbitmq", 5671, 443)
    assert inputs["securityGroups"] == [group.id]
    isolated = {s.id for s in _isolated_subnets(stack)}
    assert set(inputs["subnetIds"]) <= isolated, "the broker lives in the isolated subnets"
    assert stack.outputs["rabbitmq_endpoint"].startswith("amqps://") and stack.outputs["rabbitmq_port"] == 5671


def test_broker_logs_and_maintains_in_its_window(stack: SynthResult) -> None:
    """General logs only: audit logs are an ActiveMQ feature
    (https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/security-logging-monitoring.html)."""
    settings = stack.settings.rabbitmq
    inputs = _broker(stack).inputs
    assert inputs["logs"] == {"general": True}
    assert inputs["maintenanceWindowStartTime"] == {
        "dayOfWeek": settings.maintenance_day,
        "timeOfDay": settings.maintenance_time,
        "timeZone": "UTC",
    }


def test_broker_uses_the_aws_owned_key_because_rabbitmq_takes_no_cmk(stack: SynthResult) -> None:
    """Amazon MQ for RabbitMQ ignores customer-managed keys: "EncryptionOptions ... Does not apply to
    RabbitMQ brokers"
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-amazonmq-broker-encryptionoptions.html)."""
    assert _broker(stack).inputs["encryptionOptions"] == {"useAwsOwnedKey": True}


def test_broker_is_not_tagged_for_aws_backup(stack: SynthResult) -> None:
    """AWS Backup does not support Amazon MQ
    (https://docs.aws.amazon.com/aws-backup/latest/devguide/backup-feature-availability.html)."""
    assert _broker(stack).inputs["tags"] == {"Name": f"silhouette-{stack.stack}-rabbitmq"}


def test_broker_credentials_live_in_secrets_manager_not_in_outputs(stack: SynthResult) -> None:
    """Amazon MQ passwords: 12+ characters, no commas, colons or equals signs
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-amazonmq-broker-user.html)."""
    broker = _broker(stack)
    secret = stack.named(SECRET, "rabbitmq-secret")
    assert secret.inputs["name"] == f"silhouette/{stack.stack}/rabbitmq"
    assert secret.inputs["kmsKeyId"] == _key_arn(stack, "databases")
    assert secret.protect == stack.settings.protect_stateful
    password = stack.named(PASSWORD, "rabbitmq-password").inputs
    assert password["length"] >= 12 and not set(password["overrideSpecial"]) & set(",:= ")
    assert password["overrideSpecial"] == PASSWORD_SPECIAL
    (user,) = unwrap_secrets(broker.inputs["users"])
    contents = _secret_contents(stack, "rabbitmq")
    assert (contents["username"], contents["password"]) == (user["username"], user["password"])
    assert (contents["url"], contents["port"]) == (stack.outputs["rabbitmq_endpoint"], 5671)
    assert stack.outputs["rabbitmq_secret_arn"] == secret.outputs["arn"]
    assert user["password"] not in json.dumps(stack.outputs), "the broker password leaked into a stack output"
    assert "users" in broker.options["additional_secret_outputs"], "the users block must be secret in the state"


def test_broker_users_change_never_replaces_the_broker(stack: SynthResult) -> None:
    """The provider replaces a RabbitMQ broker whenever its users block changes, because Amazon MQ does
    not return RabbitMQ users (https://www.pulumi.com/registry/packages/aws/api-docs/mq/broker/)."""
    assert "users" in _broker(stack).options["ignore_changes"]
