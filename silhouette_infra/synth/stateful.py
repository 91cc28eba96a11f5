"""What counts as stateful, which input changes replace it, and the guard that compares two runs.

The properties are those the AWS provider (Terraform schema ``ForceNew``) cannot change in place: a
new value means delete-and-create, which for these resources loses data. They come from the table of
every declared type in ``replacing.py``, which says where each list comes from.
"""

from __future__ import annotations

from typing import Any

from silhouette_infra.synth.engine.mocks import CapturedResource
from silhouette_infra.synth.replacing import REPLACING

# The stateful types of replacing.py's table (every declared type, with its source) and their properties.
REPLACING_PROPERTIES: dict[str, tuple[str, ...]] = {
    type_token: entry.properties for type_token, entry in REPLACING.items() if entry.stateful
}


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
