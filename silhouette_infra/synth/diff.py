"""The review diff's pure part: what two synths of a stack declared in, what changes and what it replaces out.

Inputs are compared in their readable form (``readable.py``: JSON policies parsed, so a policy change is
the statements that changed); outputs are not compared, since the mocks compute them from the inputs.
Whether a change replaces a resource comes from ``replacing.py``'s table of ForceNew properties and the
resource's own ``replace_on_changes`` option.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from silhouette_infra.compliance.replacing import is_stateful, replacing
from silhouette_infra.synth.readable import readable_resource

Path = tuple[str | int, ...]
Action = Literal["create", "delete", "update", "replace"]

SECRET_KEY = "__secret__"  # the engine's marker around a secret value (engine/mocks.py)
# Resource options that change what `pulumi up` does to a resource; dependencies and parents are left out
# (a new parent is a new URN, and dependency lists change with every refactor without changing anything).
COMPARED_OPTIONS = (
    "protect",
    "retain_on_delete",
    "delete_before_replace",
    "ignore_changes",
    "replace_on_changes",
    "provider",
    "custom_timeouts",
    "additional_secret_outputs",
)


class _Missing:
    """A property that one side does not have."""

    def __repr__(self) -> str:
        return "(absent)"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class PropertyChange:
    """One property whose value differs; ``option`` when it is a resource option rather than an input."""

    path: Path
    old: Any
    new: Any
    replaces: bool = False
    option: bool = False

    @property
    def name(self) -> str:
        return ("options." if self.option else "") + dotted(self.path)


@dataclass(frozen=True)
class ResourceChange:
    """What happens to one resource, by its URN (the new URN when a resource moved with an alias)."""

    urn: str
    type: str
    name: str
    action: Action
    layer: str
    changes: tuple[PropertyChange, ...] = ()
    stateful: bool = False
    protected: bool = False
    table_known: bool = True  # False: a custom resource type missing from replacing.py
    moved_from: str = ""

    @property
    def loses_data(self) -> bool:
        return self.stateful and self.action in ("delete", "replace")


@dataclass(frozen=True)
class CostDelta:
    """USD per month per layer before and after; ``None`` on a side whose synth wrote no estimate."""

    before: dict[str, float] | None
    after: dict[str, float] | None

    def rows(self) -> list[tuple[str, float, float]]:
        before, after = self.before or {}, self.after or {}
        layers = list(dict.fromkeys([*before, *after]))
        return [(layer, before.get(layer, 0.0), after.get(layer, 0.0)) for layer in layers]

    @property
    def total_before(self) -> float:
        return round(sum((self.before or {}).values()), 2)

    @property
    def total_after(self) -> float:
        return round(sum((self.after or {}).values()), 2)


@dataclass(frozen=True)
class FindingsDelta:
    """Check failures present only after (new) or only before (resolved); ``note`` says why there are none
    to compare when the checks did not run on both sides."""

    new: tuple[dict[str, str], ...] = ()
    resolved: tuple[dict[str, str], ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Review:
    """Everything the report shows for one stack."""

    stack: str
    base: str  # how the compared ref is named in the report, e.g. "main (1a2b3c4)"
    head: str
    resources: tuple[ResourceChange, ...]
    cost: CostDelta
    findings: FindingsDelta
    unchanged: int = 0

    def counts(self) -> Counter[str]:
        return Counter(change.action for change in self.resources)


def dotted(path: Path) -> str:
    """``("Statement", 0, "Action")`` -> ``Statement[0].Action``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def layer_of_urn(urn: str) -> str:
    """The top ``silhouette:`` component in a URN's type chain (``providers``/``stack`` outside them)."""
    parts = urn.split("::")
    chain = parts[2].split("$") if len(parts) > 3 else []
    if chain and chain[-1].startswith("pulumi:providers:"):
        return "providers"
    return next((token for token in chain if token.startswith("silhouette:")), "stack")


def property_changes(old: Any, new: Any, path: Path = ()) -> list[PropertyChange]:
    """Every leaf where ``old`` and ``new`` differ. Maps are compared key by key; lists of equal length
    item by item; lists of different lengths as one change (the report shows the items removed and added)."""
    if isinstance(old, dict) and isinstance(new, dict) and not _is_secret(old) and not _is_secret(new):
        changes = []
        for key in sorted(set(old) | set(new)):
            changes.extend(property_changes(old.get(key, MISSING), new.get(key, MISSING), (*path, key)))
        return changes
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        changes = []
        for index, (old_item, new_item) in enumerate(zip(old, new, strict=True)):
            changes.extend(property_changes(old_item, new_item, (*path, index)))
        return changes
    return [] if old == new else [PropertyChange(path, old, new)]


def list_items_removed_and_added(old: list[Any], new: list[Any]) -> tuple[list[Any], list[Any]]:
    """The items only in ``old`` and only in ``new``, counting repeats."""
    remaining = [json.dumps(item, sort_keys=True) for item in new]
    removed = []
    for item in old:
        key = json.dumps(item, sort_keys=True)
        if key in remaining:
            remaining.remove(key)
        else:
            removed.append(item)
    added = [json.loads(key) for key in remaining]
    return removed, added


def replaces(type_token: str, path: Path, replace_on_changes: list[str]) -> bool:
    """Whether a change at ``path`` (of the inputs) replaces a resource of ``type_token``."""
    entry = replacing(type_token)
    names = [*(entry.properties if entry else ()), *replace_on_changes]
    changed = ".".join(str(part) for part in path if not isinstance(part, int))
    return any(
        name == "*" or changed == name or changed.startswith(name + ".") or name.startswith(changed + ".")
        for name in names
    )


