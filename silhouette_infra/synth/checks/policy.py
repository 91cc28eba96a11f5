"""The compliance policy pack (``silhouette_infra/compliance``) run offline on a stack's captured resources.

Enforcement comes from the pack's config for the stack, ``policy/<stack>.json`` (the file given to
``pulumi preview --policy-pack policy --policy-pack-config``); a stack without one enforces every policy.
Mandatory violations fail the check; advisory ones are printed as notes.
"""

from __future__ import annotations

import time
from pathlib import Path

from silhouette_infra.compliance.model import Enforcement, PackConfig, PackConfigError, Resource
from silhouette_infra.compliance.pack import POLICIES, POLICY_NAMES, evaluate
from silhouette_infra.synth.checks.base import CheckReport, Finding
from silhouette_infra.synth.engine.mocks import CapturedResource
from silhouette_infra.synth.engine.run import PROJECT_ROOT, SynthResult

VALIDATOR = "policy_pack"
POLICY_DIR = PROJECT_ROOT / "policy"


def as_policy_resource(captured: CapturedResource) -> Resource:
    """What a policy sees of a captured resource: its inputs, over the outputs the mock returned (names and ids
    the engine fills in, as a stack policy sees them under `pulumi preview`)."""
    props = {**captured.outputs, **captured.inputs}
    return Resource(captured.type, captured.name, props, captured.urn, captured.protect, captured.parent_urn)


def pack_config(stack: str, directory: Path | None = None) -> PackConfig:
    """The stack's pack config (``PackConfigError`` naming the file and key when it is invalid)."""
    path = (directory or POLICY_DIR) / f"{stack}.json"
    if not path.is_file():
        return PackConfig()
    return PackConfig.read(path.read_text(), POLICY_NAMES, f"policy/{path.name}")


def run(result: SynthResult, config: PackConfig | None = None) -> CheckReport:
    """The pack over the stack; an invalid ``policy/<stack>.json`` is one failure naming the file and key."""
    started = time.perf_counter()
    try:
        config = pack_config(result.stack) if config is None else config
    except PackConfigError as error:
        source = f"policy/{result.stack}.json"
        return CheckReport(VALIDATOR, failures=[Finding("pack config", source, str(error).removeprefix(f"{source}: "))])
    resources = [as_policy_resource(captured) for captured in result.resources]
    violations = evaluate(resources, config)
    enabled = [policy for policy in POLICIES if config.level(policy.name) is not Enforcement.DISABLED]
    failed = {violation.policy for violation in violations}
    report = CheckReport(VALIDATOR, checked=len(enabled), passed=len([p for p in enabled if p.name not in failed]))
    for violation in violations:
        if violation.enforcement is Enforcement.MANDATORY:
            # synth prints the resource before the message, which starts with it too
            problem = violation.message.removeprefix(f"{violation.resource}: ")
            report.failures.append(Finding(violation.policy, violation.resource, problem))
        else:
            report.notes.append(f"advisory {violation.policy}: {violation.message}")
    report.seconds = time.perf_counter() - started
    return report
