"""`silhouette-ops drill restore` (issue 13): a temporary tagged copy in a closed network, checked, timed and
always deleted, even when interrupted; and never a mutating call on a live resource."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from silhouette_infra.ops import drill
from silhouette_infra.ops.aws import OpsError
from silhouette_infra.ops.drill import DRILL_TAG, DrillRefusedError, Ownership, PostgresRestore
from silhouette_infra.ops.report import Report
from tests.ops_account import Account, SharedAccount

READ_ONLY_PREFIXES = ("Describe", "List", "Get", "Head")
# The parameter naming what each mutating call of a drill acts on.
MUTATION_TARGETS = {
    "CreateDBSubnetGroup": "DBSubnetGroupName",
    "RestoreDBInstanceToPointInTime": "TargetDBInstanceIdentifier",
    "DeleteDBInstance": "DBInstanceIdentifier",
    "DeleteDBSubnetGroup": "DBSubnetGroupName",
    "CreateCacheSubnetGroup": "CacheSubnetGroupName",
    "CreateReplicationGroup": "ReplicationGroupId",
    "DeleteReplicationGroup": "ReplicationGroupId",
    "DeleteCacheSubnetGroup": "CacheSubnetGroupName",
    "RevokeSecurityGroupEgress": "GroupId",
    "DeleteSecurityGroup": "GroupId",
}


@pytest.fixture(scope="module")
def shared() -> Iterator[SharedAccount]:
    """Production's moto account, seeded once for this module. Read as seeded (``production``) by the tests
    that prove a drill makes no mutating call (a refused deletion, the dry runs); each test that runs a drill or
    stops the database asks for ``production_to_change`` (a drill creates and deletes its copy in moto, and
    moto keeps the deleted replication group and the cache subnet group)."""
    with SharedAccount("production") as account:
        yield account


@pytest.fixture
def production(shared: SharedAccount) -> Iterator[Account]:
    """The shared account as seeded, for a test that only reads moto (its hooks and answers are its own)."""
    for lent in shared.read_only():
        yield with_drill_hooks(lent)


@pytest.fixture
def production_to_change(shared: SharedAccount) -> Iterator[Account]:
    """The shared account for a test that changes moto; seeded again for the next test."""
    for lent in shared.to_change():
        yield with_drill_hooks(lent)


def with_drill_hooks(account: Account) -> Account:
    account.clients.get("elasticache", account.outputs["region"]).meta.events.register(
        "after-call.elasticache.DescribeReplicationGroups", deleted_means_gone
    )
    # moto 5.2.5 lacks DeleteCacheSubnetGroup: answered (botocore's before-call event), so the cache subnet
    # group stays in moto and `leftovers` cannot look for it; the drill's cleanup record still must say deleted.
    account.answer("elasticache", "DeleteCacheSubnetGroup", {})
    return account


def deleted_means_gone(parsed: dict[str, Any], model: Any, **_: Any) -> None:
    """moto 5.2.5 keeps a deleted replication group in 'deleting' for ever, where ElastiCache ends with
    ReplicationGroupNotFoundFault: that answer, so the drill's deletion waiter ends as it does on AWS."""
    if any(group.get("Status") == "deleting" for group in parsed.get("ReplicationGroups", [])):
        error = {"Error": {"Code": "ReplicationGroupNotFoundFault", "Message": "not found"}}
        raise ClientError(error, model.name)


