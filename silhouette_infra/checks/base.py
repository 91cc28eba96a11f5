"""What every validator returns, and the recorded skips (``skips.yaml``) they must honour."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SKIPS_FILE = Path(__file__).with_name("skips.yaml")


@dataclass(frozen=True)
class Finding:
    """A failed check on one resource."""

    check: str
    resource: str
    message: str


@dataclass(frozen=True)
class Skip:
    """A check deliberately not enforced, on some resources, with the reason written down."""

    validator: str
    check: str
    resources: tuple[str, ...]
    reason: str

    def covers(self, check: str, resource: str) -> bool:
        return self.check == check and any(fnmatch.fnmatchcase(resource, pattern) for pattern in self.resources)


@dataclass
class CheckReport:
    """The outcome of one validator over one stack."""

    validator: str
    checked: int = 0
    passed: int = 0
    failures: list[Finding] = field(default_factory=list)
    skipped: list[tuple[Skip, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures


def load_skips(validator: str, stack: str | None = None, path: Path = SKIPS_FILE) -> list[Skip]:
    """Skips recorded for ``validator`` (and, when given, that apply to ``stack``: an entry with
    ``stacks: [staging]`` only applies there). A skip without a reason is an error, not a skip."""
    document: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
    skips = []
    for entry in document.get(validator) or []:
        if stack is not None and stack not in entry.get("stacks", [stack]):
            continue
        reason = str(entry.get("reason", "")).strip()
        if len(reason) < 20:
            raise ValueError(f"{path.name}: skip of {entry.get('check')} for {validator} needs a written reason")
        resources = entry.get("resources") or ["*"]
        skips.append(Skip(validator, str(entry["check"]), tuple(str(r) for r in resources), reason))
    return skips


def apply_skips(report: CheckReport, findings: list[Finding], skips: list[Skip]) -> None:
    """Move each finding covered by a recorded skip from failures to skipped."""
    for finding in findings:
        skip = next((s for s in skips if s.covers(finding.check, finding.resource)), None)
        if skip is None:
            report.failures.append(finding)
        else:
            report.skipped.append((skip, finding.resource))
