"""The dr stack (issue 14, item 3): production rebuilt in us-west-2 from what production keeps there, checked by
every validator like the other stacks, and refused, with nothing declared, when its sources are wrong."""

from __future__ import annotations

import json
from typing import Any

import pytest

from silhouette_infra.compliance.stateful import STATEFUL_TYPES
from silhouette_infra.data.postgres import point_in_time_restore
from silhouette_infra.planning.rto import in_pilot_light
from silhouette_infra.synth.checks import run_checks_many
from silhouette_infra.synth.cost import monthly_cost, standby_cost
from silhouette_infra.synth.critical_path import stack_critical_path
from silhouette_infra.synth.engine import SynthResult, run_stack
from silhouette_infra.validation.loader import SettingsError, load_settings
from tests.support import config_with, synth
from tests.variants import FAILED_OVER_SOURCES, dr_failed_over

REPLICATED_BACKUPS = "arn:aws:rds:us-west-2:111111111111:auto-backup:ab-replacewiththereplicatedbackups"
DEFINITIONS = "arn:aws:s3:::silhouette-production-backups-us-west-2-111111111111/rabbitmq-definitions/production/x.json"
DEFINITIONS_KEY = "arn:aws:kms:us-west-2:111111111111:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
NEO4J_DUMP = "arn:aws:s3:::silhouette-production-backups-us-west-2-111111111111/neo4j/production/x.cypher.gz"


@pytest.fixture(scope="module")
def dr() -> SynthResult:
    return synth("dr")


def test_dr_stack_is_production_in_us_west_2_copying_back_to_us_east_1(dr: SynthResult) -> None:
    settings = dr.settings
    assert (settings.environment, settings.aws.region, settings.aws.dr_region) == (
        "production",
        "us-west-2",
        "us-east-1",
    ), "dr: production's rules, in the region production copies to, copying back to the one it left"
    assert settings.network.vpc_cidr != synth("production").settings.network.vpc_cidr, "dr: peerable with production"
    assert dr.named("pulumi:providers:aws", "aws-dr").inputs["region"] == "us-east-1"


def test_postgres_is_a_point_in_time_restore_of_the_replicated_backups(dr: SynthResult) -> None:
    postgres = dr.named("aws:rds/instance:Instance", "postgres")
    assert postgres.inputs["restoreToPointInTime"] == {
        "sourceDbInstanceAutomatedBackupsArn": REPLICATED_BACKUPS,
        "useLatestRestorableTime": True,
    }, "postgres: restored from the automated backups replicated to us-west-2"
    assert postgres.options["ignore_changes"] == ["restoreToPointInTime"], (
        "postgres: removing the recovery sources after the restore must not replace the restored database"
    )
    assert "restoreToPointInTime" not in synth("production").named("aws:rds/instance:Instance", "postgres").inputs


@pytest.fixture(scope="module")
def restored() -> SynthResult:
    """Every source named, as the failover command writes them (variants.py, one run with test_failover.py)."""
    return dr_failed_over()


def test_the_latest_restorable_time_and_a_seed_reach_the_services(restored: SynthResult) -> None:
    restore = restored.named("aws:rds/instance:Instance", "postgres").inputs["restoreToPointInTime"]
    assert restore == {
        "sourceDbInstanceAutomatedBackupsArn": FAILED_OVER_SOURCES["postgres_automated_backups_arn"],
        "useLatestRestorableTime": True,
    }
    redis = restored.named("aws:elasticache/replicationGroup:ReplicationGroup", "redis")
    assert redis.inputs["snapshotArns"] == [FAILED_OVER_SOURCES["redis_rdb_object"]], "redis: seeded"
    assert redis.options["ignore_changes"] == ["snapshotArns"]


@pytest.mark.parametrize(
    ("written", "restore_time", "latest"),
    [("2026-11-01T09:55:00Z", "2026-11-01T09:55:00Z", None), ("latest", None, True)],
)
def test_a_restore_time_or_the_latest_reaches_the_point_in_time_restore(
    written: str, restore_time: str | None, latest: bool | None
) -> None:
    """The dr runs restore to the latest restorable time; a time named restores to that instant instead."""
    sources = load_settings("dr", _with_restore_time(written)).recovery.sources
    restore = point_in_time_restore(sources)
    assert restore is not None and restore.source_db_instance_automated_backups_arn == REPLICATED_BACKUPS
    assert (restore.restore_time, restore.use_latest_restorable_time) == (restore_time, latest), written
    assert point_in_time_restore(None) is None, "no sources: a new, empty database"


