"""The offline synth: both stacks pass every validator, and the command reports and exits correctly."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
import yaml

from silhouette_infra.synth import engine, libyaml
from silhouette_infra.synth.checks.base import SKIPS_FILE, load_skips
from silhouette_infra.synth.cli import main
from silhouette_infra.synth.engine import SynthResult
from silhouette_infra.synth.readable import yaml_text
from silhouette_infra.synth.summary import write_out
from tests.support import STACKS, checks, synth


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


@pytest.fixture
def the_sessions_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's mocked run of a stack file is the session's run of the same stack and settings
    (``support.synth``, itself ``run_stack``): these tests check what the command does around the run."""
    monkeypatch.setattr(engine, "run_stack", lambda stack, config=None: synth(stack, config))


# How long a cold synth of production takes is measured by `make bench` (benchmarks/), not asserted here.
@pytest.mark.checkov
@pytest.mark.usefixtures("the_sessions_run")
def test_synth_prints_the_summary_checks_and_time_and_succeeds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["synth", "--stack", "production"]) == 0
    printed = capsys.readouterr().out
    for expected in ("silhouette:keys:Keys", "silhouette:network:Network", "nat: one_per_az", "checkov_aws: ok"):
        assert expected in printed, f"synth output lacks {expected!r}:\n{printed}"
    assert "synth of production took" in printed


@pytest.mark.usefixtures("the_sessions_run")
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
    # manifests are written in sorted-key order so that two synths of one program diff clean (readable.py).
    for manifest in manifests:
        text = manifest.read_text()
        canonical = yaml_text(libyaml.safe_load(text))
        assert text == canonical, f"{manifest.name} is not written in sorted-key order with literal blocks"


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


def test_synth_out_is_written_for_review(staging: SynthResult, tmp_path: Path) -> None:
    """resources.json with JSON policies parsed and no output that only echoes an input, cost.json; and
    write_out depends only on what was declared (two writes of one run are byte-identical)."""
    write_out(staging, tmp_path / "one")
    write_out(staging, tmp_path / "two")
    for one in sorted((tmp_path / "one").rglob("*.*")):
        two = tmp_path / "two" / one.relative_to(tmp_path / "one")
        assert one.read_bytes() == two.read_bytes(), f"{one.name} differs between two writes"
    resources = json.loads((tmp_path / "one" / "resources.json").read_text())
    roles = [r for r in resources if r["type"] == "aws:iam/role:Role"]
    assert roles and all(isinstance(r["inputs"]["assumeRolePolicy"], dict) for r in roles), "policies not parsed"
    echoed = [(r["urn"], k) for r in resources for k, v in r["outputs"].items() if r["inputs"].get(k) == v]
    assert echoed == [], f"outputs that only echo inputs: {echoed[:5]}"
    assert json.loads((tmp_path / "one" / "cost.json").read_text())["layers"], "cost.json has no layers"


def test_the_program_runs_on_a_stack_of_its_own_and_its_errors_reach_the_caller() -> None:
    """A resource records the stack it was declared from, at a cost that grows with its depth: the program runs
    at the top of a thread's stack, as under the Pulumi language host, not under the test's frames."""
    caller_depth = _stack_depth()
    depth = engine.run.on_a_stack_of_its_own(_stack_depth)
    assert caller_depth > 20 and depth < 8, f"the program's stack is {depth} frames deep (the caller's {caller_depth})"
    refused = ValueError("refused")

    def fails() -> None:
        raise refused

    with pytest.raises(ValueError) as raised:
        engine.run.on_a_stack_of_its_own(fails)
    assert raised.value is refused, "the caller gets the program's own exception (a SettingsError keeps .declared)"


def _stack_depth() -> int:
    frame, depth = inspect.currentframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth
