"""The hardened-workload builder, on plain data: what every pod of the platform is guaranteed to be."""

from __future__ import annotations

from typing import Any

import pytest

from silhouette_infra.kubernetes.images import is_digest_pinned, require_pinned
from silhouette_infra.kubernetes.workloads import (
    HOSTNAME_KEY,
    ZONE_KEY,
    Container,
    Probe,
    Resources,
    SecretKey,
    Spread,
    VolumeClaim,
    VolumeMount,
    checkov_skips,
    cron_job_spec,
    deployment_spec,
    empty_dir,
    job_spec,
    pod_template,
    secret_volume,
    stateful_set_spec,
    tag_pinning_reasons,
)
from silhouette_infra.synth.checks.kubernetes_schema import validate_manifests

LABELS = {"app.kubernetes.io/name": "backend", "app.kubernetes.io/part-of": "silhouette"}
SELECTOR = {"app.kubernetes.io/name": "backend"}
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/silhouette/backend:1.4.2"
DIGEST = "sha256:" + "a" * 64
SMALL = Resources("100m", "500m", "128Mi", "256Mi")


def web(**overrides: Any) -> Container:
    fields: dict[str, Any] = {
        "name": "backend",
        "image": IMAGE,
        "resources": SMALL,
        "ports": (("http", 8080),),
        "readiness": Probe(port="http", http_path="/healthz"),
        "liveness": Probe(port="http", http_path="/livez", period_seconds=20),
        "writable_paths": {"/tmp": "64Mi"},
    }
    return Container(**{**fields, **overrides})


def template(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "labels": LABELS,
        "containers": [web()],
        "init_containers": [Container(name="wait", image=IMAGE, resources=SMALL, command=("true",))],
        "service_account": "backend",
        "run_as_user": 10001,
        "run_as_group": 10001,
        "fs_group": 10001,
        "spread": Spread(),
    }
    return pod_template(**{**arguments, **overrides})


def all_containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod["spec"].get("initContainers", []), *pod["spec"]["containers"]]


# --------------------------------------------------------------------------------------- images
@pytest.mark.parametrize(
    "image",
    [
        "neo4j:5.26.12-community",
        "amazon/aws-cli:2.31.0",
        IMAGE,
        "registry.example.com:5000/team/app:v1",
        f"neo4j@{DIGEST}",
        f"neo4j:5.26.12-community@{DIGEST}",
    ],
)
def test_images_pinned_by_tag_or_digest_are_accepted(image: str) -> None:
    assert require_pinned(image) == image


@pytest.mark.parametrize(
    "image",
    [
        "neo4j",
        "neo4j:latest",
        "registry.example.com:5000/team/app",
        "neo4j:latest@" + DIGEST,
        "neo4j@sha256:short",
        "neo4j:5.26 community",
        "",
    ],
)
def test_moving_or_malformed_images_are_rejected(image: str) -> None:
    """Kubernetes reads no tag as ``latest``; a moving tag lets nodes run different code for one revision
    (https://kubernetes.io/docs/concepts/containers/images/#image-names)."""
    with pytest.raises(ValueError):
        require_pinned(image)


def test_an_unpinned_image_cannot_reach_a_pod() -> None:
    with pytest.raises(ValueError, match="latest"):
        template(containers=[web(image="ghcr.io/silhouette/backend:latest")])


def test_digest_pinning_is_recognised() -> None:
    assert is_digest_pinned(f"{IMAGE}@{DIGEST}")
    assert not is_digest_pinned(IMAGE)
    assert tag_pinning_reasons([f"{IMAGE}@{DIGEST}"], "irrelevant reason text") == {}
    reasons = tag_pinning_reasons([f"{IMAGE}@{DIGEST}", IMAGE], "ECR repository tags are immutable")
    assert set(reasons) == {"CKV_K8S_43", "CKV_K8S_15"}


# --------------------------------------------------------------------------------------- pods
def test_every_container_init_containers_included_is_hardened() -> None:
    pod = template()
    for container in all_containers(pod):
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        }, container["name"]
        assert container["imagePullPolicy"] == "IfNotPresent"
        assert set(container["resources"]["requests"]) >= {"cpu", "memory"}
        assert set(container["resources"]["limits"]) == {"cpu", "memory"}