@pytest.mark.checkov
def test_every_validator_passes_on_the_dr_stack(restored: SynthResult) -> None:
    """With every source named, the dr stack declares all it can (the definitions import too): a superset of the
    committed file's objects, which `make synth STACK=dr` checks as they are."""
    result = restored
    assert result.named("kubernetes:batch/v1:Job", "neo4j-restore"), "dr: the Neo4j restore is among what is checked"
    for report in run_checks_many([result])["dr"]:
        assert report.ok, f"dr: {report.validator} failed: {[(f.check, f.resource) for f in report.failures]}"


def test_dr_stack_rto_within_the_objective_and_an_hour_with_the_pilot_light(dr: SynthResult) -> None:
    cold, pilot = stack_critical_path(dr), stack_critical_path(dr, pilot_light=True)
    assert cold.minutes <= dr.settings.recovery.rto_minutes == 240, f"dr cold: {cold.minutes:.0f} min"
    assert pilot.minutes <= 60, f"dr pilot light: {pilot.minutes:.0f} min"


# (overrides of the dr stack's recovery section, key that must be named, words the message must contain)
BAD_SOURCES: list[tuple[dict[str, Any] | None, str, str]] = [
    (
        {
            "sources": {
                "postgres_automated_backups_arn": REPLICATED_BACKUPS,
                "rabbitmq_definitions_object": DEFINITIONS,
            }
        },
        "recovery.sources.rabbitmq_definitions_key_arn",
        "or neither",
    ),
    (
        {
            "sources": {
                "postgres_automated_backups_arn": REPLICATED_BACKUPS,
                "rabbitmq_definitions_object": DEFINITIONS,
                "rabbitmq_definitions_key_arn": DEFINITIONS_KEY.replace("us-west-2", "us-east-1"),
            }
        },
        "recovery.sources.rabbitmq_definitions_key_arn",
        "in us-east-1, the stack in us-west-2",
    ),
    (
        {"sources": {"postgres_automated_backups_arn": REPLICATED_BACKUPS, "neo4j_dump_object": NEO4J_DUMP}},
        "recovery.sources.neo4j_dump_key_arn",
        "or neither",
    ),
    (
        {
            "sources": {
                "postgres_automated_backups_arn": REPLICATED_BACKUPS,
                "neo4j_dump_object": NEO4J_DUMP,
                "neo4j_dump_key_arn": DEFINITIONS_KEY.replace("us-west-2", "eu-west-1"),
            }
        },
        "recovery.sources.neo4j_dump_key_arn",
        "in eu-west-1, the stack in us-west-2",
    ),
    (None, "recovery.sources", "rebuilds production"),
    ({"mode": "cold"}, "recovery.sources", "postgres_automated_backups_arn"),
    (
        {"sources": {"postgres_automated_backups_arn": REPLICATED_BACKUPS.replace("us-west-2", "us-east-1")}},
        "recovery.sources.postgres_automated_backups_arn",
        "in us-east-1, the stack in us-west-2",
    ),
    (
        {
            "sources": {
                "postgres_automated_backups_arn": REPLICATED_BACKUPS,
                "postgres_restore_time": "2999-01-01T00:00:00Z",
            }
        },
        "recovery.sources.postgres_restore_time",
        "in the future",
    ),
    (
        {"sources": {"postgres_automated_backups_arn": "arn:aws:rds:us-west-2:111111111111:db:silhouette"}},
        "recovery.sources.postgres_automated_backups_arn",
        "pattern",
    ),
    (
        {"sources": {"postgres_automated_backups_arn": REPLICATED_BACKUPS, "postgres_restore_time": "yesterday"}},
        "recovery.sources.postgres_restore_time",
        "pattern",
    ),
]


@pytest.mark.parametrize(("recovery", "key", "expected"), BAD_SOURCES)
def test_bad_recovery_sources_are_refused_before_anything_is_declared(
    recovery: dict[str, Any] | None, key: str, expected: str
) -> None:
    config = config_with("dr")
    if recovery is None:
        del config["silhouette:recovery"]
    else:
        config = config_with("dr", recovery=recovery)
        if "sources" not in recovery:
            config["silhouette:recovery"] = '{"mode": "cold"}'
    with pytest.raises(SettingsError) as raised:
        run_stack("dr", config)
    message = str(raised.value)
    assert f"silhouette:{key}: " in message and expected in message, f"dr {recovery}: {message}"
    assert raised.value.declared == [], f"dr: resources declared before validation: {raised.value.declared}"


