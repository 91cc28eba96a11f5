"""Load a stack's settings from its Pulumi config and validate them before anything is declared."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from silhouette_infra.settings import rules
from silhouette_infra.settings.models import Settings
from silhouette_infra.settings.profiles import PROFILES

NAMESPACE = "silhouette"


class SettingsError(Exception):
    """Invalid settings: one message listing every offending key, the stack and what was expected."""

    def __init__(self, stack: str, problems: list[tuple[str, str]]) -> None:
        self.stack = stack
        self.problems = problems
        self.declared: list[str] = []
        lines = [f"{NAMESPACE}:{path}: {message}" for path, message in problems]
        super().__init__(
            f"invalid settings for stack {stack!r} ({len(problems)} problem{'s' if len(problems) != 1 else ''}; "
            "nothing was declared):\n  - " + "\n  - ".join(lines)
        )


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _decode(raw: str) -> Any:
    """Pulumi hands structured config to the program as JSON text and scalars as plain text."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _describe(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return "unknown key (check the spelling against the configuration reference in the README)"
    if error["type"] == "missing":
        return "required key is missing"
    shown = json.dumps(error.get("input"), default=str)
    return f"{message} (got {shown[:80]})"


def profile_of(stack: str, config: Mapping[str, str]) -> str:
    """The stack's profile: ``silhouette:environment`` if set, else the stack name."""
    declared = config.get(f"{NAMESPACE}:environment")
    return str(_decode(declared)) if declared is not None else stack


def load_settings(stack: str, config: Mapping[str, str]) -> Settings:
    """Build the settings of ``stack`` from its raw config (``{"silhouette:postgres": "<json>"}``).

    Keys of other namespaces (``aws:``, ``pulumi:``) are ignored. Raises ``SettingsError`` listing
    every problem: type errors, unknown keys, out-of-range values and cross-field rules.
    """
    profile = profile_of(stack, config)
    if profile not in PROFILES:
        raise SettingsError(
            stack,
            [
                (
                    "environment",
                    f"stack {stack!r} needs silhouette:environment set to one of {', '.join(PROFILES)}",
                )
            ],
        )
    user = {key.split(":", 1)[1]: _decode(value) for key, value in config.items() if key.startswith(f"{NAMESPACE}:")}
    document = _deep_merge({"environment": profile, **PROFILES[profile]}, user)
    try:
        settings = Settings.model_validate(document, strict=True)
    except ValidationError as error:
        problems = [(_path(item["loc"]), _describe(item)) for item in error.errors()]
        raise SettingsError(stack, problems) from None
    problems = rules.check(settings)
    if problems:
        raise SettingsError(stack, problems)
    return settings


def pulumi_config() -> dict[str, str]:
    """The running program's raw config, as the Pulumi language host passes it (also under mocks)."""
    from pulumi.runtime import config as runtime_config

    merged = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in merged.items()}