def record_calls(account: Account) -> list[tuple[str, dict[str, Any]]]:
    """Every API call the tool's clients make, with its parameters (botocore's provide-client-params event)."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def remember(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, dict(params)))

    for service in ("rds", "ec2", "elasticache", "s3"):
        account.clients.get(service, account.outputs["region"]).meta.events.register(
            f"provide-client-params.{service}.*", remember
        )
    return calls


def mutating(calls: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, params) for name, params in calls if not name.startswith(READ_ONLY_PREFIXES)]


def live_identifiers(account: Account) -> set[str]:
    outputs = account.outputs
    return {
        outputs["postgres_identifier"],
        outputs["redis_replication_group_id"],
        outputs["backup_bucket"],
        outputs["vpc_id"],
        *outputs["isolated_subnet_ids"],
    }


def run(account: Account, service: str, **options: Any) -> Report:
    return drill.drill(account.stack_outputs, account.clients, service, drill_id="202611290100-abc123", **options)


def leftovers(account: Account) -> list[str]:
    """Anything tagged by a drill that still exists."""
    rds, ec2, elasticache = account.client("rds"), account.client("ec2"), account.client("elasticache")
    left = [
        instance["DBInstanceIdentifier"]
        for instance in rds.describe_db_instances()["DBInstances"]
        if any(tag["Key"] == DRILL_TAG for tag in instance.get("TagList", []))
    ]
    left += [group["DBSubnetGroupName"] for group in rds.describe_db_subnet_groups()["DBSubnetGroups"]]
    left += [
        group["GroupId"]
        for group in ec2.describe_security_groups()["SecurityGroups"]
        if any(tag["Key"] == DRILL_TAG for tag in group.get("Tags", []))
    ]
    left += [  # moto keeps a deleted group as 'deleting' (see deleted_means_gone)
        group["ReplicationGroupId"]
        for group in elasticache.describe_replication_groups()["ReplicationGroups"]
        if group["Status"] != "deleting"
    ]
    return [name for name in left if name not in live_identifiers(account) and name != "default"]


@pytest.mark.parametrize("service", drill.SERVICES)
def test_a_drill_restores_checks_times_and_deletes_its_copy(production_to_change: Account, service: str) -> None:
    calls = record_calls(production_to_change)
    report = run(production_to_change, service)
    evidence = report.extra["drill"]
    assert evidence["outcome"] == "passed", report.checks
    assert evidence["measured_restore_seconds"] >= 0 and evidence["available_at"], evidence
    assert set(evidence["cleanup"].values()) == {"deleted"}, evidence["cleanup"]
    assert leftovers(production_to_change) == [], f"drill {service} left behind {leftovers(production_to_change)}"
    assert_mutations_target_only_the_drills_own(calls, evidence)


def assert_mutations_target_only_the_drills_own(
    calls: list[tuple[str, dict[str, Any]]], evidence: dict[str, Any]
) -> None:
    """Each mutating call names, in the parameter that says what it acts on, something the drill created;
    a new security group (whose id AWS gives back) carries the drill's tag."""
    created = {entry["id"] for entry in evidence["temporary"]}
    for name, params in mutating(calls):
        if name == "CreateSecurityGroup":
            assert {"Key": DRILL_TAG, "Value": evidence["drill_id"]} in params["TagSpecifications"][0]["Tags"]
            continue
        assert name in MUTATION_TARGETS, f"unexpected mutating call {name} by the {evidence['service']} drill"
        target = params[MUTATION_TARGETS[name]]
        assert target in created, f"{name} on {target}, which the {evidence['service']} drill did not create"


def test_the_drill_refuses_an_identifier_it_did_not_create(production: Account) -> None:
    calls = record_calls(production)
    ownership = Ownership("202611290100-abc123")
    restore = PostgresRestore(production.stack_outputs, production.clients, ownership)
    live = production.outputs["postgres_identifier"]
    with pytest.raises(DrillRefusedError, match=live):
        ownership.require(live)
    ownership.record("db-instance", live)  # even when recorded by mistake, the missing drill tag stops it
    with pytest.raises(DrillRefusedError, match="lacks the tag"):
        restore.delete("db-instance", live)
    assert mutating(calls) == [], f"a refused deletion still called AWS: {mutating(calls)}"


def test_an_interrupted_drill_deletes_its_temporary_copy(
    production_to_change: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(self: PostgresRestore) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(PostgresRestore, "wait", interrupted)
    report = run(production_to_change, "postgres")
    evidence = report.extra["drill"]
    assert evidence["outcome"] == "interrupted"
    assert any(entry["kind"] == "db-instance" for entry in evidence["temporary"]), evidence["temporary"]
    assert set(evidence["cleanup"].values()) == {"deleted"}, evidence["cleanup"]
    assert leftovers(production_to_change) == [], f"the interrupted drill left behind {leftovers(production_to_change)}"
    assert report.exit_code == 2


def test_a_dry_run_plans_without_any_mutating_call(production: Account) -> None:
    calls = record_calls(production)
    for service in drill.SERVICES:
        evidence = run(production, service, dry_run=True).extra["drill"]
        assert evidence["plan"] and "temporary" not in evidence, evidence
    assert mutating(calls) == [], f"a dry run mutated: {mutating(calls)}"


def test_a_drill_of_a_database_in_transition_stops_with_a_clear_message(production_to_change: Account) -> None:
    production_to_change.client("rds").stop_db_instance(
        DBInstanceIdentifier=production_to_change.outputs["postgres_identifier"]
    )
    with pytest.raises(OpsError, match="is 'stopped': run the drill once it is available"):
        run(production_to_change, "postgres")