def test_the_exported_rabbitmq_definitions_are_imported_once_after_the_broker(restored: SynthResult) -> None:
    result = restored
    (job,) = [r for r in result.of_type("kubernetes:batch/v1:Job") if r.name == "exports-rabbitmq-definitions-import"]
    pod = job.inputs["spec"]["template"]["spec"]
    (download,) = pod["initContainers"]
    definitions = FAILED_OVER_SOURCES["rabbitmq_definitions_object"]
    assert {e["name"]: e.get("value") for e in download["env"]}["SOURCE"] == definitions.replace(
        "arn:aws:s3:::", "s3://"
    )
    (importer,) = pod["containers"]
    assert 'method="POST"' in importer["command"][-1] and "/api/definitions/" in importer["command"][-1]
    broker = result.named("aws:mq/broker:Broker", "rabbitmq")
    assert any(urn == broker.urn for urn in job.options["dependencies"]), "the import waits for the new broker"
    role = result.named("aws:iam/role:Role", "rabbitmq-definitions-import-role")
    (inline,) = [p for p in result.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id]
    statements = json.loads(inline.inputs["policy"])["Statement"]
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        ("s3:GetObject", definitions),
        ("kms:Decrypt", FAILED_OVER_SOURCES["rabbitmq_definitions_key_arn"]),
    ], "the import reads that one object, and decrypts it only through S3"
    jobs = [r.name for r in synth("dr").of_type("kubernetes:batch/v1:Job")]
    assert "exports-rabbitmq-definitions-import" not in jobs, "no import without a definitions source"


def test_neo4j_is_restored_from_its_export_once_the_server_runs_and_only_into_an_empty_database(
    restored: SynthResult,
) -> None:
    """Not `neo4j-admin database load`: it loads archives of `neo4j-admin database dump`, which Community edition
    makes only of a stopped DBMS; the exports are Cypher statements, replayed by cypher-shell into the running
    server (data/neo4j.py). The emptiness check makes a rerun harmless."""
    result = restored
    job = result.named("kubernetes:batch/v1:Job", "neo4j-restore")
    pod = job.inputs["spec"]["template"]["spec"]
    (download,) = pod["initContainers"]
    dump = FAILED_OVER_SOURCES["neo4j_dump_object"]
    assert {e["name"]: e.get("value") for e in download["env"]}["SOURCE"] == dump.replace("arn:aws:s3:::", "s3://")
    (load,) = pod["containers"]
    script = load["command"][-1]
    assert "MATCH (n) RETURN count(n)" in script and 'if [ "$nodes" != "0" ]' in script, (
        "neo4j-restore: replays only into an empty database"
    )
    assert 'gunzip -c "$DUMP_FILE" | shell' in script, "neo4j-restore: the export replayed through cypher-shell"
    assert job.inputs["spec"]["template"]["metadata"]["annotations"]["eks.amazonaws.com/skip-containers"] == "load"
    server = result.named("kubernetes:apps/v1:StatefulSet", "neo4j")
    assert server.urn in job.options["dependencies"], "neo4j-restore: after the server"
    role = result.named("aws:iam/role:Role", "neo4j-restore-role")
    (inline,) = [p for p in result.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id]
    statements = json.loads(inline.inputs["policy"])["Statement"]
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        ("s3:GetObject", dump),
        ("kms:Decrypt", FAILED_OVER_SOURCES["neo4j_dump_key_arn"]),
    ], "neo4j-restore: reads that one export, and decrypts it only through S3"
    assert not [r for r in synth("dr").of_type("kubernetes:batch/v1:Job") if r.name == "neo4j-restore"], (
        "no restore without a dump source"
    )


def _with_restore_time(written: str) -> dict[str, str]:
    """The dr stack file with only ``recovery.sources.postgres_restore_time`` changed."""
    sources = json.loads(config_with("dr")["silhouette:recovery"])["sources"]
    return config_with("dr", recovery={"sources": {**sources, "postgres_restore_time": written}})


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("2026-11-28T09:55:00Z", "2026-11-28T09:55:00Z"),
        # An unquoted YAML timestamp reaches the settings as ISO text with an offset: the same instant.
        ("2026-11-28T09:55:00+00:00", "2026-11-28T09:55:00Z"),
        ("2026-11-28T10:55:00+01:00", "2026-11-28T09:55:00Z"),
        ("latest", "latest"),
    ],
)
def test_a_restore_time_is_read_as_the_utc_instant_it_names(written: str, read: str) -> None:
    config = _with_restore_time(written)
    sources = load_settings("dr", config).recovery.sources
    assert sources is not None and sources.postgres_restore_time == read, f"recovery.sources: {written!r}"


