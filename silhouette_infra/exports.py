"""Recovery exports (issue 14): what the managed services cannot copy to the DR region themselves, exported on a
schedule to the backup bucket, which replicates to the DR region within 15 minutes (Replication Time Control).

* **RabbitMQ definitions.** Amazon MQ has no backup (AWS Backup does not support it). Every
  ``recovery.export_interval_minutes`` a CronJob reads the definitions of the broker's virtual host from the
  management API, ``GET /api/definitions/<vhost>``: queues, exchanges, bindings and policies of that vhost,
  never users or permissions (https://www.rabbitmq.com/docs/http-api-reference), so no password hash leaves the
  broker. The dr stack imports them with ``POST /api/definitions/<vhost>``. Messages are not exported: what was
  in flight is lost with the region (publishers retry; README, "Regional recovery").

* **Redis snapshots.** ElastiCache keeps its automatic snapshots in the cache's region only. Every hour a
  CronJob finds the newest automatic snapshot of the cache and, unless it is already there, exports it with
  ``CopySnapshot`` to the Redis export bucket (backup.py), which replicates to the DR region; the dr stack seeds
  its cache from the replicated .rdb (``recovery.sources.redis_rdb_object``). The cache takes one automatic
  snapshot a day (``redis.snapshot_window``), so the hourly run bounds the export's delay, not the snapshot's
  age. The job asks ElastiCache to copy; it never reads the cache's data itself.

The jobs run in namespace ``dr-exports``: Pod Security ``restricted``, default-deny NetworkPolicies with egress
only to DNS and to 443 (the broker's management API in the isolated subnets, which the nodes' security group
may reach, and the S3/STS endpoints), its AWS credentials from IRSA, its broker credentials from Secrets
Manager through External Secrets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi

from silhouette_infra.aws.buckets import s3_uri
from silhouette_infra.aws.context import LayerArgs
from silhouette_infra.aws.iam import WRITE_ONLY_OBJECT_ACTIONS, own_prefix_policy, redis_export_policy
from silhouette_infra.aws.roles import (
    ObjectReader,
    ReadableObject,
    object_reader,
    prefix_writer_role,
    service_account_role,
)
from silhouette_infra.cluster.addons import SECRET_STORE_NAMESPACE_LABEL
from silhouette_infra.cluster.handle import ClusterHandle
from silhouette_infra.data.rabbitmq import MANAGEMENT_PORT
from silhouette_infra.kubernetes import network_policy
from silhouette_infra.kubernetes.declare import declare_manifest
from silhouette_infra.kubernetes.external_secrets import EXTERNAL_SECRETS_API_VERSION, external_secret_spec
from silhouette_infra.kubernetes.labels import MANAGED_BY, PART_OF, ROLE_ARN_ANNOTATION
from silhouette_infra.kubernetes.uploads import s3_download_container, s3_upload_container, two_step_pod
from silhouette_infra.kubernetes.workloads import (
    Container,
    Manifest,
    Resources,
    VolumeMount,
    checkov_skips,
    cron_job_spec,
    empty_dir,
    job_spec,
    pod_template,
    secret_volume,
    tag_pinning_reasons,
)
from silhouette_infra.settings.models import RecoverySettings, RecoverySources

NAMESPACE = "dr-exports"
DEFINITIONS_JOB = "rabbitmq-definitions"
DEFINITIONS_SERVICE_ACCOUNT = "rabbitmq-definitions"
IMPORT_JOB = "rabbitmq-definitions-import"
IMPORT_SERVICE_ACCOUNT = "rabbitmq-definitions-import"
REDIS_EXPORT_JOB = "redis-export"
REDIS_EXPORT_SERVICE_ACCOUNT = "redis-export"
# Hourly, a quarter past: the export follows a new daily snapshot within the hour (planning/recovery.py).
REDIS_EXPORT_SCHEDULE = "15 * * * *"
BROKER_SECRET = "rabbitmq-management"
EXPORT_DIR = "/export"
BROKER_DIR = "/var/run/secrets/broker"
DEFINITIONS_FILE = f"{EXPORT_DIR}/definitions.json"
VHOST = "/"
EXPORT_UID = 65532  # no user of the images or of the nodes
COMMON_LABELS = {**PART_OF, **MANAGED_BY, "app.kubernetes.io/name": "dr-exports"}
DEFINITIONS_LABELS = {**COMMON_LABELS, "app.kubernetes.io/component": DEFINITIONS_JOB}
IMPORT_LABELS = {**COMMON_LABELS, "app.kubernetes.io/component": IMPORT_JOB}
REDIS_EXPORT_LABELS = {**COMMON_LABELS, "app.kubernetes.io/component": REDIS_EXPORT_JOB}
TAG_PINNING_REASON = (
    "exact release tags from the stack settings (recovery.definitions_image, recovery.aws_cli_image), reviewed in "
    "pull requests; their digests cannot be resolved offline - append @sha256 to pin by digest"
)

# The management API's definitions of one vhost (no users, no permissions); written whole or not at all.
# The management API of the broker's vhost, with the broker's credentials (mounted files, never environment).
BROKER_API = """\
import base64, json, os, ssl, urllib.parse, urllib.request
def read(key):
    with open(os.path.join(os.environ["BROKER_DIR"], key)) as secret:
        return secret.read().strip()
