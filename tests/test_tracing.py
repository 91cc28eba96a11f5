"""Traces: the OpenTelemetry Collector receives OTLP from the backend and exports to X-Ray (issue 6, point 6)."""

from __future__ import annotations

import json
from typing import Any

import yaml

from silhouette_infra.aws.iam import otel_collector_policy, unexplained_wildcards
from silhouette_infra.kubernetes.workloads import config_checksum
from silhouette_infra.observability.tracing import (
    CONFIG_FILE,
    Tracing,
    TracingArgs,
    collector_config,
    otlp_endpoint,
)
from silhouette_infra.settings.models import TracingSettings
from silhouette_infra.synth.engine import CapturedResource, SynthResult
from tests.components import cluster_handle, declare_alone, stack_context

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
COLLECTOR = "otel-collector"


def _collector(stack: SynthResult, kind: str) -> CapturedResource:
    (found,) = [r for r in stack.of_type(kind) if r.inputs["metadata"]["name"] == COLLECTOR]
    return found


def _config(stack: SynthResult) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(_collector(stack, CONFIG_MAP).inputs["data"][CONFIG_FILE])
    return config


# ------------------------------------------------------------------------------------ configuration
def test_every_pipeline_component_is_configured_and_receivers_listen_on_the_pod_address(stack: SynthResult) -> None:
    """A pipeline naming an undefined component stops the collector at start; since collector 0.104 the
    receivers listen on localhost unless told otherwise, which a Service could not reach."""
    config = _config(stack)
    traces = config["service"]["pipelines"]["traces"]
    for kind in ("receivers", "processors", "exporters"):
        for name in traces[kind]:
            assert name in config[kind], f"{COLLECTOR} config: pipeline {kind} {name!r} is not configured"
    for name in config["service"]["extensions"]:
        assert name in config["extensions"], f"{COLLECTOR} config: extension {name!r} is not configured"
    protocols = config["receivers"]["otlp"]["protocols"]
    assert (protocols["grpc"]["endpoint"], protocols["http"]["endpoint"]) == ("0.0.0.0:4317", "0.0.0.0:4318")
    assert traces["exporters"] == ["awsxray"]
    assert config["exporters"]["awsxray"]["region"] == stack.settings.aws.region


def test_memory_limiter_comes_first_and_batching_last() -> None:
    """The collector's own guidance: refuse data before running out of memory; batch just before export."""
    for settings in (TracingSettings(), TracingSettings(sampling_percent=100)):
        processors = collector_config(settings, region="us-east-1", environment="production")["service"]["pipelines"][
            "traces"
        ]["processors"]
        assert processors[0] == "memory_limiter" and processors[-1] == "batch", processors


def test_production_samples_traces_by_id_and_staging_keeps_them_all(
    production: SynthResult, staging: SynthResult
) -> None:
    sampler = _config(production)["processors"]["probabilistic_sampler"]
    # 1 %: at the design's average API load (500 req/s) that is 5 traces a second, and X-Ray bills per trace
    # recorded (issue 16 part 5: 10 % cost about $650 a month, synth/cost.py).
    assert production.settings.observability.tracing.sampling_percent == 1
    assert sampler == {"sampling_percentage": 1}, f"{COLLECTOR}: production keeps 1 % of traces"
    assert "probabilistic_sampler" not in _config(staging)["processors"], "staging: every trace (100 %)"
    assert "probabilistic_sampler" not in _config(staging)["service"]["pipelines"]["traces"]["processors"]


def test_spans_carry_the_environment(stack: SynthResult) -> None:
    (attribute,) = _config(stack)["processors"]["resource"]["attributes"]
    assert attribute == {"key": "deployment.environment", "value": stack.stack, "action": "upsert"}


