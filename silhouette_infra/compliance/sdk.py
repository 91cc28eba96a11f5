"""The pack's policies as pulumi-policy objects, for ``pulumi preview --policy-pack policy``.

Each wraps the same pure rule that synth runs offline: a ``ResourceValidationPolicy`` calls
``Policy.check_resource`` with the resource's inputs (``args.props``), a ``StackValidationPolicy`` calls
``Policy.check_stack`` with every resource, its outputs and its ``protect`` option. Building the
``PolicyPack`` starts the analyzer server and blocks, so only ``policy/__main__.py`` does it.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from silhouette_infra.compliance.model import Policy, Resource
from silhouette_infra.compliance.pack import POLICIES

DEFAULT_ENFORCEMENT = EnforcementLevel.MANDATORY  # without --policy-pack-config every policy blocks


def _from_args(args: ResourceValidationArgs) -> Resource:
    return Resource(args.resource_type, args.name, args.props, args.urn, bool(args.opts.protect))


def _from_stack(resource: PolicyResource) -> Resource:
    parent = resource.parent.urn if resource.parent is not None else resource.opts.parent or ""
    return Resource(
        resource.resource_type, resource.name, resource.props, resource.urn, bool(resource.opts.protect), parent
    )


def _described(policy: Policy) -> dict[str, Any]:
    """What the CLI shows of a policy: its name, description, fix and controls."""
    return {
        "name": policy.name,
        "description": policy.description,
        "remediation_steps": policy.fix,
        "tags": list(policy.controls),
    }


def resource_policy(policy: Policy) -> ResourceValidationPolicy:
    check = policy.check_resource
    assert check is not None, policy.name

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in policy.types:
            return
        resource = _from_args(args)
        for problem in check(resource):
            report_violation(policy.message(resource, problem), args.urn)

    return ResourceValidationPolicy(validate=validate, **_described(policy))


def stack_policy(policy: Policy) -> StackValidationPolicy:
    check = policy.check_stack
    assert check is not None, policy.name

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for resource, problem in check([_from_stack(r) for r in args.resources]):
            report_violation(policy.message(resource, problem), resource.urn or None)

    return StackValidationPolicy(validate=validate, **_described(policy))


def sdk_policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    return [resource_policy(p) if p.check_resource is not None else stack_policy(p) for p in POLICIES]
