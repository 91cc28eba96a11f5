"""What ``synth --out`` writes, made for reading and diffing, and the same view the review diff compares.

- A string holding a JSON object or array (IAM, bucket and key policies, dashboards) is written parsed,
  so a reordered or reworded policy shows as the statements that changed, not as one long string.
- A mock output that only echoes an input is left out: ``outputs`` keeps what the mocks computed
  (ids, ARNs, endpoints), which is all that the inputs do not already say.
- YAML is written with sorted keys and multi-line strings as literal blocks (``|``): scripts, collector
  configuration and rule files read as they are written.

Every function is deterministic and idempotent (normalising twice gives the same value), so two synths
of one commit write identical files, and a directory written by an older synth (policies as strings,
echoed outputs) normalises to the same view when it is read back.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from silhouette_infra.synth.libyaml import SafeDumper

COST_FILE = "cost.json"  # monthly_cost per layer, for the review's cost delta
CHECKS_FILE = "checks.json"  # the validators that ran and their failures, for new and resolved findings


def parsed_json_strings(value: Any) -> Any:
    """``value`` with every string that holds a JSON object or array replaced by the parsed document."""
    if isinstance(value, dict):
        return {key: parsed_json_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [parsed_json_strings(item) for item in value]
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            document = json.loads(value)
        except ValueError:
            return value
        if isinstance(document, dict | list):
            return parsed_json_strings(document)
    return value


def computed_outputs(inputs: dict[str, Any], outputs: dict[str, Any]) -> dict[str, Any]:
    """The outputs that are not an input's value echoed back by the mocks."""
    return {key: value for key, value in outputs.items() if key not in inputs or inputs[key] != value}


def readable_resource(record: dict[str, Any]) -> dict[str, Any]:
    """One entry of ``resources.json``: JSON strings parsed, echoed outputs left out."""
    inputs = parsed_json_strings(record.get("inputs") or {})
    outputs = parsed_json_strings(record.get("outputs") or {})
    return {**record, "inputs": inputs, "outputs": computed_outputs(inputs, outputs)}


class _LiteralBlockDumper(SafeDumper):  # type: ignore[valid-type,misc]
    """A safe dumper that writes multi-line strings as literal blocks."""


def _represent_string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # PyYAML falls back to a quoted style by itself when a string cannot be a literal block
    # (trailing spaces, some control characters), so the output always loads back to the same value.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralBlockDumper.add_representer(str, _represent_string)


def yaml_text(document: Any) -> str:
    """``document`` as YAML: sorted keys, multi-line strings as literal blocks."""
    return yaml.dump(document, Dumper=_LiteralBlockDumper, sort_keys=True, allow_unicode=True)
