"""Neo4j 5.26 LTS, Community edition, self-managed in the cluster on an encrypted EBS volume.

Our own StatefulSet, built with the platform's hardened-workload builder, not the official Helm chart:
Helm charts cannot be rendered offline here (no helm binary, no chart repositories), so a chart's
objects would reach the cluster without ever passing the strict Kubernetes schema validation and
checkov that every object of ours passes in ``synth``. Community edition means one instance (clustering
and online backup are Enterprise features that need a licence).

What runs, in namespace ``neo4j`` (Pod Security Standards ``restricted``):

* the server: the official image as its own uid 7474 with a read-only root filesystem. The image's
  entrypoint rewrites ``/var/lib/neo4j/conf`` on every start (plugin and environment settings), so
  that directory is an ``emptyDir`` that an init container first fills with the image's own
  configuration (mounting an empty directory there would silently drop the image's ~350 lines of
  defaults: JVM flags, ``server.directories.import``). Logs, plugins (APOC core, copied from the
  image's ``labs`` directory by the entrypoint), the run directory and ``/tmp`` are size-limited
  ``emptyDir`` volumes; data is the volume claim. The password comes from a mounted Secret file
  (``NEO4J_AUTH_PATH``), never an environment variable, and is synced from Secrets Manager by an
  ExternalSecret. The HTTP connector is off: clients speak Bolt (7687), nothing serves a browser.
* a backup CronJob: Community edition has no online backup (``neo4j-admin database backup`` is
  Enterprise) and ``neo4j-admin database dump`` needs the database stopped. An init container runs
  ``cypher-shell`` against the live server: ``apoc.export.cypher.all`` with ``stream: true`` returns the
  whole database as Cypher Shell statements in rows (no ``apoc.export.file.enabled`` needed: APOC
  only requires it when a file name is given), each row base64-encoded by ``apoc.text.base64Encode``
  so that no output quoting of cypher-shell can alter a byte, decoded and gzipped onto the pod's own
  EBS volume (see ``dump_volume``). The main container (``amazon/aws-cli``) uploads the file with
  SSE-KMS under the backup key to ``s3://<bucket>/neo4j/<stack>/<UTC timestamp>.cypher.gz``. The
  export is read-committed, not a snapshot: writes during the export may be half in it.
  Restore: ``gunzip -c <file> | cypher-shell -a bolt://localhost:7687 -u neo4j --format verbose``
  inside the server pod, into an empty database (see ``restore_command``).
* NetworkPolicies: everything denied in both directions, then DNS for every pod, Bolt into the server
  only from the backend's pods in the application namespace and from the backup pods, and for the
  backup pods Bolt to the server and HTTPS (S3 through the gateway endpoint, STS through its interface
  endpoint) anywhere except link-local addresses (the instance metadata service).

* the dr stack's restore (``recovery.sources.neo4j_dump_object``): a Job, once the server runs, that downloads
  that export (an IRSA role that may read that one object and decrypt it through S3) onto a dump volume and,
  only when the database is empty (no node), replays it with ``cypher-shell``. Not ``neo4j-admin database
  load``: that command loads archives made by ``neo4j-admin database dump``, which Community edition makes
  only of a stopped DBMS (https://neo4j.com/docs/operations-manual/current/backup-restore/restore-dump/), while
  the exports above are Cypher statements taken from the live server, which only a running server can replay.
  The emptiness check makes a rerun (a later ``pulumi up``) harmless. Its pods carry the backup pods' selector,
  and so their NetworkPolicies (Bolt to the server, HTTPS out).

No Service is of type LoadBalancer or NodePort: Neo4j is reachable only inside the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from silhouette_infra.aws.buckets import s3_uri
from silhouette_infra.aws.context import LayerArgs
from silhouette_infra.aws.iam import WRITE_ONLY_OBJECT_ACTIONS, own_prefix_policy
from silhouette_infra.aws.roles import ObjectReader, ReadableObject, object_reader, prefix_writer_role
from silhouette_infra.cluster.addons import SECRET_STORE_NAMESPACE_LABEL
from silhouette_infra.cluster.handle import ClusterHandle
from silhouette_infra.data.common import SecretReplica, generated_credentials
from silhouette_infra.kubernetes.declare import declare_manifest
from silhouette_infra.kubernetes.external_secrets import EXTERNAL_SECRETS_API_VERSION, external_secret_spec
from silhouette_infra.kubernetes.labels import MANAGED_BY, PART_OF, ROLE_ARN_ANNOTATION
from silhouette_infra.kubernetes.quantities import memory_mib
from silhouette_infra.kubernetes.uploads import s3_download_container, s3_upload_container, two_step_pod
from silhouette_infra.kubernetes.workloads import (
    Container,
    Manifest,
    Probe,
    Resources,
    VolumeClaim,
    VolumeMount,
    checkov_skips,
    cron_job_spec,
    empty_dir,
    image_tag,
    job_spec,
    pod_template,
    secret_volume,
    stateful_set_spec,
    tag_pinning_reasons,
)
from silhouette_infra.settings.models import Neo4jSettings

NAMESPACE = "neo4j"
SERVICE_NAME = "neo4j"
HEADLESS_SERVICE_NAME = "neo4j-headless"
STATEFUL_SET_NAME = "neo4j"
BOLT_PORT = 7687
SERVER_SERVICE_ACCOUNT = "neo4j"
BACKUP_SERVICE_ACCOUNT = "neo4j-backup"
BACKUP_CRON_JOB = "neo4j-backup"
RESTORE_JOB = "neo4j-restore"
RESTORE_SERVICE_ACCOUNT = "neo4j-restore"
AUTH_SECRET = "neo4j-auth"
DUMP_STORAGE_CLASS = "neo4j-backup-dump"

# The official image's neo4j user and group, owner of its files, which its entrypoint expects.
NEO4J_UID = 7474

SERVER_SELECTOR = {"app.kubernetes.io/name": "neo4j"}
BACKUP_SELECTOR = {"app.kubernetes.io/name": "neo4j-backup"}
BACKEND_SELECTOR = {"app.kubernetes.io/name": "backend"}
WORKER_SELECTOR = {"app.kubernetes.io/name": "worker"}
COMMON_LABELS = {**PART_OF, **MANAGED_BY}
SERVER_LABELS = {**SERVER_SELECTOR, "app.kubernetes.io/component": "database", **COMMON_LABELS}
BACKUP_LABELS = {**BACKUP_SELECTOR, "app.kubernetes.io/component": "backup", **COMMON_LABELS}
# The backup's selector: the restore pods get the backup pods' NetworkPolicies (Bolt to the server, HTTPS out).
RESTORE_LABELS = {**BACKUP_SELECTOR, "app.kubernetes.io/component": "restore", **COMMON_LABELS}

NEO4J_HOME = "/var/lib/neo4j"
CONF_DIR = f"{NEO4J_HOME}/conf"
RUN_DIR = f"{NEO4J_HOME}/run"
AUTH_DIR = "/secrets/neo4j-auth"
AUTH_FILE = f"{AUTH_DIR}/NEO4J_AUTH"
DUMP_DIR = "/backup"
DUMP_FILE = f"{DUMP_DIR}/neo4j.cypher.gz"

UID_REASON = (
    "runs as uid 7474 - the neo4j user that owns the official image files and that its entrypoint "
    "expects; no EKS node account uses 7474 so it cannot collide with a host user"
)
TAG_PINNING_REASON = (
    "Docker Hub image pinned to an exact release tag; its digest cannot be resolved offline here - "
    "append the @sha256 digest to neo4j.image or neo4j.backup_image in the stack settings to pin by digest"
)

# Neo4j's heap above 31 GiB loses compressed object pointers.
_MAX_HEAP_MIB = 31 * 1024
_MIN_HEAP_MIB = 512
_ROUNDING_MIB = 64


# --------------------------------------------------------------------------------------- pure decisions
@dataclass(frozen=True)
class Neo4jMemory:
    """How the container's memory limit is shared: JVM heap, page cache, and the rest for everything else
    (metaspace, thread stacks, Netty's direct buffers, GC structures; all counted against the limit)."""

    limit_mib: int
    heap_mib: int
    page_cache_mib: int

    @property
    def reserved_mib(self) -> int:
        return self.limit_mib - self.heap_mib - self.page_cache_mib

    def env(self) -> dict[str, str]:
        """Initial heap = maximum heap: no resizing pauses, and the whole heap is accounted for at start."""
        return {
            "NEO4J_server_memory_heap_initial__size": f"{self.heap_mib}m",
            "NEO4J_server_memory_heap_max__size": f"{self.heap_mib}m",
            "NEO4J_server_memory_pagecache_size": f"{self.page_cache_mib}m",
        }


def memory_plan(memory_limit: str) -> Neo4jMemory:
    """Heap and page cache from the container memory limit.

    A quarter of the limit (at least 512 MiB) stays outside heap and page cache for the JVM's native
    memory; the rest is split evenly between heap (queries, transaction state) and page cache (the
    graph's store files), each rounded down to 64 MiB and the heap capped at 31 GiB. Neo4j sizes these
    for a dedicated machine by default (operations manual, "Memory configuration"), which in a
    container overshoots the limit and gets the pod OOM-killed.
    """
    limit = int(memory_mib(memory_limit))
    reserved = max(512, limit // 4)
    usable = limit - reserved
    heap = min(usable // 2 // _ROUNDING_MIB * _ROUNDING_MIB, _MAX_HEAP_MIB)
    page_cache = (usable - heap) // _ROUNDING_MIB * _ROUNDING_MIB
    if heap < _MIN_HEAP_MIB:
        raise ValueError(f"a memory limit of {memory_limit} leaves {heap} MiB of heap; Neo4j needs {_MIN_HEAP_MIB}+")
    return Neo4jMemory(limit_mib=limit, heap_mib=heap, page_cache_mib=page_cache)


def require_community_image(image: str, version: str) -> str:
    """The image must be the Community edition of the configured version line (``5.26.x``)."""
    tag = image_tag(image) or ""
    if not tag.startswith(f"{version}.") or "community" not in tag:
        raise ValueError(f"neo4j image {image!r}: expected a {version}.<patch>-community tag")
    return image


def backup_prefix(stack: str) -> str:
    return f"neo4j/{stack}/"


EXPORT_QUERY = (
    "CALL apoc.export.cypher.all(null, "
    '{stream: true, format: "cypher-shell", batchSize: 5000, timeoutSeconds: 600}) '
    "YIELD cypherStatements WHERE cypherStatements IS NOT NULL "
    "RETURN apoc.text.base64Encode(cypherStatements) AS chunk"
)

# cypher-shell prints a header line, then one base64 value per row (quoted as a string). base64 -d
# accepts concatenated padded chunks and ignores newlines, so the Cypher text comes back byte for byte.
EXPORT_SCRIPT = """\
set -euo pipefail
NEO4J_PASSWORD="$(cut -d/ -f2- "$AUTH_FILE")"
export NEO4J_PASSWORD
cypher-shell --address "$NEO4J_ADDRESS" --username neo4j --format plain --non-interactive "$EXPORT_QUERY" \\
  | tail -n +2 | tr -d '"' | base64 -d | gzip -c > "$DUMP_FILE.partial"
gzip -t "$DUMP_FILE.partial"
mv "$DUMP_FILE.partial" "$DUMP_FILE"
echo "neo4j export: $(stat -c %s "$DUMP_FILE") bytes, gzipped"
"""


# Replays an export into an empty database only: a database with any node is left as it is.
RESTORE_SCRIPT = """\
set -euo pipefail
NEO4J_PASSWORD="$(cut -d/ -f2- "$AUTH_FILE")"
export NEO4J_PASSWORD
shell() { cypher-shell --address "$NEO4J_ADDRESS" --username neo4j --format plain --non-interactive "$@"; }
nodes="$(shell 'MATCH (n) RETURN count(n) AS nodes' | tail -n 1)"
if [ "$nodes" != "0" ]; then
  echo "neo4j already holds $nodes nodes: nothing restored"; exit 0
fi
gunzip -c "$DUMP_FILE" | shell
echo "neo4j restored from $SOURCE: $(shell 'MATCH (n) RETURN count(n) AS nodes' | tail -n 1) nodes"
"""


def restore_command(backup_file: str) -> str:
    """How to load a backup into an empty database, from a workstation with kubectl (run inside the
    server pod: no NetworkPolicy stands between a pod and itself)."""
    return (
        f"gunzip -c {backup_file} | kubectl -n {NAMESPACE} exec -i {STATEFUL_SET_NAME}-0 -c neo4j -- "
        f'bash -c \'NEO4J_PASSWORD="$(cut -d/ -f2- {AUTH_FILE})" '
        "cypher-shell -a bolt://localhost:7687 -u neo4j --format verbose'"
    )


def backup_role_policy(*, bucket_arn: str, kms_key_arn: str, stack: str, region: str) -> dict[str, Any]:
    """What the backup CronJob's IRSA role may do: write (never read, list or delete) objects under its
    own prefix, with the backup key."""
    return own_prefix_policy(
        sid="WriteNeo4jBackups",
        bucket_arn=bucket_arn,
        prefix=backup_prefix(stack),
        actions=WRITE_ONLY_OBJECT_ACTIONS,
        kms_key_arn=kms_key_arn,
        region=region,
    )


# --------------------------------------------------------------------------------------- the objects
@dataclass(frozen=True)
class Neo4jDesign:
    """Everything the Kubernetes objects depend on, as plain values or Pulumi inputs (no resources)."""

    settings: Neo4jSettings
    stack: str
    region: str
    storage_class: str
    secret_store_name: str
    credentials_secret_name: pulumi.Input[str]
    backup_bucket: pulumi.Input[str]
    backup_kms_key_arn: pulumi.Input[str]
    backup_role_arn: pulumi.Input[str]
    app_namespace: str
    dump_kms_key_arn: pulumi.Input[str]  # the keys layer's EBS key, for the backup dump's volumes
    restore: ObjectReader | None = None

    @property
    def service_host(self) -> str:
        return f"{SERVICE_NAME}.{NAMESPACE}.svc.cluster.local"

    @property
    def server_address(self) -> str:
        """The server pod itself (headless DNS), so that NetworkPolicies see its pod IP, not a Service IP."""
        return f"bolt://{STATEFUL_SET_NAME}-0.{HEADLESS_SERVICE_NAME}.{NAMESPACE}.svc.cluster.local:{BOLT_PORT}"


def _metadata(name: str, labels: dict[str, str], **extra: Any) -> Manifest:
    return {"name": name, "namespace": NAMESPACE, "labels": labels, **extra}


def namespace(design: Neo4jDesign) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": NAMESPACE,
            "labels": {
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/audit": "restricted",
                "pod-security.kubernetes.io/warn": "restricted",
                # The ClusterSecretStore serves only namespaces carrying this label.
                SECRET_STORE_NAMESPACE_LABEL: design.secret_store_name,
                **COMMON_LABELS,
            },
        },
    }


def auth_external_secret(design: Neo4jDesign) -> Manifest:
    """The Secret ``neo4j-auth`` with ``NEO4J_AUTH=neo4j/<password>`` (the image's admin user must be
    ``neo4j``, and the password cannot contain ``/``) from the Secrets Manager secret's ``password``."""
    return {
        "apiVersion": EXTERNAL_SECRETS_API_VERSION,
        "kind": "ExternalSecret",
        "metadata": _metadata(AUTH_SECRET, COMMON_LABELS),
        "spec": external_secret_spec(
            store=design.secret_store_name,
            target=AUTH_SECRET,
            source=design.credentials_secret_name,
            keys=("password",),
            template={"engineVersion": "v2", "type": "Opaque", "data": {"NEO4J_AUTH": "neo4j/{{ .password }}"}},
        ),
    }


def service_accounts(design: Neo4jDesign) -> list[Manifest]:
    restore = (
        [
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": _metadata(
                    RESTORE_SERVICE_ACCOUNT,
                    RESTORE_LABELS,
                    annotations={ROLE_ARN_ANNOTATION: design.restore.role_arn},
                ),
                "automountServiceAccountToken": False,
            }
        ]
        if design.restore
        else []
    )
    return [
        *restore,
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _metadata(SERVER_SERVICE_ACCOUNT, SERVER_LABELS),
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _metadata(
                BACKUP_SERVICE_ACCOUNT, BACKUP_LABELS, annotations={ROLE_ARN_ANNOTATION: design.backup_role_arn}
            ),
            "automountServiceAccountToken": False,
        },
    ]


