"""`silhouette-ops drill restore`: restore the latest recovery point of one service into a temporary,
tagged copy, wait until it is available, check it, record how long that took (the measured restore time),
and delete the copy, always: after a failure, on Ctrl-C or SIGTERM too. The report is the JSON evidence of
a tested restore.

* postgres: ``RestoreDBInstanceToPointInTime`` (``UseLatestRestorableTime``) of the live instance into a
  new instance in a new DB subnet group over the isolated subnets, behind a new security group with no
  rule at all. A point-in-time restore keeps the source's KMS key (the check confirms it is the
  ``databases`` key). No automated backups for the copy, no deletion protection, no final snapshot.
* redis: a one-node replication group created from the newest available snapshot, in a new cache subnet
  group and the same kind of closed security group, encrypted at rest with the ``databases`` key.
* neo4j: the newest Cypher export in the backup bucket, downloaded (SSE-KMS, the backup key) into a
  temporary directory and read to the end: the gzip stream must be intact and hold Cypher statements.
  Loading it into a scratch Neo4j needs the cluster (``data/neo4j.py``, ``restore_command``): the drill
  proves the export is retrievable and complete, not that a server accepts it.

The drill can never modify or delete a live resource: every call that mutates names an identifier this
drill created and recorded (``Ownership``), and a deletion also finds the drill's tag on the resource first.
"""

from __future__ import annotations

import gzip
import hashlib
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from silhouette_infra.ops.aws import AwsClients, OpsError, explain, paged
from silhouette_infra.ops.outputs import StackOutputs
from silhouette_infra.ops.report import Check, Report

SERVICES = ("postgres", "redis", "neo4j")
DRILL_TAG = "silhouette:drill"
# RDS restores of a few hundred GiB take tens of minutes; give up after two hours.
WAIT = {"Delay": 30, "MaxAttempts": 240}
NOT_FOUND = {"DBInstanceNotFound", "DBSubnetGroupNotFoundFault", "ReplicationGroupNotFoundFault"}
NOT_FOUND |= {"CacheSubnetGroupNotFoundFault", "InvalidGroup.NotFound"}


class DrillRefusedError(OpsError):
    """A mutating call aimed at something the drill did not create."""


@dataclass
class Ownership:
    """What this drill created, in creation order: the only identifiers it may modify or delete."""

    drill_id: str
    created: list[tuple[str, str]] = field(default_factory=list)  # (kind, identifier)

    def record(self, kind: str, identifier: str) -> None:
        self.created.append((kind, identifier))

    def require(self, identifier: str) -> None:
        if identifier not in {created for _, created in self.created}:
            raise DrillRefusedError(
                f"refusing to modify or delete {identifier}: drill {self.drill_id} did not create it"
            )


def new_drill_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d%H%M}-{secrets.token_hex(3)}"