url = "https://%s/api/definitions/%s" % (read("host"), urllib.parse.quote(os.environ["VHOST"], safe=""))
token = base64.b64encode(("%s:%s" % (read("username"), read("password"))).encode()).decode()
headers = {"Authorization": "Basic " + token, "content-type": "application/json"}
context = ssl.create_default_context()
path = os.environ["DEFINITIONS_FILE"]
"""

# The definitions of one vhost (no users, no permissions); written whole or not at all.
FETCH_SCRIPT = (
    BROKER_API
    + """\
with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60, context=context) as response:
    definitions = json.load(response)
for private in ("users", "permissions", "topic_permissions"):
    definitions.pop(private, None)
with open(path + ".partial", "w") as out:
    json.dump(definitions, out)
os.rename(path + ".partial", path)
print("rabbitmq definitions: %d queues, %d exchanges" % (len(definitions.get("queues", [])),
      len(definitions.get("exchanges", []))))
"""
)

# The dr stack: the exported definitions posted to the new broker (queues, exchanges, bindings, policies).
IMPORT_SCRIPT = (
    BROKER_API
    + """\
with open(path, "rb") as exported:
    body = exported.read()
definitions = json.loads(body)
request = urllib.request.Request(url, data=body, headers=headers, method="POST")
with urllib.request.urlopen(request, timeout=60, context=context) as response:
    print("rabbitmq definitions imported (HTTP %d): %d queues" % (response.status, len(definitions.get("queues", []))))
"""
)

# The newest available automatic snapshot of the cache, exported under its own name (without "automatic."), once:
# S3 refuses a second copy with the same key, so a snapshot already in the bucket is skipped. ElastiCache appends
# the node's number and .rdb to the name (<name>-0001.rdb).
REDIS_EXPORT_SCRIPT = """\
set -eu
newest='reverse(sort_by(Snapshots[?SnapshotStatus==`available`], &NodeSnapshots[0].SnapshotCreateTime))[0]'
snapshot=$(aws elasticache describe-snapshots --replication-group-id "$REPLICATION_GROUP" --snapshot-source system \\
  --query "$newest.SnapshotName" --output text)
if [ -z "$snapshot" ] || [ "$snapshot" = "None" ]; then
  echo "no automatic snapshot of $REPLICATION_GROUP yet"; exit 0
fi
target="${snapshot#automatic.}"
exported=$(aws s3api list-objects-v2 --bucket "$EXPORT_BUCKET" --prefix "$target" --max-keys 1 \\
  --query 'KeyCount' --output text)
if [ "$exported" != "0" ]; then
  echo "$snapshot is already in s3://$EXPORT_BUCKET"; exit 0
fi
aws elasticache copy-snapshot --source-snapshot-name "$snapshot" --target-snapshot-name "$target" \\
  --target-bucket "$EXPORT_BUCKET" --query 'Snapshot.SnapshotStatus' --output text
echo "exporting $snapshot to s3://$EXPORT_BUCKET/$target"
"""


def definitions_prefix(stack: str) -> str:
    """Where a stack's RabbitMQ definitions are in the backup bucket (and its replica in the DR region)."""
    return f"rabbitmq-definitions/{stack}/"


def export_schedule(interval_minutes: int) -> str:
    """The cron schedule of an export every ``interval_minutes`` (15, 20, 30 or 60)."""
    return "0 * * * *" if interval_minutes == 60 else f"*/{interval_minutes} * * * *"


def definitions_role_policy(*, bucket_arn: str, kms_key_arn: str, stack: str, region: str) -> dict[str, Any]:
    """Write (never read, list or delete) the definitions under the stack's prefix, with the backup key."""
    return own_prefix_policy(
        sid="WriteRabbitMqDefinitions",
        bucket_arn=bucket_arn,
        prefix=definitions_prefix(stack),
        actions=WRITE_ONLY_OBJECT_ACTIONS,
        kms_key_arn=kms_key_arn,
        region=region,
    )


