"""Offline synth of the bootstrap program (``bootstrap/``): the same mocks and the same checkov AWS checks (with
the same recorded skips) as the platform's stacks. ``python -m silhouette_infra synth --program bootstrap
--stack <name>``; ``make synth-bootstrap`` runs the committed example."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from silhouette_infra.bootstrap.settings import BootstrapSettings, load_bootstrap_settings
from silhouette_infra.synth.checks import checkov
from silhouette_infra.synth.checks.base import CheckReport
from silhouette_infra.synth.engine.mocks import CapturedResource
from silhouette_infra.synth.engine.run import PROJECT_ROOT, run_program
from silhouette_infra.synth.engine.stack_file import known_stacks, read_stack_config, stack_file

BOOTSTRAP_ROOT = PROJECT_ROOT / "bootstrap"
BOOTSTRAP_PROJECT = "silhouette-bootstrap"  # bootstrap/Pulumi.yaml
EXAMPLE_STACK = "example"


@dataclass
class BootstrapResult:
    stack: str
    settings: BootstrapSettings
    resources: list[CapturedResource]
    outputs: dict[str, Any]
    seconds: float

    @property
    def check_name(self) -> str:
        """The name checkov's reports and ``skips.yaml``'s ``stacks:`` know this run by."""
        return f"bootstrap-{self.stack}"

    def of_type(self, type_token: str) -> list[CapturedResource]:
        return [resource for resource in self.resources if resource.type == type_token]

    def named(self, type_token: str, name: str) -> CapturedResource:
        (match,) = [resource for resource in self.of_type(type_token) if resource.name == name]
        return match


def bootstrap_stacks() -> list[str]:
    return known_stacks(BOOTSTRAP_ROOT)


def run_bootstrap(stack: str, config: dict[str, str] | None = None) -> BootstrapResult:
    """Run ``bootstrap/__main__.py`` for ``stack`` under mocks; ``config`` defaults to its stack file's.
    ``StackFileError`` or ``BootstrapSettingsError`` (one line each) when the file or its settings are wrong."""
    config = read_stack_config(stack_file(BOOTSTRAP_ROOT, stack)) if config is None else config
    settings = load_bootstrap_settings(stack, config)
    run = run_program(
        BOOTSTRAP_ROOT / "__main__.py", project=BOOTSTRAP_PROJECT, stack=stack, config=config, region=settings.region
    )
    return BootstrapResult(stack, settings, run.resources, run.outputs, run.seconds)


def check(result: BootstrapResult) -> CheckReport:
    """checkov's AWS checks on everything the bootstrap declares (it declares no Kubernetes object)."""
    return checkov.run_many({result.check_name: result.resources})[result.check_name][checkov.AWS]


def render(result: BootstrapResult, report: CheckReport | None, started: float) -> str:
    settings = result.settings
    counts = Counter(resource.type for resource in result.resources if not resource.type.startswith("silhouette:"))
    lines = [
        f"bootstrap {result.stack}: account {settings.account_id} in {settings.region}, repository "
        f"{settings.github_repository}, stacks {', '.join(settings.stacks)}: {sum(counts.values())} resources",
        *(f"    {count:>3} x {type_token}" for type_token, count in sorted(counts.items())),
        "",
        f"    backend: {result.outputs.get('backend_url')}",
        f"    secrets provider: {result.outputs.get('secrets_provider')}",
        "",
    ]
    if report is not None:
        status = "ok" if report.ok else "FAILED"
        lines.append(
            f"checks\n    {report.validator}: {status} - {report.checked} checked, {report.passed} passed, "
            f"{len(report.failures)} failed, {len(report.skipped)} skipped ({report.seconds:.1f} s)"
        )
        lines += [f"        FAIL {finding.check} {finding.resource}: {finding.message}" for finding in report.failures]
        by_reason: dict[str, set[str]] = {}
        for skip, resource_name in report.skipped:
            by_reason.setdefault(skip.reason, set()).add(f"{skip.check} on {resource_name}")
        lines += [f"        skipped {', '.join(sorted(used))}: {reason}" for reason, used in sorted(by_reason.items())]
        lines.append("")
    lines.append(f"synth of bootstrap {result.stack} took {time.perf_counter() - started:.2f} s")
    return "\n".join(lines)
