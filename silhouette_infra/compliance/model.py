"""The pack's vocabulary: a resource as a policy sees it, a policy, a violation, and the pack's configuration.

No Pulumi import: the same rules run offline on synth's captured resources and inside the pulumi-policy pack
(``policy/__main__.py``), where ``props`` is the SDK's read-only proxy (a ``Mapping`` whose lists are
``Sequence`` s, raising on values unknown during preview), so the rules read props only through ``Mapping``
and ``Sequence``, never ``dict`` or ``list``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final


class Enforcement(Enum):
    """What a violation does (the pulumi-policy levels this pack uses)."""

    MANDATORY = "mandatory"  # fails `pulumi preview`/`up` and `make synth`
    ADVISORY = "advisory"  # printed, fails nothing
    DISABLED = "disabled"  # not evaluated


@dataclass(frozen=True)
class Resource:
    """A resource as a policy sees it: its type token, name, URN, properties (camelCase wire names, as the
    engine passes them), whether Pulumi protects it, and its parent."""

    type: str
    name: str
    props: Mapping[str, Any]
    urn: str = ""
    protect: bool = False
    parent: str = ""  # the parent's URN (stack policies; a component's children name it)

    @property
    def label(self) -> str:
        return self.urn or f"{self.type} {self.name}"


ResourceCheck = Callable[[Resource], list[str]]
StackCheck = Callable[[Sequence[Resource]], list[tuple[Resource, str]]]
Selection = Callable[[Sequence[Resource]], list[Resource]]


@dataclass(frozen=True)
class Policy:
    """One rule of the pack. ``controls`` are ids of ``controls.CONTROLS``; ``types`` the resource types it
    inspects (the control matrix counts them per stack). Exactly one of ``check_resource`` (one resource at a
    time: a ``ResourceValidationPolicy``) and ``check_stack`` (all resources with their options: a
    ``StackValidationPolicy``) is set; each returns what is wrong, one sentence per problem."""

    name: str
    description: str
    controls: tuple[str, ...]
    fix: str
    types: tuple[str, ...]
    evidence: str
    check_resource: ResourceCheck | None = None
    check_stack: StackCheck | None = None
    exceptions: Mapping[str, str] = field(default_factory=dict)  # what the rule deliberately lets pass, and why
    selects: Selection | None = None  # what a stack policy judges, when narrower than every resource of its types

    def __post_init__(self) -> None:
        if (self.check_resource is None) == (self.check_stack is None):
            raise ValueError(f"policy {self.name}: give exactly one of check_resource and check_stack")

    def inspected(self, resources: Sequence[Resource]) -> list[Resource]:
        """The resources this policy judges (the control matrix counts them)."""
        if self.selects is not None:
            return self.selects(resources)
        return [resource for resource in resources if resource.type in self.types]

    def message(self, resource: Resource, problem: str) -> str:
        """What a violation says: the resource, what is wrong, the controls, the fix."""
        return f"{resource.label}: {problem} [{', '.join(self.controls)}]. Fix: {self.fix}"


@dataclass(frozen=True)
class Violation:
    policy: str
    resource: str
    message: str
    enforcement: Enforcement


class PackConfigError(ValueError):
    """A pack configuration the pack refuses: one line naming the file and the key."""


ALL: Final = "all"
_LEVEL_KEY: Final = "enforcementLevel"


def _level(value: Any, where: str) -> Enforcement:
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {_LEVEL_KEY})
        if unknown:
            raise PackConfigError(
                f"{where}: unknown key {unknown[0]!r} (only {_LEVEL_KEY!r}; these policies take none)"
            )
        value = value.get(_LEVEL_KEY)
    try:
        return Enforcement(value)
    except ValueError:
        levels = ", ".join(level.value for level in Enforcement)
        raise PackConfigError(f"{where}: {value!r} is not an enforcement level ({levels})") from None


@dataclass(frozen=True)
class PackConfig:
    """Enforcement per policy, in the shape of ``pulumi preview --policy-pack-config``: ``{"all": level}``
    and ``{"<policy>": level | {"enforcementLevel": level}}``; a policy not named takes ``all``, and without
    ``all`` the pack's default, mandatory."""

    default: Enforcement = Enforcement.MANDATORY
    levels: Mapping[str, Enforcement] = field(default_factory=dict)

    def level(self, policy: str) -> Enforcement:
        return self.levels.get(policy, self.default)

    @classmethod
    def parse(cls, document: Any, policy_names: Sequence[str], source: str) -> PackConfig:
        """``document`` as loaded from ``source``; an unknown key or level is a ``PackConfigError``."""
        if not isinstance(document, Mapping):
            raise PackConfigError(f"{source}: expected a JSON object of policy names to enforcement levels")
        default = Enforcement.MANDATORY
        levels: dict[str, Enforcement] = {}
        for key, value in document.items():
            where = f"{source}: {key}"
            if key == ALL:
                default = _level(value, where)
            elif key in policy_names:
                levels[key] = _level(value, where)
            else:
                raise PackConfigError(
                    f"{where}: unknown key (not 'all' nor a policy of the pack: {', '.join(policy_names)})"
                )
        return cls(default, levels)

    @classmethod
    def read(cls, text: str, policy_names: Sequence[str], source: str) -> PackConfig:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise PackConfigError(f"{source}:{error.lineno}:{error.colno}: not JSON ({error.msg})") from None
        return cls.parse(document, policy_names, source)


# ---- reading props (plain dicts offline, the SDK's proxies under `pulumi preview`)


def get(props: Any, *path: str | int) -> Any:
    """The value at ``path`` (keys and list indexes), or None where the path does not exist."""
    value = props
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, Sequence) or isinstance(value, str) or step >= len(value):
                return None
        elif not isinstance(value, Mapping) or step not in value:
            return None
        value = value[step]
    return value


def items(value: Any) -> list[Any]:
    """A list property as a list (empty when absent or not a list)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return []


def truthy(value: Any) -> bool:
    """A boolean property: the engine passes some as strings ("true")."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def json_document(value: Any) -> Any:
    """A JSON-string property (IAM and bucket policies) as data; a non-string is returned as it is."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value
