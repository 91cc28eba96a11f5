"""External Secrets objects: a Kubernetes Secret materialised from a Secrets Manager secret."""

from __future__ import annotations

from typing import Any, Final

import pulumi

EXTERNAL_SECRETS_API_VERSION: Final = "external-secrets.io/v1"


def external_secret_spec(
    *,
    store: str,
    target: str,
    source: pulumi.Input[str],
    keys: tuple[str, ...],
    deletion_policy: str | None = None,
    template: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An ExternalSecret's spec: the Kubernetes Secret ``target`` gets ``keys`` from the JSON properties of
    the Secrets Manager secret ``source``, read through the ClusterSecretStore ``store``."""
    target_spec: dict[str, Any] = {"name": target, "creationPolicy": "Owner"}
    if deletion_policy:
        target_spec["deletionPolicy"] = deletion_policy
    if template:
        target_spec["template"] = template
    return {
        "refreshInterval": "1h",
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": store},
        "target": target_spec,
        "data": [{"secretKey": key, "remoteRef": {"key": source, "property": key}} for key in keys],
    }
