"""Declaring typed pulumi-kubernetes objects from the plain manifests the pure builders return."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import pulumi
import pulumi_kubernetes as k8s

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


# The kinds a plain manifest is declared as with its typed class; any other kind is a custom resource.
TYPED: dict[str, Callable[..., pulumi.CustomResource]] = {
    "Namespace": k8s.core.v1.Namespace,
    "ServiceAccount": k8s.core.v1.ServiceAccount,
    "Service": k8s.core.v1.Service,
    "NetworkPolicy": k8s.networking.v1.NetworkPolicy,
    "StatefulSet": k8s.apps.v1.StatefulSet,
    "CronJob": k8s.batch.v1.CronJob,
    "Job": k8s.batch.v1.Job,
    "StorageClass": k8s.storage.v1.StorageClass,
}


def declare_manifest(name: str, manifest: Mapping[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """A plain manifest declared as its typed class (``TYPED``), or as a custom resource of its apiVersion and kind
    (an ExternalSecret, a CRD's object)."""
    kind = manifest["kind"]
    if kind not in TYPED:
        return k8s.apiextensions.CustomResource(
            name,
            api_version=manifest["apiVersion"],
            kind=kind,
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=opts,
        )
    return declare(TYPED[kind], name, opts, **manifest_fields(manifest))
