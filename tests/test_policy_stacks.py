"""The pack on the real stacks (issue 16, "Done when"): production has no violation, staging only the advisories
its design accepts (single-AZ, unprotected, no DR copies, one day of cache snapshots), every policy inspects
something real, and a mandatory violation fails synth's check."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from silhouette_infra.compliance.model import Enforcement, PackConfig, Resource
from silhouette_infra.compliance.pack import POLICIES, evaluate
from silhouette_infra.compliance.stateful import STATEFUL_TYPES
from silhouette_infra.synth.checks import policy as policy_check
from silhouette_infra.synth.engine import SynthResult
from tests.support import PROJECT_ROOT

STAGING_ADVISORIES = {
    "backup-retention": ["aws:elasticache/replicationGroup:ReplicationGroup::redis"],
    "dr-copies": [
        "aws:backup/plan:Plan::backup-hourly-plan",
        "aws:backup/plan:Plan::backup-plan",
        "aws:rds/instance:Instance::postgres",
    ],
    "multi-az-data-services": [
        "aws:elasticache/replicationGroup:ReplicationGroup::redis",
        "aws:mq/broker:Broker::rabbitmq",
        "aws:rds/instance:Instance::postgres",
    ],
    "stateful-resources-protected": ["every stateful resource: staging protects nothing"],
}


def _resources(result: SynthResult) -> list[Resource]:
    return [policy_check.as_policy_resource(captured) for captured in result.resources]


def test_production_has_no_violation_of_any_policy(production: SynthResult) -> None:
    report = policy_check.run(production)
    assert report.ok and report.notes == [], [f.message for f in report.failures] + report.notes
    assert report.checked == report.passed == len(POLICIES)


def test_staging_has_only_the_advisories_its_design_accepts(staging: SynthResult) -> None:
    report = policy_check.run(staging)
    assert report.ok, f"staging's config makes every policy advisory: {[f.message for f in report.failures]}"
    found: dict[str, set[str]] = defaultdict(set)
    violations = evaluate(_resources(staging), policy_check.pack_config("staging"))
    assert len(report.notes) == len(violations), "every advisory violation is printed"
    for violation in violations:
        assert violation.enforcement is Enforcement.ADVISORY
        found[violation.policy].add(violation.resource.rsplit("$", 1)[-1])
    assert sorted(found) == sorted(STAGING_ADVISORIES), f"staging advisories: {dict(found)}"
    for name in ("backup-retention", "dr-copies", "multi-az-data-services"):
        assert sorted(found[name]) == STAGING_ADVISORIES[name], f"staging {name}: {sorted(found[name])}"
    stateful = {r.urn.rsplit("$", 1)[-1] for r in _resources(staging) if r.type in STATEFUL_TYPES}
    assert found["stateful-resources-protected"] == stateful, "staging protects nothing, by design"


def test_every_policy_inspects_resources_the_production_stack_declares(production: SynthResult) -> None:
    """No policy passes only because it never sees anything (the control matrix counts the same resources)."""
    declared = {resource.type for resource in production.resources}
    idle = [policy.name for policy in POLICIES if not declared & set(policy.types)]
    assert idle == [], f"production declares nothing these policies inspect: {idle}"


def test_a_mandatory_violation_fails_the_synth_check(staging: SynthResult) -> None:
    """Staging under production's enforcement: its single-AZ data services fail the check, naming the policy."""
    report = policy_check.run(staging, PackConfig(Enforcement.MANDATORY))
    assert not report.ok
    failed = {finding.check for finding in report.failures}
    assert {"multi-az-data-services", "stateful-resources-protected"} <= failed, failed
    finding = next(f for f in report.failures if f.check == "multi-az-data-services")
    assert finding.resource.endswith("aws:rds/instance:Instance::postgres")
    assert finding.message.startswith("multiAz is not true (single-AZ) [SOC 2 A1.2")
    assert "Fix: set postgres/redis multi_az true" in finding.message


def test_an_invalid_pack_config_fails_the_check_with_one_line(
    staging: SynthResult, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "staging.json").write_text('{"all": "advisory", "dr-copy": "disabled"}')
    monkeypatch.setattr(policy_check, "POLICY_DIR", tmp_path)
    report = policy_check.run(staging)
    assert [(f.check, f.resource) for f in report.failures] == [("pack config", "policy/staging.json")]
    assert report.failures[0].message.startswith("dr-copy: unknown key (not 'all' nor a policy of the pack")


def test_every_pulumi_preview_and_up_in_ci_runs_the_pack_with_the_stack_s_config() -> None:
    """The real path (issue 16): the pull request's previews and the deploys' `up` run the pack, each stack with
    its own enforcement; a pulumi/actions step without it would deploy unchecked."""
    workflows = PROJECT_ROOT / ".github" / "workflows"
    steps = []
    for name in ("pull-request.yml", "deploy.yml"):
        document = YAML(typ="safe").load((workflows / name).read_text())
        for job in document["jobs"].values():
            steps += [
                (name, job, s["with"])
                for s in job.get("steps", [])
                if str(s.get("uses", "")).startswith("pulumi/actions@")
            ]
    checked = [(name, w) for name, _, w in steps if w.get("command") in ("preview", "up")]
    assert len(checked) == 3, (
        f"expected the PR preview and the two deploys, found {[(n, w['command']) for n, w in checked]}"
    )
    for name, step in checked:
        assert step.get("policyPacks") == "policy", f"{name}: pulumi {step['command']} runs without the policy pack"
        stack = step["stack-name"].replace("${{ matrix.stack }}", "<stack>")
        expected = "policy/${{ matrix.stack }}.json" if stack == "<stack>" else f"policy/{stack}.json"
        assert step.get("policyPackConfigs") == expected, f"{name}: pulumi {step['command']} of {stack}: {step}"