class Restore:
    """One service's restore; subclasses fill in the five steps."""

    service = ""

    def __init__(self, outputs: StackOutputs, clients: AwsClients, ownership: Ownership) -> None:
        self.outputs, self.clients, self.ownership = outputs, clients, ownership
        self.region: str = outputs["region"]
        self.temporary = f"{outputs.stack}-drill-{self.service}-{ownership.drill_id.rsplit('-', 1)[-1]}"
        self.tags = [
            {"Key": DRILL_TAG, "Value": ownership.drill_id},
            {"Key": "Name", "Value": self.temporary},
        ]

    def locate(self) -> dict[str, Any]:
        """The source and the recovery point to restore (read-only)."""
        raise NotImplementedError

    def plan(self, point: dict[str, Any]) -> list[str]:
        raise NotImplementedError

    def create(self, point: dict[str, Any]) -> None:
        raise NotImplementedError

    def wait(self) -> None:
        """Until the copy is available (nothing to wait for by default)."""

    def check(self) -> list[Check]:
        raise NotImplementedError

    def delete(self, kind: str, identifier: str) -> None:
        raise NotImplementedError

    # ---------------------------------------------------------------------------- the closed network
    def closed_security_group(self) -> str:
        """A new security group in the stack's VPC with no ingress and, once its default rule is revoked, no
        egress: the copy is reachable by nothing and reaches nothing."""
        ec2 = self.clients.get("ec2", self.region)
        group_id: str = ec2.create_security_group(
            GroupName=f"{self.temporary}-closed",
            Description=f"silhouette-ops restore drill {self.ownership.drill_id}: no ingress, no egress",
            VpcId=self.outputs["vpc_id"],
            TagSpecifications=[{"ResourceType": "security-group", "Tags": self.tags}],
        )["GroupId"]
        self.ownership.record("security-group", group_id)
        self.ownership.require(group_id)
        ec2.revoke_security_group_egress(
            GroupId=group_id, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
        )
        return group_id

    def delete_security_group(self, group_id: str) -> None:
        ec2 = self.clients.get("ec2", self.region)
        groups = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
        self._require_tag(group_id, groups[0].get("Tags", []))
        ec2.delete_security_group(GroupId=group_id)

    def _require_tag(self, identifier: str, tags: list[dict[str, str]]) -> None:
        if {"Key": DRILL_TAG, "Value": self.ownership.drill_id} not in [
            {"Key": tag.get("Key"), "Value": tag.get("Value")} for tag in tags
        ]:
            raise DrillRefusedError(
                f"refusing to delete {identifier}: it lacks the tag {DRILL_TAG}={self.ownership.drill_id}"
            )


class PostgresRestore(Restore):
    service = "postgres"

    def locate(self) -> dict[str, Any]:
        source = self.outputs["postgres_identifier"]
        instance = self._rds.describe_db_instances(DBInstanceIdentifier=source)["DBInstances"][0]
        if instance["DBInstanceStatus"] != "available":
            raise OpsError(f"postgres {source} is {instance['DBInstanceStatus']!r}: run the drill once it is available")
        if instance.get("LatestRestorableTime") is None:
            raise OpsError(f"postgres {source} has no latest restorable time: automated backups are off")
        return {
            "source": source,
            "latest_restorable_time": instance["LatestRestorableTime"].isoformat(),
            "instance_class": instance["DBInstanceClass"],
        }

    @property
    def _rds(self) -> Any:
        return self.clients.get("rds", self.region)

    def plan(self, point: dict[str, Any]) -> list[str]:
        return [
            f"create DB subnet group {self.temporary} over the isolated subnets {self.outputs['isolated_subnet_ids']}",
            f"create security group {self.temporary}-closed in {self.outputs['vpc_id']} (no ingress, egress revoked)",
            f"restore {point['source']} at its latest restorable time ({point['latest_restorable_time']}) "
            f"into {self.temporary} ({point['instance_class']}, single-AZ, no backups, tagged {DRILL_TAG})",
            f"wait until {self.temporary} is available; check its endpoint and KMS key",
            f"delete {self.temporary} (no final snapshot), its subnet group and security group",
        ]

    def create(self, point: dict[str, Any]) -> None:
        self.ownership.record("db-subnet-group", self.temporary)
        self._rds.create_db_subnet_group(
            DBSubnetGroupName=self.temporary,
            DBSubnetGroupDescription=f"silhouette-ops restore drill {self.ownership.drill_id}",
            SubnetIds=self.outputs["isolated_subnet_ids"],
            Tags=self.tags,
        )
        group_id = self.closed_security_group()
        self.ownership.record("db-instance", self.temporary)
        self._rds.restore_db_instance_to_point_in_time(
            SourceDBInstanceIdentifier=point["source"],
            TargetDBInstanceIdentifier=self.temporary,
            UseLatestRestorableTime=True,
            DBSubnetGroupName=self.temporary,
            VpcSecurityGroupIds=[group_id],
            PubliclyAccessible=False,
            MultiAZ=False,
            BackupRetentionPeriod=0,
            DeletionProtection=False,
            CopyTagsToSnapshot=False,
            Tags=self.tags,
        )

    def wait(self) -> None:
        self._rds.get_waiter("db_instance_available").wait(DBInstanceIdentifier=self.temporary, WaiterConfig=WAIT)

    def check(self) -> list[Check]:
        copy = self._rds.describe_db_instances(DBInstanceIdentifier=self.temporary)["DBInstances"][0]
        key = self.outputs["kms_key_arns"]["databases"]
        endpoint = copy.get("Endpoint", {}).get("Address")
        return [
            Check(
                "drill",
                self.temporary,
                "ok" if copy["DBInstanceStatus"] == "available" else "critical",
                f"status {copy['DBInstanceStatus']}",
            ),
            Check("drill", self.temporary, "ok" if endpoint else "critical", f"endpoint {endpoint or 'missing'}"),
            Check(
                "drill",
                self.temporary,
                "ok" if copy.get("StorageEncrypted") and copy.get("KmsKeyId") == key else "critical",
                f"encrypted with {copy.get('KmsKeyId') or 'no key'} (expected the databases key)",
            ),
        ]

    def delete(self, kind: str, identifier: str) -> None:
        if kind == "db-instance":
            try:
                copy = self._rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "DBInstanceNotFound":
                    return  # the restore call never created it
                raise
            self._require_tag(identifier, copy.get("TagList", []))
            self._rds.delete_db_instance(
                DBInstanceIdentifier=identifier, SkipFinalSnapshot=True, DeleteAutomatedBackups=True
            )
            self._rds.get_waiter("db_instance_deleted").wait(DBInstanceIdentifier=identifier, WaiterConfig=WAIT)
        elif kind == "db-subnet-group":
            self._rds.delete_db_subnet_group(DBSubnetGroupName=identifier)
        elif kind == "security-group":
            self.delete_security_group(identifier)


