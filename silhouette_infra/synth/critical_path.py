"""The `pulumi up` critical path (planning/rto.py) of a synthesised stack, as synth prints it."""

from __future__ import annotations

from collections import defaultdict

from silhouette_infra.planning.rto import CREATION_TIMES, CriticalPath, Node, critical_path
from silhouette_infra.synth.cost import standby_cost
from silhouette_infra.synth.engine.mocks import CapturedResource
from silhouette_infra.synth.engine.run import SynthResult


def _is_component(resource: CapturedResource) -> bool:
    return resource.type.startswith("silhouette:") or resource.type.startswith("pulumi:")


def dependency_graph(result: SynthResult) -> list[Node]:
    """Every resource that is created (not the program's components or the providers), in registration order,
    with what it waits for: a dependency on a component is one on everything declared under it."""
    children: dict[str, list[CapturedResource]] = defaultdict(list)
    for resource in result.resources:
        children[resource.parent_urn].append(resource)

    def created_under(urn: str) -> list[str]:
        found: list[str] = []
        for child in children.get(urn, []):
            found.extend(created_under(child.urn) if _is_component(child) else [child.urn])
        return found

    nodes: list[Node] = []
    for resource in result.resources:
        if _is_component(resource):
            continue
        depends: list[str] = []
        for urn in resource.options.get("dependencies", []):
            dependency = result.by_urn.get(urn)
            if dependency is not None and _is_component(dependency):
                depends.extend(created_under(urn))
            else:
                depends.append(urn)
        nodes.append(Node(resource.urn, resource.type, resource.name, tuple(depends)))
    return nodes


def stack_critical_path(result: SynthResult, *, pilot_light: bool = False) -> CriticalPath:
    return critical_path(dependency_graph(result), result.settings, pilot_light=pilot_light)


def rto_lines(result: SynthResult) -> list[str]:
    """The estimate of a whole `pulumi up`, cold and with the pilot light, the longest steps of the cold path,
    and what the estimate rests on."""
    settings = result.settings
    cold, pilot = stack_critical_path(result), stack_critical_path(result, pilot_light=True)
    target = settings.recovery.rto_minutes
    lines = [
        f"pulumi up critical path (planning/rto.py; RTO objective {target} min): "
        f"{cold.minutes:.0f} min cold, {pilot.minutes:.0f} min with the pilot light "
        "(the standby: network, keys, EKS cluster with its add-ons, node groups at their minimum already running)",
        "    cold path: "
        + " -> ".join(f"{step.name} {step.minutes:.0f}" for step in cold.steps if step.minutes >= 1)
        + " (min)",
    ]
    standby = standby_cost(settings)
    lines.append(
        f"    standby in the DR region: cold ${standby['cold']:,.0f}/month, pilot light ${standby['pilot_light']:,.0f}"
        f"/month (synth/cost.py; this stack's recovery.mode: {settings.recovery.mode})"
    )
    measured = sorted(token for token, time in CREATION_TIMES.items() if time.evidence == "measured")
    lines.append(
        f"    creation times: {', '.join(measured)} measured; every other figure assumed until a restore drill "
        "measures it (planning/rto.py CREATION_TIMES)"
    )
    return lines
