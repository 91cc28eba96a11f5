"""Failing over to the DR region: find the latest restorable points there, print the exact
``pulumi config set --path`` lines that write them into the dr stack, and the runbook with the figures.

``python -m silhouette_infra.failover [--source production] [--dr-stack dr]``, with AWS credentials of the
account (boto3's usual chain). It reads, never changes, AWS: the replicated automated backups of the source
stack's PostgreSQL in the DR region (``DescribeDBInstanceAutomatedBackups``: the ARN and the restore window's
latest time) and the newest RabbitMQ definitions in the backup bucket's replica there. A source that is missing,
in another region, or older than the source stack's ``recovery.rpo_minutes`` is a one-line error naming it.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from silhouette_infra.aws.buckets import bucket_name
from silhouette_infra.aws.naming import Naming
from silhouette_infra.exports import definitions_prefix
from silhouette_infra.settings.models import Settings
from silhouette_infra.settings.profiles import DR_STACK
from silhouette_infra.synth.engine import stack_config
from silhouette_infra.validation.loader import SettingsError, load_settings


class FailoverError(Exception):
    """A source a recovery cannot use; the message names it and says why."""


@dataclass(frozen=True)
class Sources:
    region: str
    automated_backups_arn: str
    latest_restorable_time: datetime
    definitions_object: str | None  # arn:aws:s3:::bucket/key of the newest RabbitMQ definitions, if any
    definitions_key_arn: str | None  # the KMS key of the replica bucket, which the import's role decrypts with


def find_sources(rds: Any, s3: Any, *, settings: Settings, naming: Naming, account_id: str, now: datetime) -> Sources:
    """The source stack's latest restorable points in its DR region, refused when older than its RPO."""
    region = settings.aws.dr_region
    identifier = naming.physical("postgres")
    backups = rds.describe_db_instance_automated_backups(DBInstanceIdentifier=identifier)["DBInstanceAutomatedBackups"]
    usable = [
        b for b in backups if b.get("DBInstanceAutomatedBackupsArn") and b.get("RestoreWindow", {}).get("LatestTime")
    ]
    if not usable:
        raise FailoverError(f"no replicated automated backups of {identifier} in {region}")
    newest = max(usable, key=lambda backup: backup["RestoreWindow"]["LatestTime"])
    arn, latest = newest["DBInstanceAutomatedBackupsArn"], newest["RestoreWindow"]["LatestTime"]
    if arn.split(":")[3] != region:
        raise FailoverError(f"the automated backups {arn} are not in {region}")
    age = (now - latest).total_seconds() / 60
    if age > settings.recovery.rpo_minutes:
        raise FailoverError(
            f"the latest restorable time of {identifier} in {region} is {latest:%Y-%m-%dT%H:%M:%SZ}, {age:.0f} min "
            f"old: above recovery.rpo_minutes ({settings.recovery.rpo_minutes})"
        )
    replica = bucket_name(naming, "backups", region, account_id)
    listed = s3.list_objects_v2(Bucket=replica, Prefix=definitions_prefix(naming.stack)).get("Contents", [])
    # Keys carry their UTC timestamp: the newest export sorts last, even within one second.
    definitions = max(listed, key=lambda item: (item["LastModified"], item["Key"]), default=None)
    return Sources(
        region=region,
        automated_backups_arn=arn,
        latest_restorable_time=latest,
        definitions_object=f"arn:aws:s3:::{replica}/{definitions['Key']}" if definitions else None,
        definitions_key_arn=_bucket_key(s3, replica) if definitions else None,
    )


def _bucket_key(s3: Any, bucket: str) -> str:
    """The KMS key of the bucket's default encryption (the replica's DR key)."""
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    key = rule["ApplyServerSideEncryptionByDefault"].get("KMSMasterKeyID")
    if not key:
        raise FailoverError(f"the bucket {bucket} is not encrypted with a KMS key")
    return str(key)


def config_lines(dr_stack: str, sources: Sources) -> list[str]:
    """The exact commands that write the sources into the dr stack's file."""
    key = "silhouette:recovery.sources"
    values = {"postgres_automated_backups_arn": sources.automated_backups_arn, "postgres_restore_time": "latest"}
    if sources.definitions_object and sources.definitions_key_arn:
        values["rabbitmq_definitions_object"] = sources.definitions_object
        values["rabbitmq_definitions_key_arn"] = sources.definitions_key_arn
    return [
        f"pulumi config set --path --stack {shlex.quote(dr_stack)} {shlex.quote(f'{key}.{name}')} {shlex.quote(value)}"
        for name, value in values.items()
    ]


def runbook(dr_stack: str, source: Settings, sources: Sources) -> list[str]:
    """What a person does next, with the figures synth computes (README, "Regional recovery")."""
    definitions = sources.definitions_object or "none found: the broker starts with the queues the backend declares"
    imported = "imported by the dr stack" if sources.definitions_object else "nothing to import"
    latest = f"{sources.latest_restorable_time:%Y-%m-%dT%H:%M:%SZ}"
    return [
        f"latest restorable time of PostgreSQL in {sources.region}: {latest}",
        f"RabbitMQ definitions: {definitions} ({imported})",
        f"1. run the lines above, then `make synth STACK={dr_stack}`: it prints the RPO table and the RTO estimate "
        f"(objective {source.recovery.rto_minutes} min) and checks everything",
        f"2. pulumi up --stack {dr_stack}",
        "3. restore Neo4j's volume from the newest recovery point in the DR vault and switch DNS (README, Regional "
        "recovery, steps 5-6)",
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m silhouette_infra.failover", description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="production", help="the stack that failed (default production)")
    parser.add_argument("--dr-stack", default=DR_STACK, help=f"the stack to write (default {DR_STACK})")
    options = parser.parse_args(argv)
    try:
        settings = load_settings(options.source, stack_config(options.source))
        naming = Naming(options.source)
        session = boto3.session.Session(region_name=settings.aws.dr_region)
        account = session.client("sts").get_caller_identity()["Account"]
        sources = find_sources(
            session.client("rds"),
            session.client("s3"),
            settings=settings,
            naming=naming,
            account_id=account,
            now=datetime.now(UTC),
        )
    except (FailoverError, SettingsError, FileNotFoundError, BotoCoreError, ClientError) as error:
        print(f"failover: {error}", file=sys.stderr)
        return 2
    print("\n".join([*config_lines(options.dr_stack, sources), "", *runbook(options.dr_stack, settings, sources)]))
    return 0
