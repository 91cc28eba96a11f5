"""Neo4j in the cluster: its objects (built from each stack's settings), its memory sizing, its backups,
its network exposure, and the component that declares the objects."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from silhouette_infra.data import neo4j
from silhouette_infra.data.neo4j import (
    BACKUP_SELECTOR,
    BOLT_PORT,
    DUMP_STORAGE_CLASS,
    NAMESPACE,
    Neo4jDesign,
    backup_role_policy,
    manifests,
    memory_plan,
    require_community_image,
)
from silhouette_infra.kubernetes.quantities import memory_mib
from silhouette_infra.settings.models import Neo4jSettings
from silhouette_infra.synth.checks import checkov
from silhouette_infra.synth.checks.kubernetes_schema import validate_manifests
from silhouette_infra.synth.engine import SynthResult
from silhouette_infra.synth.engine.manifests import manifest_of
from silhouette_infra.synth.engine.mocks import CapturedResource
from silhouette_infra.synth.engine.run import stack_config
from silhouette_infra.validation.loader import load_settings
from tests.stacks import STACKS
from tests.support import synth

APP_NAMESPACE = "silhouette-production"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/0b9a6f3e-1111-2222-3333-444455556666"
ROLE_ARN = "arn:aws:iam::123456789012:role/silhouette-production-neo4j-backup"


def _neo4j_settings(**changes: str) -> Neo4jSettings:
    """Production's Neo4j settings with some images changed (as a stack file would set them)."""
    return load_settings("production", stack_config("production")).neo4j.model_copy(update=changes)


def design(stack: str = "production", **overrides: Any) -> Neo4jDesign:
    settings = load_settings(stack, stack_config(stack))
    fields: dict[str, Any] = {
        "settings": settings.neo4j,
        "stack": stack,
        "region": settings.aws.region,
        "storage_class": "gp3-encrypted",
        "secret_store_name": "aws-secrets-manager",
        "credentials_secret_name": f"silhouette/{stack}/neo4j",
        "backup_bucket": f"silhouette-{stack}-backups",
        "backup_kms_key_arn": KEY_ARN,
        "backup_role_arn": ROLE_ARN,
        "app_namespace": f"silhouette-{stack}",
        "dump_kms_key_arn": KEY_ARN,
    }
    return Neo4jDesign(**{**fields, **overrides})


