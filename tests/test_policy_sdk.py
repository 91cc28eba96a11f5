"""The pulumi-policy pack (policy/__main__.py) runs the same rules as synth: its wrapped ``validate`` callbacks,
called with the SDK's own argument types (props behind the SDK's unknown-checking proxy, as the analyzer passes
them), report exactly the violations ``compliance.pack.evaluate`` finds on both stacks."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from silhouette_infra.compliance.model import Enforcement, PackConfig
from silhouette_infra.compliance.pack import POLICIES, evaluate
from silhouette_infra.compliance.sdk import sdk_policies
from silhouette_infra.synth.checks.policy import as_policy_resource
from silhouette_infra.synth.engine import CapturedResource, SynthResult
from tests.policy_fixtures import CASES
from tests.support import PROJECT_ROOT, STACKS, synth

PACK = sdk_policies()


def _options(captured: CapturedResource) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=captured.protect,
        ignore_changes=[],
        delete_before_replace=False,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=captured.parent_urn or None,
    )


def _proxy(props: dict[str, Any]) -> Any:
    """What a policy receives as ``args.props``: the SDK's proxy, which is built of new lists and dicts (the analyzer
    makes one a policy from the request's properties), so no policy sees what another one did to its copy."""
    return unknown_checking_proxy(props)


def _collect(reported: list[tuple[str, str | None]]) -> ReportViolation:
    def report(message: str, urn: str | None = None) -> None:
        reported.append((message, urn))

    return report


def _run_pack(result: SynthResult) -> list[tuple[str, str | None]]:
    """What `pulumi preview --policy-pack policy` would report on the stack: resource policies on each resource's
    inputs, stack policies on every resource's outputs (captured inputs over the mock's outputs) and options."""
    reported: list[tuple[str, str | None]] = []
    report = _collect(reported)

    stack_resources = [
        PolicyResource(
            c.type, _proxy(dict(as_policy_resource(c).props)), c.urn, c.name, _options(c), None, None, [], {}
        )
        for c in result.resources
    ]
    for policy in PACK:
        if isinstance(policy, ResourceValidationPolicy):
            for c in result.resources:
                policy.validate(
                    ResourceValidationArgs(c.type, _proxy(c.inputs), c.urn, c.name, _options(c), None), report
                )
        else:
            policy.validate(StackValidationArgs(stack_resources), report)
    return reported


def test_the_pack_wraps_every_policy_once_with_the_right_kind() -> None:
    assert [policy.name for policy in PACK] == [policy.name for policy in POLICIES]
    for wrapped, policy in zip(PACK, POLICIES, strict=True):
        expected = ResourceValidationPolicy if policy.check_resource is not None else StackValidationPolicy
        assert isinstance(wrapped, expected), f"{policy.name}: wrapped as {type(wrapped).__name__}"
        assert wrapped.remediation_steps == policy.fix and wrapped.tags == list(policy.controls)


@pytest.mark.parametrize("stack", STACKS)
def test_the_pack_reports_what_synth_reports(stack: str) -> None:
    result = synth(stack)
    offline = evaluate([as_policy_resource(c) for c in result.resources], PackConfig(Enforcement.MANDATORY))
    reported = _run_pack(result)
    assert sorted(message for message, _ in reported) == sorted(v.message for v in offline)
    assert all(urn and urn in message for message, urn in reported), "each violation is attached to its resource"
    if stack == "production":
        assert reported == []


def test_a_violating_fixture_is_reported_through_the_sdk() -> None:
    (resource,) = CASES["imdsv2-on-nodes"].bad
    (wrapped,) = [p for p in PACK if p.name == "imdsv2-on-nodes"]
    assert isinstance(wrapped, ResourceValidationPolicy)
    reported: list[tuple[str, str | None]] = []
    options = PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), [])
    args = ResourceValidationArgs(
        resource.type, _proxy(dict(resource.props)), resource.urn, resource.name, options, None
    )
    wrapped.validate(args, _collect(reported))
    assert reported and "httpTokens is 'optional'" in reported[0][0] and reported[0][1] == resource.urn


def test_a_value_unknown_during_preview_is_left_to_the_sdk() -> None:
    """The analyzer turns UnknownValueError into "can't run policy ... during preview"; the rule must not swallow
    it as a pass or report it as a violation."""
    (resource,) = CASES["rds-encrypted-with-cmk"].good
    (wrapped,) = [p for p in PACK if p.name == "rds-encrypted-with-cmk"]
    assert isinstance(wrapped, ResourceValidationPolicy)
    props = {**resource.props, "kmsKeyId": UNKNOWN_STRING_VALUE}
    options = PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), [])
    args = ResourceValidationArgs(resource.type, _proxy(props), resource.urn, resource.name, options, None)
    with pytest.raises(UnknownValueError):
        wrapped.validate(args, _collect([]))


def _top_level_modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    return set(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split())


def test_the_pack_needs_nothing_but_pulumi_policy_and_the_standard_library() -> None:
    """policy/requirements.txt installs only pulumi-policy (and what it depends on) into the pack's venv, so the
    rules may add nothing but the standard library: not pydantic or the provider SDKs the program uses."""
    sdk = _top_level_modules_after("import pulumi_policy")
    pack = _top_level_modules_after("import silhouette_infra.compliance.sdk")
    extra = pack - sdk - set(sys.stdlib_module_names) - {"silhouette_infra"}
    assert extra == set(), f"the policy pack would need {sorted(extra)} in policy/requirements.txt"
    assert (PROJECT_ROOT / "policy" / "requirements.txt").read_text().split() == ["pulumi-policy==1.21.0"]
