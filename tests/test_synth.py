"""The offline synth: both stacks pass every validator, and the command reports and exits correctly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from silhouette_infra.synth.checks.base import SKIPS_FILE, load_skips
from silhouette_infra.synth.cli import main
from tests.support import STACKS, checks


@pytest.mark.checkov
@pytest.mark.parametrize("stack", STACKS)
def test_stack_passes_every_validator(stack: str) -> None:
    reports = checks(stack)
    assert {report.validator for report in reports} == {
        "kubernetes_schema",
        "policy_pack",
        "checkov_aws",
        "checkov_kubernetes",
    }
    failures = [f"{r.validator}: {f.check} {f.resource}: {f.message}" for r in reports for f in r.failures]
    assert failures == [], f"{stack}: failed checks:\n" + "\n".join(failures)


@pytest.mark.checkov
@pytest.mark.parametrize("stack", STACKS)
def test_checkov_really_checked_the_aws_resources(stack: str) -> None:
    (aws,) = [report for report in checks(stack) if report.validator == "checkov_aws"]
    assert aws.checked > 60 and aws.passed > 60, f"{stack}: checkov_aws checked {aws.checked}, passed {aws.passed}"


def test_every_recorded_skip_has_a_reason() -> None:
    document = yaml.safe_load(SKIPS_FILE.read_text()) or {}
    for validator in document:
        for skip in load_skips(validator):
            assert len(skip.reason) >= 20, f"{validator} {skip.check}: reason too short"


# How long a cold synth of production takes is measured by `make bench` (benchmarks/), not asserted here.
@pytest.mark.checkov
def test_synth_prints_the_summary_checks_and_time_and_succeeds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["synth", "--stack", "production"]) == 0
    printed = capsys.readouterr().out
    for expected in ("silhouette:keys:Keys", "silhouette:network:Network", "nat: one_per_az", "checkov_aws: ok"):
        assert expected in printed, f"synth output lacks {expected!r}:\n{printed}"
    assert "synth of production took" in printed


def test_synth_writes_resources_and_manifests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["synth", "--stack", "staging", "--no-checks", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "staging" / "resources.json").stat().st_size > 1000
    assert (tmp_path / "staging" / "outputs.json").exists()
    # The SDK sends depends-on URNs as a set, in an order that differs between runs: written sorted.
    for resource in json.loads((tmp_path / "staging" / "resources.json").read_text()):
        dependencies = resource["options"]["dependencies"]
        assert dependencies == sorted(dependencies), f"{resource['urn']}: options.dependencies is not sorted"
    manifests = sorted((tmp_path / "staging" / "manifests").glob("*.yaml"))
    assert manifests, "synth --out wrote no Kubernetes manifest"
    # The engine receives inputs through protobuf Structs, whose key order differs between runs: the
    # manifests are written in sorted-key order so that two synths of one program diff clean.
    for manifest in manifests:
        text = manifest.read_text()
        canonical = yaml.safe_dump(yaml.safe_load(text), sort_keys=True)
        assert text == canonical, f"{manifest.name} is not written in sorted-key order"


def test_synth_exits_non_zero_on_invalid_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from silhouette_infra.synth.engine import run as engine_run

    original = engine_run.stack_config
    monkeypatch.setattr(
        engine_run,
        "stack_config",
        lambda stack: {**original(stack), "silhouette:postgres": '{"multi_az": false}'},
    )
    assert main(["synth", "--stack", "production"]) == 2
    assert "silhouette:postgres.multi_az: production requires Multi-AZ" in capsys.readouterr().err