def test_a_restore_time_without_a_zone_is_still_refused() -> None:
    config = _with_restore_time("2026-11-28T09:55:00")
    with pytest.raises(SettingsError, match=r"silhouette:recovery\.sources\.postgres_restore_time"):
        load_settings("dr", config)


# ------------------------------------------------------------------------------ the pilot light's standby
def _standby_config() -> dict[str, str]:
    """The dr stack before a disaster in pilot-light mode: no recovery sources. A config override of the dr stack,
    not a stack file of its own: the standby must be the same Pulumi stack (same names, same URNs) that adding the
    sources turns into the full one."""
    config = config_with("dr")
    config["silhouette:recovery"] = json.dumps({"mode": "pilot_light"})
    return config


@pytest.fixture(scope="module")
def standby() -> SynthResult:
    return synth("dr", _standby_config())


def test_the_standby_declares_no_data_service(standby: SynthResult) -> None:
    """The pilot light keeps the network, the keys and the EKS cluster with its add-ons running, and nothing that
    holds data: of the stateful types, only the KMS keys (the cluster's secrets and volumes need them) and the EKS
    cluster (protected, but it holds no data: synth/recovery.py NOT_COPIED) are declared."""
    allowed = {"aws:kms/key:Key", "eks:index:Cluster"}
    stateful = sorted({r.type for r in standby.resources if r.type in STATEFUL_TYPES} - allowed)
    assert stateful == [], f"dr standby: declares stateful resources {stateful}"
    workloads = [r.name for r in standby.resources if r.type.startswith("kubernetes:apps/") or "batch/v1" in r.type]
    assert workloads == [], f"dr standby: declares workloads {workloads}"
    assert standby.of_type("eks:index:Cluster") and standby.of_type("aws:ec2/vpc:Vpc"), "dr standby: network, EKS"


def test_the_standby_node_groups_run_at_their_minimum(standby: SynthResult) -> None:
    groups = standby.of_type("aws:eks/nodeGroup:NodeGroup")
    assert groups, "dr standby: no node group"
    for group in groups:
        scaling = group.inputs["scalingConfig"]
        assert scaling["desiredSize"] == scaling["minSize"], f"{group.name}: desired {scaling} is not the minimum"


def test_the_rto_counts_as_existing_exactly_what_the_standby_declares(standby: SynthResult) -> None:
    """planning/rto.py weighs nothing of the pilot light (in_pilot_light): those resources must be the ones the
    standby declares, under the same URNs, so that adding the sources (`pulumi up`) creates only the rest."""
    full = synth("dr")
    kept = {r.urn for r in full.resources if in_pilot_light(r.urn)}
    declared = {r.urn for r in standby.resources if not r.type.startswith(("pulumi:", "silhouette:"))}
    assert declared - kept == set(), f"standby resources the RTO would count as still to create: {declared - kept}"
    missing = {urn for urn in kept - declared if not full.by_urn[urn].type.startswith(("pulumi:", "silhouette:"))}
    assert missing == set(), f"resources the RTO counts as running that the standby does not declare: {missing}"
    pilot = stack_critical_path(full, pilot_light=True)
    assert pilot.minutes <= 60, f"dr from the pilot light: {pilot.minutes:.0f} min, above the 1 h goal"


@pytest.mark.checkov
def test_every_validator_passes_on_the_standby(standby: SynthResult) -> None:
    for report in run_checks_many([standby])["dr"]:
        assert report.ok, f"dr standby: {report.validator} failed: {[(f.check, f.resource) for f in report.failures]}"


def test_only_the_dr_stack_may_be_a_standby() -> None:
    """Any other stack in pilot-light mode without sources would declare only a network and a cluster: refused,
    naming the key and the stack."""
    config = config_with("production", recovery={"mode": "pilot_light"})
    with pytest.raises(SettingsError) as raised:
        load_settings("production", config)
    message = str(raised.value)
    assert "silhouette:recovery.mode: " in message and "stack 'production'" in message, message


def test_the_standby_is_estimated_at_the_pilot_light_it_declares(standby: SynthResult) -> None:
    """synth's estimate of the standby stack prices what it runs (the pilot light), not the data services it leaves
    out."""
    settings = load_settings("dr", _standby_config())
    estimate = monthly_cost(settings, standby.resources)
    assert estimate.total == standby_cost(settings)["pilot_light"], f"dr standby: estimate {estimate.layers}"
    assert not {"postgres", "redis", "rabbitmq"} & set(estimate.layers), f"dr standby: {estimate.layers}"
