"""Load a stack's settings from its Pulumi config and validate them before anything is declared.

The config arrives as the Pulumi CLI hands it to a program (and as the offline synth reads it from the
stack file): ``namespace:key`` to text, JSON text for structured values. People write it in three ways,
all accepted: nested sections (``silhouette:network: {vpc_cidr: ...}``, what ``pulumi config set --path``
writes), flat dotted keys (``silhouette:network.vpc_cidr``, what ``pulumi config set`` without ``--path``
writes) and a mix. Every key left out takes the stack's profile value, then the production default.

Every problem is reported at once, each under the key to change: unknown keys (with the closest known
one), wrong types, out-of-range values, keys of other namespaces the program would ignore, and the
cross-field rules of ``rules.py``. Offending keys take their default for the rules' sake, so a type
error does not hide a rule error.
"""

from __future__ import annotations

import copy
import difflib
import json
import types
import typing
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Annotated, Any, Literal, Union

from pulumi.runtime import config as runtime_config
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from silhouette_infra.settings.models import Settings
from silhouette_infra.settings.profiles import DR_STACK, PROFILES
from silhouette_infra.validation import rules

NAMESPACE = "silhouette"
README_REFERENCE = "the configuration reference in the README"

# Keys of other namespaces configure Pulumi's default providers, which Pulumi.yaml disables: every
# resource uses a provider built from the silhouette: settings, so such a key would silently do nothing.
INSTEAD: dict[str, str] = {
    "aws:region": "silhouette:aws.region",
    "aws:allowedAccountIds": "silhouette:aws.allowed_account_ids",
    "aws:defaultTags": "silhouette:aws.cost_center and silhouette:aws.data_classification (the default tags)",
    "aws:profile": "the AWS_PROFILE environment variable of the shell or runner",
    "aws:assumeRole": "credentials of the shell or runner (e.g. the CI role)",
    "kubernetes:kubeconfig": "nothing: the Kubernetes provider is built from the stack's own EKS cluster",
    "kubernetes:context": "nothing: the Kubernetes provider is built from the stack's own EKS cluster",
}
ENGINE_NAMESPACES = ("pulumi",)  # the engine's own settings (e.g. pulumi:disable-default-providers)


class SettingsError(Exception):
    """Invalid settings: one message listing every offending key, the stack and what was expected."""

    def __init__(self, stack: str, problems: list[tuple[str, str]]) -> None:
        self.stack = stack
        self.problems = problems
        self.declared: list[str] = []
        lines = [f"{full_key(path)}: {message}" for path, message in problems]
        super().__init__(
            f"invalid settings for stack {stack!r} in Pulumi.{stack}.yaml ({len(problems)} "
            f"problem{'s' if len(problems) != 1 else ''}; nothing was declared):\n  - " + "\n  - ".join(lines)
        )


def full_key(path: str) -> str:
    """``network.vpc_cidr`` -> ``silhouette:network.vpc_cidr``; keys of other namespaces stay as they are."""
    return path if ":" in path.split(".", 1)[0] else f"{NAMESPACE}:{path}"


# --------------------------------------------------------------------------------------- the model's shape
def _unwrap(annotation: Any) -> Any:
    """``Annotated[X, ...]`` -> X, ``X | None`` -> X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _annotation_at(location: Sequence[str | int]) -> Any:
    """The type the settings expect at ``location`` (``("cluster", "node_groups", 0, "name")``), or None."""
    current: Any = Settings
    for part in location:
        current = _unwrap(current)
        origin = typing.get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif origin is list and isinstance(part, int):
            current = typing.get_args(current)[0]
        elif origin is dict:
            current = typing.get_args(current)[1]
        else:
            return None
    return _unwrap(current)


def _is_text(annotation: Any) -> bool:
    if annotation is str:
        return True
    return typing.get_origin(annotation) is Literal and all(isinstance(a, str) for a in typing.get_args(annotation))


def _decode(location: Sequence[str], raw: str) -> Any:
    """The CLI passes structured values as JSON text and scalars as their text: a key whose setting is text
    keeps it (``"1.35"``, ``"017"``); any other is read as JSON (``false``, ``3``, ``{...}``)."""
    if _is_text(_annotation_at(location)):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


# --------------------------------------------------------------------------------------- user document
def _user_document(config: Mapping[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The ``silhouette:`` keys as one nested document; problems with keys the program would not read."""
    document: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    flat: list[tuple[str, list[str], str]] = []
    for key in sorted(config):
        namespace, colon, name = key.partition(":")
        if not colon or not name:
            problems.append((f"{key}:", "not a config key (expected namespace:key, e.g. silhouette:aws)"))
        elif namespace in ENGINE_NAMESPACES:
            continue
        elif namespace != NAMESPACE:
            problems.append((key, _foreign_key_message(key, namespace, name)))
        elif "[" in name:
            problems.append(
                (
                    name,
                    "a list index in a flat key is not read: write the list in the stack file, or run "
                    f"`pulumi config set --path '{key}' VALUE`",
                )
            )
        elif "." in name:
            flat.append((name, name.split("."), config[key]))
        else:
            document[name] = _decode([name], config[key])
    # Flat keys go on top of the nested sections; the same setting written both ways is ambiguous.
    for name, parts, raw in flat:
        node = document
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                problems.append((name, f"{'.'.join(parts[: depth + 1])} is not a section here"))
                break
            node = child
        else:
            if parts[-1] in node:
                problems.append(
                    (name, f"set twice: as {full_key(name)} and inside {full_key(parts[0])}; keep one of them")
                )
            else:
                node[parts[-1]] = _decode(parts, raw)
    return document, problems


