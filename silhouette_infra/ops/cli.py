"""`silhouette-ops`: the operators' tool. Exit codes: 0 ok, 1 warning, 2 critical (and every error: an
unknown stack, missing outputs, no credentials, AccessDenied, throttling, a resource in transition)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console

from silhouette_infra.ops import backups, drill, secrets_check, status
from silhouette_infra.ops.aws import AwsClients, OpsError, explain
from silhouette_infra.ops.outputs import load_outputs
from silhouette_infra.ops.report import Report, render

EXIT_ERROR = 2
LOG_WIDTH = 200
EPILOG = """exit codes: 0 ok, 1 warning, 2 critical or error (one line on stderr, no traceback).
Stack outputs come from `pulumi stack output --json --show-secrets -s STACK` when pulumi is on PATH,
else from --outputs FILE. Schedule: `backups verify` daily, a restore drill monthly (README, Operations)."""


def _global_options(target: argparse.ArgumentParser, *, after_command: bool = False) -> argparse.ArgumentParser:
    """--stack (required, before or after the command), --outputs and --json on ``target``: the root parser, or
    the parent of every command, where an option left out keeps what was given before the command."""
    suppress = argparse.SUPPRESS if after_command else None
    target.add_argument("--stack", default=suppress, help="stack name (production, staging)")
    target.add_argument(
        "--outputs", type=Path, metavar="FILE", default=suppress, help="stack outputs saved as JSON (without pulumi)"
    )
    target.add_argument(
        "--json", action="store_true", default=suppress or False, help="print the report as JSON instead of a table"
    )
    return target


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="silhouette-ops",
        description="Health, backups, restore drills and secrets of a Silhouette stack, through its outputs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_options(root)
    # The same options after the command too (`silhouette-ops status --stack staging`); there they only
    # override what was given before it.
    common = _global_options(argparse.ArgumentParser(add_help=False), after_command=True)
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "status", parents=[common], help="health of the cluster, data services, ALB, backups jobs, alarms, findings"
    )
    backup_parser = commands.add_parser("backups", help="backup checks")
    backup_commands = backup_parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    backup_commands.add_parser(
        "verify", parents=[common], help="every stateful service's newest backup against the RPO"
    )
    drill_parser = commands.add_parser("drill", help="restore drills")
    drill_commands = drill_parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    restore = drill_commands.add_parser(
        "restore", parents=[common], help="restore the latest point into a temporary closed copy, check it, delete it"
    )
    restore.add_argument("--service", required=True, choices=drill.SERVICES)
    restore.add_argument("--dry-run", action="store_true", help="print the plan; create nothing")
    restore.add_argument("--report", type=Path, metavar="FILE", help="write the JSON evidence here")
    secrets_parser = commands.add_parser("secrets", help="secret checks")
    secrets_commands = secrets_parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    secrets_commands.add_parser(
        "check", parents=[common], help="last rotation or change of each secret against the policy"
    )
    return root


def _interrupt_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """A scheduler's SIGTERM stops a drill like Ctrl-C does: through its cleanup."""
    raise KeyboardInterrupt


def run(arguments: argparse.Namespace, clients: AwsClients, now: datetime) -> Report:
    outputs = load_outputs(arguments.stack, arguments.outputs)
    if arguments.command == "status":
        return status.status(outputs, clients, now)
    if arguments.command == "backups":
        return backups.verify(outputs, clients, now)
    if arguments.command == "secrets":
        return secrets_check.check(outputs, clients, now)
    previous = signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    try:
        return drill.drill(outputs, clients, arguments.service, dry_run=arguments.dry_run)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _emit(report: Report, arguments: argparse.Namespace, console: Console) -> None:
    document: dict[str, Any] = report.as_json()
    if getattr(arguments, "report", None) is not None:
        try:
            arguments.report.write_text(json.dumps(document, indent=2, default=str) + "\n")
        except OSError as error:
            raise OpsError(f"--report {arguments.report}: {error.strerror}") from None
    if arguments.json:
        console.print_json(json.dumps(document, default=str))
        return
    render(report, console)
    if "drill" in report.extra:
        for step in report.extra["drill"]["plan"]:
            console.print(f"  plan: {step}")


def main(argv: Sequence[str] | None = None, clients: AwsClients | None = None) -> int:
    command_line = parser()
    arguments = command_line.parse_args(argv)
    if not arguments.stack:
        command_line.error("the following arguments are required: --stack")
    # A terminal gets its own width; a log file (cron, CI) gets lines wide enough for whole ARNs.
    console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else LOG_WIDTH)
    try:
        report = run(arguments, clients or AwsClients(), datetime.now(UTC))
        _emit(report, arguments, console)
    except (OpsError, ClientError, BotoCoreError) as error:
        print(f"silhouette-ops: {explain(error)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("silhouette-ops: interrupted", file=sys.stderr)
        return EXIT_ERROR
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