def resource_change(before: dict[str, Any], after: dict[str, Any]) -> ResourceChange | None:
    """How ``after`` differs from ``before`` (two resource records), ``None`` when it does not."""
    before, after = readable_resource(before), readable_resource(after)
    type_token = after["type"]
    options_after = after.get("options") or {}
    replace_on_changes = list(options_after.get("replace_on_changes") or [])
    changes = [
        PropertyChange(change.path, change.old, change.new, replaces(type_token, change.path, replace_on_changes))
        for change in property_changes(before.get("inputs") or {}, after.get("inputs") or {})
    ]
    options_before = before.get("options") or {}
    for option in COMPARED_OPTIONS:
        old, new = options_before.get(option, MISSING), options_after.get(option, MISSING)
        if old != new:
            # A resource handed to another provider is replaced unless that provider says otherwise.
            changes.append(PropertyChange((option,), old, new, replaces=option == "provider", option=True))
    if not changes and before["urn"] == after["urn"]:
        return None
    action: Action = "replace" if any(change.replaces for change in changes) else "update"
    return _change(after, action, tuple(changes), before)


def _change(
    record: dict[str, Any],
    action: Action,
    changes: tuple[PropertyChange, ...] = (),
    before: dict[str, Any] | None = None,
) -> ResourceChange:
    old = before or record
    return ResourceChange(
        urn=record["urn"],
        type=record["type"],
        name=record["name"],
        action=action,
        layer=layer_of_urn(record["urn"]),
        changes=changes,
        stateful=is_stateful(record["type"]),
        protected=bool((old.get("options") or {}).get("protect")),
        table_known=replacing(record["type"]) is not None or not record.get("custom", True),
        moved_from=old["urn"] if before is not None and before["urn"] != record["urn"] else "",
    )


def resource_changes(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> tuple[list[ResourceChange], int]:
    """Every created, deleted, updated or replaced resource between two synths, and how many are unchanged.

    A resource whose new URN lists the old one among its aliases moved: it is compared with its old self,
    not deleted and created."""
    old_by_urn = {record["urn"]: readable_resource(record) for record in before}
    new_by_urn = {record["urn"]: readable_resource(record) for record in after}
    moved = {
        old_urn: urn
        for urn, record in new_by_urn.items()
        if urn not in old_by_urn
        for old_urn in old_by_urn
        if old_urn not in new_by_urn and _aliases(record, old_urn)
    }
    moved_into = {new_urn: old_urn for old_urn, new_urn in moved.items()}
    changes: list[ResourceChange] = []
    unchanged = 0
    for urn, record in new_by_urn.items():
        previous = old_by_urn.get(urn) or old_by_urn.get(moved_into.get(urn, ""))
        if previous is None:
            changes.append(_change(record, "create"))
            continue
        change = resource_change(previous, record)
        if change is None:
            unchanged += 1
        else:
            changes.append(change)
    for urn, record in old_by_urn.items():
        if urn not in new_by_urn and urn not in moved:
            changes.append(_change(record, "delete"))
    order = {"delete": 0, "replace": 1, "update": 2, "create": 3}
    changes.sort(key=lambda change: (not change.loses_data, order[change.action], change.layer, change.urn))
    return changes, unchanged


def _aliases(record: dict[str, Any], old_urn: str) -> bool:
    """Whether ``record`` names ``old_urn`` among its aliases (URNs, as the engine captures them)."""
    return old_urn in ((record.get("options") or {}).get("aliases") or [])


def findings_delta(before: dict[str, Any] | None, after: dict[str, Any] | None, missing_note: str) -> FindingsDelta:
    """New and resolved check failures from two ``checks.json`` documents (``None``: no checks on that side)."""
    if before is None or after is None:
        return FindingsDelta(note=missing_note)

    def key(finding: dict[str, str]) -> tuple[str, str, str]:
        return finding["validator"], finding["check"], finding["resource"]

    old = {key(finding): finding for finding in before.get("failures", [])}
    new = {key(finding): finding for finding in after.get("failures", [])}
    return FindingsDelta(
        new=tuple(new[k] for k in sorted(set(new) - set(old))),
        resolved=tuple(old[k] for k in sorted(set(old) - set(new))),
    )


def _is_secret(value: dict[str, Any]) -> bool:
    return set(value) == {SECRET_KEY}


def show(value: Any, limit: int = 160) -> str:
    """A value as the report prints it: JSON, secrets hidden, long values cut with their length."""
    if value is MISSING:
        return "(absent)"
    if isinstance(value, dict) and _is_secret(value):
        return "[secret]"
    text = json.dumps(_hide_secrets(value), sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else f"{text[: limit - 20]}... ({len(text)} chars)"


def _hide_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return "[secret]" if _is_secret(value) else {key: _hide_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_hide_secrets(item) for item in value]
    return value


@dataclass(frozen=True)
class Side:
    """What one synth wrote under ``--out``: its resources, cost estimate and check failures."""

    resources: list[dict[str, Any]]
    cost: dict[str, Any] | None = None
    checks: dict[str, Any] | None = None
    label: str = ""
    notes: list[str] = field(default_factory=list)


def review(stack: str, base: Side, head: Side, checks_requested: bool) -> Review:
    """The review of ``head`` against ``base`` for one stack."""
    changes, unchanged = resource_changes(base.resources, head.resources)
    if not checks_requested:
        missing = "checks were not run (--no-checks)"
    else:
        unchecked = base.label if base.checks is None else head.label
        missing = f"checks ran on one side only: the synth of {unchecked} wrote no checks.json"
    return Review(
        stack=stack,
        base=base.label,
        head=head.label,
        resources=tuple(changes),
        cost=CostDelta(base.cost["layers"] if base.cost else None, head.cost["layers"] if head.cost else None),
        findings=findings_delta(base.checks, head.checks, missing),
        unchanged=unchanged,
    )