def services(design: Neo4jDesign) -> list[Manifest]:
    """The ClusterIP Service clients use, and the headless Service that names the StatefulSet's pod."""
    bolt = {"name": "bolt", "port": BOLT_PORT, "targetPort": "bolt", "protocol": "TCP"}
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _metadata(SERVICE_NAME, SERVER_LABELS),
            "spec": {"type": "ClusterIP", "selector": SERVER_SELECTOR, "ports": [bolt]},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _metadata(HEADLESS_SERVICE_NAME, SERVER_LABELS),
            "spec": {"type": "ClusterIP", "clusterIP": "None", "selector": SERVER_SELECTOR, "ports": [bolt]},
        },
    ]


def server_container(design: Neo4jDesign) -> Container:
    settings = design.settings
    bolt = Probe(port="bolt")
    return Container(
        name="neo4j",
        image=require_community_image(settings.image, settings.version),
        ports=(("bolt", BOLT_PORT),),
        env={
            "NEO4J_AUTH_PATH": AUTH_FILE,
            # APOC core ships in the image's labs directory; the entrypoint copies it into /plugins.
            "NEO4J_PLUGINS": '["apoc"]',
            **memory_plan(settings.memory_limit).env(),
            "NEO4J_server_http_enabled": "false",
            "NEO4J_server_directories_run": RUN_DIR,
        },
        resources=Resources(settings.cpu_request, settings.cpu_limit, settings.memory_request, settings.memory_limit),
        # Recovery after an unclean stop replays the transaction log before Bolt opens: up to 15 minutes.
        startup=Probe(port="bolt", period_seconds=10, failure_threshold=90),
        readiness=bolt,
        liveness=Probe(port="bolt", period_seconds=20, failure_threshold=6),
        writable_paths={"/logs": "2Gi", "/plugins": "256Mi", RUN_DIR: "16Mi", "/tmp": "1Gi"},
        volume_mounts=(
            VolumeMount("data", "/data"),
            VolumeMount("conf", CONF_DIR),
            VolumeMount("auth", AUTH_DIR, read_only=True),
        ),
    )


