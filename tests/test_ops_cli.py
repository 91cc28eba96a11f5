"""`silhouette-ops` as operators and the pipeline run it (issue 13): its outputs contract with the program,
exit codes, --json, and every error as one line with exit code 2 and no traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from silhouette_infra.ops import cli
from silhouette_infra.ops.outputs import REQUIRED
from tests.ops_account import Account, SharedAccount, real_outputs
from tests.support import STACKS


@pytest.mark.parametrize("stack", STACKS)
def test_the_program_exports_every_output_the_tool_reads(stack: str) -> None:
    outputs = real_outputs(stack)
    for command, keys in REQUIRED.items():
        missing = [key for key in keys if key not in outputs]
        assert missing == [], f"stack {stack}: `silhouette-ops {command}` needs outputs {missing}"
    assert outputs["postgres_identifier"] == f"silhouette-{stack}-postgres"
    assert set(outputs["recovery"]["services"]) >= {"postgres", "aws_backup", "neo4j"}, outputs["recovery"]


@pytest.fixture(scope="module")
def shared() -> Iterator[SharedAccount]:
    """Production's moto account, seeded once for this module and read as seeded by every test here that uses
    it: the secrets check, the Neo4j drill (a download), the dry run and the backups table read moto, and the
    access-denied tests stub their own client."""
    with SharedAccount("production") as account:
        yield account


@pytest.fixture
def production(shared: SharedAccount, tmp_path: Path) -> Iterator[tuple[Account, Path]]:
    """The shared account as seeded (any change fails the test), and its outputs in a file."""
    for seeded in shared.read_only():
        path = tmp_path / "outputs.json"
        path.write_text(json.dumps(seeded.outputs))
        yield seeded, path


def test_secrets_check_prints_json_and_exits_with_the_worst_level(
    production: tuple[Account, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    seeded, path = production
    code = cli.main(["--stack", "production", "--outputs", str(path), "--json", "secrets", "check"], seeded.clients)
    document = json.loads(capsys.readouterr().out)
    assert code == document["exit_code"] == 2, document  # moto's RDS secret has no rotation
    assert document["command"] == "secrets check" and document["level"] == "critical"


def test_a_drill_writes_its_evidence_report(production: tuple[Account, Path], tmp_path: Path) -> None:
    seeded, path = production
    report = tmp_path / "drill.json"
    arguments = ["--stack", "production", "--outputs", str(path), "drill", "restore", "--service", "neo4j"]
    code = cli.main([*arguments, "--report", str(report)], seeded.clients)
    evidence = json.loads(report.read_text())["drill"]
    assert code == 0 and evidence["outcome"] == "passed", evidence


@pytest.mark.parametrize(
    ("error_code", "message"),
    [("AccessDenied", "access denied to DescribeSecret"), ("ThrottlingException", "throttled DescribeSecret")],
)
def test_access_denied_and_throttling_are_one_line_and_exit_2(
    production: tuple[Account, Path], capsys: pytest.CaptureFixture[str], error_code: str, message: str
) -> None:
    seeded, path = production
    seeded.stub("secretsmanager").add_client_error(
        "describe_secret", service_error_code=error_code, service_message="no"
    )
    code = cli.main(["--stack", "production", "--outputs", str(path), "secrets", "check"], seeded.clients)
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err and err.count("\n") == 1, err


def test_unknown_stack_missing_outputs_and_no_pulumi_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no pulumi
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"cluster_name": "silhouette-staging", "region": "us-east-1"}))
    cases = {
        ("--stack", "production", "status"): "the pulumi CLI is not on PATH; pass --outputs FILE",
        ("--stack", "production", "--outputs", str(outputs), "status"): "not of stack production",
        ("--stack", "staging", "--outputs", str(outputs), "status"): "lacks output(s) node_group_names",
        ("--stack", "staging", "--outputs", str(tmp_path / "none.json"), "status"): "no such file",
    }
    for argv, message in cases.items():
        assert cli.main(list(argv)) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (argv, err)


def test_an_unknown_stack_reported_by_pulumi_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pulumi = tmp_path / "pulumi"
    pulumi.write_text("#!/bin/sh\necho 'error: no stack named '\"'\"'nope'\"'\"' found' >&2\nexit 255\n")
    pulumi.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert cli.main(["--stack", "nope", "status"]) == 2
    err = capsys.readouterr().err
    assert "stack nope: `pulumi stack output` failed: error: no stack named 'nope' found" in err, err


def test_no_credentials_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(real_outputs("staging")))
    assert cli.main(["--stack", "staging", "--outputs", str(outputs), "secrets", "check"]) == 2
    assert "no AWS credentials" in capsys.readouterr().err


def test_backups_verify_prints_a_table_by_default(
    production: tuple[Account, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    seeded, path = production
    # moto 5.2.5 lacks AWS Backup ListRecoveryPointsByBackupVault and the DR region's replicated automated
    # backups: stubbed empty, so the table has critical rows to show (the primary vault is listed twice: by the
    # aws-backup section and by Neo4j's).
    for region, listings in ((seeded.outputs["region"], 2), (seeded.outputs["dr_region"], 1)):
        stub = seeded.stub("backup", region)
        for _ in range(listings):
            stub.add_response("list_recovery_points_by_backup_vault", {"RecoveryPoints": []})
    seeded.stub("rds", seeded.outputs["dr_region"]).add_response(
        "describe_db_instance_automated_backups", {"DBInstanceAutomatedBackups": []}
    )
    code = cli.main(["--stack", "production", "--outputs", str(path), "backups", "verify"], seeded.clients)
    captured = capsys.readouterr()
    out = captured.out
    assert code == 2 and captured.err == "", captured.err
    assert "silhouette-ops backups verify — stack production" in out and "critical (exit 2)" in out, out
    assert "no completed recovery point" in out and "no replicated automated backups" in out, out


def test_a_dry_run_prints_its_plan(production: tuple[Account, Path], capsys: pytest.CaptureFixture[str]) -> None:
    seeded, path = production
    argv = ["--stack", "production", "--outputs", str(path), "drill", "restore", "--service", "redis", "--dry-run"]
    assert cli.main(argv, seeded.clients) == 0
    out = capsys.readouterr().out
    assert "plan: create replication group production-drill-redis-" in out and "from snapshot" in out, out


def test_sigterm_stops_a_drill_like_ctrl_c() -> None:
    """A scheduler's SIGTERM must reach the drill's cleanup, which runs on KeyboardInterrupt."""
    with pytest.raises(KeyboardInterrupt):
        cli._interrupt_on_sigterm(15, None)


@pytest.mark.parametrize(
    "argv",
    [
        ["--stack", "staging", "status"],
        ["status", "--stack", "staging"],  # as the deploy workflow's smoke stage calls it
        ["--stack", "staging", "backups", "verify", "--json"],
        ["drill", "restore", "--service", "postgres", "--dry-run", "--stack", "staging"],
    ],
)
def test_the_global_options_go_before_or_after_the_command(argv: list[str]) -> None:
    arguments = cli.parser().parse_args(argv)
    assert arguments.stack == "staging", f"silhouette-ops {' '.join(argv)}: --stack not read"


def test_the_deploy_workflows_call_of_the_tool_parses() -> None:
    deploy = (Path(__file__).resolve().parents[1] / ".github" / "workflows" / "deploy.yml").read_text()
    calls = [line.split("silhouette-ops", 1)[1].split() for line in deploy.splitlines() if "bin/silhouette-ops" in line]
    assert calls, "deploy.yml: the smoke stage runs silhouette-ops"
    for argv in calls:
        assert cli.parser().parse_args(argv).stack, f"deploy.yml: silhouette-ops {' '.join(argv)} does not parse"
