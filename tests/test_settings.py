"""Settings: every stack file is valid, and malformed settings stop the program before it declares anything."""

from __future__ import annotations

from typing import Any

import pytest

from silhouette_infra.settings import versions
from silhouette_infra.synth.docs import is_current
from silhouette_infra.synth.engine import run_stack
from silhouette_infra.validation.loader import SettingsError, load_settings
from tests.support import config_with

# (stack, overrides, key path that must be named, words the explanation must contain)
BAD_SETTINGS: list[tuple[str, dict[str, Any], str, str]] = [
    ("staging", {"network": {"vpc_cidr": "10.0.0.0/33"}}, "network.vpc_cidr", "CIDR"),
    ("staging", {"network": {"vpc_cidr": "10.0.0.1/16"}}, "network.vpc_cidr", "host bits"),
    ("staging", {"network": {"vpc_cidr": "10.0.0.0/24"}}, "network.vpc_cidr", "/16 to /20"),
    ("staging", {"network": {"vpc_cidr": "8.8.0.0/16"}}, "network.vpc_cidr", "private"),
    ("staging", {"network": {"peered_cidrs": ["10.1.128.0/20"]}}, "network.peered_cidrs[0]", "overlaps"),
    ("staging", {"cluster": {"service_ipv4_cidr": "10.1.0.0/16"}}, "cluster.service_ipv4_cidr", "overlaps"),
    ("production", {"cluster": {"log_retention_days": 365}}, "cluster.log_retention_days", "audit log"),
    (
        "staging",
        {"observability": {"tracing": {"sampling_percent": 0}}},
        "observability.tracing.sampling_percent",
        "greater than 0",
    ),
    ("staging", {"observability": {"runbook_base_url": "http://x"}}, "observability.runbook_base_url", "pattern"),
    (
        "staging",
        {"network": {"flow_log_retention_days": 45}},
        "network.flow_log_retention_days",
        "CloudWatch",
    ),
    (
        "staging",
        {"network": {"availability_zones": ["a", "a", "b"]}},
        "network.availability_zones",
        "distinct",
    ),
    (
        "staging",
        {"network": {"availability_zones": ["a", "eu-west-1b", "c"]}},
        "network.availability_zones[1]",
        "AZ",
    ),
    ("staging", {"network": {"nat_gateway": "single"}}, "network.nat_gateway", "unknown key"),
    ("staging", {"networking": {"vpc_cidr": "10.1.0.0/16"}}, "networking", "unknown key"),
    (
        "staging",
        {"keys": {"deletion_window_days": 3}},
        "keys.deletion_window_days",
        "greater than or equal to 7",
    ),
    ("staging", {"keys": {"deletion_window_days": "thirty"}}, "keys.deletion_window_days", "integer"),
    ("staging", {"postgres": {"multi_az": "yes"}}, "postgres.multi_az", "boolean"),
    ("staging", {"cluster": {"kubernetes_version": "1.29"}}, "cluster.kubernetes_version", "unsupported"),
    ("staging", {"postgres": {"major_version": "14"}}, "postgres.major_version", "unsupported"),
    ("staging", {"rabbitmq": {"engine_version": "3.11"}}, "rabbitmq.engine_version", "unsupported"),
    (
        "staging",
        {"redis": {"engine": "valkey", "engine_version": "7.1"}},
        "redis.engine_version",
        "valkey supports",
    ),
    (
        "staging",
        {"rabbitmq": {"engine_version": "4.2", "host_instance_type": "mq.m5.large"}},
        "rabbitmq.host_instance_type",
        "mq.m7g",
    ),
    (
        "staging",
        {"postgres": {"allocated_storage_gib": 200, "max_allocated_storage_gib": 100}},
        "postgres.max_allocated_storage_gib",
        "must exceed",
    ),
    (
        "staging",
        {
            "cluster": {
                "node_groups": [
                    {
                        "name": "apps",
                        "instance_types": ["m6i.large"],
                        "min_size": 5,
                        "desired_size": 2,
                        "max_size": 8,
                    }
                ]
            }
        },
        "cluster.node_groups[0].min_size",
        "above desired_size",
    ),
    (
        "staging",
        {
            "apps": {
                "backend": {
                    "image": "ghcr.io/silhouette/backend:1",
                    "min_replicas": 9,
                    "max_replicas": 3,
                    "cpu_request": "250m",
                    "cpu_limit": "500m",
                    "memory_request": "512Mi",
                    "memory_limit": "1Gi",
                }
            }
        },
        "apps.backend.min_replicas",
        "above max_replicas",
    ),
    (
        "staging",
        {"neo4j": {"memory_request": "8Gi", "memory_limit": "4Gi"}},
        "neo4j.memory_request",
        "above the limit",
    ),
    ("staging", {"aws": {"dr_region": "us-east-1"}}, "aws.dr_region", "must differ"),
    ("staging", {"aws": {"allowed_account_ids": ["12345"]}}, "aws.allowed_account_ids[0]", "pattern"),
    ("production", {"postgres": {"multi_az": False}}, "postgres.multi_az", "production requires Multi-AZ"),
    (
        "production",
        {"redis": {"num_cache_clusters": 1, "automatic_failover": False, "multi_az": False}},
        "redis.num_cache_clusters",
        "production requires 2 or more",
    ),
    (
        "production",
        {"rabbitmq": {"deployment_mode": "SINGLE_INSTANCE"}},
        "rabbitmq.deployment_mode",
        "CLUSTER_MULTI_AZ",
    ),
    ("production", {"network": {"nat_gateways": "single"}}, "network.nat_gateways", "one_per_az"),
    (
        "production",
        {"cluster": {"endpoint_public_access_cidrs": ["0.0.0.0/0"]}},
        "cluster.endpoint_public_access_cidrs[0]",
        "0.0.0.0/0",
    ),
    ("production", {"protect_stateful": False}, "protect_stateful", "production requires true"),
]