def config_init_container(design: Neo4jDesign) -> Container:
    """Copies the image's configuration into the writable ``conf`` volume before the server starts."""
    return Container(
        name="config",
        image=require_community_image(design.settings.image, design.settings.version),
        command=("cp", "-R", f"{CONF_DIR}/.", "/conf-rw/"),
        resources=Resources("50m", "200m", "64Mi", "64Mi"),
        volume_mounts=(VolumeMount("conf", "/conf-rw"),),
    )


def stateful_set(design: Neo4jDesign) -> Manifest:
    template = pod_template(
        labels=SERVER_LABELS,
        init_containers=[config_init_container(design)],
        containers=[server_container(design)],
        service_account=SERVER_SERVICE_ACCOUNT,
        run_as_user=NEO4J_UID,
        run_as_group=NEO4J_UID,
        fs_group=NEO4J_UID,
        # One replica on an AZ-bound EBS volume: there is nothing to spread.
        spread=None,
        # A clean shutdown checkpoints the page cache to disk.
        termination_grace_seconds=300,
        # The cluster autoscaler must not move the only database replica to save a node.
        annotations={"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"},
        volumes=[empty_dir("conf", "16Mi"), secret_volume("auth", AUTH_SECRET)],
        claimed_volumes=["data"],
    )
    reasons = {"CKV_K8S_40": UID_REASON, **tag_pinning_reasons([design.settings.image], TAG_PINNING_REASON)}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _metadata(STATEFUL_SET_NAME, SERVER_LABELS, annotations=checkov_skips(reasons)),
        "spec": stateful_set_spec(
            labels=SERVER_SELECTOR,
            service_name=HEADLESS_SERVICE_NAME,
            template=template,
            volume_claims=[VolumeClaim("data", design.storage_class, design.settings.volume_size_gib)],
        ),
    }


