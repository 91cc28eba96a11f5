"""Failing over to the DR region: find the latest restorable points there, print the exact
``pulumi config set --path`` lines that write them into the dr stack, and the runbook with the figures.

``python -m silhouette_infra.failover [--source production] [--dr-stack dr]``, with AWS credentials of the
account (boto3's usual chain). It reads, never changes, AWS: the replicated automated backups of the source
stack's PostgreSQL in the DR region (``DescribeDBInstanceAutomatedBackups``: the ARN and the restore window's
latest time), the newest RabbitMQ definitions and the newest Neo4j export in the backup bucket's replica there, and
the newest Redis snapshot in the Redis export bucket's replica. (The hourly Neo4j volume snapshots are AWS Backup
recovery points, restored by hand: README, "Regional recovery".) A source that is missing,
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
from silhouette_infra.backup import REDIS_EXPORTS
from silhouette_infra.data.neo4j import backup_prefix
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
    neo4j_dump_object: str | None = None  # the newest Neo4j export (same bucket, same key)
    redis_rdb_object: str | None = None  # the newest exported Redis snapshot (SSE-S3: no key)

    @property
    def backup_key_arn(self) -> str | None:
        return self.definitions_key_arn


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
    definitions = _newest(s3, replica, definitions_prefix(naming.stack))
    dump = _newest(s3, replica, backup_prefix(naming.stack))
    rdb = _newest(s3, bucket_name(naming, REDIS_EXPORTS, region, account_id), f"{naming.physical('redis')}-", ".rdb")
    return Sources(
        region=region,
        automated_backups_arn=arn,
        latest_restorable_time=latest,
        definitions_object=definitions,
        definitions_key_arn=_bucket_key(s3, replica) if definitions or dump else None,
        neo4j_dump_object=dump,
        redis_rdb_object=rdb,
    )


def _newest(s3: Any, bucket: str, prefix: str, suffix: str = "") -> str | None:
    """The ARN of the newest object under ``prefix`` (ending in ``suffix``), or None (none, or no such bucket)."""
    try:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        listed = [item for page in pages for item in page.get("Contents", []) if item["Key"].endswith(suffix)]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return None
        raise
    # Keys carry their UTC timestamp: the newest export sorts last, even within one second.
    newest = max(listed, key=lambda item: (item["LastModified"], item["Key"]), default=None)
    return f"arn:aws:s3:::{bucket}/{newest['Key']}" if newest else None


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
    if sources.definitions_object and sources.backup_key_arn:
        values["rabbitmq_definitions_object"] = sources.definitions_object
        values["rabbitmq_definitions_key_arn"] = sources.backup_key_arn
    if sources.neo4j_dump_object and sources.backup_key_arn:
        values["neo4j_dump_object"] = sources.neo4j_dump_object
        values["neo4j_dump_key_arn"] = sources.backup_key_arn
    if sources.redis_rdb_object:
        values["redis_rdb_object"] = sources.redis_rdb_object
    return [
        f"pulumi config set --path --stack {shlex.quote(dr_stack)} {shlex.quote(f'{key}.{name}')} {shlex.quote(value)}"
        for name, value in values.items()
    ]


def runbook(dr_stack: str, source: Settings, sources: Sources) -> list[str]:
    """What a person does next, with the figures synth computes (README, "Regional recovery")."""
    definitions = sources.definitions_object or "none found: the broker starts with the queues the backend declares"
    imported = "imported by the dr stack" if sources.definitions_object else "nothing to import"
    dump = sources.neo4j_dump_object or "none found: Neo4j starts empty unless its volume is restored by hand"
    rdb = sources.redis_rdb_object or "none found: the cache starts empty and refills from PostgreSQL"
    latest = f"{sources.latest_restorable_time:%Y-%m-%dT%H:%M:%SZ}"
    return [
        f"latest restorable time of PostgreSQL in {sources.region}: {latest}",
        f"RabbitMQ definitions: {definitions} ({imported})",
        f"Neo4j export: {dump}",
        f"Redis snapshot: {rdb}",
        f"1. run the lines above, then `make synth STACK={dr_stack}`: it prints the RPO table and the RTO estimate "
        f"(objective {source.recovery.rto_minutes} min) and checks everything",
        f"2. pulumi up --stack {dr_stack}",
        "3. switch DNS; for a fresher Neo4j than its export, restore its volume from the newest recovery point in the "
        "DR vault instead (README, Regional recovery, steps 5-6)",
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
