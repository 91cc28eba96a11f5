"""`silhouette-ops status`: the health of everything the stack owns, one check per resource.

Levels: a resource in a transitional state (modifying, updating, backing up) is a warning, a failed or
missing one critical; findings of GuardDuty (high severity), Security Hub (critical failed controls),
CloudWatch alarms in ALARM on the stack's topic and AWS Backup jobs that failed in the last 24 h are
critical.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from silhouette_infra.ops.aws import AwsClients, paged
from silhouette_infra.ops.outputs import StackOutputs
from silhouette_infra.ops.report import Check, Level, Report, Section, run_sections
from silhouette_infra.ops.timing import age_minutes, human

RDS_TRANSITIONAL = {
    "backing-up",
    "configuring-enhanced-monitoring",
    "configuring-iam-database-auth",
    "configuring-log-exports",
    "maintenance",
    "modifying",
    "moving-to-vpc",
    "rebooting",
    "renaming",
    "resetting-master-credentials",
    "starting",
    "storage-optimization",
    "upgrading",
    "creating",
}
ELASTICACHE_TRANSITIONAL = {"creating", "modifying", "snapshotting"}
MQ_TRANSITIONAL = {"CREATION_IN_PROGRESS", "REBOOT_IN_PROGRESS", "DELETION_IN_PROGRESS"}
EKS_TRANSITIONAL = {"CREATING", "UPDATING"}
FREE_STORAGE_WARNING_PERCENT = 20
FREE_STORAGE_CRITICAL_PERCENT = 10
# GuardDuty's High band starts at 7.0, Critical above it ("Severity levels for GuardDuty findings",
# https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings.html).
GUARDDUTY_HIGH_SEVERITY = 7
FAILED_BACKUP_STATES = {"FAILED", "ABORTED", "EXPIRED"}
GIB = 1024**3


def _level_of(status: str, healthy: str, transitional: set[str]) -> Level:
    if status == healthy:
        return "ok"
    return "warning" if status in transitional else "critical"


def _eks_check(subject: str, resource: dict[str, Any], summary: str) -> Check:
    """A cluster or node group: its status, and critical with any health issue EKS reports."""
    issues = resource.get("health", {}).get("issues", [])
    problems = "".join(f"; {issue.get('code')}: {issue.get('message')}" for issue in issues)
    level = "critical" if issues else _level_of(resource["status"], "ACTIVE", EKS_TRANSITIONAL)
    return Check("eks", subject, level, f"{resource['status']}, {summary}{problems}")


def eks(outputs: StackOutputs, clients: AwsClients, now: datetime) -> Iterator[Check]:
    client = clients.get("eks", outputs["region"])
    name = outputs["cluster_name"]
    cluster = client.describe_cluster(name=name)["cluster"]
    yield _eks_check(name, cluster, f"Kubernetes {cluster.get('version')}")
    for group_name in outputs["node_group_names"]:
        group = client.describe_nodegroup(clusterName=name, nodegroupName=group_name)["nodegroup"]
        scaling = group.get("scalingConfig", {})
        yield _eks_check(
            group_name,
            group,
            f"version {group.get('version')}, {scaling.get('desiredSize')} nodes "
            f"({scaling.get('minSize')}-{scaling.get('maxSize')})",
        )


def rds(outputs: StackOutputs, clients: AwsClients, now: datetime) -> Iterator[Check]:
    region, identifier = outputs["region"], outputs["postgres_identifier"]
    client = clients.get("rds", region)
    instance = client.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    status = instance["DBInstanceStatus"]
    latest = instance.get("LatestRestorableTime")
    restorable = f"latest restorable {human(age_minutes(now, latest))} ago" if latest else "no restorable time"
    yield Check(
        "rds",
        identifier,
        _level_of(status, "available", RDS_TRANSITIONAL),
        f"{status}, Multi-AZ {'on' if instance.get('MultiAZ') else 'off'}, {restorable}",
    )
    pending = client.describe_pending_maintenance_actions(ResourceIdentifier=instance["DBInstanceArn"])
    for resource in pending.get("PendingMaintenanceActions", []):
        for action in resource.get("PendingMaintenanceActionDetails", []):
            when = action.get("AutoAppliedAfterDate") or action.get("ForcedApplyDate")
            yield Check(
                "rds",
                identifier,
                "warning",
                f"pending maintenance: {action.get('Action')} ({action.get('Description', '')})"
                + (f", applied after {when:%Y-%m-%d}" if when else ""),
            )
    yield _free_storage(clients.get("cloudwatch", region), identifier, instance, now)


def _free_storage(cloudwatch: Any, identifier: str, instance: dict[str, Any], now: datetime) -> Check:
    datapoints = cloudwatch.get_metric_statistics(
        Namespace="AWS/RDS",
        MetricName="FreeStorageSpace",
        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": identifier}],
        StartTime=now - timedelta(minutes=15),
        EndTime=now,
        Period=300,
        Statistics=["Minimum"],
    )["Datapoints"]
    if not datapoints:
        return Check("rds", identifier, "warning", "no FreeStorageSpace datapoint in the last 15 min")
    free = min(point["Minimum"] for point in datapoints)
    percent = 100 * free / (instance["AllocatedStorage"] * GIB)
    level: Level = (
        "critical"
        if percent < FREE_STORAGE_CRITICAL_PERCENT
        else "warning"
        if percent < FREE_STORAGE_WARNING_PERCENT
        else "ok"
    )
    return Check("rds", identifier, level, f"free storage {percent:.0f} % of {instance['AllocatedStorage']} GiB")


def elasticache(outputs: StackOutputs, clients: AwsClients, now: datetime) -> Iterator[Check]:
    group_id = outputs["redis_replication_group_id"]
    client = clients.get("elasticache", outputs["region"])
    group = client.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]
    members = group.get("MemberClusters", [])
    yield Check(
        "elasticache",
        group_id,
        _level_of(group["Status"], "available", ELASTICACHE_TRANSITIONAL),
        f"{group['Status']}, automatic failover {group.get('AutomaticFailover', 'disabled')}, "
        f"{len(members)} member(s): {', '.join(members)}",
    )


def amazon_mq(outputs: StackOutputs, clients: AwsClients, now: datetime) -> Iterator[Check]:
    name = outputs["rabbitmq_broker_name"]
    client = clients.get("mq", outputs["region"])
    summaries = [
        broker for broker in paged(client, "list_brokers", "BrokerSummaries") if broker.get("BrokerName") == name
    ]
    if not summaries:
        yield Check("mq", name, "critical", "no broker of this name in the account")
        return
    broker = client.describe_broker(BrokerId=summaries[0]["BrokerId"])
    state = broker["BrokerState"]
    yield Check(
        "mq",
        name,
        _level_of(state, "RUNNING", MQ_TRANSITIONAL),
        f"{state}, {broker.get('DeploymentMode')}, {len(broker.get('BrokerInstances', []))} instance(s)",
    )


def load_balancer(outputs: StackOutputs, clients: AwsClients, now: datetime) -> Iterator[Check]:
    name = outputs["load_balancer_name"]
    client = clients.get("elbv2", outputs["region"])
    try:
        balancer = client.describe_load_balancers(Names=[name])["LoadBalancers"][0]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "LoadBalancerNotFound":
            raise
        yield Check("alb", name, "critical", "no load balancer of this name (is the Ingress reconciled?)")
        return
    state = balancer.get("State", {}).get("Code", "unknown")
    yield Check("alb", name, _level_of(state, "active", {"provisioning"}), state)
    groups = client.describe_target_groups(LoadBalancerArn=balancer["LoadBalancerArn"])["TargetGroups"]
    for group in groups:
        targets = client.describe_target_health(TargetGroupArn=group["TargetGroupArn"])["TargetHealthDescriptions"]
        states = [target["TargetHealth"]["State"] for target in targets]
        healthy = states.count("healthy")
        level: Level = (
            "warning" if not states else "ok" if healthy == len(states) else "critical" if not healthy else "warning"
        )
        yield Check(
            "alb",
            group["TargetGroupName"],
            level,
            f"{healthy}/{len(states)} targets healthy" + (f" ({', '.join(sorted(set(states)))})" if states else ""),
        )


def backup_jobs(outputs: StackOutputs, clients: AwsClients, now: datetime) -> Iterator[Check]:
    vault = outputs["backup_vault_name"]
    client = clients.get("backup", outputs["region"])
    jobs = paged(
        client, "list_backup_jobs", "BackupJobs", ByBackupVaultName=vault, ByCreatedAfter=now - timedelta(hours=24)
    )
    failed = [job for job in jobs if job.get("State") in FAILED_BACKUP_STATES]
    if not failed:
        yield Check("backup", vault, "ok", "no failed backup job in the last 24 h")
    for job in failed:
        yield Check(
            "backup",
            job.get("ResourceArn", vault),
            "critical",
            f"backup job {job.get('State')} at {job.get('CreationDate'):%Y-%m-%d %H:%M} UTC: "
            f"{job.get('StatusMessage', 'no message')}",
        )


def alarms(outputs: StackOutputs, clients: AwsClients, now: datetime) -> Iterator[Check]:
    topic = outputs["alarm_topic_arn"]
    client = clients.get("cloudwatch", outputs["region"])
    in_alarm = paged(client, "describe_alarms", "MetricAlarms", StateValue="ALARM")
    firing = [alarm for alarm in in_alarm if topic in alarm.get("AlarmActions", [])]
    if not firing:
        yield Check("alarms", topic.rsplit(":", 1)[-1], "ok", "no alarm of the stack in ALARM")
    for alarm in firing:
        yield Check("alarms", alarm["AlarmName"], "critical", f"ALARM: {alarm.get('StateReason', '')}")


def guardduty(outputs: StackOutputs, clients: AwsClients, now: datetime) -> Iterator[Check]:
    region = outputs["region"]
    client = clients.get("guardduty", region)
    detectors = client.list_detectors().get("DetectorIds", [])
    if not detectors:
        yield Check("guardduty", region, "warning", "GuardDuty has no detector in the region")
        return
    for detector in detectors:
        criteria = {"Criterion": {"severity": {"Gte": GUARDDUTY_HIGH_SEVERITY}, "service.archived": {"Eq": ["false"]}}}
        ids = client.list_findings(DetectorId=detector, FindingCriteria=criteria, MaxResults=50).get("FindingIds", [])
        if not ids:
            yield Check("guardduty", detector, "ok", "no active high-severity finding")
            continue
        for finding in client.get_findings(DetectorId=detector, FindingIds=ids)["Findings"]:
            yield Check(
                "guardduty",
                finding.get("Resource", {}).get("ResourceType", detector),
                "critical",
                f"severity {finding.get('Severity')}: {finding.get('Title')} ({finding.get('Type')})",
            )


def security_hub(outputs: StackOutputs, clients: AwsClients, now: datetime) -> Iterator[Check]:
    region = outputs["region"]
    client = clients.get("securityhub", region)
    filters = {
        "ComplianceStatus": [{"Value": "FAILED", "Comparison": "EQUALS"}],
        "SeverityLabel": [{"Value": "CRITICAL", "Comparison": "EQUALS"}],
        "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
        "WorkflowStatus": [{"Value": "SUPPRESSED", "Comparison": "NOT_EQUALS"}],
    }
    try:
        findings = client.get_findings(Filters=filters, MaxResults=100).get("Findings", [])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "InvalidAccessException":
            raise
        yield Check("securityhub", region, "warning", "Security Hub is not enabled in the region")
        return
    # Applied again here: the filter is the contract, and a proxy or emulator that ignores it must not
    # turn passed controls into failures.
    failed = [
        finding
        for finding in findings
        if finding.get("Compliance", {}).get("Status") == "FAILED"
        and finding.get("Severity", {}).get("Label") == "CRITICAL"
        and finding.get("RecordState", "ACTIVE") == "ACTIVE"
    ]
    if not failed:
        yield Check("securityhub", region, "ok", "no critical failed control")
    for finding in failed:
        resources = ", ".join(resource.get("Id", "") for resource in finding.get("Resources", []))
        yield Check("securityhub", resources or region, "critical", f"FAILED: {finding.get('Title')}")


SECTIONS: tuple[Section, ...] = (
    eks,
    rds,
    elasticache,
    amazon_mq,
    load_balancer,
    backup_jobs,
    alarms,
    guardduty,
    security_hub,
)


def status(outputs: StackOutputs, clients: AwsClients, now: datetime) -> Report:
    outputs.require("status")
    return run_sections(Report("status", outputs.stack), SECTIONS, outputs, clients, now)
