"""Data services as a whole: production survives an AZ loss, staging is single-AZ and cheaper, and every
credential lives in Secrets Manager under the databases key, never in outputs."""

from __future__ import annotations

import json

from silhouette_infra.synth.cost import monthly_cost
from silhouette_infra.synth.engine import SynthResult


def _zones_of(result: SynthResult, subnet_ids: list[str]) -> set[str]:
    zone_of = {s.id: s.inputs["availabilityZone"] for s in result.of_type("aws:ec2/subnet:Subnet")}
    return {zone_of[subnet] for subnet in subnet_ids}


def test_production_data_services_survive_the_loss_of_one_az(production: SynthResult) -> None:
    """PostgreSQL: Multi-AZ standby (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.MultiAZ.html);
    Redis: replicas in other AZs with automatic failover
    (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/AutoFailover.html); RabbitMQ: a three-node
    cluster across AZs (https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rabbitmq-broker-architecture.html);
    Neo4j Community cannot cluster: its volume is snapshotted every 6 h and copied to the DR region, so an
    AZ loss is a restore (README, Data and DR)."""
    postgres = production.named("aws:rds/instance:Instance", "postgres").inputs
    assert postgres["multiAz"] is True
    redis = production.named("aws:elasticache/replicationGroup:ReplicationGroup", "redis").inputs
    assert redis["numCacheClusters"] >= 2 and redis["automaticFailoverEnabled"] and redis["multiAzEnabled"]
    subnet_group = production.named("aws:elasticache/subnetGroup:SubnetGroup", "redis-subnets").inputs
    assert len(_zones_of(production, subnet_group["subnetIds"])) == 3
    broker = production.named("aws:mq/broker:Broker", "rabbitmq").inputs
    assert broker["deploymentMode"] == "CLUSTER_MULTI_AZ"
    assert len(_zones_of(production, broker["subnetIds"])) == 3
    storage_class = production.named("kubernetes:storage.k8s.io/v1:StorageClass", "gp3-encrypted")
    assert storage_class.inputs["parameters"]["tagSpecification_1"] == "Backup=silhouette-production"


def test_staging_data_services_are_single_az_and_cheaper(production: SynthResult, staging: SynthResult) -> None:
    assert staging.named("aws:rds/instance:Instance", "postgres").inputs["multiAz"] is False
    redis = staging.named("aws:elasticache/replicationGroup:ReplicationGroup", "redis").inputs
    assert redis["numCacheClusters"] == 1 and not redis["multiAzEnabled"]
    broker = staging.named("aws:mq/broker:Broker", "rabbitmq").inputs
    assert broker["deploymentMode"] == "SINGLE_INSTANCE" and len(broker["subnetIds"]) == 1
    production_cost = monthly_cost(production.settings, production.resources).layers
    staging_cost = monthly_cost(staging.settings, staging.resources).layers
    for service in ("postgres", "redis", "rabbitmq"):
        assert staging_cost[service] < production_cost[service] / 4, (
            f"staging {service} costs ${staging_cost[service]}/month vs production ${production_cost[service]}"
        )
    # The estimate now includes usage (issue 16 part 5): staging's traffic lines follow its load-test target, and it
    # keeps every trace, so the whole stack is compared at half, the data services above at a quarter.
    assert sum(staging_cost.values()) < sum(production_cost.values()) / 2


def test_every_credential_is_in_secrets_manager_under_the_databases_key(stack: SynthResult) -> None:
    key = stack.named("aws:kms/key:Key", "databases-key").outputs["arn"]
    secrets = stack.of_type("aws:secretsmanager/secret:Secret")
    assert sorted(s.name for s in secrets) == [
        "alertmanager-receivers-secret",
        "grafana-admin-secret",
        "neo4j-secret",
        "rabbitmq-secret",
        "redis-secret",
    ]
    for secret in secrets:
        assert secret.inputs["kmsKeyId"] == key, f"{secret.name}: kmsKeyId must be the databases key"
        assert secret.inputs["name"].startswith(f"silhouette/{stack.stack}/"), f"{secret.name}: name prefix"
    postgres = stack.named("aws:rds/instance:Instance", "postgres").inputs
    assert postgres["manageMasterUserPassword"] and postgres["masterUserSecretKmsKeyId"] == key


def test_no_generated_password_appears_in_the_outputs_in_clear(stack: SynthResult) -> None:
    passwords = [p.outputs["result"] for p in stack.of_type("random:index/randomPassword:RandomPassword")]
    assert passwords, "the stack generates its passwords"
    exported = json.dumps({k: v for k, v in stack.outputs.items() if not (isinstance(v, dict) and "__secret__" in v)})
    for password in passwords:
        assert password not in exported, "a generated password leaked into a stack output"
    for name, value in stack.outputs.items():
        if name.endswith("_secret_arn"):
            assert str(value).startswith("arn:aws:secretsmanager:"), f"{name} must be an ARN, not a value"


def test_secret_outputs_are_marked_secret(stack: SynthResult) -> None:
    assert set(stack.outputs["kubeconfig"]) == {"__secret__"}
