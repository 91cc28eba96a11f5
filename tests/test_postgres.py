"""PostgreSQL on RDS (issue: data services, point 1), asserted on each stack's captured inputs."""

from __future__ import annotations

import json

from silhouette_infra.data.postgres import parameters
from silhouette_infra.synth.engine import CapturedResource, SynthResult
from silhouette_infra.validation.loader import load_settings

INSTANCE = "aws:rds/instance:Instance"


def _instance(result: SynthResult) -> CapturedResource:
    return result.named(INSTANCE, "postgres")


def test_database_lives_in_the_isolated_subnets(stack: SynthResult) -> None:
    isolated = [s.id for s in stack.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["Tier"] == "isolated"]
    group = stack.named("aws:rds/subnetGroup:SubnetGroup", "postgres-subnets")
    assert group.inputs["subnetIds"] == isolated, "postgres subnet group: isolated subnets, one per AZ"
    assert _instance(stack).inputs["dbSubnetGroupName"] == group.inputs["name"]
    assert _instance(stack).inputs["publiclyAccessible"] is False


def test_engine_version_comes_from_settings_with_minor_upgrades_automatic(stack: SynthResult) -> None:
    """RDS picks the newest minor of a major given as "17" and applies minors in the maintenance window
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.Upgrading.html)."""
    inputs = _instance(stack).inputs
    assert (inputs["engine"], inputs["engineVersion"]) == ("postgres", stack.settings.postgres.major_version)
    assert inputs["autoMinorVersionUpgrade"] is True and inputs["allowMajorVersionUpgrade"] is False


def test_production_database_is_multi_az_and_staging_is_not(production: SynthResult, staging: SynthResult) -> None:
    assert _instance(production).inputs["multiAz"] is True, "production postgres must survive an AZ loss"
    assert _instance(staging).inputs["multiAz"] is False, "staging postgres is deliberately single-AZ"
    for result in (production, staging):
        assert _instance(result).inputs["instanceClass"] == result.settings.postgres.instance_class, result.stack
    assert not _instance(production).inputs["instanceClass"].startswith("db.t"), (
        "production postgres: no burstable class (its CPU credits run out under sustained load)"
    )


def test_storage_is_encrypted_gp3_that_grows(stack: SynthResult) -> None:
    inputs = _instance(stack).inputs
    key = stack.named("aws:kms/key:Key", "databases-key").outputs["arn"]
    assert (inputs["storageType"], inputs["storageEncrypted"], inputs["kmsKeyId"]) == ("gp3", True, key)
    assert inputs["maxAllocatedStorage"] > inputs["allocatedStorage"], "storage autoscaling needs a higher ceiling"


def test_master_password_is_managed_by_secrets_manager_with_our_key(stack: SynthResult) -> None:
    inputs = _instance(stack).inputs
    assert inputs["manageMasterUserPassword"] is True
    assert "password" not in inputs, "postgres: no password in the program or the state"
    assert inputs["masterUserSecretKmsKeyId"] == stack.named("aws:kms/key:Key", "databases-key").outputs["arn"]
    assert stack.outputs["postgres_secret_arn"].startswith("arn:aws:secretsmanager:")


def test_parameter_group_forces_tls_and_logs_slow_statements(stack: SynthResult) -> None:
    group = stack.named("aws:rds/parameterGroup:ParameterGroup", "postgres-parameters")
    assert group.inputs["family"] == f"postgres{stack.settings.postgres.major_version}"
    values = {p["name"]: p["value"] for p in group.inputs["parameters"]}
    assert values["rds.force_ssl"] == "1", "TLS must be enforced"
    assert values["log_min_duration_statement"] == str(stack.settings.postgres.slow_statement_ms)
    assert _instance(stack).inputs["parameterGroupName"] == group.outputs["name"]


def test_static_parameters_wait_for_a_reboot() -> None:
    """shared_preload_libraries is static: RDS rejects apply_method immediate for it
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithParamGroups.html)."""
    settings = load_settings("production", {}).postgres
    assert parameters(settings)["shared_preload_libraries"][1] == "pending-reboot"


def test_performance_insights_and_enhanced_monitoring_are_on(stack: SynthResult) -> None:
    """Performance Insights retention must be 7 or a multiple of 31 up to 731 days
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PerfInsights.Overview.cost.html)."""
    inputs = _instance(stack).inputs
    assert inputs["performanceInsightsEnabled"] is True
    assert inputs["performanceInsightsKmsKeyId"] == stack.named("aws:kms/key:Key", "databases-key").outputs["arn"]
    retention = inputs["performanceInsightsRetentionPeriod"]
    assert retention == 7 or (retention % 31 == 0 and retention <= 731)
    assert inputs["monitoringInterval"] in (1, 5, 10, 15, 30, 60)
    role = stack.named("aws:iam/role:Role", "postgres-monitoring-role")
    assert inputs["monitoringRoleArn"] == role.outputs["arn"]
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}


def test_backups_allow_point_in_time_recovery_and_a_final_snapshot(stack: SynthResult) -> None:
    """Automated backups (1-35 days) give point-in-time recovery to within five minutes
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIT.html)."""
    inputs = _instance(stack).inputs
    assert 1 <= inputs["backupRetentionPeriod"] <= 35
    assert inputs["backupWindow"] == stack.settings.postgres.backup_window
    assert inputs["copyTagsToSnapshot"] is True
    assert inputs["skipFinalSnapshot"] is False and inputs["finalSnapshotIdentifier"].endswith("-final")