class RedisRestore(Restore):
    service = "redis"

    @property
    def _elasticache(self) -> Any:
        return self.clients.get("elasticache", self.region)

    def locate(self) -> dict[str, Any]:
        source = self.outputs["redis_replication_group_id"]
        group = self._elasticache.describe_replication_groups(ReplicationGroupId=source)["ReplicationGroups"][0]
        if group["Status"] != "available":
            raise OpsError(f"redis {source} is {group['Status']!r}: run the drill once it is available")
        snapshots = [
            snapshot
            for snapshot in self._elasticache.describe_snapshots(ReplicationGroupId=source)["Snapshots"]
            if snapshot.get("SnapshotStatus") == "available" and snapshot.get("NodeSnapshots")
        ]
        if not snapshots:
            raise OpsError(f"redis {source} has no available snapshot to restore")
        newest = max(snapshots, key=lambda snapshot: snapshot["NodeSnapshots"][0]["SnapshotCreateTime"])
        return {
            "source": source,
            "snapshot": newest["SnapshotName"],
            "snapshot_time": newest["NodeSnapshots"][0]["SnapshotCreateTime"].isoformat(),
            "node_type": newest.get("CacheNodeType") or group.get("CacheNodeType"),
        }

    def plan(self, point: dict[str, Any]) -> list[str]:
        return [
            f"create cache subnet group {self.temporary} over the isolated subnets "
            f"{self.outputs['isolated_subnet_ids']}",
            f"create security group {self.temporary}-closed in {self.outputs['vpc_id']} (no ingress, egress revoked)",
            f"create replication group {self.temporary} ({point['node_type']}, one node) from snapshot "
            f"{point['snapshot']} ({point['snapshot_time']}), encrypted with the databases key, tagged {DRILL_TAG}",
            f"wait until {self.temporary} is available; check its primary endpoint",
            f"delete {self.temporary}, its subnet group and security group",
        ]

    def create(self, point: dict[str, Any]) -> None:
        self.ownership.record("cache-subnet-group", self.temporary)
        self._elasticache.create_cache_subnet_group(
            CacheSubnetGroupName=self.temporary,
            CacheSubnetGroupDescription=f"silhouette-ops restore drill {self.ownership.drill_id}",
            SubnetIds=self.outputs["isolated_subnet_ids"],
            Tags=self.tags,
        )
        group_id = self.closed_security_group()
        self.ownership.record("replication-group", self.temporary)
        self._elasticache.create_replication_group(
            ReplicationGroupId=self.temporary,
            ReplicationGroupDescription=f"silhouette-ops restore drill {self.ownership.drill_id}",
            SnapshotName=point["snapshot"],
            CacheNodeType=point["node_type"],
            NumCacheClusters=1,
            AutomaticFailoverEnabled=False,
            CacheSubnetGroupName=self.temporary,
            SecurityGroupIds=[group_id],
            AtRestEncryptionEnabled=True,
            KmsKeyId=self.outputs["kms_key_arns"]["databases"],
            TransitEncryptionEnabled=True,
            Tags=self.tags,
        )

    def wait(self) -> None:
        self._elasticache.get_waiter("replication_group_available").wait(
            ReplicationGroupId=self.temporary, WaiterConfig=WAIT
        )

    def check(self) -> list[Check]:
        copy = self._elasticache.describe_replication_groups(ReplicationGroupId=self.temporary)["ReplicationGroups"][0]
        endpoints = [group.get("PrimaryEndpoint", {}).get("Address") for group in copy.get("NodeGroups", [])]
        return [
            Check(
                "drill",
                self.temporary,
                "ok" if copy["Status"] == "available" else "critical",
                f"status {copy['Status']}",
            ),
            Check(
                "drill",
                self.temporary,
                "ok" if any(endpoints) else "critical",
                f"primary endpoint {next(filter(None, endpoints), 'missing')}",
            ),
        ]

    def delete(self, kind: str, identifier: str) -> None:
        if kind == "replication-group":
            try:
                copy = self._elasticache.describe_replication_groups(ReplicationGroupId=identifier)[
                    "ReplicationGroups"
                ][0]
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "ReplicationGroupNotFoundFault":
                    return
                raise
            tags = self._elasticache.list_tags_for_resource(ResourceName=copy["ARN"]).get("TagList", [])
            self._require_tag(identifier, tags)
            self._elasticache.delete_replication_group(ReplicationGroupId=identifier, RetainPrimaryCluster=False)
            self._elasticache.get_waiter("replication_group_deleted").wait(
                ReplicationGroupId=identifier, WaiterConfig=WAIT
            )
        elif kind == "cache-subnet-group":
            self._elasticache.delete_cache_subnet_group(CacheSubnetGroupName=identifier)
        elif kind == "security-group":
            self.delete_security_group(identifier)


