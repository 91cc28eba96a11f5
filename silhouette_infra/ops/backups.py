"""`silhouette-ops backups verify`: every backup the stack keeps, against the age the stack output
``recovery`` allows it (the RPO, or the backup's schedule where that is longer: planning/operations.py).

Each breach names the service, the age, the limit and the RPO, and the likely cause.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from silhouette_infra.ops.aws import AwsClients, OpsError, paged
from silhouette_infra.ops.outputs import StackOutputs
from silhouette_infra.ops.report import Check, Report, Section, run_sections
from silhouette_infra.ops.timing import age_minutes, human

# Resource types AWS Backup can protect among what the stack tags for it (RDS instances, EBS volumes of Neo4j).
SELECTED_RESOURCE_TYPES = ["rds:db", "ec2:volume"]
RECENT_OBJECTS_HOURS = 24
MAX_OBJECTS_CHECKED = 50


def _limits(outputs: StackOutputs, service: str) -> tuple[float, int] | None:
    """(age limit in minutes, RPO in minutes) of ``service``, or None when the stack keeps no such backup."""
    recovery = outputs["recovery"]
    bound = recovery["services"].get(service)
    return None if bound is None else (float(bound["max_age_minutes"]), int(recovery["rpo_minutes"]))


def _required_limits(outputs: StackOutputs, service: str) -> tuple[float, int]:
    limits = _limits(outputs, service)
    if limits is None:
        raise OpsError(f"stack {outputs.stack}: output 'recovery' has no bound for {service}")
    return limits


def _against(area: str, subject: str, age: float, limits: tuple[float, int], what: str, cause: str) -> Check:
    limit, rpo = limits
    bound = f"limit {human(limit)}" + ("" if limit == rpo else f", RPO {human(rpo)}")
    if age <= limit:
        return Check(area, subject, "ok", f"{what} {human(age)} old ({bound})")
    return Check(area, subject, "critical", f"{what} {human(age)} old, over its {bound}: likely {cause}")


def postgres(outputs: StackOutputs, clients: AwsClients, now: datetime) -> Iterator[Check]:
    identifier, limits = outputs["postgres_identifier"], _required_limits(outputs, "postgres")
    instance = clients.get("rds", outputs["region"]).describe_db_instances(DBInstanceIdentifier=identifier)[
        "DBInstances"
    ][0]
    latest = instance.get("LatestRestorableTime")
    if not instance.get("BackupRetentionPeriod") or latest is None:
        yield Check("postgres", identifier, "critical", "no point-in-time restore: automated backups are off")
    else:
        yield _against(
            "postgres",
            identifier,
            age_minutes(now, latest),
            limits,
            "latest restorable time",
            "the instance is stopped or its transaction-log upload is stuck (RDS events)",
        )
    dr_limits = _limits(outputs, "postgres_dr")
    if dr_limits is not None:
        yield from _postgres_dr(outputs, clients, now, instance, dr_limits)


def _postgres_dr(
    outputs: StackOutputs, clients: AwsClients, now: datetime, instance: dict[str, Any], limits: tuple[float, int]
) -> Iterator[Check]:
    dr_region, identifier = outputs["dr_region"], instance["DBInstanceIdentifier"]
    replicated = (
        clients.get("rds", dr_region)
        # Replicated backups are found by the source's resource id: no instance of that name lives there.
        .describe_db_instance_automated_backups(DbiResourceId=instance["DbiResourceId"])
        .get("DBInstanceAutomatedBackups", [])
    )
    latest = max(
        (
            backup["RestoreWindow"]["LatestTime"]
            for backup in replicated
            if backup.get("RestoreWindow", {}).get("LatestTime")
        ),
        default=None,
    )
    if latest is None:
        yield Check(
            "postgres",
            f"{identifier} ({dr_region})",
            "critical",
            f"no replicated automated backups in {dr_region}: replication was never started or was stopped",
        )
        return
    yield _against(
        "postgres",
        f"{identifier} ({dr_region})",
        age_minutes(now, latest),
        limits,
        "replicated restore point",
        "the cross-region replication is lagging or paused (RDS events in both regions)",
    )


def aws_backup(outputs: StackOutputs, clients: AwsClients, now: datetime) -> Iterator[Check]:
    limits = _required_limits(outputs, "aws_backup")
    region, vault = outputs["region"], outputs["backup_vault_name"]
    tag_key, tag_value = next(iter(outputs["backup_selection_tag"].items()))
    selected = _tagged(clients, region, {tag_key: tag_value}, SELECTED_RESOURCE_TYPES)
    if not selected:
        yield Check("aws-backup", vault, "critical", f"no resource carries the selection tag {tag_key}={tag_value}")
        return
    latest = _latest_recovery_points(clients.get("backup", region), vault)
    dr_limits, dr_vault = _limits(outputs, "aws_backup_dr_copy"), outputs["dr_backup_vault_name"]
    copies = (
        _latest_recovery_points(clients.get("backup", outputs["dr_region"]), dr_vault)
        if dr_limits is not None and dr_vault
        else {}
    )
    for arn in selected:
        if arn not in latest:
            yield Check("aws-backup", arn, "critical", f"no completed recovery point in {vault}: likely not selected")
            continue
        yield _against(
            "aws-backup",
            arn,
            age_minutes(now, latest[arn]),
            limits,
            "latest recovery point",
            "failed backup jobs (status)",
        )
        if dr_limits is not None:
            if arn not in copies:
                yield Check("aws-backup", arn, "critical", f"no copy in the DR vault {dr_vault}: copy jobs fail")
                continue
            yield _against(
                "aws-backup",
                f"{arn} (DR copy)",
                age_minutes(now, copies[arn]),
                dr_limits,
                "latest DR copy",
                "copy jobs failing (aws backup list-copy-jobs) or the DR key's policy refusing AWS Backup",
            )


def _tagged(clients: AwsClients, region: str, tags: dict[str, str], types: list[str]) -> list[str]:
    """The ARNs of the resources of ``types`` in ``region`` that carry every one of ``tags``."""
    found = paged(
        clients.get("resourcegroupstaggingapi", region),
        "get_resources",
        "ResourceTagMappingList",
        TagFilters=[{"Key": key, "Values": [value]} for key, value in tags.items()],
        ResourceTypeFilters=types,
    )
    return [resource["ResourceARN"] for resource in found]


def _latest_recovery_points(client: Any, vault: str) -> dict[str, datetime]:
    """Resource ARN -> creation time of its newest completed recovery point in ``vault``."""
    latest: dict[str, datetime] = {}
    for point in paged(client, "list_recovery_points_by_backup_vault", "RecoveryPoints", BackupVaultName=vault):
        arn, created = point.get("ResourceArn"), point.get("CreationDate")
        if point.get("Status") == "COMPLETED" and arn and created and (arn not in latest or created > latest[arn]):
            latest[arn] = created
    return latest


def bucket_replication(outputs: StackOutputs, clients: AwsClients, now: datetime) -> Iterator[Check]:
    limits = _limits(outputs, "backup_bucket_replication")
    if limits is None:
        return
    bucket, s3 = outputs["backup_bucket"], clients.get("s3", outputs["region"])
    rules = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"].get("Rules", [])
    if not any(rule.get("Status") == "Enabled" for rule in rules):
        yield Check("s3-replication", bucket, "critical", "no enabled replication rule on the backup bucket")
        return
    recent = [
        item for item in _objects(s3, bucket, "") if age_minutes(now, item["LastModified"]) <= RECENT_OBJECTS_HOURS * 60
    ]
    recent.sort(key=lambda item: item["LastModified"], reverse=True)
    counts: dict[str, int] = {}
    for item in recent[:MAX_OBJECTS_CHECKED]:
        state = s3.head_object(Bucket=bucket, Key=item["Key"]).get("ReplicationStatus", "NONE")
        counts[state] = counts.get(state, 0) + 1
        age = age_minutes(now, item["LastModified"])
        if state == "FAILED" or (state == "PENDING" and age > limits[0]):
            yield Check(
                "s3-replication",
                f"{bucket}/{item['Key']}",
                "critical",
                f"replication {state} for {human(age)} (limit {human(limits[0])}): likely the replication role "
                "or the DR key's policy (S3 replication metrics)",
            )
        elif state == "NONE":
            yield Check("s3-replication", f"{bucket}/{item['Key']}", "warning", "not covered by the replication rule")
    summary = ", ".join(f"{count} {state}" for state, count in sorted(counts.items())) or "no object in 24 h"
    yield Check("s3-replication", bucket, "ok", f"recent objects: {summary}")


def _objects(s3: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    return paged(s3, "list_objects_v2", "Contents", Bucket=bucket, Prefix=prefix)


def neo4j(outputs: StackOutputs, clients: AwsClients, now: datetime) -> Iterator[Check]:
    """Neo4j's volume against its hourly snapshots' bound (the RPO table's source), and its export against the
    export's schedule."""
    yield from _neo4j_volume(outputs, clients, now)
    yield from _neo4j_export(outputs, clients, now)


def _neo4j_volume(outputs: StackOutputs, clients: AwsClients, now: datetime) -> Iterator[Check]:
    limits, region, vault = _required_limits(outputs, "neo4j"), outputs["region"], outputs["backup_vault_name"]
    tags = outputs["neo4j_volume_tags"]
    volumes = _tagged(clients, region, tags, ["ec2:volume"])
    if not volumes:
        selection = ", ".join(f"{key}={value}" for key, value in tags.items())
        yield Check("neo4j", vault, "critical", f"no EBS volume carries {selection}: the hourly plan selects nothing")
        return
    latest = _latest_recovery_points(clients.get("backup", region), vault)
    for arn in volumes:
        if arn not in latest:
            yield Check("neo4j", arn, "critical", f"no completed recovery point of Neo4j's volume in {vault}")
            continue
        yield _against(
            "neo4j",
            arn,
            age_minutes(now, latest[arn]),
            limits,
            "latest hourly snapshot",
            "the hourly plan's jobs failing (aws backup list-backup-jobs --by-resource-arn)",
        )


def _neo4j_export(outputs: StackOutputs, clients: AwsClients, now: datetime) -> Iterator[Check]:
    limits = _required_limits(outputs, "neo4j_export")
    bucket, prefix = outputs["backup_bucket"], outputs["neo4j_backup_prefix"]
    dumps = [item for item in _objects(clients.get("s3", outputs["region"]), bucket, prefix) if item.get("Size")]
    subject = f"s3://{bucket}/{prefix}"
    if not dumps:
        yield Check(
            "neo4j",
            subject,
            "critical",
            "no Neo4j dump: the backup CronJob never uploaded one (kubectl -n neo4j get jobs)",
        )
        return
    newest = max(dumps, key=lambda item: item["LastModified"])
    yield _against(
        "neo4j",
        f"s3://{bucket}/{newest['Key']}",
        age_minutes(now, newest["LastModified"]),
        limits,
        "newest dump",
        "the neo4j-backup CronJob failing or suspended (kubectl -n neo4j get cronjob,jobs)",
    )


def redis(outputs: StackOutputs, clients: AwsClients, now: datetime) -> Iterator[Check]:
    limits = _limits(outputs, "redis")
    if limits is None:
        return
    group_id = outputs["redis_replication_group_id"]
    snapshots = clients.get("elasticache", outputs["region"]).describe_snapshots(ReplicationGroupId=group_id)[
        "Snapshots"
    ]
    times = [
        node["SnapshotCreateTime"]
        for snapshot in snapshots
        if snapshot.get("SnapshotStatus") == "available"
        for node in snapshot.get("NodeSnapshots", [])
        if node.get("SnapshotCreateTime")
    ]
    if not times:
        yield Check("redis", group_id, "critical", "no available snapshot: snapshot_retention_days 0 or snapshots fail")
        return
    yield _against(
        "redis",
        group_id,
        age_minutes(now, max(times)),
        limits,
        "newest snapshot",
        "snapshots failing in the snapshot window (ElastiCache events) or the group busy then",
    )


SECTIONS: tuple[Section, ...] = (
    postgres,
    aws_backup,
    bucket_replication,
    neo4j,
    redis,
)


def verify(outputs: StackOutputs, clients: AwsClients, now: datetime) -> Report:
    outputs.require("backups")
    report = run_sections(Report("backups verify", outputs.stack), SECTIONS, outputs, clients, now)
    report.extra["rpo_minutes"] = outputs["recovery"]["rpo_minutes"]
    return report