@dataclass(frozen=True)
class RedisExport:
    """The cache whose snapshots are exported, the bucket they go to, and the role that may do it."""

    replication_group_id: str
    bucket: pulumi.Input[str]
    role_arn: pulumi.Input[str]


@dataclass(frozen=True)
class ExportsDesign:
    """Everything the Kubernetes objects depend on, as plain values or Pulumi inputs."""

    settings: RecoverySettings
    stack: str
    region: str
    secret_store_name: str
    broker_secret_name: pulumi.Input[str]
    backup_bucket: pulumi.Input[str]
    backup_kms_key_arn: pulumi.Input[str]
    definitions_role_arn: pulumi.Input[str]
    definitions_import: ObjectReader | None = None
    redis_export: RedisExport | None = None


def _metadata(name: str, labels: dict[str, str], **extra: Any) -> Manifest:
    return {"name": name, "namespace": NAMESPACE, "labels": labels, **extra}


def namespace() -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": NAMESPACE,
            "labels": {
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/audit": "restricted",
                "pod-security.kubernetes.io/warn": "restricted",
                SECRET_STORE_NAMESPACE_LABEL: "aws-secrets-manager",
                **COMMON_LABELS,
            },
        },
    }


def broker_external_secret(design: ExportsDesign) -> Manifest:
    return {
        "apiVersion": EXTERNAL_SECRETS_API_VERSION,
        "kind": "ExternalSecret",
        "metadata": _metadata(BROKER_SECRET, COMMON_LABELS),
        "spec": external_secret_spec(
            store=design.secret_store_name,
            target=BROKER_SECRET,
            source=design.broker_secret_name,
            keys=("username", "password", "host"),
        ),
    }


def service_account(name: str, labels: dict[str, str], role_arn: pulumi.Input[str]) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _metadata(name, labels, annotations={ROLE_ARN_ANNOTATION: role_arn}),
        "automountServiceAccountToken": False,
    }


def network_policies() -> list[Manifest]:
    """Nothing in, DNS and 443 out: the broker (isolated subnets), S3 (gateway endpoint, public prefix list) and
    STS (interface endpoint) have no stable CIDRs to list; only the instance metadata service is excluded (the
    job's AWS credentials come from IRSA)."""
    https = {
        "to": [network_policy.ip_block("0.0.0.0/0", ["169.254.0.0/16"])],
        "ports": [network_policy.port(MANAGEMENT_PORT)],
    }
    return [
        network_policy.default_deny(NAMESPACE),
        network_policy.policy(
            "allow-dns-and-https",
            NAMESPACE,
            {"podSelector": {}, "policyTypes": ["Egress"], "egress": [network_policy.dns(), https]},
        ),
    ]


def broker_container(name: str, image: str, script: str, *, writes: bool) -> Container:
    """A Python container that talks to the broker's management API with the mounted credentials."""
    return Container(
        name=name,
        image=image,
        command=("python3", "-c", script),
        env={"VHOST": VHOST, "DEFINITIONS_FILE": DEFINITIONS_FILE, "BROKER_DIR": BROKER_DIR, "HOME": "/tmp"},
        resources=Resources("50m", "250m", "64Mi", "128Mi"),
        writable_paths={"/tmp": "16Mi"},
        volume_mounts=(
            VolumeMount("export", EXPORT_DIR, read_only=not writes),
            VolumeMount("broker", BROKER_DIR, read_only=True),
        ),
    )


def _two_step_pod(
    labels: dict[str, str], service_account_name: str, first: Container, then: Container, *, without_aws: Container
) -> Manifest:
    """``two_step_pod`` sharing the ``export`` scratch volume and the broker's credentials."""
    return two_step_pod(
        labels=labels,
        service_account=service_account_name,
        first=first,
        then=then,
        without_aws=without_aws,
        uid=EXPORT_UID,
        volumes=[empty_dir("export", "16Mi"), secret_volume("broker", BROKER_SECRET)],
    )


def _image_reasons(settings: RecoverySettings) -> dict[str, str]:
    return checkov_skips(tag_pinning_reasons([settings.definitions_image, settings.aws_cli_image], TAG_PINNING_REASON))


