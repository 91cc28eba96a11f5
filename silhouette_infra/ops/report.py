"""What every command returns: checks at three levels, the exit code they make, and their two renderings
(a table for people, JSON for machines)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

Level = Literal["ok", "warning", "critical"]
EXIT_CODES: dict[Level, int] = {"ok": 0, "warning": 1, "critical": 2}
STYLES: dict[Level, str] = {"ok": "green", "warning": "yellow", "critical": "bold red"}


@dataclass(frozen=True)
class Check:
    """One finding: ``area`` (eks, rds, backups...), the resource it is about, its level and what was seen."""

    area: str
    subject: str
    level: Level
    detail: str


@dataclass
class Report:
    command: str
    stack: str
    checks: list[Check] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # the drill's evidence, say

    @property
    def level(self) -> Level:
        worst: Level = "ok"
        for check in self.checks:
            if EXIT_CODES[check.level] > EXIT_CODES[worst]:
                worst = check.level
        return worst

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.level]

    def as_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "stack": self.stack,
            "level": self.level,
            "exit_code": self.exit_code,
            "checks": [asdict(check) for check in self.checks],
            **self.extra,
        }


Section = Callable[[Any, Any, datetime], Iterator[Check]]  # (outputs, clients, now) -> checks


def run_sections(report: Report, sections: Sequence[Section], outputs: Any, clients: Any, now: datetime) -> Report:
    """``report`` with the checks of every section, in order."""
    for section in sections:
        report.checks.extend(section(outputs, clients, now))
    return report


def render(report: Report, console: Console) -> None:
    """The checks as a table, worst first, then one line with the overall level."""
    table = Table(title=f"silhouette-ops {report.command} — stack {report.stack}", title_justify="left")
    for column in ("level", "area", "subject", "detail"):
        table.add_column(column, overflow="fold")
    for check in sorted(report.checks, key=lambda check: -EXIT_CODES[check.level]):
        table.add_row(f"[{STYLES[check.level]}]{check.level}[/]", check.area, check.subject, check.detail)
    console.print(table)
    console.print(f"[{STYLES[report.level]}]{report.level}[/] (exit {report.exit_code})")