# Where the dump goes. An export of the whole graph can approach the size of the data volume (20-100 GiB
# here), while a node's root volume is 50 GiB and holds its images, logs and every pod's scratch space: an
# emptyDir would have to be sized far below the worst case, or the nodes' disks raised for one job. So the
# pod gets a generic ephemeral volume instead: an EBS volume as large as the data volume, created in the
# pod's zone when it is scheduled and deleted with the pod, so the dump never touches the node's disk.
# Its StorageClass is its own, not the default one: that one retains released volumes in production (a
# scratch volume per run would pile up) and tags them for AWS Backup (snapshots of a copy already in S3).
def dump_storage_class(design: Neo4jDesign) -> Manifest:
    """Encrypted gp3 for the dump: deleted with its claim, never snapshotted, no expansion (sized up front)."""
    parameters: dict[str, pulumi.Input[str]] = {
        "type": "gp3",
        "encrypted": "true",
        "csi.storage.k8s.io/fstype": "ext4",
        "kmsKeyId": design.dump_kms_key_arn,
    }
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": DUMP_STORAGE_CLASS, "labels": BACKUP_LABELS},
        "provisioner": "ebs.csi.aws.com",
        "parameters": parameters,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": False,
    }


def dump_volume(design: Neo4jDesign) -> Manifest:
    """The pod's ``dump`` volume: a claim as large as Neo4j's data volume, owned by (and deleted with) the pod."""
    claim = VolumeClaim("dump", DUMP_STORAGE_CLASS, design.settings.volume_size_gib).manifest()
    # A claim template's metadata may carry labels and annotations only: the claim is named after the pod.
    return {
        "name": "dump",
        "ephemeral": {"volumeClaimTemplate": {"metadata": {"labels": BACKUP_LABELS}, "spec": claim["spec"]}},
    }