def definitions_import_job(design: ExportsDesign, definitions: ObjectReader) -> Manifest:
    """Once, when the dr stack is created: the exported definitions downloaded, then posted to the new broker."""
    settings = design.settings
    download = s3_download_container(
        image=settings.aws_cli_image,
        region=design.region,
        source=s3_uri(definitions.object_arn),
        file=DEFINITIONS_FILE,
        mount=VolumeMount("export", EXPORT_DIR),
        resources=Resources("50m", "250m", "128Mi", "256Mi"),
        scratch="64Mi",
    )
    importer = broker_container("import", settings.definitions_image, IMPORT_SCRIPT, writes=False)
    # AWS credentials for the download only; the import talks to the broker.
    template = _two_step_pod(IMPORT_LABELS, IMPORT_SERVICE_ACCOUNT, download, importer, without_aws=importer)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _metadata(IMPORT_JOB, IMPORT_LABELS, annotations=_image_reasons(settings)),
        # Retried while the broker's credentials reach the namespace; kept an hour for its logs.
        "spec": job_spec(
            template=template, backoff_limit=6, active_deadline_seconds=1800, ttl_seconds_after_finished=3600
        ),
    }


def definitions_cron_job(design: ExportsDesign) -> Manifest:
    settings = design.settings
    fetch = broker_container("fetch", settings.definitions_image, FETCH_SCRIPT, writes=True)
    upload = s3_upload_container(
        image=settings.aws_cli_image,
        region=design.region,
        bucket=design.backup_bucket,
        prefix=definitions_prefix(design.stack),
        kms_key_arn=design.backup_kms_key_arn,
        file=DEFINITIONS_FILE,
        suffix=".json",
        mount=VolumeMount("export", EXPORT_DIR, read_only=True),
        resources=Resources("50m", "250m", "128Mi", "256Mi"),
        scratch="64Mi",
    )
    # AWS credentials for the upload only; the fetch talks to the broker.
    template = _two_step_pod(DEFINITIONS_LABELS, DEFINITIONS_SERVICE_ACCOUNT, fetch, upload, without_aws=fetch)
    job = job_spec(template=template, backoff_limit=2, active_deadline_seconds=600, ttl_seconds_after_finished=3600)
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _metadata(DEFINITIONS_JOB, DEFINITIONS_LABELS, annotations=_image_reasons(settings)),
        "spec": cron_job_spec(
            schedule=export_schedule(settings.export_interval_minutes), job=job, labels=DEFINITIONS_LABELS
        ),
    }


def redis_export_cron_job(design: ExportsDesign, export: RedisExport) -> Manifest:
    """Hourly: the newest automatic snapshot of the cache exported to the Redis export bucket, once."""
    settings = design.settings
    container = Container(
        name="export",
        image=settings.aws_cli_image,
        command=("/bin/sh", "-c", REDIS_EXPORT_SCRIPT),
        env={
            "AWS_REGION": design.region,
            "REPLICATION_GROUP": export.replication_group_id,
            "EXPORT_BUCKET": export.bucket,
            "HOME": "/tmp",
        },
        resources=Resources("50m", "250m", "128Mi", "256Mi"),
        writable_paths={"/tmp": "64Mi"},
    )
    template = pod_template(
        labels=REDIS_EXPORT_LABELS,
        containers=[container],
        service_account=REDIS_EXPORT_SERVICE_ACCOUNT,
        run_as_user=EXPORT_UID,
        run_as_group=EXPORT_UID,
        fs_group=EXPORT_UID,
        restart_policy="Never",
    )
    job = job_spec(template=template, backoff_limit=2, active_deadline_seconds=600, ttl_seconds_after_finished=3600)
    reasons = checkov_skips(tag_pinning_reasons([settings.aws_cli_image], TAG_PINNING_REASON))
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _metadata(REDIS_EXPORT_JOB, REDIS_EXPORT_LABELS, annotations=reasons),
        "spec": cron_job_spec(schedule=REDIS_EXPORT_SCHEDULE, job=job, labels=REDIS_EXPORT_LABELS),
    }


def manifests(design: ExportsDesign) -> list[Manifest]:
    """Every Kubernetes object of the exports, namespace first."""
    imported, redis = design.definitions_import, design.redis_export
    return [
        namespace(),
        broker_external_secret(design),
        service_account(DEFINITIONS_SERVICE_ACCOUNT, DEFINITIONS_LABELS, design.definitions_role_arn),
        *([service_account(IMPORT_SERVICE_ACCOUNT, IMPORT_LABELS, imported.role_arn)] if imported else []),
        *([service_account(REDIS_EXPORT_SERVICE_ACCOUNT, REDIS_EXPORT_LABELS, redis.role_arn)] if redis else []),
        *network_policies(),
        definitions_cron_job(design),
        *([redis_export_cron_job(design, redis)] if redis else []),
        *([definitions_import_job(design, imported)] if imported else []),
    ]


