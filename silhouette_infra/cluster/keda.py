"""KEDA's namespace policies and Helm values, pure (the add-on itself is ``addons.Keda``).

Chart kedacore/keda 2.20.2 (kedacore/charts, commit cbb9bb8 "prepare v2.20.2 release"): the operator
(``app: keda-operator``, gRPC 9666 for the metrics server), the metrics API server
(``app: keda-operator-metrics-apiserver``, HTTPS 6443 for the API server) and the admission webhooks
(``app: keda-admission-webhooks``, 9443); keda/templates/*/deployment.yaml.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from silhouette_infra.kubernetes.network_policy import (
    Manifest,
    default_deny,
    dns,
    ip_blocks,
    labels_selector,
    policy,
    port,
)

NAMESPACE: Final = "keda"
OPERATOR: Final = {"app": "keda-operator"}
METRICS_SERVER: Final = {"app": "keda-operator-metrics-apiserver"}
WEBHOOKS: Final = {"app": "keda-admission-webhooks"}
OPERATOR_GRPC_PORT: Final = 9666
METRICS_SERVER_PORT: Final = 6443
WEBHOOK_PORT: Final = 9443
API_SERVER_PORT: Final = 443
BROKER_MANAGEMENT_PORT: Final = 443  # Amazon MQ for RabbitMQ serves the management API on HTTPS 443


def keda_network_policies(
    *,
    control_plane_cidrs: Sequence[str],
    service_cidr: str,
    broker_cidrs: Sequence[str],
    namespace: str = NAMESPACE,
) -> list[Manifest]:
    """Default deny, then: every KEDA pod reaches DNS and the API server (the ``kubernetes`` Service and the
    control plane's ENIs, which EKS places in the cluster's private subnets); the API server reaches the
    metrics API server and the webhooks; the metrics API server reaches the operator's gRPC port; and only
    the operator reaches the broker, on its management port (queue lengths), nothing else outside."""
    api_server = {"to": [*ip_blocks(control_plane_cidrs), *ip_blocks([service_cidr])], "ports": [port(API_SERVER_PORT)]}
    from_api_server = ip_blocks(control_plane_cidrs)
    return [
        default_deny(namespace),
        policy(
            "keda-operator",
            namespace,
            {
                "podSelector": labels_selector(OPERATOR),
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [
                    {"from": [{"podSelector": labels_selector(METRICS_SERVER)}], "ports": [port(OPERATOR_GRPC_PORT)]}
                ],
                "egress": [
                    dns(),
                    api_server,
                    {"to": ip_blocks(broker_cidrs), "ports": [port(BROKER_MANAGEMENT_PORT)]},
                ],
            },
        ),
        policy(
            "keda-metrics-apiserver",
            namespace,
            {
                "podSelector": labels_selector(METRICS_SERVER),
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": from_api_server, "ports": [port(METRICS_SERVER_PORT)]}],
                "egress": [
                    dns(),
                    api_server,
                    {"to": [{"podSelector": labels_selector(OPERATOR)}], "ports": [port(OPERATOR_GRPC_PORT)]},
                ],
            },
        ),
        policy(
            "keda-admission-webhooks",
            namespace,
            {
                "podSelector": labels_selector(WEBHOOKS),
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": from_api_server, "ports": [port(WEBHOOK_PORT)]}],
                "egress": [dns(), api_server],
            },
        ),
    ]


def keda_values(placement: dict[str, Any]) -> dict[str, Any]:
    """Helm values over chart 2.20.2's defaults (keda/values.yaml at that release)."""
    budget = {"maxUnavailable": 1}
    return {
        # Chart default 1 replica each. A second operator and metrics server stand by (leader election: one
        # serves, "it could only reduce downtime during a failover", values.yaml); webhooks serve from both.
        "operator": {"replicaCount": 2},
        "metricsServer": {"replicaCount": 2},
        "webhooks": {"replicaCount": 2},
        # Chart default {} (no budget); templates/*/poddisruptionbudget.yaml write these maps' keys.
        "podDisruptionBudget": {"operator": budget, "metricServer": dict(budget), "webhooks": dict(budget)},
        # The chart's own NetworkPolicies (default off) allow egress to every pod; keda_network_policies
        # declares tighter ones.
        "networkPolicy": {"enabled": False},
        # Chart defaults kept, stated: requests 100m / 100Mi, limits 1 CPU / 1000Mi per component;
        # securityContext drops ALL, no privilege escalation, read-only root, RuntimeDefault seccomp;
        # podSecurityContext runAsNonRoot. The global nodeSelector and tolerations apply to every component
        # (templates/*/deployment.yaml: `.Values.<component>.nodeSelector | default .Values.nodeSelector`).
        **placement,
    }
