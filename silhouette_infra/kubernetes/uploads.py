"""The container that uploads what a job wrote to a file to an S3 bucket, SSE-KMS with the bucket's key, under a
prefix and a UTC timestamp: the last step of every export CronJob (Neo4j's backup, the recovery exports); and the
one that downloads an object to a file: the first step of every restore Job of the dr stack (the RabbitMQ
definitions, Neo4j's export); and the two-step pod that runs them with the container on the other side.

Its AWS credentials come from the pod's service account (IRSA); the other container gets none (the pod's
``eks.amazonaws.com/skip-containers`` annotation, ``two_step_pod``)."""

from __future__ import annotations

import pulumi

from silhouette_infra.kubernetes.labels import SKIP_AWS_CREDENTIALS_ANNOTATION
from silhouette_infra.kubernetes.workloads import Container, Image, Manifest, Resources, VolumeMount, pod_template

UPLOAD_SCRIPT = """\
set -eu
key="${BACKUP_PREFIX}$(date -u +%Y%m%dT%H%M%SZ)${UPLOAD_SUFFIX}"
aws s3 cp "$UPLOAD_FILE" "s3://$BACKUP_BUCKET/$key" \\
  --sse aws:kms --sse-kms-key-id "$BACKUP_KMS_KEY_ARN" --only-show-errors --no-progress
echo "uploaded to s3://$BACKUP_BUCKET/$key"
"""

DOWNLOAD_SCRIPT = """\
set -eu
aws s3 cp "$SOURCE" "$DOWNLOAD_FILE" --only-show-errors --no-progress
echo "downloaded $SOURCE"
"""


def s3_upload_container(
    *,
    image: Image,
    region: str,
    bucket: pulumi.Input[str],
    prefix: str,
    kms_key_arn: pulumi.Input[str],
    file: str,
    suffix: str,
    mount: VolumeMount,
    resources: Resources,
    scratch: str,
) -> Container:
    """``upload``: ``file`` (on the read-only ``mount``) to ``s3://bucket/<prefix><UTC timestamp><suffix>``."""
    return Container(
        name="upload",
        image=image,
        command=("/bin/sh", "-c", UPLOAD_SCRIPT),
        env={
            "AWS_REGION": region,
            "BACKUP_BUCKET": bucket,
            "BACKUP_PREFIX": prefix,
            "BACKUP_KMS_KEY_ARN": kms_key_arn,
            "UPLOAD_FILE": file,
            "UPLOAD_SUFFIX": suffix,
            "HOME": "/tmp",
        },
        resources=resources,
        writable_paths={"/tmp": scratch},
        volume_mounts=(mount,),
    )


def s3_download_container(
    *, image: Image, region: str, source: str, file: str, mount: VolumeMount, resources: Resources, scratch: str
) -> Container:
    """``download``: the object ``source`` (``s3://bucket/key``) to ``file`` on the writable ``mount``."""
    return Container(
        name="download",
        image=image,
        command=("/bin/sh", "-c", DOWNLOAD_SCRIPT),
        env={"AWS_REGION": region, "SOURCE": source, "DOWNLOAD_FILE": file, "HOME": "/tmp"},
        resources=resources,
        writable_paths={"/tmp": scratch},
        volume_mounts=(mount,),
    )


def two_step_pod(
    *,
    labels: dict[str, str],
    service_account: str,
    first: Container,
    then: Container,
    without_aws: Container,
    uid: int,
    volumes: list[Manifest],
) -> Manifest:
    """The PodTemplateSpec of a Job that runs ``first`` (an init container), then ``then``, as ``uid``, sharing
    ``volumes``; the pod identity webhook gives AWS credentials to every container but ``without_aws``."""
    return pod_template(
        labels=labels,
        init_containers=[first],
        containers=[then],
        service_account=service_account,
        run_as_user=uid,
        run_as_group=uid,
        fs_group=uid,
        annotations={SKIP_AWS_CREDENTIALS_ANNOTATION: without_aws.name},
        volumes=volumes,
        restart_policy="Never",
    )