# --------------------------------------------------------------------------------------- the component
@dataclass
class ExportsArgs(LayerArgs):
    settings: RecoverySettings
    cluster: ClusterHandle
    broker_secret_name: pulumi.Input[str]
    backup_bucket: pulumi.Input[str]
    backup_bucket_arn: pulumi.Input[str]
    backup_kms_key_arn: pulumi.Input[str]
    broker: pulumi.Resource  # the broker the import waits for
    sources: RecoverySources | None = None  # the dr stack's: the definitions it imports
    redis_replication_group_id: str | None = None  # the cache whose snapshots are exported
    redis_export_bucket: pulumi.Input[str] | None = None  # where to (None: no export, a single-region stack)
    redis_export_bucket_arn: pulumi.Input[str] | None = None


class Exports(pulumi.ComponentResource):
    """The scheduled exports to the backup bucket that a recovery in the DR region starts from."""

    def __init__(self, name: str, args: ExportsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:recovery:Exports", name, None, opts)
        self._args = args
        role = prefix_writer_role(
            "rabbitmq-definitions",
            naming=args.naming,
            oidc=args.cluster.oidc,
            namespace=NAMESPACE,
            service_account=DEFINITIONS_SERVICE_ACCOUNT,
            description="RabbitMQ definitions export: writes them to the backup bucket",
            bucket_arn=args.backup_bucket_arn,
            kms_key_arn=args.backup_kms_key_arn,
            policy=lambda bucket, key: definitions_role_policy(
                bucket_arn=bucket, kms_key_arn=key, stack=args.naming.stack, region=args.region
            ),
            parent=self,
        )
        design = ExportsDesign(
            settings=args.settings,
            stack=args.naming.stack,
            region=args.region,
            secret_store_name=args.cluster.secret_store_name,
            broker_secret_name=args.broker_secret_name,
            backup_bucket=args.backup_bucket,
            backup_kms_key_arn=args.backup_kms_key_arn,
            definitions_role_arn=role.arn,
            definitions_import=self._import(args.sources),
            redis_export=self._redis_export(),
        )
        declared: list[pulumi.Resource] = []
        for manifest in manifests(design):
            kind = manifest["kind"]
            # The namespace first; the jobs after everything, the import after the broker too.
            after = (
                declared[:1]
                if kind not in ("CronJob", "Job")
                else [*declared, *([args.broker] if kind == "Job" else [])]
            )
            declared.append(self._declare(f"{name}-{manifest['metadata']['name']}", manifest, after))
        self.register_outputs({"namespace": NAMESPACE})

    def _import(self, sources: RecoverySources | None) -> ObjectReader | None:
        """The dr stack's import of the exported definitions, with the role that reads that one object."""
        if (
            sources is None
            or sources.rabbitmq_definitions_object is None
            or sources.rabbitmq_definitions_key_arn is None
        ):
            return None
        args = self._args
        return object_reader(
            "rabbitmq-definitions-import",
            naming=args.naming,
            oidc=args.cluster.oidc,
            namespace=NAMESPACE,
            service_account=IMPORT_SERVICE_ACCOUNT,
            description="RabbitMQ definitions import: reads the exported definitions the dr stack starts from",
            readable=ReadableObject(
                sources.rabbitmq_definitions_object, sources.rabbitmq_definitions_key_arn, "ReadTheDefinitions"
            ),
            region=args.region,
            parent=self,
        )

    def _redis_export(self) -> RedisExport | None:
        """The Redis export's role: this cache's automatic snapshots, copied to the export bucket."""
        args = self._args
        group, bucket, bucket_arn = (
            args.redis_replication_group_id,
            args.redis_export_bucket,
            args.redis_export_bucket_arn,
        )
        if group is None or bucket is None or bucket_arn is None:
            return None
        policy = pulumi.Output.all(bucket_arn, args.account_id).apply(
            lambda values: json.dumps(
                redis_export_policy(
                    replication_group_id=group,
                    bucket_arn=str(values[0]),
                    region=args.region,
                    account_id=str(values[1]),
                )
            )
        )
        role = service_account_role(
            "redis-export",
            naming=args.naming,
            oidc=args.cluster.oidc,
            namespace=NAMESPACE,
            service_account=REDIS_EXPORT_SERVICE_ACCOUNT,
            description="Redis export: copies the cache's newest automatic snapshot to the Redis export bucket",
            inline_policies={"redis-export": policy},
            parent=self,
        )
        return RedisExport(group, bucket, role.arn)

    def _declare(self, logical_name: str, manifest: Manifest, after: list[pulumi.Resource]) -> pulumi.CustomResource:
        opts = pulumi.ResourceOptions(
            parent=self, provider=self._args.cluster.provider, depends_on=[*self._args.cluster.ready, *after]
        )
        return declare_manifest(logical_name, manifest, opts)