def objects(stack: str = "production") -> dict[str, dict[str, Any]]:
    return {f"{m['kind']}/{m['metadata']['name']}": m for m in manifests(design(stack))}


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    if workload["kind"] == "CronJob":
        return dict(workload["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    return dict(workload["spec"]["template"]["spec"])


def container(workload: dict[str, Any], name: str) -> dict[str, Any]:
    spec = pod_spec(workload)
    return next(c for c in [*spec.get("initContainers", []), *spec["containers"]] if c["name"] == name)


def env(of: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in of.get("env", [])}


def as_captured(manifest: dict[str, Any]) -> CapturedResource:
    group_version = manifest["apiVersion"] if "/" in manifest["apiVersion"] else f"core/{manifest['apiVersion']}"
    type_token = f"kubernetes:{group_version}:{manifest['kind']}"
    name = manifest["metadata"]["name"]
    return CapturedResource(
        urn=f"urn:pulumi:test::silhouette::{type_token}::{name}",
        type=type_token,
        name=name,
        custom=True,
        inputs={key: value for key, value in manifest.items() if key not in ("apiVersion", "kind")},
        options={},
    )


# --------------------------------------------------------------------------------------- memory
@pytest.mark.parametrize(
    ("limit", "heap", "page_cache"), [("2Gi", 768, 768), ("4Gi", 1536, 1536), ("16Gi", 6144, 6144)]
)
def test_heap_and_page_cache_leave_a_quarter_of_the_limit_to_the_jvm(limit: str, heap: int, page_cache: int) -> None:
    plan = memory_plan(limit)
    assert (plan.heap_mib, plan.page_cache_mib) == (heap, page_cache)
    assert plan.reserved_mib >= max(512, memory_mib(limit) / 4), "native JVM memory must fit under the limit"
    assert plan.env() == {
        "NEO4J_server_memory_heap_initial__size": f"{heap}m",
        "NEO4J_server_memory_heap_max__size": f"{heap}m",
        "NEO4J_server_memory_pagecache_size": f"{page_cache}m",
    }


def test_heap_stays_below_the_compressed_pointer_limit() -> None:
    """Above ~31 GiB the JVM loses compressed object pointers (Neo4j operations manual, memory configuration)."""
    plan = memory_plan("128Gi")
    assert plan.heap_mib == 31 * 1024
    assert plan.heap_mib + plan.page_cache_mib + plan.reserved_mib == 128 * 1024


def test_too_little_memory_is_refused() -> None:
    with pytest.raises(ValueError, match="Neo4j needs"):
        memory_plan("1Gi")


@pytest.mark.parametrize("stack", STACKS)
def test_server_memory_settings_come_from_the_stacks_memory_limit(stack: str) -> None:
    server = container(objects(stack)["StatefulSet/neo4j"], "neo4j")
    limit = server["resources"]["limits"]["memory"]
    assert limit == design(stack).settings.memory_limit
    assert memory_plan(limit).env().items() <= env(server).items()


# --------------------------------------------------------------------------------------- image
def test_only_the_community_edition_of_the_configured_version_line_is_accepted() -> None:
    assert require_community_image("neo4j:5.26.12-community", "5.26")
    for image in ("neo4j:5.26.12-enterprise", "neo4j:5.25.1-community", "neo4j:2025.01.0-community"):
        with pytest.raises(ValueError, match="community"):
            require_community_image(image, "5.26")
    with pytest.raises(ValueError):
        manifests(design(settings=_neo4j_settings(image="neo4j:5.26.12-enterprise")))


def test_a_digest_pin_removes_the_tag_pinning_skips() -> None:
    digest = "@sha256:" + "0" * 64
    defaults = Neo4jSettings()
    pinned = design(
        settings=_neo4j_settings(image=defaults.image + digest, backup_image=defaults.backup_image + digest)
    )
    for manifest in manifests(pinned):
        if manifest["kind"] in ("StatefulSet", "CronJob"):
            skipped = " ".join(manifest["metadata"]["annotations"].values())
            assert "CKV_K8S_43" not in skipped and "CKV_K8S_15" not in skipped
            assert "CKV_K8S_40" in skipped


# --------------------------------------------------------------------------------------- validators
@pytest.mark.parametrize("stack", STACKS)
def test_every_object_passes_the_strict_kubernetes_schema(stack: str) -> None:
    report = validate_manifests([manifest_of(as_captured(m)) for m in manifests(design(stack))], "1.35")
    assert report.failures == [], [f"{f.resource}: {f.message}" for f in report.failures]
    assert report.checked == len(manifests(design(stack)))


@cache
def _checkov_report() -> Any:
    return checkov.run_many({"neo4j": [as_captured(m) for m in manifests(design())]})["neo4j"][checkov.KUBERNETES]


@pytest.mark.checkov
def test_checkov_kubernetes_checks_pass_with_only_the_recorded_reasons() -> None:
    report = _checkov_report()
    assert report.failures == [], [f"{f.check} {f.resource}: {f.message}" for f in report.failures]
    skipped = sorted((skip.check, resource) for skip, resource in report.skipped)
    assert skipped == sorted(
        (check, resource)
        for check in ("CKV_K8S_15", "CKV_K8S_40", "CKV_K8S_43")
        for resource in ("CronJob/neo4j/neo4j-backup", "StatefulSet/neo4j/neo4j")
    )
    assert report.passed > 150


# --------------------------------------------------------------------------------------- server
def test_namespace_enforces_the_restricted_pod_security_standard_and_may_read_secrets() -> None:
    labels = objects()["Namespace/neo4j"]["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    assert labels["silhouette.io/secret-store"] == "aws-secrets-manager"


@pytest.mark.parametrize("stack", STACKS)
def test_one_community_replica_keeps_its_data_on_an_encrypted_volume(stack: str) -> None:
    spec = objects(stack)["StatefulSet/neo4j"]["spec"]
    assert spec["replicas"] == 1
    [claim] = spec["volumeClaimTemplates"]
    assert claim["spec"]["storageClassName"] == "gp3-encrypted"
    assert claim["spec"]["resources"]["requests"]["storage"] == f"{design(stack).settings.volume_size_gib}Gi"
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    assert {"name": "data", "mountPath": "/data"} in container(objects(stack)["StatefulSet/neo4j"], "neo4j")[
        "volumeMounts"
    ]


def test_server_runs_as_the_images_neo4j_user_with_a_read_only_root() -> None:
    statefulset = objects()["StatefulSet/neo4j"]
    spec = pod_spec(statefulset)
    assert spec["securityContext"]["runAsUser"] == spec["securityContext"]["runAsGroup"] == 7474
    assert spec["enableServiceLinks"] is False, "Service links would inject NEO4J_PORT_* settings into Neo4j"
    server = container(statefulset, "neo4j")
    assert server["securityContext"]["readOnlyRootFilesystem"] is True
    writable = {mount["mountPath"] for mount in server["volumeMounts"]}
    assert {"/data", "/logs", "/plugins", "/tmp", "/var/lib/neo4j/conf", "/var/lib/neo4j/run"} <= writable


def test_configuration_directory_starts_from_the_images_own_configuration() -> None:
    """The entrypoint rewrites conf/ at every start; an empty volume there would drop the image's defaults."""
    statefulset = objects()["StatefulSet/neo4j"]
    config = container(statefulset, "config")
    assert config["command"] == ["cp", "-R", "/var/lib/neo4j/conf/.", "/conf-rw/"]
    assert config["volumeMounts"] == [{"name": "conf", "mountPath": "/conf-rw"}]
    assert {"name": "conf", "mountPath": "/var/lib/neo4j/conf"} in container(statefulset, "neo4j")["volumeMounts"]
    assert pod_spec(statefulset)["initContainers"][0]["image"] == container(statefulset, "neo4j")["image"]


def test_password_is_a_mounted_file_synced_from_secrets_manager() -> None:
    statefulset = objects()["StatefulSet/neo4j"]
    server = env(container(statefulset, "neo4j"))
    assert "NEO4J_AUTH" not in server
    assert server["NEO4J_AUTH_PATH"] == "/secrets/neo4j-auth/NEO4J_AUTH"
    assert {"name": "auth", "secret": {"secretName": "neo4j-auth", "defaultMode": 0o440}} in pod_spec(statefulset)[
        "volumes"
    ]
    external = objects()["ExternalSecret/neo4j-auth"]["spec"]
    assert external["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "aws-secrets-manager"}
    assert external["target"]["template"]["data"] == {"NEO4J_AUTH": "neo4j/{{ .password }}"}
    assert external["data"] == [
        {"secretKey": "password", "remoteRef": {"key": "silhouette/production/neo4j", "property": "password"}}
    ]


def test_apoc_core_is_enabled_and_http_is_off() -> None:
    server = env(container(objects()["StatefulSet/neo4j"], "neo4j"))
    assert json.loads(server["NEO4J_PLUGINS"]) == ["apoc"]
    assert server["NEO4J_server_http_enabled"] == "false"


def test_probes_use_bolt_and_tolerate_a_long_recovery() -> None:
    server = container(objects()["StatefulSet/neo4j"], "neo4j")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert server[probe]["tcpSocket"] == {"port": "bolt"}
    startup = server["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 15 * 60


def test_services_expose_only_bolt_inside_the_cluster() -> None:
    services = [m for m in objects().values() if m["kind"] == "Service"]
    assert {s["metadata"]["name"] for s in services} == {"neo4j", "neo4j-headless"}
    for service in services:
        assert service["spec"]["type"] == "ClusterIP", "no LoadBalancer or NodePort"
        assert [(p["name"], p["port"]) for p in service["spec"]["ports"]] == [("bolt", BOLT_PORT)]
    assert design().service_host == "neo4j.neo4j.svc.cluster.local"


def test_service_accounts_mount_no_token_and_only_the_backup_assumes_a_role() -> None:
    accounts = {m["metadata"]["name"]: m for m in objects().values() if m["kind"] == "ServiceAccount"}
    assert all(account["automountServiceAccountToken"] is False for account in accounts.values())
    assert "annotations" not in accounts["neo4j"]["metadata"]
    assert accounts["neo4j-backup"]["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": ROLE_ARN}


# --------------------------------------------------------------------------------------- network
def _policy(name: str) -> dict[str, Any]:
    return dict(objects()[f"NetworkPolicy/{name}"]["spec"])


def test_everything_is_denied_both_ways_unless_allowed() -> None:
    assert _policy("default-deny") == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = _policy("allow-dns")
    assert dns["podSelector"] == {} and dns["policyTypes"] == ["Egress"]
    assert dns["egress"][0]["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


def test_bolt_is_reachable_only_from_backend_and_worker_pods_of_the_app_namespace_and_the_backup() -> None:
    [rule] = _policy("neo4j-bolt-from-backend-and-backup")["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": BOLT_PORT}]
    backend, worker, backup = rule["from"]
    # Both selectors in one peer: backend (worker) pods in that namespace (two peers would allow either).
    for peer, name in ((backend, "backend"), (worker, "worker")):
        assert peer == {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": APP_NAMESPACE}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": name}},
        }, name
    assert backup == {"podSelector": {"matchLabels": BACKUP_SELECTOR}}


def test_backup_reaches_bolt_and_https_but_not_the_instance_metadata_service() -> None:
    bolt, https = _policy("neo4j-backup-egress")["egress"]
    assert bolt["ports"] == [{"protocol": "TCP", "port": BOLT_PORT}]
    assert https == {
        "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16"]}}],
        "ports": [{"protocol": "TCP", "port": 443}],
    }