def test_production_database_cannot_be_deleted_by_accident(production: SynthResult, staging: SynthResult) -> None:
    assert _instance(production).inputs["deletionProtection"] is True
    assert _instance(production).protect, "production postgres: Pulumi protect"
    assert _instance(production).inputs["deleteAutomatedBackups"] is False, "keep PITR backups after a delete"
    assert _instance(staging).inputs["deletionProtection"] is False and not _instance(staging).protect


def test_logs_are_exported_to_encrypted_groups_with_retention(stack: SynthResult) -> None:
    inputs = _instance(stack).inputs
    assert inputs["enabledCloudwatchLogsExports"] == ["postgresql", "upgrade"]
    logs_key = stack.named("aws:kms/key:Key", "logs-key").outputs["arn"]
    for log in ("postgresql", "upgrade"):
        group = stack.named("aws:cloudwatch/logGroup:LogGroup", f"postgres-{log}-logs")
        assert group.inputs["name"] == f"/aws/rds/instance/{inputs['identifier']}/{log}"
        assert group.inputs["kmsKeyId"] == logs_key
        assert group.urn in _instance(stack).options["dependencies"], f"{log} log group must exist first"


SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
PROXY = "aws:rds/proxy:Proxy"


def test_only_the_nodes_reach_the_proxy_and_only_the_proxy_reaches_postgres(stack: SynthResult) -> None:
    """Nodes -> RDS Proxy (5432) -> the instance (5432): nothing else reaches either, no CIDR reaches the
    database, and the proxy may call out only to 5432 in the isolated subnets."""
    proxy_sg = stack.named(SECURITY_GROUP, "postgres-proxy-security-group")
    (to_proxy,) = proxy_sg.inputs["ingress"]
    node_sg = stack.outputs["node_security_group_id"]
    assert (to_proxy["fromPort"], to_proxy["toPort"], to_proxy["securityGroups"]) == (5432, 5432, [node_sg])
    (out,) = proxy_sg.inputs["egress"]
    isolated = sorted(
        s.inputs["cidrBlock"] for s in stack.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["Tier"] == "isolated"
    )
    assert (out["fromPort"], out["toPort"], sorted(out["cidrBlocks"])) == (5432, 5432, isolated), "proxy egress"
    sg = stack.named(SECURITY_GROUP, "postgres-security-group")
    (ingress,) = sg.inputs["ingress"]
    assert (ingress["fromPort"], ingress["toPort"], ingress["securityGroups"]) == (5432, 5432, [proxy_sg.id])
    assert not ingress.get("cidrBlocks"), "no CIDR may reach the database"
    assert sg.inputs.get("egress", []) == []
    assert _instance(stack).inputs["vpcSecurityGroupIds"] == [sg.id]
    assert stack.named(PROXY, "postgres-proxy").inputs["vpcSecurityGroupIds"] == [proxy_sg.id]


def test_proxy_requires_tls_and_authenticates_with_the_managed_secret(stack: SynthResult) -> None:
    proxy = stack.named(PROXY, "postgres-proxy").inputs
    assert proxy["requireTls"] is True and proxy["engineFamily"] == "POSTGRESQL"
    (auth,) = proxy["auths"]
    assert auth["authScheme"] == "SECRETS" and auth["secretArn"] == stack.outputs["postgres_secret_arn"]
    assert auth["clientPasswordAuthType"] == "POSTGRES_SCRAM_SHA_256"
    isolated = [s.id for s in stack.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["Tier"] == "isolated"]
    assert proxy["vpcSubnetIds"] == isolated, "RDS Proxy: in the isolated subnets"
    role = stack.named("aws:iam/rolePolicy:RolePolicy", "postgres-proxy-read-secret")
    statements = json.loads(role.inputs["policy"])["Statement"]
    assert statements[0]["Resource"] == [stack.outputs["postgres_secret_arn"]], "the proxy reads its one secret"
    target_group = stack.named("aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup", "postgres-proxy-target-group")
    assert target_group.inputs["connectionPoolConfig"]["maxConnectionsPercent"] == (
        stack.settings.postgres.proxy_max_connections_percent
    )
    target = stack.named("aws:rds/proxyTarget:ProxyTarget", "postgres-proxy-target")
    assert target.inputs["dbInstanceIdentifier"] == _instance(stack).inputs["identifier"]


def test_the_backend_connects_through_the_proxy(stack: SynthResult) -> None:
    (config,) = [r for r in stack.of_type("kubernetes:core/v1:ConfigMap") if r.name == "backend-config"]
    proxy_endpoint = stack.named(PROXY, "postgres-proxy").outputs["endpoint"]
    assert config.inputs["data"]["POSTGRES_HOST"] == proxy_endpoint == stack.outputs["postgres_endpoint"]


def test_database_is_selected_by_aws_backup(stack: SynthResult) -> None:
    assert _instance(stack).inputs["tags"]["Backup"] == f"silhouette-{stack.stack}"


def test_production_replicates_point_in_time_backups_to_the_dr_region(production: SynthResult) -> None:
    """Cross-region automated backup replication keeps PITR available in the DR region, so a region loss
    costs minutes of data, not the hours of a copied snapshot (RPO 1 h)
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReplicateBackups.html)."""
    (replication,) = production.of_type(
        "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
    )
    assert replication.inputs["sourceDbInstanceArn"] == _instance(production).outputs["arn"]
    assert ":us-west-2:" in replication.inputs["kmsKeyId"], "encrypted with the DR region's key"
    dr = production.named("pulumi:providers:aws", "aws-dr")
    assert replication.options["provider"] == f"{dr.urn}::{dr.id}"
    assert replication.inputs["retentionPeriod"] == production.settings.postgres.backup_retention_days


def test_staging_keeps_its_database_backups_in_one_region(staging: SynthResult) -> None:
    assert not staging.of_type("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"), (
        "staging is single-region by design"
    )