class Neo4jRestore(Restore):
    service = "neo4j"

    def __init__(self, outputs: StackOutputs, clients: AwsClients, ownership: Ownership) -> None:
        super().__init__(outputs, clients, ownership)
        self.directory: Path | None = None
        self.point: dict[str, Any] = {}

    @property
    def _s3(self) -> Any:
        return self.clients.get("s3", self.region)

    def locate(self) -> dict[str, Any]:
        bucket, prefix = self.outputs["backup_bucket"], self.outputs["neo4j_backup_prefix"]
        objects = paged(self._s3, "list_objects_v2", "Contents", Bucket=bucket, Prefix=prefix)
        dumps = [item for item in objects if item.get("Size")]
        if not dumps:
            raise OpsError(f"neo4j: no export under s3://{bucket}/{prefix} to restore")
        newest = max(dumps, key=lambda item: item["LastModified"])
        return {
            "source": f"s3://{bucket}/{newest['Key']}",
            "bucket": bucket,
            "key": newest["Key"],
            "uploaded": newest["LastModified"].isoformat(),
            "bytes": newest["Size"],
        }

    def plan(self, point: dict[str, Any]) -> list[str]:
        return [
            f"download {point['source']} ({point['bytes']} bytes, uploaded {point['uploaded']}) "
            "into a temporary directory",
            "read the gzip stream to its end and count its Cypher statements",
            "delete the temporary directory",
        ]

    def create(self, point: dict[str, Any]) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix=f"{self.temporary}-"))
        self.ownership.record("local-directory", str(self.directory))
        target, digest = self.directory / Path(point["key"]).name, hashlib.sha256()
        body = self._s3.get_object(Bucket=point["bucket"], Key=point["key"])["Body"]
        with target.open("wb") as file:
            for chunk in iter(lambda: body.read(1 << 20), b""):
                digest.update(chunk)
                file.write(chunk)
        self.point = {**point, "file": target, "sha256": digest.hexdigest()}

    def check(self) -> list[Check]:
        statements = 0
        try:
            with gzip.open(self.point["file"], "rt", encoding="utf-8") as stream:
                statements = sum(1 for line in stream if line.strip() and not line.startswith(":"))
        except (OSError, EOFError, UnicodeDecodeError) as error:
            return [
                Check("drill", self.point["source"], "critical", f"the export is not a complete gzip stream: {error}")
            ]
        return [
            Check("drill", self.point["source"], "ok", f"sha256 {self.point['sha256']}"),
            Check(
                "drill",
                self.point["source"],
                "ok" if statements else "critical",
                f"{statements} Cypher statement line(s)",
            ),
        ]

    def delete(self, kind: str, identifier: str) -> None:
        shutil.rmtree(identifier, ignore_errors=False)


