"""The one hardened-workload builder: every Deployment, StatefulSet, Job and CronJob of the platform.

Pure functions on plain data that return Kubernetes API objects as dicts (camelCase field names), to be
passed as ``spec=`` / ``metadata=`` to the typed ``pulumi_kubernetes`` classes. Whatever a workload is,
its pods come out the same way:

* the pod runs as a fixed non-root uid/gid with ``fsGroup`` (changed only on a root mismatch) and the
  runtime's default seccomp profile; no service-account token unless asked for; no Service links
  (``NEO4J_PORT=tcp://...`` style variables would otherwise appear in every container);
* every container, init containers included, has a read-only root filesystem, no privilege escalation,
  no privileges, every capability dropped, requests and limits, and ``imagePullPolicy: IfNotPresent``
  on an image pinned by an exact tag or a digest (``require_pinned``);
* every path a container writes outside its volumes is an ``emptyDir`` with a size limit;
* replicated workloads spread over zones and hosts, selecting their own pods.

This satisfies the Pod Security Standards ``restricted`` profile and checkov's CKV_K8S container and
pod checks; where a check cannot apply, ``checkov_skips`` writes the annotation with its reason.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi

from silhouette_infra.kubernetes.images import image_tag as image_tag  # re-exported for the workloads that read tags
from silhouette_infra.kubernetes.images import is_digest_pinned, reference_in, require_pinned

Manifest = dict[str, Any]
WhenUnsatisfiable = Literal["DoNotSchedule", "ScheduleAnyway"]
RestartPolicy = Literal["Never", "OnFailure"]

ZONE_KEY = "topology.kubernetes.io/zone"
HOSTNAME_KEY = "kubernetes.io/hostname"

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_CHECKOV_ID = re.compile(r"^CKV2?_K8S_\d+$")
_CHECKOV_MIN_REASON = 20  # silhouette_infra.synth.checks.checkov refuses shorter annotation reasons

# On a pod template: a changed ConfigMap changes the template, so the pods roll and read it.
CONFIG_CHECKSUM_ANNOTATION = "silhouette.io/config-checksum"


# --------------------------------------------------------------------------------------- containers
@dataclass(frozen=True)
class Resources:
    """Requests and limits of one container; all four are required (quota, scheduling, checkov)."""

    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str

    def manifest(self) -> Manifest:
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


@dataclass(frozen=True)
class Probe:
    """One probe: an HTTP GET on ``http_path`` at ``port``, a command, or else a TCP connect to ``port``."""

    port: str | int | None = None
    http_path: str | None = None
    command: tuple[str, ...] = ()
    initial_delay_seconds: int = 0
    period_seconds: int = 10
    timeout_seconds: int = 5
    failure_threshold: int = 3

    def manifest(self) -> Manifest:
        if self.command:
            if self.port is not None or self.http_path is not None:
                raise ValueError("a command probe takes no port or path")
            handler: Manifest = {"exec": {"command": list(self.command)}}
        elif self.port is None:
            raise ValueError("an HTTP or TCP probe needs a port")
        elif self.http_path is not None:
            handler = {"httpGet": {"path": self.http_path, "port": self.port}}
        else:
            handler = {"tcpSocket": {"port": self.port}}
        timing = {
            "initialDelaySeconds": self.initial_delay_seconds,
            "periodSeconds": self.period_seconds,
            "timeoutSeconds": self.timeout_seconds,
            "failureThreshold": self.failure_threshold,
        }
        return {**handler, **{key: value for key, value in timing.items() if value}}


@dataclass(frozen=True)
class SecretKey:
    """One key of a Kubernetes Secret (prefer mounting secrets as files: checkov CKV_K8S_35)."""

    secret: str
    key: str


@dataclass(frozen=True)
class VolumeMount:
    """A mount of a pod volume declared in ``pod_template(volumes=...)``."""

    volume: str
    path: str
    read_only: bool = False

    def manifest(self) -> Manifest:
        mount: Manifest = {"name": self.volume, "mountPath": self.path}
        if self.read_only:
            mount["readOnly"] = True
        return mount


@dataclass(frozen=True)
class RepositoryImage:
    """A tag or digest in a repository whose URL is known only once it exists (the stack's ECR repository)."""

    repository_url: pulumi.Input[str]
    version: str

    def __post_init__(self) -> None:
        require_pinned(reference_in("registry.invalid/repository", self.version))

    @property
    def reference(self) -> pulumi.Output[str]:
        return pulumi.Output.from_input(self.repository_url).apply(lambda url: reference_in(url, self.version))

    @property
    def digest_pinned(self) -> bool:
        return self.version.startswith("sha256:")


Image = str | RepositoryImage


def image_reference(image: Image) -> pulumi.Input[str]:
    """What the pod pulls: a pinned reference (``require_pinned``) or a pinned version in a repository."""
    return image.reference if isinstance(image, RepositoryImage) else require_pinned(image)


@dataclass(frozen=True)
class Container:
    """One container. ``writable_paths`` maps each path it writes outside its volumes (``/tmp``, caches,
    logs) to the size limit of the ``emptyDir`` mounted there; the root filesystem stays read-only."""

    name: str
    image: Image
    resources: Resources
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    ports: tuple[tuple[str, int], ...] = ()
    env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    secret_env: Mapping[str, SecretKey] = field(default_factory=dict)
    readiness: Probe | None = None
    liveness: Probe | None = None
    startup: Probe | None = None
    writable_paths: Mapping[str, str] = field(default_factory=dict)
    volume_mounts: tuple[VolumeMount, ...] = ()
    env_from_config_maps: tuple[str, ...] = ()  # every key of these ConfigMaps becomes an environment variable

    def scratch_volume_name(self, path: str) -> str:
        """The ``emptyDir`` of one writable path: ``<container>-<path as a label>``."""
        slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "root"
        name = f"{self.name}-{slug}"
        if len(name) > 63 or not _DNS1123_LABEL.match(name):
            raise ValueError(f"container {self.name!r}: cannot name a volume for {path!r} ({name!r})")
        return name

    def scratch_volumes(self) -> list[Manifest]:
        return [
            empty_dir(self.scratch_volume_name(path), size_limit) for path, size_limit in self.writable_paths.items()
        ]

    def manifest(self) -> Manifest:
        if not _DNS1123_LABEL.match(self.name):
            raise ValueError(f"container name {self.name!r} is not a DNS-1123 label")
        overlap = set(self.env) & set(self.secret_env)
        if overlap:
            raise ValueError(f"container {self.name!r}: {sorted(overlap)} set both plainly and from a secret")
        container: Manifest = {
            "name": self.name,
            "image": image_reference(self.image),
            # Pinned images never change under a tag we use, so the node's copy is the right one.
            "imagePullPolicy": "IfNotPresent",
        }
        if self.command:
            container["command"] = list(self.command)
        if self.args:
            container["args"] = list(self.args)
        if self.ports:
            container["ports"] = [{"name": name, "containerPort": port, "protocol": "TCP"} for name, port in self.ports]
        env: list[Manifest] = [{"name": key, "value": value} for key, value in self.env.items()]
        env += [
            {"name": key, "valueFrom": {"secretKeyRef": {"name": ref.secret, "key": ref.key}}}
            for key, ref in self.secret_env.items()
        ]
        if env:
            container["env"] = env
        if self.env_from_config_maps:
            container["envFrom"] = [{"configMapRef": {"name": name}} for name in self.env_from_config_maps]
        container["resources"] = self.resources.manifest()
        for key, probe in (("startupProbe", self.startup), ("readinessProbe", self.readiness)):
            if probe is not None:
                container[key] = probe.manifest()
        if self.liveness is not None:
            container["livenessProbe"] = self.liveness.manifest()
        container["securityContext"] = {
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        }
        mounts = [{"name": self.scratch_volume_name(path), "mountPath": path} for path in self.writable_paths] + [
            mount.manifest() for mount in self.volume_mounts
        ]
        paths = [mount["mountPath"] for mount in mounts]
        if len(paths) != len(set(paths)):
            raise ValueError(f"container {self.name!r}: a path is mounted twice ({paths})")
        if mounts:
            container["volumeMounts"] = mounts
        container["terminationMessagePolicy"] = "FallbackToLogsOnError"
        return container


# --------------------------------------------------------------------------------------- volumes
def config_checksum(data: Mapping[str, Any]) -> str:
    """The value of ``CONFIG_CHECKSUM_ANNOTATION`` for a ConfigMap's ``data`` (resolved strings)."""
    return hashlib.sha256(json.dumps(dict(data), sort_keys=True).encode()).hexdigest()[:16]


def empty_dir(name: str, size_limit: str) -> Manifest:
    return {"name": name, "emptyDir": {"sizeLimit": size_limit}}


def secret_volume(name: str, secret_name: str, mode: int = 0o440) -> Manifest:
    """A Secret as read-only files, readable by the pod's group (its ``fsGroup``) only."""
    return {"name": name, "secret": {"secretName": secret_name, "defaultMode": mode}}


# --------------------------------------------------------------------------------------- pods
@dataclass(frozen=True)
class Spread:
    """Topology spread of a replicated workload's pods, over zones and over hosts (``maxSkew`` 1).

    Zones default to ``ScheduleAnyway``: the node groups are EKS managed node groups spanning all AZs,
    and the cluster autoscaler cannot choose the AZ of the node it adds to such a group, so a hard zone
    constraint can leave pods Pending while new nodes keep arriving in the wrong AZ (cluster-autoscaler
    FAQ, node groups spanning zones). The scheduler still scores zone balance first; use
    ``DoNotSchedule`` once node groups are per-AZ. Hosts are always ``ScheduleAnyway``: a hard host
    constraint blocks a rollout whenever there are fewer nodes than replicas plus surge.
    """

    zones: WhenUnsatisfiable = "ScheduleAnyway"
    hosts: WhenUnsatisfiable = "ScheduleAnyway"

    def constraints(self, labels: Mapping[str, str]) -> list[Manifest]:
        return [
            {
                "maxSkew": 1,
                "topologyKey": key,
                "whenUnsatisfiable": when,
                "labelSelector": {"matchLabels": dict(labels)},
            }
            for key, when in ((ZONE_KEY, self.zones), (HOSTNAME_KEY, self.hosts))
        ]


def pod_template(
    *,
    labels: Mapping[str, str],
    containers: Sequence[Container],
    service_account: str,
    run_as_user: int,
    run_as_group: int,
    fs_group: int,
    init_containers: Sequence[Container] = (),
    automount_token: bool = False,
    spread: Spread | None = None,
    node_selector: Mapping[str, str] | None = None,
    tolerations: Sequence[Manifest] = (),
    termination_grace_seconds: int = 30,
    annotations: Mapping[str, pulumi.Input[str]] | None = None,
    volumes: Sequence[Manifest] = (),
    claimed_volumes: Sequence[str] = (),
    restart_policy: RestartPolicy | None = None,
) -> Manifest:
    """A hardened PodTemplateSpec (``metadata`` and ``spec``); see the module docstring for what it enforces.

    ``volumes`` are the pod's shared volumes (``empty_dir``, ``secret_volume``); ``claimed_volumes`` name
    the StatefulSet volume claim templates the containers mount.
    """
    if not containers:
        raise ValueError("a pod needs at least one container")
    if min(run_as_user, run_as_group, fs_group) <= 0:
        raise ValueError("pods run as a non-root uid, gid and fsGroup (> 0)")
    everyone = [*init_containers, *containers]
    names = [container.name for container in everyone]
    if len(names) != len(set(names)):
        raise ValueError(f"container names must be unique in a pod: {names}")
    all_volumes = [*volumes, *(volume for container in everyone for volume in container.scratch_volumes())]
    volume_names = [volume["name"] for volume in all_volumes]
    if len(volume_names) != len(set(volume_names)):
        raise ValueError(f"volume names must be unique in a pod: {volume_names}")
    for container in everyone:
        for mount in container.volume_mounts:
            if mount.volume not in (*volume_names, *claimed_volumes):
                raise ValueError(
                    f"container {container.name!r} mounts {mount.volume!r}, which the pod does not declare"
                )

    spec: Manifest = {
        "serviceAccountName": service_account,
        "automountServiceAccountToken": automount_token,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": run_as_user,
            "runAsGroup": run_as_group,
            "fsGroup": fs_group,
            "fsGroupChangePolicy": "OnRootMismatch",
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    if init_containers:
        spec["initContainers"] = [container.manifest() for container in init_containers]
    spec["containers"] = [container.manifest() for container in containers]
    if all_volumes:
        spec["volumes"] = all_volumes
    if spread is not None:
        spec["topologySpreadConstraints"] = spread.constraints(labels)
    if node_selector:
        spec["nodeSelector"] = dict(node_selector)
    if tolerations:
        spec["tolerations"] = list(tolerations)
    spec["terminationGracePeriodSeconds"] = termination_grace_seconds
    if restart_policy is not None:
        spec["restartPolicy"] = restart_policy

    metadata: Manifest = {"labels": dict(labels)}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {"metadata": metadata, "spec": spec}


def _require_selected(labels: Mapping[str, str], template: Manifest) -> None:
    """A controller's selector must match its own pod template's labels (the API server refuses otherwise)."""
    pod_labels = template["metadata"]["labels"]
    missing = {key: value for key, value in labels.items() if pod_labels.get(key) != value}
    if not labels or missing:
        raise ValueError(f"selector {dict(labels)} does not select the pod template's labels {pod_labels}")


# --------------------------------------------------------------------------------------- controllers
def deployment_spec(
    *,
    labels: Mapping[str, str],
    template: Manifest,
    replicas: int | None,
    revision_history_limit: int = 10,
    max_surge: str | int = "25%",
    max_unavailable: str | int = 0,
) -> Manifest:
    """A Deployment rolling out without ever dropping below its replica count.

    ``replicas=None`` leaves the count to a HorizontalPodAutoscaler (a declared count would fight it).
    """
    _require_selected(labels, template)
    spec: Manifest = {}
    if replicas is not None:
        spec["replicas"] = replicas
    spec |= {
        "selector": {"matchLabels": dict(labels)},
        "template": template,
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": max_surge, "maxUnavailable": max_unavailable},
        },
        "revisionHistoryLimit": revision_history_limit,
    }
    return spec


@dataclass(frozen=True)
class VolumeClaim:
    """A StatefulSet volume claim template: one encrypted EBS volume per replica."""

    name: str
    storage_class: str
    size_gib: int
    access_mode: Literal["ReadWriteOnce", "ReadWriteOncePod"] = "ReadWriteOnce"

    def manifest(self) -> Manifest:
        if self.size_gib <= 0:
            raise ValueError(f"volume claim {self.name!r}: size must be positive")
        return {
            "metadata": {"name": self.name},
            "spec": {
                "accessModes": [self.access_mode],
                "storageClassName": self.storage_class,
                "resources": {"requests": {"storage": f"{self.size_gib}Gi"}},
            },
        }


def stateful_set_spec(
    *,
    labels: Mapping[str, str],
    service_name: str,
    template: Manifest,
    volume_claims: Sequence[VolumeClaim],
    replicas: int = 1,
    pod_management_policy: Literal["OrderedReady", "Parallel"] = "OrderedReady",
    revision_history_limit: int = 10,
) -> Manifest:
    """A StatefulSet whose volumes outlive it: claims are retained when the set is deleted or scaled down."""
    _require_selected(labels, template)
    mounted = {
        mount["name"] for container in template["spec"]["containers"] for mount in container.get("volumeMounts", [])
    }
    for claim in volume_claims:
        if claim.name not in mounted:
            raise ValueError(f"volume claim {claim.name!r} is mounted by no container")
    return {
        "replicas": replicas,
        "serviceName": service_name,
        "selector": {"matchLabels": dict(labels)},
        "template": template,
        "volumeClaimTemplates": [claim.manifest() for claim in volume_claims],
        "podManagementPolicy": pod_management_policy,
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
        "revisionHistoryLimit": revision_history_limit,
    }


def job_spec(
    *,
    template: Manifest,
    backoff_limit: int,
    active_deadline_seconds: int,
    ttl_seconds_after_finished: int | None,
) -> Manifest:
    """A Job that retries a bounded number of times and cannot run forever; cleaned up afterwards unless
    ``ttl_seconds_after_finished`` is None (a Job Pulumi manages must stay, or Pulumi would run it again)."""
    if template["spec"].get("restartPolicy") not in ("Never", "OnFailure"):
        raise ValueError("a Job's pods need restart_policy 'Never' or 'OnFailure'")
    spec: Manifest = {"backoffLimit": backoff_limit, "activeDeadlineSeconds": active_deadline_seconds}
    if ttl_seconds_after_finished is not None:
        spec["ttlSecondsAfterFinished"] = ttl_seconds_after_finished
    spec["template"] = template
    return spec


def cron_job_spec(
    *,
    schedule: str,
    job: Manifest,
    labels: Mapping[str, str],
    time_zone: str = "Etc/UTC",
    starting_deadline_seconds: int = 600,
    successful_jobs_history_limit: int = 3,
    failed_jobs_history_limit: int = 3,
) -> Manifest:
    """A CronJob that never overlaps itself (``Forbid``) and skips a run it could not start in time."""
    if len(schedule.split()) != 5 or "TZ" in schedule:
        raise ValueError(f"schedule {schedule!r}: five cron fields, the time zone goes in time_zone")
    _require_selected(labels, job["template"])
    return {
        "schedule": schedule,
        "timeZone": time_zone,
        "concurrencyPolicy": "Forbid",
        "startingDeadlineSeconds": starting_deadline_seconds,
        "successfulJobsHistoryLimit": successful_jobs_history_limit,
        "failedJobsHistoryLimit": failed_jobs_history_limit,
        "jobTemplate": {"metadata": {"labels": dict(labels)}, "spec": job},
    }


# --------------------------------------------------------------------------------------- checkov
def checkov_skips(reasons: Mapping[str, str]) -> dict[str, str]:
    """checkov annotations (``checkov.io/skip<N>: CKV_K8S_xx=<reason>``) for the object's own metadata.

    checkov splits the value on ``=``, so a reason must not contain one; an empty or short reason is
    refused here as it would be by our checkov report.
    """
    annotations = {}
    for number, (check, reason) in enumerate(sorted(reasons.items()), start=1):
        if not _CHECKOV_ID.match(check):
            raise ValueError(f"{check!r} is not a checkov Kubernetes check id")
        if "=" in reason or len(reason.strip()) < _CHECKOV_MIN_REASON:
            raise ValueError(f"{check}: the reason needs {_CHECKOV_MIN_REASON}+ characters and no '='")
        annotations[f"checkov.io/skip{number}"] = f"{check}={reason.strip()}"
    return annotations


def tag_pinning_reasons(images: Sequence[Image], reason: str) -> dict[str, str]:
    """The checkov reasons for images pinned by tag only: CKV_K8S_43 wants a digest and CKV_K8S_15
    then wants ``imagePullPolicy: Always``. Empty when every image carries a digest."""
    if all(image.digest_pinned if isinstance(image, RepositoryImage) else is_digest_pinned(image) for image in images):
        return {}
    return {"CKV_K8S_43": reason, "CKV_K8S_15": reason}