@pytest.mark.parametrize(
    ("stack", "overrides", "key", "expected"),
    BAD_SETTINGS,
    ids=[f"{case[0]}-{case[2]}-{case[3]}" for case in BAD_SETTINGS],
)
def test_malformed_setting_is_rejected_naming_the_key_before_anything_is_declared(
    stack: str, overrides: dict[str, Any], key: str, expected: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        run_stack(stack, config_with(stack, **overrides))
    message = str(raised.value)
    assert f"silhouette:{key}: " in message, f"the error does not name silhouette:{key}:\n{message}"
    assert expected in message, f"the error for silhouette:{key} does not explain {expected!r}:\n{message}"
    assert f"stack {stack!r}" in message, f"the error does not name the stack:\n{message}"
    assert raised.value.declared == [], f"resources were declared before validation: {raised.value.declared}"


def test_every_problem_is_listed_in_one_message() -> None:
    config = config_with(
        "production",
        network={"vpc_cidr": "10.0.0.0/33", "bogus": 1},
        keys={"deletion_window_days": 90},
    )
    with pytest.raises(SettingsError) as raised:
        load_settings("production", config)
    paths = [path for path, _ in raised.value.problems]
    assert paths == ["keys.deletion_window_days", "network.vpc_cidr", "network.bogus"], paths
    assert "(3 problems; nothing was declared)" in str(raised.value)


def test_a_stack_without_a_profile_must_say_which_one_it_is() -> None:
    with pytest.raises(SettingsError, match="silhouette:environment"):
        load_settings("dev-alice", {})
    assert load_settings("dev-alice", {"silhouette:environment": "staging"}).network.nat_gateways == "single"


def test_stack_files_are_valid_and_keep_the_profiles_apart() -> None:
    production = load_settings("production", config_with("production"))
    staging = load_settings("staging", config_with("staging"))
    assert production.is_production and not staging.is_production
    assert production.protect_stateful and not staging.protect_stateful
    assert production.network.nat_gateways == "one_per_az" and staging.network.nat_gateways == "single"
    assert production.postgres.multi_az and not staging.postgres.multi_az
    assert production.redis.num_cache_clusters >= 2 and staging.redis.num_cache_clusters == 1
    assert production.rabbitmq.deployment_mode == "CLUSTER_MULTI_AZ"
    assert staging.rabbitmq.deployment_mode == "SINGLE_INSTANCE"
    assert production.keys.deletion_window_days == 30 and staging.keys.deletion_window_days == 7


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_default_versions_are_ones_the_settings_accept(stack: str) -> None:
    """A stack that sets no version runs only versions in settings/versions.py, the tables with their AWS
    sources (the seed's PostgreSQL 14.9 and RabbitMQ 3.11 are refused: test_rejected_stack_settings)."""
    settings = load_settings(stack, {})
    accepted = {
        "cluster.kubernetes_version": (settings.cluster.kubernetes_version, versions.EKS_KUBERNETES_VERSIONS),
        "postgres.major_version": (settings.postgres.major_version, versions.POSTGRES_MAJOR_VERSIONS),
        "redis.engine_version": (
            settings.redis.engine_version,
            versions.ELASTICACHE_ENGINE_VERSIONS[settings.redis.engine],
        ),
        "rabbitmq.engine_version": (settings.rabbitmq.engine_version, versions.AMAZON_MQ_RABBITMQ_VERSIONS),
        "neo4j.version": (settings.neo4j.version, versions.NEO4J_VERSIONS),
    }
    for key, (default, table) in accepted.items():
        assert default in table, f"{stack}: default {key} {default!r} is not in settings/versions.py {table}"


def test_committed_stack_files_hold_no_secret_in_clear() -> None:
    from silhouette_infra.synth.engine import stack_config

    for stack in ("production", "staging"):
        for key, value in stack_config(stack).items():
            lowered = key.lower()
            assert not any(word in lowered for word in ("password", "token", "secret", "webhook")), (
                f"Pulumi.{stack}.yaml: {key} looks like a secret; use `pulumi config set --secret`"
            )
            assert "BEGIN" not in value and "AKIA" not in value, f"Pulumi.{stack}.yaml: {key} holds key material"


def test_readme_configuration_reference_is_generated_from_the_models() -> None:
    assert is_current(), "README.md's configuration reference is stale: run `make docs`"


def test_every_setting_has_a_description() -> None:
    from pydantic import BaseModel

    from silhouette_infra.settings.models import Settings
    from silhouette_infra.synth.docs import _nested_models

    seen: set[type[BaseModel]] = set()
    pending: list[type[BaseModel]] = [Settings]
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            pending.extend(_nested_models(field.annotation))
    assert len(seen) > 15
