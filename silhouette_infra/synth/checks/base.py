"""What every validator returns, and the recorded skips (``skips.yaml``) they must honour.

A skip with a condition (``when:`` in ``skips.yaml``) covers nothing as loaded: ``resolve_conditions``
turns it into one skip per resource whose attributes satisfy the condition, each with that resource's
justification appended to the reason (``synth/checks/conditions.py``)."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from silhouette_infra.synth import libyaml
from silhouette_infra.synth.checks.conditions import CONDITIONS

SKIPS_FILE = Path(__file__).with_name("skips.yaml")


def venv_executable(
    root: Path, *, env_var: str, venv: str, command: str, tool: str, missing: type[RuntimeError]
) -> Path:
    """A validator that lives in a virtual environment of its own (its pins clash with the project's):
    ``$<env_var>`` if set, else ``<root>/<venv>/bin/<command>``; ``missing`` says how to install it."""
    configured = os.environ.get(env_var)
    path = Path(configured) if configured else root / venv / "bin" / command
    if not path.is_file():
        raise missing(
            f"{tool} not found at {path}: run `make setup` (it installs {command} in its own virtual "
            f"environment, {venv}), or set {env_var} to the path of a {command} executable"
        )
    return path


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
    condition: str | None = None  # a name in conditions.CONDITIONS; unresolved, the skip covers nothing

    def covers(self, check: str, resource: str) -> bool:
        return (
            self.condition is None
            and self.check == check
            and any(fnmatch.fnmatchcase(resource, pattern) for pattern in self.resources)
        )


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
    ``stacks: [staging]`` only applies there). A skip without a reason, or with a condition that
    ``conditions.CONDITIONS`` does not know, is an error, not a skip."""
    document: dict[str, Any] = libyaml.safe_load(path.read_text()) or {}
    skips = []
    for entry in document.get(validator) or []:
        if stack is not None and stack not in entry.get("stacks", [stack]):
            continue
        reason = str(entry.get("reason", "")).strip()
        if len(reason) < 20:
            raise ValueError(f"{path.name}: skip of {entry.get('check')} for {validator} needs a written reason")
        condition = entry.get("when")
        if condition is not None and condition not in CONDITIONS:
            raise ValueError(
                f"{path.name}: skip of {entry.get('check')} for {validator} has an unknown condition {condition!r}; "
                f"known: {', '.join(sorted(CONDITIONS))}"
            )
        resources = entry.get("resources") or ["*"]
        skips.append(Skip(validator, str(entry["check"]), tuple(str(r) for r in resources), reason, condition))
    return skips


def resolve_conditions(skips: list[Skip], attributes: Mapping[str, Mapping[str, Any]]) -> list[Skip]:
    """Skips that hold: unconditional ones as they are; a conditional one becomes one skip for each resource
    of ``attributes`` (resource name -> what the validator saw of it) that it names and whose attributes
    satisfy its condition, the resource's justification appended to the reason. Where the condition does
    not hold, nothing covers the resource, so the validator's finding stays a failure."""
    resolved = []
    for skip in skips:
        if skip.condition is None:
            resolved.append(skip)
            continue
        for resource, values in sorted(attributes.items()):
            justification = CONDITIONS[skip.condition](values)
            if justification is not None and any(fnmatch.fnmatchcase(resource, p) for p in skip.resources):
                reason = f"{skip.reason} {resource}: {justification}"
                resolved.append(Skip(skip.validator, skip.check, (resource,), reason))
    return resolved


def apply_skips(report: CheckReport, findings: list[Finding], skips: list[Skip]) -> None:
    """Move each finding covered by a recorded skip from failures to skipped."""
    for finding in findings:
        skip = next((s for s in skips if s.covers(finding.check, finding.resource)), None)
        if skip is None:
            report.failures.append(finding)
        else:
            report.skipped.append((skip, finding.resource))
