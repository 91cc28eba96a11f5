"""Helm values as the charts will read them (issue 17). `pulumi preview` shows a release's values, never what
its chart makes of them, and Helm ignores a key its chart does not read: so every key each release sets must
be one its chart declares at the pinned version (recorded in tests/helm_charts.py, with where it was read),
and what the API server or a controller enforces on the objects the charts render is checked here."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from silhouette_infra.synth.engine import CapturedResource, SynthResult
from tests.helm_charts import (
    CHARTS,
    DISRUPTION_FIELDS,
    KUBE_PROMETHEUS_STACK,
    ChartTemplateError,
    dig,
    join_path,
    value_paths,
)

RELEASE = "kubernetes:helm.sh/v3:Release"
ROLE_ARN = "eks.amazonaws.com/role-arn"
TAINT_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}


def _releases(stack: SynthResult) -> list[CapturedResource]:
    releases = stack.of_type(RELEASE)
    assert releases, f"{stack.stack}: no Helm release captured"
    return releases


def _walk(values: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every (path, value) in nested maps and lists; list items are addressed by their index."""
    yield path, values
    if isinstance(values, Mapping):
        for key, value in values.items():
            yield from _walk(value, (*path, str(key)))
    elif isinstance(values, list):
        for index, value in enumerate(values):
            yield from _walk(value, (*path, str(index)))


def test_each_release_is_recorded_at_the_chart_version_it_pins(stack: SynthResult) -> None:
    """A chart bump changes what its values mean: the record must be made again against the new version."""
    for release in _releases(stack):
        chart = CHARTS.get(release.name)
        assert chart is not None, (
            f"{stack.stack}: release {release.name}: no record of its chart in tests/helm_charts.py"
        )
        pinned = (release.inputs["chart"], release.inputs["version"])
        assert pinned == (chart.chart, chart.version), (
            f"{stack.stack}: release {release.name} installs {pinned[0]} {pinned[1]}, but its values were verified "
            f"against {chart.chart} {chart.version}: read the chart's values.yaml and templates at the new version "
            "and update tests/helm_charts.py"
        )


def test_every_value_the_program_sets_is_declared_by_the_pinned_chart(stack: SynthResult) -> None:
    """Helm silently ignores a misspelt or removed key; free-form maps (annotations, resources, extraArgs, the
    Alertmanager config, grafana.ini) are checked as a whole, not key by key."""
    for release in _releases(stack):
        chart = CHARTS[release.name]
        known = chart.keys | chart.template_keys.keys() | chart.free_form.keys()
        unknown = sorted(set(value_paths(release.inputs["values"], chart.free_form)) - known)
        assert not unknown, (
            f"{stack.stack}: release {release.name}: {unknown} are not keys of {chart.chart} {chart.version} as "
            f"recorded in tests/helm_charts.py (read at {chart.source}); check them in the chart's values.yaml "
            "and templates, then record them"
        )


def test_the_record_lists_only_keys_the_program_sets(production: SynthResult, staging: SynthResult) -> None:
    for name, chart in CHARTS.items():
        used = {
            path
            for stack in (production, staging)
            for path in value_paths(stack.named(RELEASE, name).inputs["values"], chart.free_form)
        }
        recorded = chart.keys | chart.template_keys.keys() | chart.free_form.keys()
        assert recorded <= used, f"release {name}: {sorted(recorded - used)} are recorded but no longer set"


def test_every_pod_disruption_budget_has_exactly_one_of_min_available_and_max_unavailable(stack: SynthResult) -> None:
    """The API server rejects a PodDisruptionBudget with both (or neither) of the two fields
    (https://kubernetes.io/docs/tasks/run-application/configure-pdb/#specifying-a-poddisruptionbudget): the
    program's own budgets, and the ones each chart's templates write from the release's values."""
    declared = stack.of_type("kubernetes:policy/v1:PodDisruptionBudget")
    assert declared, f"{stack.stack}: no PodDisruptionBudget declared"
    for budget in declared:
        present = sorted(set(budget.inputs["spec"]) & set(DISRUPTION_FIELDS))
        assert len(present) == 1, f"{stack.stack}: PodDisruptionBudget {budget.name}: spec has {present or 'neither'}"
    rendered = 0
    for release in _releases(stack):
        chart = CHARTS[release.name]
        try:
            budgets = chart.rendered_pdbs(release.inputs["values"])
        except ChartTemplateError as failure:
            raise AssertionError(
                f"{stack.stack}: release {release.name}: the chart refuses its values: {failure}"
            ) from failure
        for template, fields in budgets.items():
            assert len(fields) == 1, (
                f"{stack.stack}: release {release.name}: {template} would write {fields or 'neither field'}, "
                "which the API server rejects"
            )
        rendered += len(budgets)
    assert rendered >= 4, f"{stack.stack}: only {rendered} chart PodDisruptionBudgets rendered"


def test_the_pdb_emulation_sees_the_budget_that_blocked_production() -> None:
    """Before the fix kube-prometheus-stack got maxUnavailable over its chart's minAvailable 1: both written."""
    budgets = KUBE_PROMETHEUS_STACK.rendered_pdbs(
        {"prometheus": {"podDisruptionBudget": {"enabled": True, "maxUnavailable": 1}}}
    )
    assert budgets["templates/prometheus/podDisruptionBudget.yaml"] == {"minAvailable": 1, "maxUnavailable": 1}