def test_policies_select_the_pods_they_are_about() -> None:
    server_labels = objects()["StatefulSet/neo4j"]["spec"]["template"]["metadata"]["labels"]
    backup_labels = objects()["CronJob/neo4j-backup"]["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    server_selector = _policy("neo4j-bolt-from-backend-and-backup")["podSelector"]["matchLabels"]
    backup_selector = _policy("neo4j-backup-egress")["podSelector"]["matchLabels"]
    assert server_selector.items() <= server_labels.items()
    assert backup_selector.items() <= backup_labels.items()


# --------------------------------------------------------------------------------------- backup
@pytest.mark.parametrize("stack", STACKS)
def test_backup_runs_on_the_stacks_schedule_without_overlapping(stack: str) -> None:
    spec = objects(stack)["CronJob/neo4j-backup"]["spec"]
    assert spec["schedule"] == design(stack).settings.backup_schedule
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["jobTemplate"]["spec"]["activeDeadlineSeconds"] <= 3 * 3600


def test_export_streams_the_whole_database_through_apoc_without_a_server_side_file() -> None:
    """apoc.export.cypher.all(null, {stream: true}) needs no apoc.export.file.enabled
    (APOC ApocConfig.checkWriteAllowed: only a file name or a non-streaming export requires it)."""
    export = container(objects()["CronJob/neo4j-backup"], "export")
    variables = env(export)
    assert variables["EXPORT_QUERY"].startswith("CALL apoc.export.cypher.all(null, {stream: true, ")
    assert 'format: "cypher-shell"' in variables["EXPORT_QUERY"]
    assert "apoc.text.base64Encode(cypherStatements)" in variables["EXPORT_QUERY"]
    assert variables["NEO4J_ADDRESS"] == "bolt://neo4j-0.neo4j-headless.neo4j.svc.cluster.local:7687"
    script = export["command"][-1]
    assert "set -euo pipefail" in script, "a failed cypher-shell must fail the job, not upload a partial dump"
    assert "base64 -d | gzip -c" in script
    assert "NEO4J_PASSWORD" in script and "--password" not in script, "no password on a command line"


def test_upload_writes_sse_kms_objects_under_the_stacks_prefix() -> None:
    upload = container(objects()["CronJob/neo4j-backup"], "upload")
    variables = env(upload)
    assert upload["image"] == Neo4jSettings().backup_image
    assert variables["BACKUP_PREFIX"] == "neo4j/production/"
    assert variables["BACKUP_KMS_KEY_ARN"] == KEY_ARN
    script = upload["command"][-1]
    assert '--sse aws:kms --sse-kms-key-id "$BACKUP_KMS_KEY_ARN"' in script
    assert "s3://$BACKUP_BUCKET/$key" in script and variables["UPLOAD_SUFFIX"] == ".cypher.gz"


def test_only_the_upload_container_receives_aws_credentials() -> None:
    template = objects()["CronJob/neo4j-backup"]["spec"]["jobTemplate"]["spec"]["template"]
    assert template["metadata"]["annotations"] == {"eks.amazonaws.com/skip-containers": "export"}
    assert template["spec"]["serviceAccountName"] == "neo4j-backup"


@pytest.mark.parametrize("stack", STACKS)
def test_backup_dump_goes_to_an_ebs_volume_of_the_pod_as_large_as_the_data_volume(stack: str) -> None:
    """An export can approach the data volume's size (20-100 GiB), a node's root disk is 50 GiB: the dump
    gets a generic ephemeral volume (a claim created and deleted with the pod), not the node's disk."""
    cron_job = objects(stack)["CronJob/neo4j-backup"]
    dump = next(v for v in pod_spec(cron_job)["volumes"] if v["name"] == "dump")
    template = dump["ephemeral"]["volumeClaimTemplate"]
    assert set(template["metadata"]) == {"labels"}, "a claim template's metadata takes labels and annotations only"
    assert template["spec"]["storageClassName"] == DUMP_STORAGE_CLASS
    assert template["spec"]["accessModes"] == ["ReadWriteOnce"]
    dump_gib = memory_mib(template["spec"]["resources"]["requests"]["storage"]) / 1024
    assert dump_gib >= design(stack).settings.volume_size_gib
    assert {"name": "dump", "mountPath": "/backup"} in container(cron_job, "export")["volumeMounts"]
    assert {"name": "dump", "mountPath": "/backup", "readOnly": True} in container(cron_job, "upload")["volumeMounts"]
    for name in ("export", "upload"):
        assert "ephemeral-storage" not in container(cron_job, name)["resources"]["requests"], "no dump on the node"


def test_dump_volumes_are_encrypted_gp3_deleted_with_their_pod_and_never_backed_up() -> None:
    """Not the default StorageClass: it retains released volumes in production (one per run would pile up)
    and tags them for AWS Backup."""
    storage_class = objects()[f"StorageClass/{DUMP_STORAGE_CLASS}"]
    assert storage_class["provisioner"] == "ebs.csi.aws.com"
    assert storage_class["reclaimPolicy"] == "Delete"
    assert storage_class["volumeBindingMode"] == "WaitForFirstConsumer", "created in the zone of the pod's node"
    assert storage_class["parameters"] == {
        "type": "gp3",
        "encrypted": "true",
        "csi.storage.k8s.io/fstype": "ext4",
        "kmsKeyId": KEY_ARN,
    }, "neo4j-backup-dump: encrypted with the keys layer's EBS key (the one the EBS CSI driver may use)"
    assert "namespace" not in storage_class["metadata"], "StorageClasses are cluster-scoped"


def test_a_finished_backup_job_and_its_dump_volumes_go_within_an_hour() -> None:
    job = objects()["CronJob/neo4j-backup"]["spec"]["jobTemplate"]["spec"]
    assert job["ttlSecondsAfterFinished"] == 3600


def test_backup_role_may_only_write_its_own_prefix_with_the_backup_key() -> None:
    policy = backup_role_policy(
        bucket_arn="arn:aws:s3:::backups", kms_key_arn=KEY_ARN, stack="production", region="us-east-1"
    )
    write, encrypt = policy["Statement"]
    assert write["Action"] == ["s3:PutObject", "s3:AbortMultipartUpload"]
    assert write["Resource"] == "arn:aws:s3:::backups/neo4j/production/*"
    assert encrypt["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]
    assert encrypt["Resource"] == KEY_ARN
    assert encrypt["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}


def test_restore_loads_a_backup_through_cypher_shell_inside_the_server_pod() -> None:
    command = neo4j.restore_command("2026-11-20T000000Z.cypher.gz")
    assert command.startswith("gunzip -c 2026-11-20T000000Z.cypher.gz | kubectl -n neo4j exec -i neo4j-0 -c neo4j")
    assert "cypher-shell -a bolt://localhost:7687 -u neo4j" in command


# --------------------------------------------------------------------------------------- component
def _declare_component(stack: str, protect: bool) -> list[CapturedResource]:
    """What the wired component declares in ``stack`` (the stack's own protection setting must match)."""
    result = synth(stack)
    assert result.settings.protect_stateful == protect
    return [r for r in result.resources if r.type == "silhouette:data:Neo4j" or _inside_neo4j(result, r)]


def _inside_neo4j(result: SynthResult, resource: CapturedResource) -> bool:
    component = result.component_of(resource)
    return component is not None and component.type == "silhouette:data:Neo4j"


def test_component_declares_every_object_with_the_cluster_provider() -> None:
    captured = _declare_component("staging", protect=False)
    [component] = [r for r in captured if r.type == "silhouette:data:Neo4j"]
    declared = [r for r in captured if r.parent_urn == component.urn and r.type.startswith("kubernetes:")]
    expected = manifests(design("staging"))
    assert sorted(manifest_of(r)["kind"] for r in declared) == sorted(m["kind"] for m in expected)
    provider = next(r for r in synth("staging").resources if r.type == "pulumi:providers:kubernetes")
    for resource in declared:
        assert str(resource.options.get("provider", "")).startswith(provider.urn), resource.name
        assert resource.inputs["metadata"]["name"] in {m["metadata"]["name"] for m in expected}
    statefulset = next(r for r in declared if r.type == "kubernetes:apps/v1:StatefulSet")
    assert statefulset.inputs["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == 7474
    assert not any(r.protect for r in declared), "staging protects nothing"


def test_production_protects_the_namespace_and_the_stateful_set() -> None:
    captured = _declare_component("production", protect=True)
    protected = {manifest_of(r)["kind"] for r in captured if r.protect and r.type.startswith("kubernetes:")}
    assert protected == {"Namespace", "StatefulSet"}
    namespace = next(r for r in captured if r.type == "kubernetes:core/v1:Namespace")
    others = [r for r in captured if r.type.startswith("kubernetes:") and r.type != "kubernetes:core/v1:Namespace"]
    assert all(namespace.urn in r.options.get("dependencies", []) for r in others if r.custom), (
        f"every object in namespace {NAMESPACE} waits for it"
    )


# --------------------------------------------------------------------------------------- the real stacks
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"


def _wired(stack: SynthResult) -> CapturedResource:
    components = stack.of_type("silhouette:data:Neo4j")
    [component] = components
    return component


def test_stack_runs_neo4j_from_its_settings_on_the_cluster(stack: SynthResult) -> None:
    component = _wired(stack)
    [statefulset] = [r for r in stack.of_type(STATEFUL_SET) if stack.component_of(r) == component]
    spec = statefulset.inputs["spec"]
    assert spec["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == (
        f"{stack.settings.neo4j.volume_size_gib}Gi"
    )
    server = next(c for c in spec["template"]["spec"]["containers"] if c["name"] == "neo4j")
    assert server["resources"]["limits"]["memory"] == stack.settings.neo4j.memory_limit
    [cron_job] = [r for r in stack.of_type("kubernetes:batch/v1:CronJob") if stack.component_of(r) == component]
    assert cron_job.inputs["spec"]["schedule"] == stack.settings.neo4j.backup_schedule
    provider = next(r for r in stack.of_type("pulumi:providers:kubernetes"))
    assert str(statefulset.options.get("provider", "")).startswith(provider.urn)


def test_neo4j_data_is_protected_where_the_stack_protects_stateful_resources(stack: SynthResult) -> None:
    component = _wired(stack)
    objects = [r for r in stack.kubernetes_objects() if stack.component_of(r) == component]
    protected = {manifest_of(r)["kind"] for r in objects if r.protect}
    assert protected == ({"Namespace", "StatefulSet"} if stack.settings.protect_stateful else set())


def test_neo4j_credentials_and_backup_role_are_the_stacks_own(stack: SynthResult) -> None:
    component = _wired(stack)
    objects = [r for r in stack.kubernetes_objects() if stack.component_of(r) == component]
    [external] = [r for r in objects if r.type.endswith(":ExternalSecret")]
    secret_names = {r.inputs.get("name") for r in stack.of_type("aws:secretsmanager/secret:Secret")}
    assert external.inputs["spec"]["data"][0]["remoteRef"]["key"] in secret_names
    [account] = [
        r
        for r in objects
        if r.type == "kubernetes:core/v1:ServiceAccount"
        and r.inputs["metadata"]["name"] == neo4j.BACKUP_SERVICE_ACCOUNT
    ]
    role_arn = account.inputs["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    [role] = [r for r in stack.of_type("aws:iam/role:Role") if r.outputs.get("arn") == role_arn]
    trust = json.dumps(role.inputs["assumeRolePolicy"])
    assert f"system:serviceaccount:{NAMESPACE}:{neo4j.BACKUP_SERVICE_ACCOUNT}" in trust


def test_the_platform_encrypts_the_dump_volumes_with_the_keys_layers_ebs_key(production: SynthResult) -> None:
    dump = production.named("kubernetes:storage.k8s.io/v1:StorageClass", DUMP_STORAGE_CLASS)
    assert dump.inputs["parameters"]["kmsKeyId"] == production.outputs["kms_key_arns"]["ebs"], (
        f"{DUMP_STORAGE_CLASS}: parameters.kmsKeyId must be the EBS key"
    )


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_every_neo4j_object_waits_for_the_secret_store_and_the_storage_class(stack: str) -> None:
    """Neo4j's ExternalSecret needs the External Secrets CRDs and the ClusterSecretStore, and its volume the
    default StorageClass: on a first `pulumi up` every object of the layer waits for the cluster's add-ons
    (the cluster handle's readiness), not only for the control plane and the nodes."""
    resources = synth(stack).resources
    (store,) = [r for r in resources if r.type.endswith(":ClusterSecretStore")]
    (storage_class,) = [r for r in resources if r.type.endswith(":StorageClass") and r.name == "gp3-encrypted"]
    objects = [r for r in resources if r.type.startswith("kubernetes:") and ":Neo4j$" in r.urn]
    assert objects, "the Neo4j layer declares Kubernetes objects"
    for resource in objects:
        for needed in (store, storage_class):
            assert needed.urn in resource.options["dependencies"], (
                f"{resource.type} {resource.name}: must wait for {needed.name}"
            )
