"""Read ``Pulumi.<stack>.yaml`` the way the Pulumi CLI reads it, so that synth and ``pulumi preview`` can
never disagree about what a stack file says.

The CLI's reader is YAML 1.2 (``yes``/``no``/``on`` are text, ``7:00`` is text, not 420) and refuses
duplicate keys; PyYAML is YAML 1.1 and keeps the last duplicate, so ruamel.yaml's YAML 1.2 reader is
used instead. A file the CLI would not read, or whose keys it would silently ignore, is one line naming
the file, the line and the column.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

SECRET_PLACEHOLDER = "offline-synth-placeholder-not-a-secret"
# Top-level keys of a stack settings file (https://www.pulumi.com/docs/iac/concepts/projects/stack-settings-file/):
# the stack's config, its secrets provider and salt, and the ESC environments it imports.
TOP_LEVEL_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")


class StackFileError(Exception):
    """A stack file that cannot be read, or a stack without a file: one line for a person to act on."""


def stack_file(root: Path, stack: str) -> Path:
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise StackFileError(
            f"unknown stack {stack!r}: there is no {path.name}; known stacks: {', '.join(known_stacks(root))}"
        )
    return path


def known_stacks(root: Path) -> list[str]:
    return sorted(path.name[len("Pulumi.") : -len(".yaml")] for path in root.glob("Pulumi.*.yaml"))


def read_stack_config(path: Path) -> dict[str, str]:
    """The config of a stack file as the CLI passes it to the program: text per key, JSON text for
    structured values. Secret values (``secure:``) cannot be decrypted offline: they become a marked
    placeholder."""
    name = path.name
    try:
        document = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark is not None else name
        problem = (error.problem or error.context or "not valid YAML").strip()
        context = error.context_mark
        if error.problem and error.context and context is not None and context is not mark:
            problem += f" ({error.context.strip()} at line {context.line + 1}, column {context.column + 1})"
        raise StackFileError(f"{where}: {problem}") from None
    except (YAMLError, UnicodeDecodeError) as error:
        raise StackFileError(f"{name}: not valid YAML ({str(error).splitlines()[0]})") from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise StackFileError(f"{name}: expected a mapping with a config: key at the top level")
    unknown = [str(key) for key in document if key not in TOP_LEVEL_KEYS]
    if unknown:
        raise StackFileError(
            f"{name}: unknown top-level key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"a stack file has {', '.join(TOP_LEVEL_KEYS)} (the CLI would ignore the whole section)"
        )
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{name}: config: expected a mapping of namespace:key to values")
    return {str(key): _as_cli_text(value) for key, value in config.items()}


def _as_cli_text(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"secure"}:
        return SECRET_PLACEHOLDER
    if isinstance(value, str):
        return value
    return json.dumps(value, default=_text)


def _text(value: Any) -> str:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()  # YAML 1.2 has no timestamps: the CLI reads the text
    raise TypeError(f"cannot pass {type(value).__name__} as config")
