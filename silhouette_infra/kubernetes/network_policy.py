"""Building blocks of NetworkPolicy manifests (plain dicts), shared by every namespace's policies.

Every builder returns fresh dicts: a caller changing one changes nothing else, and YAML dumps carry no
anchors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from silhouette_infra.kubernetes.labels import MANAGED_BY, NAME_LABEL, PART_OF

Manifest = dict[str, Any]

# Set by the API server on every namespace (Kubernetes >= 1.22): the one namespace label nobody can forge.
NAMESPACE_NAME_LABEL: Final = "kubernetes.io/metadata.name"
DNS_NAMESPACE: Final = "kube-system"
DNS_SELECTOR: Final = {"k8s-app": "kube-dns"}  # CoreDNS on EKS keeps kube-dns's label
DNS_PORT: Final = 53
LABELS: Final = {**PART_OF, **MANAGED_BY}


def policy(name: str, namespace: str, spec: Manifest) -> Manifest:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(LABELS)},
        "spec": spec,
    }


def default_deny(namespace: str) -> Manifest:
    return policy("default-deny", namespace, {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})


def dns() -> Manifest:
    """Egress to CoreDNS, UDP and TCP."""
    peer = {
        "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: DNS_NAMESPACE}},
        "podSelector": {"matchLabels": dict(DNS_SELECTOR)},
    }
    return {"to": [peer], "ports": [port(DNS_PORT, "UDP"), port(DNS_PORT)]}


def selector(name: str) -> Manifest:
    return {"matchLabels": {NAME_LABEL: name}}


def labels_selector(labels: Mapping[str, str]) -> Manifest:
    return {"matchLabels": dict(labels)}


def pods_in(namespace: str, name: str) -> Manifest:
    """One peer with both selectors: pods named ``name`` *in* ``namespace`` (two peers would mean either)."""
    return {
        "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: namespace}},
        "podSelector": selector(name),
    }


def ip_block(cidr: str, excluded: Sequence[str] = ()) -> Manifest:
    block: Manifest = {"cidr": cidr}
    if excluded:
        block["except"] = list(excluded)
    return {"ipBlock": block}


def ip_blocks(cidrs: Sequence[str]) -> list[Manifest]:
    return [ip_block(cidr) for cidr in cidrs]


def port(number: int, protocol: str = "TCP") -> Manifest:
    return {"protocol": protocol, "port": number}
