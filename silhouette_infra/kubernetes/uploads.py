"""The container that uploads what a job wrote to a file to an S3 bucket, SSE-KMS with the bucket's key, under a
prefix and a UTC timestamp: the last step of every export CronJob (Neo4j's backup, the recovery exports); and the
one that downloads an object to a file: the first step of every restore Job of the dr stack (the RabbitMQ
definitions, Neo4j's export).

Its AWS credentials come from the pod's service account (IRSA); the containers before it get none (the pod's
``eks.amazonaws.com/skip-containers`` annotation)."""

from __future__ import annotations

import pulumi

from silhouette_infra.kubernetes.workloads import Container, Image, Resources, VolumeMount

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
