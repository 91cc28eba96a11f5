"""Declaring typed pulumi-kubernetes objects from the plain manifests the pure builders return."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pulumi

R = TypeVar("R", bound=pulumi.CustomResource)


def declare(resource_class: Callable[..., R], name: str, opts: pulumi.ResourceOptions, **fields: Any) -> R:
    """``resource_class(name, metadata=..., spec=..., opts=opts)``: the builders return plain dicts in API shape,
    which the typed constructors accept at run time but not in their overloaded signatures."""
    return resource_class(name, opts=opts, **fields)