def _trusted_subjects(role: CapturedResource) -> list[str]:
    return [
        value
        for statement in json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        for condition in statement.get("Condition", {}).values()
        for key, value in condition.items()
        if key.endswith(":sub")
    ]


def test_each_irsa_service_account_in_helm_values_is_the_one_its_role_trusts(stack: SynthResult) -> None:
    """IRSA: STS refuses the web identity of any other account than the trust policy's
    ``system:serviceaccount:<namespace>:<name>``, so the chart must create the account under that very name
    in the release's namespace (none of these releases sets a namespaceOverride: the key record says so)."""
    roles = {role.outputs["arn"]: role for role in stack.of_type("aws:iam/role:Role")}
    checked = 0
    for release in _releases(stack):
        chart, values = CHARTS[release.name], release.inputs["values"]
        annotated = {
            join_path(path[:-2])
            for path, value in _walk(values)
            if path[-2:] == ("annotations", ROLE_ARN) and isinstance(value, str)
        }
        assert annotated <= set(chart.service_accounts), (
            f"{stack.stack}: release {release.name}: role annotations at {sorted(annotated)}, where the record "
            f"of {chart.chart} {chart.version} knows ServiceAccounts only at {list(chart.service_accounts)}"
        )
        for path in annotated:
            account = dig(values, path)
            where = f"{stack.stack}: release {release.name}: {path}"
            assert account.get("create") is True, f"{where}.create: the chart must create the account the role is for"
            assert account.get("name"), f"{where}.name: unset, the chart would generate a name the role does not trust"
            role = roles.get(account["annotations"][ROLE_ARN])
            assert role is not None, f"{where}.annotations: {account['annotations'][ROLE_ARN]} is no declared role"
            expected = f"system:serviceaccount:{release.inputs['namespace']}:{account['name']}"
            assert _trusted_subjects(role) == [expected], (
                f"{where}: role {role.name} trusts {_trusted_subjects(role)}, the chart creates {expected}"
            )
            checked += 1
    assert checked == 4, f"{stack.stack}: {checked} IRSA ServiceAccounts in Helm values, expected 4"


def test_storage_classes_named_in_helm_values_and_objects_exist(stack: SynthResult) -> None:
    """A claim naming a StorageClass that does not exist stays Pending (and the StatefulSet with it)."""
    declared = {sc.inputs["metadata"]["name"] for sc in stack.of_type("kubernetes:storage.k8s.io/v1:StorageClass")}
    named = [
        (resource, join_path(path), value)
        for resource in stack.resources
        if resource.type.startswith("kubernetes:")
        for path, value in _walk(resource.inputs)
        if path and path[-1] in ("storageClassName", "storageClass") and isinstance(value, str)
    ]
    assert any(resource.type == RELEASE for resource, _, _ in named), f"{stack.stack}: no StorageClass in values"
    for resource, path, name in named:
        assert name in declared, (
            f"{stack.stack}: {resource.type} {resource.name}: {path} names StorageClass {name!r}; the program "
            f"declares {sorted(declared)}"
        )


def _tolerates(toleration: Mapping[str, Any], taint: Mapping[str, str]) -> bool:
    """Kubernetes' rule (https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/)."""
    if toleration.get("effect") not in (None, "", TAINT_EFFECTS[taint["effect"]]):
        return False
    if toleration.get("operator", "Equal") == "Exists":
        return toleration.get("key") in (None, "", taint["key"])
    return bool(toleration.get("key") == taint["key"] and toleration.get("value", "") == taint.get("value", ""))


def test_node_selectors_and_tolerations_in_helm_values_match_the_node_groups(stack: SynthResult) -> None:
    """A nodeSelector no node group's labels satisfy, or a group's NoSchedule/NoExecute taint its pods do not
    tolerate, leaves the pods Pending; a toleration of a taint no group carries is a misspelling."""
    groups = {
        group.name: (group.inputs.get("labels") or {}, group.inputs.get("taints") or [])
        for group in stack.of_type("aws:eks/nodeGroup:NodeGroup")
    }
    assert groups, f"{stack.stack}: no node group captured"
    placements = 0
    for release in _releases(stack):
        for path, pod in _walk(release.inputs["values"]):
            if not (isinstance(pod, Mapping) and ("nodeSelector" in pod or "tolerations" in pod)):
                continue
            placements += 1
            where = f"{stack.stack}: release {release.name}: {join_path(path) or '<top level>'}"
            selector, tolerations = pod.get("nodeSelector") or {}, pod.get("tolerations") or []
            selected = [
                name for name, (labels, _) in groups.items() if all(labels.get(k) == v for k, v in selector.items())
            ]
            assert selected, f"{where}.nodeSelector {selector}: no node group has these labels"
            schedulable = [
                name
                for name in selected
                if all(
                    any(_tolerates(toleration, taint) for toleration in tolerations)
                    for taint in groups[name][1]
                    if taint["effect"] != "PREFER_NO_SCHEDULE"
                )
            ]
            # With a selector every selected group must take the pods; without one, some group must.
            blocked = sorted(set(selected) - set(schedulable)) if selector else ([] if schedulable else selected)
            assert not blocked, f"{where}.tolerations {tolerations}: do not tolerate the taints of {blocked}"
            every_taint = [taint for _, taints in groups.values() for taint in taints]
            for toleration in tolerations:
                assert not toleration.get("key") or any(_tolerates(toleration, t) for t in every_taint), (
                    f"{where}.tolerations: {toleration} matches no node group's taint"
                )
    assert placements >= 10, f"{stack.stack}: only {placements} pod placements found in Helm values"