# ------------------------------------------------------------------------------------ the workload
def test_collector_runs_the_pinned_image_with_its_config_and_rolls_when_it_changes(stack: SynthResult) -> None:
    tracing = stack.settings.observability.tracing
    deployment = _collector(stack, DEPLOYMENT).inputs
    assert deployment["metadata"]["namespace"] == "monitoring"
    assert deployment["spec"]["replicas"] == tracing.collector_replicas
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["image"] == tracing.collector_image
    assert container["args"] == [f"--config=/etc/otel/{CONFIG_FILE}"]
    data = _collector(stack, CONFIG_MAP).inputs["data"]
    checksum = pod["metadata"]["annotations"]["silhouette.io/config-checksum"]
    assert checksum == config_checksum(data), f"{COLLECTOR}: config checksum annotation of its ConfigMap's data"
    assert container["readinessProbe"]["httpGet"]["port"] == 13133, f"{COLLECTOR}: health_check extension port"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_production_collector_is_highly_available(production: SynthResult, staging: SynthResult) -> None:
    deployment = _collector(production, DEPLOYMENT).inputs
    assert deployment["spec"]["replicas"] >= 2
    assert deployment["spec"]["template"]["spec"]["topologySpreadConstraints"], f"{COLLECTOR}: spread over zones"
    pdbs = [r for r in production.of_type("kubernetes:policy/v1:PodDisruptionBudget") if r.name == f"{COLLECTOR}-pdb"]
    assert [p.inputs["spec"]["maxUnavailable"] for p in pdbs] == [1], f"{COLLECTOR}: PDB maxUnavailable 1"
    assert _collector(staging, DEPLOYMENT).inputs["spec"]["replicas"] == 1, "staging: one collector"
    assert not [r for r in staging.of_type("kubernetes:policy/v1:PodDisruptionBudget") if r.name == f"{COLLECTOR}-pdb"]


def test_backend_exports_to_the_collector_service(stack: SynthResult) -> None:
    """The backend's OTLP endpoint is the collector Service's gRPC port."""
    (config,) = [r for r in stack.of_type(CONFIG_MAP) if r.inputs["metadata"]["name"] == "backend-config"]
    endpoint = config.inputs["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
    assert endpoint == otlp_endpoint("monitoring") == "http://otel-collector.monitoring.svc.cluster.local:4317"
    service = _collector(stack, "kubernetes:core/v1:Service").inputs
    ports = {port["name"]: port["port"] for port in service["spec"]["ports"]}
    assert ports["otlp-grpc"] == 4317 and service["metadata"]["namespace"] == "monitoring"
    assert config.inputs["data"]["OTEL_SERVICE_NAME"] == "backend"


# ------------------------------------------------------------------------------------ AWS side
def test_collector_role_may_only_put_traces_and_use_the_logs_key_through_xray(stack: SynthResult) -> None:
    role = stack.named("aws:iam/role:Role", f"{COLLECTOR}-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    subjects = [
        value
        for condition in statement["Condition"].values()
        for key, value in condition.items()
        if key.endswith(":sub")
    ]
    assert subjects == [f"system:serviceaccount:monitoring:{COLLECTOR}"], f"role {COLLECTOR}: trust subject"
    policy = stack.named("aws:iam/rolePolicy:RolePolicy", f"{COLLECTOR}-{COLLECTOR}")
    logs_key = stack.named("aws:kms/key:Key", "logs-key").outputs["arn"]
    document = json.loads(policy.inputs["policy"])
    assert document == otel_collector_policy(kms_key_arn=logs_key, region=stack.settings.aws.region)
    assert unexplained_wildcards(COLLECTOR, document) == []
    account = _collector(stack, "kubernetes:core/v1:ServiceAccount").inputs
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == role.outputs["arn"]


def test_xray_encrypts_traces_with_the_logs_key(stack: SynthResult) -> None:
    (config,) = stack.of_type("aws:xray/encryptionConfig:EncryptionConfig")
    logs_key = stack.named("aws:kms/key:Key", "logs-key").outputs["arn"]
    assert (config.inputs["type"], config.inputs["keyId"]) == ("KMS", logs_key), "xray-encryption: the logs CMK"


def test_xray_encryption_is_left_alone_when_another_stack_manages_it() -> None:
    """An account-wide setting: behind a switch, like the audit services."""

    def build() -> Tracing:
        return Tracing(
            "tracing",
            TracingArgs(
                stack_context(),
                settings=TracingSettings(manage_xray_encryption=False),
                namespace="monitoring",
                app_namespace="silhouette-staging",
                environment="staging",
                cluster=cluster_handle(),
                ready=[],
                monitoring_crds=[],
                logs_key_arn="arn:aws:kms:us-east-1:123456789012:key/0b4f4e0e-1111-2222-3333-444455556666",
            ),
        )

    _, captured = declare_alone(build)
    types = {resource.type for resource in captured}
    assert "aws:xray/encryptionConfig:EncryptionConfig" not in types
    assert DEPLOYMENT in types, "the collector itself is still declared"
