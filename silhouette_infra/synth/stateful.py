"""The guard that compares two runs: which stateful resources a change would delete or replace.

What counts as stateful, and which properties replace it, is ``compliance/stateful.py``, derived from the table
of every declared type in ``compliance/replacing.py`` (the policy pack protects the same types, the review diff
reads the same table).
"""

from __future__ import annotations

from typing import Any

from silhouette_infra.compliance.stateful import REPLACING_PROPERTIES
from silhouette_infra.synth.engine.mocks import CapturedResource


def stateful(resources: list[CapturedResource]) -> list[CapturedResource]:
    return [resource for resource in resources if resource.type in REPLACING_PROPERTIES]


def identity(resources: list[CapturedResource]) -> dict[str, dict[str, Any]]:
    """URN -> the values of the properties that would replace each stateful resource."""
    return {
        resource.urn: {key: resource.inputs.get(key) for key in REPLACING_PROPERTIES[resource.type]}
        for resource in stateful(resources)
    }


def replacement_problems(recorded: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]) -> list[str]:
    """Every recorded stateful resource that the current program would delete or replace."""
    problems = []
    for urn, properties in sorted(recorded.items()):
        if urn not in current:
            problems.append(f"{urn} is gone: `pulumi up` would delete it")
            continue
        for key, old in properties.items():
            new = current[urn].get(key)
            if new != old:
                problems.append(f"{urn}: {key} {old!r} -> {new!r} replaces it (delete and create: its data is lost)")
    return problems