def _cypher_shell_container(
    design: Neo4jDesign, name: str, script: str, env: dict[str, str], *, writes_dump: bool
) -> Container:
    """A container of the server's image that runs ``script`` against the server with cypher-shell, as the admin
    user (the mounted password file), on the pod's dump volume."""
    return Container(
        name=name,
        image=require_community_image(design.settings.image, design.settings.version),
        command=("/bin/bash", "-c", script),
        env={
            "NEO4J_ADDRESS": design.server_address,
            "AUTH_FILE": AUTH_FILE,
            "DUMP_FILE": DUMP_FILE,
            **env,
            "JAVA_OPTS": "-Xmx768m",
            "HOME": "/tmp",
        },
        resources=Resources("250m", "1", "1Gi", "1Gi"),
        writable_paths={"/tmp": "256Mi"},
        volume_mounts=(
            VolumeMount("dump", DUMP_DIR, read_only=not writes_dump),
            VolumeMount("auth", AUTH_DIR, read_only=True),
        ),
    )


def _dump_job(
    design: Neo4jDesign,
    labels: dict[str, str],
    service_account: str,
    first: Container,
    then: Container,
    *,
    without_aws: Container,
    backoff_limit: int,
    active_deadline_seconds: int,
    ttl_seconds_after_finished: int | None,
) -> tuple[Manifest, dict[str, str]]:
    """The Job spec of the backup or the restore: ``first`` (an init container) then ``then``, sharing the dump
    volume and Neo4j's credentials, the pod identity webhook giving AWS credentials to every container but
    ``without_aws``; and the checkov annotations of its images."""
    template = two_step_pod(
        labels=labels,
        service_account=service_account,
        first=first,
        then=then,
        without_aws=without_aws,
        uid=NEO4J_UID,
        volumes=[dump_volume(design), secret_volume("auth", AUTH_SECRET)],
    )
    reasons = {
        "CKV_K8S_40": UID_REASON,
        **tag_pinning_reasons([design.settings.image, design.settings.backup_image], TAG_PINNING_REASON),
    }
    job = job_spec(
        template=template,
        backoff_limit=backoff_limit,
        active_deadline_seconds=active_deadline_seconds,
        ttl_seconds_after_finished=ttl_seconds_after_finished,
    )
    return job, checkov_skips(reasons)


