"""Kubernetes objects as the API server would receive them, rebuilt from captured registrations."""

from __future__ import annotations

from typing import Any

from silhouette_infra.synth.engine.mocks import CapturedResource

# Inputs the Kubernetes provider adds or that are Pulumi-only, never part of the object.
_PULUMI_ONLY = {"id", "urn", "status", "__inputs", "__defaults"}


def api_version_and_kind(type_token: str) -> tuple[str, str]:
    """``kubernetes:apps/v1:Deployment`` -> (``apps/v1``, ``Deployment``); core group -> ``v1``."""
    _, group_version, kind = type_token.split(":")
    group, _, version = group_version.rpartition("/")
    if group in ("", "core"):
        return version, kind
    return f"{group}/{version}", kind


def is_kubernetes_object(resource: CapturedResource) -> bool:
    """A custom resource of the Kubernetes provider that becomes one API object (not Helm, not YAML groups)."""
    if not (resource.custom and resource.type.startswith("kubernetes:")):
        return False
    return not resource.type.startswith(("kubernetes:helm.sh/", "kubernetes:yaml/", "kubernetes:kustomize/"))


def manifest_of(resource: CapturedResource) -> dict[str, Any]:
    api_version, kind = api_version_and_kind(resource.type)
    body = {key: value for key, value in resource.inputs.items() if key not in _PULUMI_ONLY}
    body.pop("apiVersion", None)
    body.pop("kind", None)
    return {"apiVersion": api_version, "kind": kind, **body}


def object_name(manifest: dict[str, Any]) -> str:
    """``Kind/namespace/name`` (``Kind/name`` when cluster-scoped): how findings name an object."""
    metadata = manifest.get("metadata") or {}
    namespace = metadata.get("namespace")
    name = metadata.get("name", "<unnamed>")
    return "/".join(part for part in (manifest["kind"], namespace, name) if part)