def test_pod_runs_as_non_root_with_the_default_seccomp_profile_and_no_token() -> None:
    spec = template()["spec"]
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert spec["automountServiceAccountToken"] is False
    assert spec["serviceAccountName"] == "backend"


def test_service_links_are_off() -> None:
    """With Service links on, a Service named ``neo4j`` injects ``NEO4J_PORT=tcp://...`` and friends into
    every container of the namespace, which the Neo4j image turns into (invalid) settings."""
    assert template()["spec"]["enableServiceLinks"] is False


@pytest.mark.parametrize("uid", [0, -1])
def test_root_or_unset_ids_are_refused(uid: int) -> None:
    with pytest.raises(ValueError, match="non-root"):
        template(run_as_user=uid)


def test_writable_paths_are_size_limited_empty_dirs_of_their_own_container() -> None:
    pod = template(containers=[web(writable_paths={"/tmp": "64Mi", "/var/cache/app": "1Gi"})])
    volumes = {volume["name"]: volume for volume in pod["spec"]["volumes"]}
    [backend] = pod["spec"]["containers"]
    mounts = {mount["mountPath"]: mount["name"] for mount in backend["volumeMounts"]}
    assert mounts == {"/tmp": "backend-tmp", "/var/cache/app": "backend-var-cache-app"}
    assert volumes["backend-tmp"] == {"name": "backend-tmp", "emptyDir": {"sizeLimit": "64Mi"}}
    assert volumes["backend-var-cache-app"] == {"name": "backend-var-cache-app", "emptyDir": {"sizeLimit": "1Gi"}}


def test_shared_volumes_must_be_declared_and_mounted_once() -> None:
    shared = Container(
        name="app",
        image=IMAGE,
        resources=SMALL,
        volume_mounts=(VolumeMount("scratch", "/work"), VolumeMount("token", "/secrets", read_only=True)),
    )
    pod = template(containers=[shared], volumes=[empty_dir("scratch", "1Gi"), secret_volume("token", "api-token")])
    assert {"name": "token", "mountPath": "/secrets", "readOnly": True} in pod["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "token", "secret": {"secretName": "api-token", "defaultMode": 0o440}} in pod["spec"]["volumes"]
    with pytest.raises(ValueError, match="does not declare"):
        template(containers=[shared], volumes=[empty_dir("scratch", "1Gi")])
    with pytest.raises(ValueError, match="mounted twice"):
        template(
            containers=[web(volume_mounts=(VolumeMount("scratch", "/tmp"),))], volumes=[empty_dir("scratch", "1Gi")]
        )


def test_probes_are_present_and_rendered_by_kind() -> None:
    [backend] = template()["spec"]["containers"]
    assert backend["readinessProbe"] == {
        "httpGet": {"path": "/healthz", "port": "http"},
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "failureThreshold": 3,
    }
    assert backend["livenessProbe"]["periodSeconds"] == 20
    assert Probe(port=7687).manifest()["tcpSocket"] == {"port": 7687}
    assert Probe(command=("pg_isready",)).manifest()["exec"] == {"command": ["pg_isready"]}
    with pytest.raises(ValueError):
        Probe().manifest()


def test_secret_environment_variables_come_from_secret_keys_and_never_twice() -> None:
    container = web(secret_env={"DATABASE_URL": SecretKey("backend-database", "url")}).manifest()
    assert {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "backend-database", "key": "url"}}} in (
        container["env"]
    )
    with pytest.raises(ValueError, match="plainly and from a secret"):
        web(env={"A": "1"}, secret_env={"A": SecretKey("s", "k")}).manifest()


def test_spread_constraints_select_the_pods_own_labels_over_zones_and_hosts() -> None:
    constraints = template()["spec"]["topologySpreadConstraints"]
    assert [c["topologyKey"] for c in constraints] == [ZONE_KEY, HOSTNAME_KEY]
    for constraint in constraints:
        assert constraint["maxSkew"] == 1
        assert constraint["labelSelector"] == {"matchLabels": LABELS}
        assert constraint["whenUnsatisfiable"] == "ScheduleAnyway"
    hard = Spread(zones="DoNotSchedule").constraints(LABELS)
    assert [c["whenUnsatisfiable"] for c in hard] == ["DoNotSchedule", "ScheduleAnyway"]


def test_container_and_volume_names_are_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        template(containers=[web(), web()])