def backup_cron_job(design: Neo4jDesign) -> Manifest:
    export = _cypher_shell_container(design, "export", EXPORT_SCRIPT, {"EXPORT_QUERY": EXPORT_QUERY}, writes_dump=True)
    upload = s3_upload_container(
        image=design.settings.backup_image,
        region=design.region,
        bucket=design.backup_bucket,
        prefix=backup_prefix(design.stack),
        kms_key_arn=design.backup_kms_key_arn,
        file=DUMP_FILE,
        suffix=".cypher.gz",
        mount=VolumeMount("dump", DUMP_DIR, read_only=True),
        resources=Resources("100m", "500m", "256Mi", "512Mi"),
        scratch="256Mi",
    )
    job, annotations = _dump_job(
        design,
        BACKUP_LABELS,
        BACKUP_SERVICE_ACCOUNT,
        export,
        upload,
        without_aws=export,
        backoff_limit=2,
        active_deadline_seconds=3 * 3600,
        # A finished Job goes after an hour: its pods, and with them the dump volumes, live until then. The
        # logs stay in CloudWatch (Fluent Bit) and the CronJob keeps its last schedule and success times.
        ttl_seconds_after_finished=3600,
    )
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _metadata(BACKUP_CRON_JOB, BACKUP_LABELS, annotations=annotations),
        "spec": cron_job_spec(schedule=design.settings.backup_schedule, job=job, labels=BACKUP_LABELS),
    }


