"""Nothing stateful is lost by a careless `pulumi up`: protection, and a guard against replacements."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from silhouette_infra.compliance.replacing import REPLACING, SOURCE_DOCUMENTED, SOURCE_READ
from silhouette_infra.synth.engine import SynthResult
from silhouette_infra.synth.stateful import identity, replacement_problems, stateful
from tests.support import synth
from tests.variants import staging_with_an_existing_certificate

SNAPSHOT = Path(__file__).with_name("snapshots") / "stateful_identity.json"
UPDATE = "UPDATE_STATEFUL_SNAPSHOT"


def _recorded() -> dict[str, dict[str, dict[str, object]]]:
    recorded: dict[str, dict[str, dict[str, object]]] = json.loads(SNAPSHOT.read_text()) if SNAPSHOT.exists() else {}
    return recorded


def test_no_change_replaces_or_deletes_a_stateful_resource(stack: SynthResult) -> None:
    """Compares the replacing properties (identifier, KMS key, encryption, names ...) of every database,
    cache, broker, bucket, vault, key, secret and repository with the recorded ones. A deliberate
    replacement is a migration: follow the README ("Replacing a stateful resource"), then record it
    with `make snapshot-stateful`."""
    current = identity(stack.resources)
    if os.environ.get(UPDATE):
        recorded = _recorded()
        recorded[stack.stack] = current
        SNAPSHOT.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    recorded_stack = _recorded().get(stack.stack, {})
    problems = replacement_problems(recorded_stack, current)
    assert problems == [], f"{stack.stack}: this change would destroy data:\n  " + "\n  ".join(problems)
    unrecorded = sorted(set(current) - set(recorded_stack))
    assert unrecorded == [], (
        f"{stack.stack}: new stateful resources, record them with `make snapshot-stateful`: {unrecorded}"
    )


def test_the_guard_catches_a_renamed_repository() -> None:
    """The frontend's repository renamed ``web`` (``variants.RENAMED_REPOSITORIES``, among that run's options)."""
    before = identity(synth("staging").resources)
    after = identity(staging_with_an_existing_certificate().resources)
    problems = replacement_problems(before, after)
    assert any("Repository::frontend is gone" in problem for problem in problems), problems


def test_the_guard_catches_a_changed_replacing_property() -> None:
    recorded = {"urn:db": {"identifier": "silhouette-production-postgres", "kmsKeyId": "arn:key/1"}}
    current = {"urn:db": {"identifier": "silhouette-production-postgres", "kmsKeyId": "arn:key/2"}}
    assert replacement_problems(recorded, current) == [
        "urn:db: kmsKeyId 'arn:key/1' -> 'arn:key/2' replaces it (delete and create: its data is lost)"
    ]


def test_production_protects_every_stateful_resource(production: SynthResult) -> None:
    unprotected = [
        f"{r.type} {r.name}" for r in stateful(production.resources) if not r.protect and not r.type.startswith("eks:")
    ]
    assert unprotected == [], f"production: stateful resources without Pulumi protect: {unprotected}"


@pytest.mark.parametrize(
    ("type_token", "name", "property_name"),
    [
        ("aws:rds/instance:Instance", "postgres", "deletionProtection"),
    ],
)
def test_production_services_refuse_deletion_themselves(
    production: SynthResult, type_token: str, name: str, property_name: str
) -> None:
    assert production.named(type_token, name).inputs[property_name] is True
    (cluster,) = production.of_type("eks:index:Cluster")
    assert cluster.inputs["deletionProtection"] is True


def test_staging_is_deliberately_unprotected(staging: SynthResult) -> None:
    assert not any(r.protect for r in stateful(staging.resources)), "staging must be disposable"


def test_every_declared_type_has_replacing_properties_with_a_source(
    production: SynthResult, staging: SynthResult
) -> None:
    """The review diff (synth --against) says which changes replace a resource from replacing.py's table:
    a type missing there would show as "replacing properties unknown"."""
    declared = {r.type for result in (production, staging) for r in result.resources if r.custom}
    missing = sorted(declared - set(REPLACING))
    assert missing == [], f"types the program declares with no entry in compliance/replacing.py: {missing}"
    for type_token, entry in REPLACING.items():
        assert entry.source and entry.evidence in (SOURCE_READ, SOURCE_DOCUMENTED), f"{type_token}: no source"