# --------------------------------------------------------------------------------------- controllers
def test_deployment_selects_its_template_and_never_drops_below_its_replicas() -> None:
    spec = deployment_spec(labels=SELECTOR, template=template(), replicas=3)
    assert spec["selector"] == {"matchLabels": SELECTOR}
    assert SELECTOR.items() <= spec["template"]["metadata"]["labels"].items()
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}
    assert spec["revisionHistoryLimit"] == 10
    assert "replicas" not in deployment_spec(labels=SELECTOR, template=template(), replicas=None), (
        "an HPA owns the count: a declared one would fight it"
    )


def test_selector_that_misses_the_template_is_refused() -> None:
    with pytest.raises(ValueError, match="does not select"):
        deployment_spec(labels={"app.kubernetes.io/name": "frontend"}, template=template(), replicas=1)


def test_stateful_set_keeps_its_volumes() -> None:
    database = web(volume_mounts=(VolumeMount("data", "/data"),))
    pod = template(containers=[database], claimed_volumes=["data"], spread=None)
    spec = stateful_set_spec(
        labels=SELECTOR, service_name="backend-headless", template=pod, volume_claims=[VolumeClaim("data", "gp3", 20)]
    )
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    assert spec["updateStrategy"]["type"] == "RollingUpdate"
    assert spec["volumeClaimTemplates"][0]["spec"]["resources"] == {"requests": {"storage": "20Gi"}}
    with pytest.raises(ValueError, match="mounted by no container"):
        stateful_set_spec(
            labels=SELECTOR, service_name="x", template=template(), volume_claims=[VolumeClaim("data", "gp3", 20)]
        )


def test_cron_job_never_overlaps_retries_a_bounded_number_of_times_and_cleans_up() -> None:
    job = job_spec(
        template=template(restart_policy="Never", spread=None),
        backoff_limit=2,
        active_deadline_seconds=3600,
        ttl_seconds_after_finished=86400,
    )
    spec = cron_job_spec(schedule="0 */6 * * *", job=job, labels=SELECTOR)
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["timeZone"] == "Etc/UTC"
    assert spec["jobTemplate"]["spec"]["backoffLimit"] == 2
    assert spec["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 3600
    assert spec["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    with pytest.raises(ValueError, match="restart_policy"):
        job_spec(template=template(), backoff_limit=1, active_deadline_seconds=60, ttl_seconds_after_finished=60)
    with pytest.raises(ValueError, match="five cron fields"):
        cron_job_spec(schedule="CRON_TZ=UTC 0 * * * *", job=job, labels=SELECTOR)


def test_built_objects_pass_the_strict_kubernetes_schema() -> None:
    metadata = {"name": "backend", "namespace": "apps", "labels": LABELS}
    database = web(volume_mounts=(VolumeMount("data", "/data"),))
    objects = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": metadata,
            "spec": deployment_spec(labels=SELECTOR, template=template(), replicas=None),
        },
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": metadata,
            "spec": stateful_set_spec(
                labels=SELECTOR,
                service_name="backend",
                template=template(containers=[database], claimed_volumes=["data"]),
                volume_claims=[VolumeClaim("data", "gp3-encrypted", 10)],
            ),
        },
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": metadata,
            "spec": cron_job_spec(
                schedule="15 3 * * *",
                labels=SELECTOR,
                job=job_spec(
                    template=template(restart_policy="OnFailure", spread=None),
                    backoff_limit=1,
                    active_deadline_seconds=600,
                    ttl_seconds_after_finished=600,
                ),
            ),
        },
    ]
    report = validate_manifests(objects, "1.35")
    assert report.failures == [], [f"{f.resource}: {f.message}" for f in report.failures]


# --------------------------------------------------------------------------------------- checkov
def test_checkov_annotations_carry_a_reason_checkov_can_parse() -> None:
    annotations = checkov_skips({"CKV_K8S_40": "the image's own user is uid 7474, not a host user"})
    assert annotations == {"checkov.io/skip1": "CKV_K8S_40=the image's own user is uid 7474, not a host user"}
    with pytest.raises(ValueError, match="no '='"):
        checkov_skips({"CKV_K8S_40": "uid=7474 is what the image expects"})
    with pytest.raises(ValueError):
        checkov_skips({"CKV_K8S_40": "too short"})
    with pytest.raises(ValueError, match="check id"):
        checkov_skips({"CKV_AWS_1": "a reason that is long enough to pass"})