def restore_job(design: Neo4jDesign, restore: ObjectReader) -> Manifest:
    """Once, when the dr stack is created: the export downloaded, then replayed into the database if it is empty."""
    source = s3_uri(restore.object_arn)
    download = s3_download_container(
        image=design.settings.backup_image,
        region=design.region,
        source=source,
        file=DUMP_FILE,
        mount=VolumeMount("dump", DUMP_DIR),
        resources=Resources("100m", "500m", "256Mi", "512Mi"),
        scratch="256Mi",
    )
    load = _cypher_shell_container(design, "load", RESTORE_SCRIPT, {"SOURCE": source}, writes_dump=False)
    job, annotations = _dump_job(
        design,
        RESTORE_LABELS,
        RESTORE_SERVICE_ACCOUNT,
        download,
        load,
        without_aws=load,
        # Retried while the server starts (its startup probe allows 15 minutes); a large graph takes hours.
        backoff_limit=6,
        active_deadline_seconds=12 * 3600,
        # Gone after an hour with its pod and the dump's volume (as large as the data volume): a later
        # `pulumi up --refresh` runs it again, which downloads the export, finds the database not empty and stops.
        ttl_seconds_after_finished=3600,
    )
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _metadata(RESTORE_JOB, RESTORE_LABELS, annotations=annotations),
        "spec": job,
    }


def _network_policy(name: str, spec: Manifest) -> Manifest:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _metadata(name, COMMON_LABELS),
        "spec": spec,
    }


def network_policies(design: Neo4jDesign) -> list[Manifest]:
    bolt = [{"protocol": "TCP", "port": BOLT_PORT}]
    return [
        _network_policy("default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        _network_policy(
            "allow-dns",
            {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                            }
                        ],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
        ),
        _network_policy(
            "neo4j-bolt-from-backend-and-backup",
            {
                "podSelector": {"matchLabels": SERVER_SELECTOR},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [
                            {
                                # One peer with both selectors: backend pods *in* the application namespace.
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": design.app_namespace}
                                },
                                "podSelector": {"matchLabels": BACKEND_SELECTOR},
                            },
                            {
                                # The workflow workers, in the application namespace too (the policy keeps
                                # its name: renaming it would replace it).
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": design.app_namespace}
                                },
                                "podSelector": {"matchLabels": WORKER_SELECTOR},
                            },
                            {"podSelector": {"matchLabels": BACKUP_SELECTOR}},
                        ],
                        "ports": bolt,
                    }
                ],
            },
        ),
        _network_policy(
            "neo4j-backup-egress",
            {
                "podSelector": {"matchLabels": BACKUP_SELECTOR},
                "policyTypes": ["Egress"],
                "egress": [
                    {"to": [{"podSelector": {"matchLabels": SERVER_SELECTOR}}], "ports": bolt},
                    {
                        # S3 (public prefix list, routed through the gateway endpoint) and STS (interface
                        # endpoint in the VPC) have no stable CIDRs to list; only the instance metadata
                        # service (link-local) is excluded: the job's credentials come from IRSA.
                        "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16"]}}],
                        "ports": [{"protocol": "TCP", "port": 443}],
                    },
                ],
            },
        ),
    ]


def manifests(design: Neo4jDesign) -> list[Manifest]:
    """Every Kubernetes object of the Neo4j service, namespace first."""
    return [
        namespace(design),
        dump_storage_class(design),
        auth_external_secret(design),
        *service_accounts(design),
        *services(design),
        *network_policies(design),
        stateful_set(design),
        backup_cron_job(design),
        *([restore_job(design, design.restore)] if design.restore else []),
    ]


# --------------------------------------------------------------------------------------- the component
@dataclass
class Neo4jArgs(LayerArgs):
    settings: Neo4jSettings
    cluster: ClusterHandle
    credentials_key_arn: pulumi.Input[str]  # KMS key of the Secrets Manager secret (the databases key)
    backup_bucket: pulumi.Input[str]
    backup_bucket_arn: pulumi.Input[str]
    backup_kms_key_arn: pulumi.Input[str]
    ebs_key_arn: pulumi.Input[str]  # the keys layer's EBS key, for the backup dump's volumes
    app_namespace: str
    credentials_replica: SecretReplica | None = None  # the DR region's copy of the credentials (production)
    # The dr stack: the export replayed into the new database, and the key that encrypts it (None: starts empty).
    dump_object: str | None = None
    dump_key_arn: str | None = None

    def design(
        self,
        credentials_secret_name: pulumi.Input[str],
        backup_role_arn: pulumi.Input[str],
        restore: ObjectReader | None = None,
    ) -> Neo4jDesign:
        return Neo4jDesign(
            settings=self.settings,
            stack=self.naming.stack,
            region=self.region,
            storage_class=self.cluster.storage_class,
            secret_store_name=self.cluster.secret_store_name,
            credentials_secret_name=credentials_secret_name,
            backup_bucket=self.backup_bucket,
            backup_kms_key_arn=self.backup_kms_key_arn,
            backup_role_arn=backup_role_arn,
            app_namespace=self.app_namespace,
            dump_kms_key_arn=self.ebs_key_arn,
            restore=restore,
        )


