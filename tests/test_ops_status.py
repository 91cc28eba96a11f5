"""`silhouette-ops status` (issue 13): the health of everything the stack owns, on a moto account built
from the program's real outputs; each unhealthy case makes the check and the exit code say so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from silhouette_infra.ops import status
from silhouette_infra.ops.report import Report
from tests.ops_account import Account, SharedAccount, lent_accounts


@pytest.fixture(scope="module")
def shared() -> Iterator[SharedAccount]:
    """Production's moto account, seeded once for this module. Read as seeded (``production``) by the
    healthy stack, node-group health, pending maintenance and failed backup job tests, which only stub or
    answer their own tool clients; each test that changes moto asks for ``production_to_change`` (it stops the
    database, deletes the broker, sets an alarm, imports a Security Hub finding, adds a target group or
    deletes the replication group)."""
    with SharedAccount("production") as account:
        yield account


production, production_to_change = lent_accounts()


def no_failed_backup_jobs(account: Account) -> None:
    # moto 5.2.5 lacks AWS Backup ListBackupJobs: stubbed.
    account.stub("backup").add_response("list_backup_jobs", {"BackupJobs": []})


def run(account: Account) -> Report:
    return status.status(account.stack_outputs, account.clients, account.now)


def levels(report: Report, area: str) -> dict[str, str]:
    return {f"{check.subject}: {check.detail}": check.level for check in report.checks if check.area == area}


def test_status_of_a_healthy_stack_is_ok_and_covers_every_area(production: Account) -> None:
    no_failed_backup_jobs(production)
    report = run(production)
    areas = {check.area for check in report.checks}
    assert areas == {"eks", "rds", "elasticache", "mq", "alb", "backup", "alarms", "guardduty", "securityhub"}, areas
    not_ok = [check for check in report.checks if check.level != "ok"]
    assert not_ok == [], f"a healthy moto account reports problems: {not_ok}"
    assert report.exit_code == 0


def test_a_node_group_with_health_issues_is_critical(production: Account) -> None:
    no_failed_backup_jobs(production)
    outputs = production.outputs
    # moto 5.2.5 always reports a node group healthy: DescribeCluster and DescribeNodegroup stubbed.
    eks = production.stub("eks")
    eks.add_response(
        "describe_cluster", {"cluster": {"name": outputs["cluster_name"], "status": "ACTIVE", "version": "1.35"}}
    )
    issue = {"code": "AsgInstanceLaunchFailures", "message": "Could not launch On-Demand Instances", "resourceIds": []}
    for index, group in enumerate(outputs["node_group_names"]):
        health = {"issues": [issue]} if index == 0 else {"issues": []}
        eks.add_response(
            "describe_nodegroup",
            {"nodegroup": {"nodegroupName": group, "status": "DEGRADED" if index == 0 else "ACTIVE", "health": health}},
        )
    report = run(production)
    failing = outputs["node_group_names"][0]
    assert [check.level for check in report.checks if check.subject == failing] == ["critical"], levels(report, "eks")
    assert report.exit_code == 2


def test_pending_rds_maintenance_is_a_warning(production: Account) -> None:
    no_failed_backup_jobs(production)
    # moto 5.2.5 lacks DescribePendingMaintenanceActions (answered through botocore's before-call event).
    production.answer(
        "rds",
        "DescribePendingMaintenanceActions",
        {
            "PendingMaintenanceActions": [
                {
                    "ResourceIdentifier": "arn",
                    "PendingMaintenanceActionDetails": [{"Action": "system-update", "Description": "OS patch"}],
                }
            ]
        },
    )
    report = run(production)
    pending = [check for check in report.checks if "pending maintenance" in check.detail]
    assert [check.level for check in pending] == ["warning"], levels(report, "rds")
    assert report.exit_code == 1


def test_a_stopped_database_and_low_free_storage_are_critical(production_to_change: Account) -> None:
    no_failed_backup_jobs(production_to_change)
    identifier = production_to_change.outputs["postgres_identifier"]
    production_to_change.client("rds").stop_db_instance(DBInstanceIdentifier=identifier)
    production_to_change.client("cloudwatch").put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "FreeStorageSpace",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": identifier}],
                "Value": 5 * 1024**3,
                "Timestamp": production_to_change.now - timedelta(minutes=2),
            }
        ],
    )
    rds = levels(run(production_to_change), "rds")
    assert any(detail.startswith(f"{identifier}: stopped") and level == "critical" for detail, level in rds.items()), (
        rds
    )
    assert any("free storage 5 %" in detail and level == "critical" for detail, level in rds.items()), rds


def test_a_missing_broker_is_critical(production_to_change: Account) -> None:
    no_failed_backup_jobs(production_to_change)
    mq = production_to_change.client("mq")
    for broker in mq.list_brokers()["BrokerSummaries"]:
        mq.delete_broker(BrokerId=broker["BrokerId"])
    assert set(levels(run(production_to_change), "mq").values()) == {"critical"}


def test_an_alarm_in_alarm_on_the_stack_topic_is_critical(production_to_change: Account) -> None:
    no_failed_backup_jobs(production_to_change)
    name = f"{production_to_change.outputs['postgres_identifier']}-cpu"
    production_to_change.client("cloudwatch").set_alarm_state(
        AlarmName=name, StateValue="ALARM", StateReason="CPU 97 %"
    )
    alarms = levels(run(production_to_change), "alarms")
    assert alarms == {f"{name}: ALARM: CPU 97 %": "critical"}, alarms


def test_a_failed_backup_job_in_the_last_day_is_critical(production: Account) -> None:
    # moto 5.2.5 lacks AWS Backup ListBackupJobs: stubbed with one failed job.
    production.stub("backup").add_response(
        "list_backup_jobs",
        {
            "BackupJobs": [
                {
                    "BackupJobId": "1",
                    "ResourceArn": "arn:aws:rds:us-east-1:123456789012:db:x",
                    "State": "FAILED",
                    "StatusMessage": "KMS key not accessible",
                    "CreationDate": production.now - timedelta(hours=3),
                }
            ]
        },
    )
    backup = levels(run(production), "backup")
    assert list(backup.values()) == ["critical"] and "KMS key not accessible" in next(iter(backup)), backup


def test_high_severity_guardduty_findings_and_critical_security_hub_failures_are_critical(
    production_to_change: Account,
) -> None:
    no_failed_backup_jobs(production_to_change)
    # moto 5.2.5 lacks GuardDuty ListFindings and GetFindings: the GuardDuty client is stubbed.
    guardduty = production_to_change.stub("guardduty")
    guardduty.add_response("list_detectors", {"DetectorIds": ["detector1"]})
    guardduty.add_response("list_findings", {"FindingIds": ["f1"]})
    finding = {
        "AccountId": "123456789012",
        "Arn": "arn",
        "CreatedAt": "2026-11-29T00:00:00Z",
        "Id": "f1",
        "Region": "us-east-1",
        "Resource": {"ResourceType": "Instance"},
        "SchemaVersion": "2.0",
        "Severity": 8.0,
        "Type": "CryptoCurrency:EC2/BitcoinTool.B!DNS",
        "UpdatedAt": "2026-11-29T00:00:00Z",
        "Title": "EC2 instance querying a bitcoin domain",
    }
    guardduty.add_response("get_findings", {"Findings": [finding]})
    production_to_change.client("securityhub").batch_import_findings(
        Findings=[
            {
                "SchemaVersion": "2018-10-08",
                "Id": "control-1",
                "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/securityhub",
                "GeneratorId": "control",
                "AwsAccountId": "123456789012",
                "Types": ["Software and Configuration Checks"],
                "CreatedAt": "2026-11-29T00:00:00Z",
                "UpdatedAt": "2026-11-29T00:00:00Z",
                "Severity": {"Label": "CRITICAL"},
                "Title": "S3 general purpose buckets should block public access",
                "Description": "control",
                "Resources": [{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::public"}],
                "Compliance": {"Status": "FAILED"},
                "RecordState": "ACTIVE",
            }
        ]
    )
    report = run(production_to_change)
    assert set(levels(report, "guardduty").values()) == {"critical"}, levels(report, "guardduty")
    assert set(levels(report, "securityhub").values()) == {"critical"}, levels(report, "securityhub")


def test_a_resource_in_a_transitional_state_is_a_warning_and_a_failed_one_critical() -> None:
    assert status._level_of("modifying", "available", status.RDS_TRANSITIONAL) == "warning"
    assert status._level_of("UPDATING", "ACTIVE", status.EKS_TRANSITIONAL) == "warning"
    assert status._level_of("failed", "available", status.RDS_TRANSITIONAL) == "critical"


def test_a_target_group_without_a_healthy_target_is_critical(production_to_change: Account) -> None:
    no_failed_backup_jobs(production_to_change)
    outputs, ec2, elbv2 = (
        production_to_change.outputs,
        production_to_change.client("ec2"),
        production_to_change.client("elbv2"),
    )
    subnet = outputs["isolated_subnet_ids"][0]
    instance = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, SubnetId=subnet)["Instances"][0]
    group = elbv2.create_target_group(Name="frontend", Protocol="HTTP", Port=8080, VpcId=outputs["vpc_id"])
    group_arn = group["TargetGroups"][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=group_arn, Targets=[{"Id": instance["InstanceId"], "Port": 8080}])
    balancer = elbv2.describe_load_balancers(Names=[outputs["load_balancer_name"]])["LoadBalancers"][0]
    elbv2.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"],
        Protocol="HTTP",
        Port=81,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group_arn}],
    )
    ec2.stop_instances(InstanceIds=[instance["InstanceId"]])  # moto then reports the target "unused"
    alb = levels(run(production_to_change), "alb")
    assert alb["frontend: 0/1 targets healthy (unused)"] == "critical", alb
    assert alb["backend: 1/1 targets healthy (healthy)"] == "ok", alb


def test_a_replication_group_that_is_going_away_is_critical(production_to_change: Account) -> None:
    no_failed_backup_jobs(production_to_change)
    group = production_to_change.outputs["redis_replication_group_id"]
    production_to_change.client("elasticache").delete_replication_group(ReplicationGroupId=group)  # moto: 'deleting'
    elasticache = levels(run(production_to_change), "elasticache")
    assert list(elasticache.values()) == ["critical"] and next(iter(elasticache)).startswith(f"{group}: deleting"), (
        elasticache
    )


def test_what_a_test_answers_or_hooks_on_a_pooled_client_is_gone_for_the_next(shared: SharedAccount) -> None:
    """The tool's clients are lent from a pool to one test after another (tests/ops_account.py, ToolClients): an
    answer, a hook or a Stubber one test set on a client must not reach the next test lent the same client."""
    hooked: list[str] = []
    for first in shared.read_only():
        region = first.outputs["region"]
        rds = first.clients.get("rds", region)
        first.answer("rds", "DescribeDBInstances", {"DBInstances": []})
        rds.meta.events.register("after-call.rds.DescribeDBInstances", lambda **_: hooked.append("called"))
        assert rds.describe_db_instances()["DBInstances"] == [] and hooked == ["called"], "answer and hook apply"
        first.stub("secretsmanager").add_response("list_secrets", {"SecretList": [{"Name": "stubbed"}]})
        stubbed = first.clients.get("secretsmanager", region)
    for second in shared.read_only():
        again = second.clients.get("rds", region)
        assert again is rds, "the pool lends the client the previous test gave back"
        names = [instance["DBInstanceIdentifier"] for instance in again.describe_db_instances()["DBInstances"]]
        assert names == [second.outputs["postgres_identifier"]], f"the previous test's answer reached this one: {names}"
        assert hooked == ["called"], "the previous test's after-call hook reached this one"
        secretsmanager = second.clients.get("secretsmanager", region)
        assert secretsmanager is stubbed, "the pool lends the client the previous test stubbed"
        secrets = [secret["Name"] for secret in secretsmanager.list_secrets()["SecretList"]]
        assert "stubbed" not in secrets and secrets, f"the previous test's Stubber reached this one: {secrets}"