RESTORES: dict[str, type[Restore]] = {"postgres": PostgresRestore, "redis": RedisRestore, "neo4j": Neo4jRestore}


def drill(
    outputs: StackOutputs,
    clients: AwsClients,
    service: str,
    *,
    dry_run: bool = False,
    drill_id: str | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Report:
    """Run (or with ``dry_run`` only plan) the restore drill of ``service``; the report's ``drill`` entry is
    the evidence. The order is the guarantee: create, wait, check, then always clean up."""
    outputs.require("drill")
    ownership = Ownership(drill_id or new_drill_id())
    restore = RESTORES[service](outputs, clients, ownership)
    report = Report(f"drill restore --service {service}", outputs.stack)
    point = restore.locate()
    evidence: dict[str, Any] = {
        "drill_id": ownership.drill_id,
        "service": service,
        "region": restore.region,
        "restore_point": point,
        "dry_run": dry_run,
        "plan": restore.plan(point),
    }
    report.extra["drill"] = evidence
    if dry_run:
        report.checks.append(Check("drill", restore.temporary, "ok", "dry run: nothing created"))
        return report
    evidence["started_at"] = datetime.now(UTC).isoformat()
    started = clock()
    outcome = "failed"
    try:
        restore.create(point)
        restore.wait()
        evidence["measured_restore_seconds"] = round(clock() - started, 3)
        evidence["available_at"] = datetime.now(UTC).isoformat()
        report.checks.extend(restore.check())
        outcome = "passed" if report.level == "ok" else "failed"
    except KeyboardInterrupt:
        outcome = "interrupted"
        report.checks.append(Check("drill", restore.temporary, "critical", "interrupted before the check finished"))
    except (ClientError, OpsError) as error:
        report.checks.append(Check("drill", restore.temporary, "critical", explain(error)))
    finally:
        evidence["temporary"] = [{"kind": kind, "id": identifier} for kind, identifier in ownership.created]
        evidence["cleanup"] = cleanup(restore, ownership, report)
        evidence["outcome"] = outcome
        evidence["finished_at"] = datetime.now(UTC).isoformat()
    return report


def cleanup(restore: Restore, ownership: Ownership, report: Report) -> dict[str, str]:
    """Delete what the drill created, newest first (the copy before its subnet and security groups). A
    second Ctrl-C does not stop it: leaving a copy behind is what the drill must never do."""
    results: dict[str, str] = {}
    for kind, identifier in reversed(ownership.created):
        for attempt in _attempts():
            try:
                ownership.require(identifier)
                restore.delete(kind, identifier)
                results[identifier] = "deleted"
                break
            except KeyboardInterrupt:
                results[identifier] = "interrupted; retrying"
            except DrillRefusedError as error:
                results[identifier] = f"refused: {error}"
                break
            except (ClientError, OpsError, OSError) as error:
                if isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") in NOT_FOUND:
                    results[identifier] = "deleted"
                    break
                results[identifier] = f"left behind: {explain(error)}"
                if attempt:
                    break
        if results[identifier] != "deleted":
            report.checks.append(
                Check("drill", identifier, "critical", f"{kind} {results[identifier]}: delete it by hand")
            )
    return results


def _attempts() -> Iterator[int]:
    """Two attempts at each deletion (0, 1): one retry after a failure or an interrupt."""
    yield from range(2)