def _foreign_key_message(key: str, namespace: str, name: str) -> str:
    if key in INSTEAD:
        return f"not read by this program (Pulumi.yaml disables the default providers); use {INSTEAD[key]}"
    if namespace in ("aws", "kubernetes", "random", "eks"):
        return (
            "not read by this program: Pulumi.yaml disables the default providers and every resource uses a "
            f"provider built from the silhouette: settings (see {README_REFERENCE})"
        )
    close = difflib.get_close_matches(namespace, [NAMESPACE], n=1, cutoff=0.6)
    if close:
        return f"unknown namespace {namespace!r}; did you mean {close[0]}:{name}?"
    return f"unknown namespace {namespace!r}: this program reads only silhouette: keys"


# --------------------------------------------------------------------------------------- defaults
def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@cache
def _profile_document(profile: str) -> dict[str, Any]:
    """Every setting of a profile: the model defaults (production) with the profile's values on top."""
    defaults = Settings.model_construct(environment=profile).model_dump()  # type: ignore[arg-type]
    return _deep_merge(defaults, {"environment": profile, **PROFILES[profile]})


def profile_of(stack: str, config: Mapping[str, str]) -> str:
    """The stack's profile: ``silhouette:environment`` if set, else the stack name."""
    declared = config.get(f"{NAMESPACE}:environment")
    return declared if declared is not None else stack


# --------------------------------------------------------------------------------------- validation
def _path(location: Sequence[int | str]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _describe(error: Mapping[str, Any]) -> str:
    kind, given, location = error["type"], error.get("input"), error["loc"]
    if kind == "extra_forbidden":
        parent = _unwrap(_annotation_at(location[:-1]))
        known = list(parent.model_fields) if isinstance(parent, type) and issubclass(parent, BaseModel) else []
        close = difflib.get_close_matches(str(location[-1]), known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown key ({hint}see {README_REFERENCE})"
    if kind == "missing":
        return "required key is missing"
    if given is None:
        return "no value given (an empty value in YAML is null): write a value, or remove the key to take the default"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "string_type" and isinstance(given, int | float) and not isinstance(given, bool):
        message += f"; YAML read a number ({given}): write the value in quotes, as text"
    if kind == "bool_type" and isinstance(given, str):
        message += " (true or false; stack files are YAML 1.2, where yes/no/on/off are text)"
    if isinstance(given, str) and given in message:
        return message
    shown = json.dumps(given, default=str)
    return f"{message} (got {shown[:80]})"


def _validate(document: Mapping[str, Any]) -> tuple[Settings | None, list[ErrorDetails]]:
    try:
        return Settings.model_validate(document, strict=True), []
    except ValidationError as error:
        return None, error.errors()


def _without(document: dict[str, Any], location: Sequence[int | str]) -> None:
    """Remove what ``location`` points at from the user's document, so that it takes its default; a
    location inside a list removes the whole list (its items have no defaults of their own)."""
    node: Any = document
    for depth, part in enumerate(location):
        if not isinstance(node, dict) or part not in node:
            return
        last = depth == len(location) - 1 or isinstance(location[depth + 1], int)
        if last:
            del node[part]
            return
        node = node[part]


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith((f"{parent}.", f"{parent}["))


def _standby_problems(stack: str, recovery: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The dr stack needs its sources, except as the pilot light's standby; no other stack is a standby."""
    pilot_light, sources = recovery.get("mode") == "pilot_light", recovery.get("sources")
    if stack == DR_STACK and not sources and not pilot_light:
        return [
            (
                "recovery.sources",
                f"stack {DR_STACK!r} in cold mode rebuilds production from the replicated data: name its sources "
                "(postgres_automated_backups_arn, and postgres_restore_time or latest) in the recovery: section, or "
                "set recovery.mode pilot_light for the standby that runs before a disaster",
            )
        ]
    if stack != DR_STACK and pilot_light and not sources:
        return [
            (
                "recovery.mode",
                f"stack {stack!r}: pilot_light without recovery.sources declares only the DR region's standby "
                f"(network, cluster), which is stack {DR_STACK!r}'s; use cold here",
            )
        ]
    return []


def load_settings(stack: str, config: Mapping[str, str]) -> Settings:
    """Build the settings of ``stack`` from its raw config (``{"silhouette:postgres": "<json>"}``).

    Raises ``SettingsError`` listing every problem: keys of other namespaces, type errors, unknown keys,
    out-of-range values and cross-field rules.
    """
    profile = profile_of(stack, config)
    if profile not in PROFILES:
        raise SettingsError(
            stack,
            [("environment", f"stack {stack!r} needs silhouette:environment set to one of {', '.join(PROFILES)}")],
        )
    user, problems = _user_document(config)
    problems += _standby_problems(stack, user.get("recovery") or {})
    base = _profile_document(profile)
    settings, errors = _validate(_deep_merge(base, user))
    invalid = [_path(error["loc"]) for error in errors]
    problems += [(_path(error["loc"]), _describe(error)) for error in errors]
    if settings is None:
        # Give every offending key its default so that the rules can still judge everything else.
        for error in errors:
            _without(user, error["loc"])
        settings, _ = _validate(_deep_merge(base, user))
    if settings is not None:
        problems += [issue for issue in rules.check(settings) if not any(_under(issue[0], bad) for bad in invalid)]
    if problems or settings is None:
        raise SettingsError(stack, problems)
    return settings


def pulumi_config() -> dict[str, str]:
    """The running program's raw config, as the Pulumi language host passes it (also under mocks)."""
    merged = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in merged.items()}
