"""Declaring typed pulumi-kubernetes objects from the plain manifests the pure builders return."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import pulumi

R = TypeVar("R", bound=pulumi.CustomResource)


def declare(resource_class: Callable[..., R], name: str, opts: pulumi.ResourceOptions, **fields: Any) -> R:
    """``resource_class(name, metadata=..., spec=..., opts=opts)``: the builders return plain dicts in API shape,
    which the typed constructors accept at run time but not in their overloaded signatures."""
    return resource_class(name, opts=opts, **fields)


def manifest_fields(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """A manifest's top-level fields by the typed classes' Python names (``reclaimPolicy`` -> ``reclaim_policy``);
    nested fields keep their API names. ``apiVersion`` and ``kind`` are the class's."""
    return {
        re.sub(r"(?<=[a-z])([A-Z])", r"_\1", key).lower(): value
        for key, value in manifest.items()
        if key not in ("apiVersion", "kind")
    }
