"""Workflow workers (issue 15, part 1): a hardened Deployment of the backend's image consuming RabbitMQ,
scaled by KEDA on the queue length, with KEDA pinned, least-privileged and fenced in by NetworkPolicies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from silhouette_infra.apps.worker import KEDA_API_VERSION, management_url_template, scaled_object_spec
from silhouette_infra.cluster import keda
from silhouette_infra.settings.models import WorkerSettings
from silhouette_infra.synth.checks.kubernetes_schema import validate_manifests
from silhouette_infra.synth.engine import CapturedResource, SynthResult
from silhouette_infra.synth.engine.manifests import manifest_of

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
TRIGGER_AUTHENTICATION = "kubernetes:keda.sh/v1alpha1:TriggerAuthentication"
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
RELEASE = "kubernetes:helm.sh/v3:Release"


def _named(result: SynthResult, type_: str, name: str) -> CapturedResource:
    (found,) = [r for r in result.of_type(type_) if r.inputs["metadata"]["name"] == name]
    return found


def _worker(result: SynthResult) -> dict[str, Any]:
    return manifest_of(_named(result, DEPLOYMENT, "worker"))


def test_worker_runs_the_backend_serving_image_hardened_and_spread(stack: SynthResult) -> None:
    worker = _worker(stack)
    pod = worker["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    backend = manifest_of(_named(stack, DEPLOYMENT, "backend"))["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == backend["image"], "worker: the backend's image"
    assert container["args"] == stack.settings.apps.worker.args, "worker: its own command"
    assert "replicas" not in worker["spec"], "worker: KEDA owns the replica count"
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["automountServiceAccountToken"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert pod["serviceAccountName"] == "worker", "worker: its own ServiceAccount"
    zones = [c for c in pod["topologySpreadConstraints"] if c["topologyKey"] == "topology.kubernetes.io/zone"]
    assert zones, "worker: spread over zones"
    assert not any("valueFrom" in env for env in container.get("env", [])), "worker: credentials as files only"
    mounted = {m["name"] for m in container["volumeMounts"] if m.get("readOnly")}
    assert {"postgres-credentials", "rabbitmq-credentials"} <= mounted


def test_worker_has_its_own_account_role_config_and_budget(stack: SynthResult) -> None:
    account = manifest_of(_named(stack, "kubernetes:core/v1:ServiceAccount", "worker"))
    assert account["automountServiceAccountToken"] is False
    role = stack.named("aws:iam/role:Role", "worker-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert any(
        v == "system:serviceaccount:" + stack.outputs["app_namespace"] + ":worker"
        for c in statement["Condition"].values()
        for v in c.values()
    )
    config = _named(stack, "kubernetes:core/v1:ConfigMap", "worker-config").inputs["data"]
    throughput = stack.settings.apps.throughput
    assert config["WORKER_QUEUE"] == stack.settings.apps.worker.queue
    assert config["DATABASE_POOL_SIZE"] == str(throughput.worker_database_pool_size)
    assert config["POSTGRES_HOST"] == stack.outputs["postgres_endpoint"], "worker: through RDS Proxy"
    budget = manifest_of(_named(stack, "kubernetes:policy/v1:PodDisruptionBudget", "worker"))
    assert budget["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": _worker(stack)["spec"]["selector"]["matchLabels"]},
    }


def test_keda_scales_the_workers_on_the_queue_between_the_stack_limits(stack: SynthResult) -> None:
    settings = stack.settings.apps.worker
    spec = manifest_of(_named(stack, SCALED_OBJECT, "worker"))["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "worker"}
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (settings.min_replicas, settings.max_replicas)
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "rabbitmq" and trigger["metadata"]["queueName"] == settings.queue
    assert trigger["metadata"]["value"] == str(settings.messages_per_replica)
    assert trigger["metadata"]["protocol"] == "http", "the management API, the only broker port KEDA may reach"
    authentication = manifest_of(_named(stack, TRIGGER_AUTHENTICATION, trigger["authenticationRef"]["name"]))
    (reference,) = authentication["spec"]["secretTargetRef"]
    secret = manifest_of(_named(stack, EXTERNAL_SECRET, reference["name"]))
    assert reference["key"] in secret["spec"]["target"]["template"]["data"], "the key KEDA reads is templated"
    assert {d["remoteRef"]["key"] for d in secret["spec"]["data"]} == {f"silhouette/{stack.stack}/rabbitmq"}
    host = stack.outputs["rabbitmq_endpoint"].split("//")[1].split(":")[0]
    assert secret["spec"]["target"]["template"]["data"]["host"].endswith(f"@{host}"), "the broker's own host"


def test_keda_is_pinned_in_its_restricted_namespace_fenced_by_policies(stack: SynthResult) -> None:
    release = stack.named(RELEASE, "keda")
    assert release.inputs["version"] == stack.settings.cluster_addons.keda_chart
    assert release.inputs["namespace"] == keda.NAMESPACE
    namespace = manifest_of(_named(stack, "kubernetes:core/v1:Namespace", keda.NAMESPACE))
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    policies = {
        r.inputs["metadata"]["name"]
        for r in stack.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if r.inputs["metadata"]["namespace"] == keda.NAMESPACE
    }
    assert policies == {"default-deny", "keda-operator", "keda-metrics-apiserver", "keda-admission-webhooks"}
    assert not [r for r in stack.of_type("aws:iam/role:Role") if "keda" in r.name], "KEDA gets no AWS role"


def test_the_schema_check_validates_keda_fields_not_only_their_presence() -> None:
    """ScaledObject and TriggerAuthentication are checked field by field against the CRD schema of chart 2.20.2."""
    good = scaled_object_spec(WorkerSettings(), deployment="worker", authentication="worker-rabbitmq")
    bad = json.loads(json.dumps(good))
    bad["minReplicaCount"] = "2"
    bad["triggers"][0]["authenticationRef"]["kind"] = "Secret"
    bad["pollingIntervall"] = 30
    bad["triggers"][0]["metadata"]["value"] = 20
    manifests = [
        {
            "apiVersion": KEDA_API_VERSION,
            "kind": "ScaledObject",
            "metadata": {"name": name, "namespace": "app"},
            "spec": spec,
        }
        for name, spec in (("good", good), ("bad", bad))
    ]
    manifests.append(
        {
            "apiVersion": KEDA_API_VERSION,
            "kind": "TriggerAuthentication",
            "metadata": {"name": "bad-auth", "namespace": "app"},
            "spec": {"secretTargetRef": [{"parameter": "host", "name": "rabbitmq-keda"}]},
        }
    )
    report = validate_manifests(manifests, "1.35")
    messages = {f.message for f in report.failures if "good" not in f.resource}
    assert not [f for f in report.failures if "/good" in f.resource], report.failures
    expected = (
        "minReplicaCount",
        "'Secret' is not one of",
        "unknown field 'pollingIntervall'",
        "value",
        "'key' is a required property",
    )
    for fragment in expected:
        assert any(fragment in m for m in messages), (
            f"ScaledObject/TriggerAuthentication: no finding about {fragment!r} in {messages}"
        )


def test_management_url_is_the_broker_host_with_templated_credentials() -> None:
    url = management_url_template("amqps://b-123.mq.us-east-1.on.aws:5671")
    assert url == "https://{{ .username }}:{{ .password }}@b-123.mq.us-east-1.on.aws"
    with pytest.raises(ValueError, match="amqps"):
        management_url_template("not a url")