# Kinds whose loss loses data: protected like every stateful resource of the stack.
_STATEFUL_KINDS = ("Namespace", "StatefulSet")


class Neo4j(pulumi.ComponentResource):
    """Neo4j Community in namespace ``neo4j``: StatefulSet, Services, credentials, backups, NetworkPolicies."""

    namespace: str
    service_host: str
    bolt_port: int
    secret_arn: pulumi.Output[str]

    def __init__(self, name: str, args: Neo4jArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:data:Neo4j", name, None, opts)
        self._args = args
        # The image only accepts the admin user "neo4j" and a password without "/".
        credentials = generated_credentials(
            "neo4j",
            naming=args.naming,
            kms_key_arn=args.credentials_key_arn,
            username="neo4j",
            description="Neo4j admin credentials (materialised in the cluster by External Secrets)",
            protect=args.protect,
            parent=self,
            # A restored volume keeps Neo4j's users: the DR region needs this password, not a new one.
            replica=args.credentials_replica,
        )
        self.secret_arn = credentials.secret.arn
        backup_role = prefix_writer_role(
            "neo4j-backup",
            naming=args.naming,
            oidc=args.cluster.oidc,
            namespace=NAMESPACE,
            service_account=BACKUP_SERVICE_ACCOUNT,
            description="Neo4j backup CronJob: writes exports to the backup bucket",
            bucket_arn=args.backup_bucket_arn,
            kms_key_arn=args.backup_kms_key_arn,
            policy=lambda bucket, key: backup_role_policy(
                bucket_arn=bucket, kms_key_arn=key, stack=args.naming.stack, region=args.region
            ),
            parent=self,
        )
        design = args.design(credentials.secret.name, backup_role.arn, self._restore())
        declared: dict[str, pulumi.CustomResource] = {}
        for manifest in manifests(design):
            kind, object_name = manifest["kind"], manifest["metadata"]["name"]
            # The namespace first; the workloads after the objects they mount or run as (the restore after the
            # server).
            after = [declared[key] for key in declared if key.startswith("Namespace/")]
            if kind in ("StatefulSet", "CronJob", "Job"):
                after = list(declared.values())
            logical_name = object_name if object_name.startswith(name) else f"{name}-{object_name}"
            declared[f"{kind}/{object_name}"] = self._declare(logical_name, manifest, after)

        self.namespace = NAMESPACE
        self.service_host = design.service_host
        self.bolt_port = BOLT_PORT
        self.register_outputs(
            {"namespace": self.namespace, "service_host": self.service_host, "bolt_port": self.bolt_port}
        )

    def _restore(self) -> ObjectReader | None:
        """The dr stack's restore, with the role that reads that one export."""
        args = self._args
        if args.dump_object is None or args.dump_key_arn is None:
            return None
        return object_reader(
            "neo4j-restore",
            naming=args.naming,
            oidc=args.cluster.oidc,
            namespace=NAMESPACE,
            service_account=RESTORE_SERVICE_ACCOUNT,
            description="Neo4j restore: reads the export the dr stack starts from",
            readable=ReadableObject(args.dump_object, args.dump_key_arn, "ReadTheExport"),
            region=args.region,
            parent=self,
        )

    def _declare(
        self, logical_name: str, manifest: Manifest, after: list[pulumi.CustomResource]
    ) -> pulumi.CustomResource:
        kind = manifest["kind"]
        opts = pulumi.ResourceOptions(
            parent=self,
            provider=self._args.cluster.provider,
            depends_on=[*self._args.cluster.ready, *after],
            protect=self._args.protect and kind in _STATEFUL_KINDS,
        )
        return declare_manifest(logical_name, manifest, opts)
