"""NetworkPolicies of the application namespace: deny everything, then allow exactly the flows of the design.

A pure function on plain data, returning ``networking.k8s.io/v1`` NetworkPolicy manifests (dicts). The flows:

* ALB (target type ``ip``, so its packets come from the public subnets' addresses) -> frontend and backend
  HTTP ports;
* frontend -> backend HTTP port;
* Prometheus pods in the monitoring namespace -> frontend and backend metrics ports;
* backend -> PostgreSQL, Redis and RabbitMQ at the isolated (data) subnets, Neo4j's pods on Bolt, the
  OpenTelemetry Collector's pods in the monitoring namespace on OTLP (gRPC 4317, HTTP 4318), DNS, and
  the internet on 80/443 for workflow HTTP calls: every IPv4 address except the link-local range (instance
  metadata 169.254.169.254 and every other link-local service), the private and carrier-grade NAT ranges,
  the VPC and peered networks. The data subnets are reachable through their own rule, on their ports only;
* the migration Job's pods -> PostgreSQL and DNS;
* the workflow workers -> PostgreSQL (through RDS Proxy, in the isolated subnets), Redis, RabbitMQ on AMQPS,
  Neo4j, the collector, DNS and HTTPS to the internet; Prometheus -> their metrics port;
* frontend -> DNS.

Nothing else: a pod of the namespace that no rule names (a debug pod, a future service) can send and
receive nothing. Pods are selected by ``app.kubernetes.io/name`` alone, so blue-green and canary copies
(which add ``silhouette.io/color`` / ``silhouette.io/track``) get the same policy as their service.

The link-local and private exclusions also shut out the EKS Pod Identity agent (169.254.170.23) and the
interface VPC endpoints (private subnets): a workload that needs AWS credentials or AWS APIs from its own
code needs its own rule for them (the design hands the backend its credentials through External Secrets).

EKS enforces NetworkPolicies only with the VPC CNI's network-policy agent switched on (cluster layer).
The agent always lets a pod's own node in (kubelet probes), which plain Kubernetes semantics, and nca,
do not model.

The Neo4j namespace's own policies admit the backend's pods on Bolt (``silhouette_infra.data.neo4j``);
the monitoring namespace's policies belong to the observability layer.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Final

from silhouette_infra.kubernetes.network_policy import DNS_NAMESPACE as DNS_NAMESPACE
from silhouette_infra.kubernetes.network_policy import DNS_PORT as DNS_PORT
from silhouette_infra.kubernetes.network_policy import DNS_SELECTOR as DNS_SELECTOR
from silhouette_infra.kubernetes.network_policy import NAMESPACE_NAME_LABEL as NAMESPACE_NAME_LABEL
from silhouette_infra.kubernetes.network_policy import Manifest
from silhouette_infra.kubernetes.network_policy import dns as _dns
from silhouette_infra.kubernetes.network_policy import ip_block as _ip_block
from silhouette_infra.kubernetes.network_policy import ip_blocks as _ip_blocks
from silhouette_infra.kubernetes.network_policy import pods_in as _pods_in
from silhouette_infra.kubernetes.network_policy import policy as _policy
from silhouette_infra.kubernetes.network_policy import port as _port
from silhouette_infra.kubernetes.network_policy import selector as _selector

BACKEND: Final = "backend"
FRONTEND: Final = "frontend"
MIGRATIONS: Final = "backend-migrations"
WORKER: Final = "worker"
PROMETHEUS: Final = "prometheus"
NEO4J: Final = "neo4j"
OTEL_COLLECTOR: Final = "otel-collector"  # in the monitoring namespace

POSTGRES_PORT: Final = 5432
REDIS_PORT: Final = 6379
RABBITMQ_PORT: Final = 5671  # AMQP over TLS, the only listener Amazon MQ opens
NEO4J_BOLT_PORT: Final = 7687
OTLP_GRPC_PORT: Final = 4317
OTLP_HTTP_PORT: Final = 4318
INTERNET_PORTS: Final = (80, 443)


# Never reachable through the internet rule: link-local (instance metadata, EKS Pod Identity agent, Amazon
# DNS/NTP), RFC 1918 private networks and RFC 6598 shared address space (carrier-grade NAT, EKS custom
# networking). The VPC and peered networks are added when a stack puts them outside these ranges.
LINK_LOCAL: Final = "169.254.0.0/16"
PRIVATE_RANGES: Final = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
ANYWHERE: Final = "0.0.0.0/0"


_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def network_policies(
    *,
    namespace: str,
    monitoring_namespace: str,
    public_subnet_cidrs: Sequence[str],
    isolated_subnet_cidrs: Sequence[str],
    vpc_cidr: str,
    peered_cidrs: Sequence[str] = (),
    aws_endpoint_cidrs: Sequence[str] = (),
    neo4j_namespace: str = "neo4j",
    backend_port: int = 8080,
    frontend_port: int = 8080,
    metrics_port: int = 9090,
) -> list[Manifest]:
    """The NetworkPolicies of ``namespace``: default deny, then one policy per workload listing its flows.

    ``ValueError`` names every bad argument: a namespace that is not a DNS label, a port out of range or
    shared between HTTP and metrics (the ALB would reach the metrics), a CIDR that is not IPv4 with host
    bits zero, no subnets, or subnets outside the VPC.

    ``aws_endpoint_cidrs``: the subnets of the interface VPC endpoints. With private DNS, the backend's
    AWS SDK calls (STS AssumeRoleWithWebIdentity for its IRSA role) resolve to endpoint addresses there,
    so the backend may reach them on 443 and nothing else.
    """
    _validate(
        namespaces={
            "namespace": namespace,
            "monitoring_namespace": monitoring_namespace,
            "neo4j_namespace": neo4j_namespace,
        },
        ports={"backend_port": backend_port, "frontend_port": frontend_port, "metrics_port": metrics_port},
        public_subnet_cidrs=public_subnet_cidrs,
        isolated_subnet_cidrs=isolated_subnet_cidrs,
        vpc_cidr=vpc_cidr,
        peered_cidrs=peered_cidrs,
    )

    return [
        _policy("default-deny", namespace, {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        _policy(
            FRONTEND,
            namespace,
            _frontend_flows(
                public_subnet_cidrs=public_subnet_cidrs,
                monitoring_namespace=monitoring_namespace,
                backend_port=backend_port,
                frontend_port=frontend_port,
                metrics_port=metrics_port,
            ),
        ),
        _policy(
            BACKEND,
            namespace,
            _backend_flows(
                public_subnet_cidrs=public_subnet_cidrs,
                isolated_subnet_cidrs=isolated_subnet_cidrs,
                monitoring_namespace=monitoring_namespace,
                neo4j_namespace=neo4j_namespace,
                vpc_cidr=vpc_cidr,
                peered_cidrs=peered_cidrs,
                aws_endpoint_cidrs=aws_endpoint_cidrs,
                backend_port=backend_port,
                metrics_port=metrics_port,
            ),
        ),
        _policy(MIGRATIONS, namespace, _migration_flows(isolated_subnet_cidrs)),
        _policy(
            WORKER,
            namespace,
            _worker_flows(
                isolated_subnet_cidrs=isolated_subnet_cidrs,
                monitoring_namespace=monitoring_namespace,
                neo4j_namespace=neo4j_namespace,
                vpc_cidr=vpc_cidr,
                peered_cidrs=peered_cidrs,
                aws_endpoint_cidrs=aws_endpoint_cidrs,
                metrics_port=metrics_port,
            ),
        ),
    ]


def _frontend_flows(
    *,
    public_subnet_cidrs: Sequence[str],
    monitoring_namespace: str,
    backend_port: int,
    frontend_port: int,
    metrics_port: int,
) -> Manifest:
    """In from the ALB and Prometheus; out to the backend and DNS."""
    return {
        "podSelector": _selector(FRONTEND),
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {"from": _ip_blocks(public_subnet_cidrs), "ports": [_port(frontend_port)]},
            _scraped_by_prometheus(monitoring_namespace, metrics_port),
        ],
        "egress": [{"to": [{"podSelector": _selector(BACKEND)}], "ports": [_port(backend_port)]}, _dns()],
    }


def _backend_flows(
    *,
    public_subnet_cidrs: Sequence[str],
    isolated_subnet_cidrs: Sequence[str],
    monitoring_namespace: str,
    neo4j_namespace: str,
    vpc_cidr: str,
    peered_cidrs: Sequence[str],
    aws_endpoint_cidrs: Sequence[str],
    backend_port: int,
    metrics_port: int,
) -> Manifest:
    """In from the ALB, the frontend and Prometheus; out to the data subnets, Neo4j, the collector, DNS,
    the internet, and the VPC endpoints if any."""
    return {
        "podSelector": _selector(BACKEND),
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {"from": _ip_blocks(public_subnet_cidrs), "ports": [_port(backend_port)]},
            {"from": [{"podSelector": _selector(FRONTEND)}], "ports": [_port(backend_port)]},
            _scraped_by_prometheus(monitoring_namespace, metrics_port),
        ],
        "egress": [
            {
                "to": _ip_blocks(isolated_subnet_cidrs),
                "ports": [_port(p) for p in (POSTGRES_PORT, REDIS_PORT, RABBITMQ_PORT)],
            },
            {"to": [_pods_in(neo4j_namespace, NEO4J)], "ports": [_port(NEO4J_BOLT_PORT)]},
            {
                "to": [_pods_in(monitoring_namespace, OTEL_COLLECTOR)],
                "ports": [_port(OTLP_GRPC_PORT), _port(OTLP_HTTP_PORT)],
            },
            _dns(),
            {
                "to": [_ip_block(ANYWHERE, internet_exceptions(vpc_cidr, peered_cidrs))],
                "ports": [_port(p) for p in INTERNET_PORTS],
            },
            *([{"to": _ip_blocks(aws_endpoint_cidrs), "ports": [_port(443)]}] if aws_endpoint_cidrs else []),
        ],
    }


def _worker_flows(
    *,
    isolated_subnet_cidrs: Sequence[str],
    monitoring_namespace: str,
    neo4j_namespace: str,
    vpc_cidr: str,
    peered_cidrs: Sequence[str],
    aws_endpoint_cidrs: Sequence[str],
    metrics_port: int,
) -> Manifest:
    """The workflow workers: in from Prometheus only (no Service, no ALB); out to PostgreSQL (RDS Proxy),
    Redis and RabbitMQ (AMQPS, never its management API), Neo4j, the collector, DNS, HTTPS to the internet
    for workflow steps that call external APIs (never the metadata address or private ranges), and the VPC
    endpoints if any."""
    return {
        "podSelector": _selector(WORKER),
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [_scraped_by_prometheus(monitoring_namespace, metrics_port)],
        "egress": [
            {
                "to": _ip_blocks(isolated_subnet_cidrs),
                "ports": [_port(p) for p in (POSTGRES_PORT, REDIS_PORT, RABBITMQ_PORT)],
            },
            {"to": [_pods_in(neo4j_namespace, NEO4J)], "ports": [_port(NEO4J_BOLT_PORT)]},
            {
                "to": [_pods_in(monitoring_namespace, OTEL_COLLECTOR)],
                "ports": [_port(OTLP_GRPC_PORT), _port(OTLP_HTTP_PORT)],
            },
            _dns(),
            {"to": [_ip_block(ANYWHERE, internet_exceptions(vpc_cidr, peered_cidrs))], "ports": [_port(443)]},
            *([{"to": _ip_blocks(aws_endpoint_cidrs), "ports": [_port(443)]}] if aws_endpoint_cidrs else []),
        ],
    }


def _migration_flows(isolated_subnet_cidrs: Sequence[str]) -> Manifest:
    """Out only, to PostgreSQL and DNS."""
    return {
        "podSelector": _selector(MIGRATIONS),
        "policyTypes": ["Egress"],
        "egress": [{"to": _ip_blocks(isolated_subnet_cidrs), "ports": [_port(POSTGRES_PORT)]}, _dns()],
    }


def _scraped_by_prometheus(monitoring_namespace: str, metrics_port: int) -> Manifest:
    return {"from": [_pods_in(monitoring_namespace, PROMETHEUS)], "ports": [_port(metrics_port)]}


def internet_exceptions(vpc_cidr: str, peered_cidrs: Sequence[str] = ()) -> list[str]:
    """What the backend's internet rule excludes: link-local, private ranges, and the VPC and peered
    networks where no private range covers them already."""
    excluded = [LINK_LOCAL, *PRIVATE_RANGES]
    for cidr in (vpc_cidr, *peered_cidrs):
        network = ipaddress.IPv4Network(cidr)
        if not any(network.subnet_of(ipaddress.IPv4Network(e)) for e in excluded):
            excluded.append(str(network))
    return excluded


def _validate(
    *,
    namespaces: dict[str, str],
    ports: dict[str, int],
    public_subnet_cidrs: Sequence[str],
    isolated_subnet_cidrs: Sequence[str],
    vpc_cidr: str,
    peered_cidrs: Sequence[str],
) -> None:
    problems = [
        f"{key}={value!r} is not a DNS label (RFC 1123)"
        for key, value in namespaces.items()
        if not _DNS1123_LABEL.match(value)
    ]
    problems += [f"{key}={value} is not a port (1-65535)" for key, value in ports.items() if not 1 <= value <= 65535]
    problems += [
        f"metrics_port={ports['metrics_port']} is also {key}: the ALB would reach the metrics"
        for key in ("backend_port", "frontend_port")
        if ports[key] == ports["metrics_port"]
    ]

    def network(key: str, value: str) -> ipaddress.IPv4Network | None:
        try:
            return ipaddress.IPv4Network(value)
        except ValueError as error:
            problems.append(f"{key}: {value!r} is not an IPv4 CIDR with host bits zero ({error})")
            return None

    vpc = network("vpc_cidr", vpc_cidr)
    for cidr in peered_cidrs:
        network("peered_cidrs", cidr)
    for key, cidrs in (("public_subnet_cidrs", public_subnet_cidrs), ("isolated_subnet_cidrs", isolated_subnet_cidrs)):
        if not cidrs:
            problems.append(f"{key} is empty")
        for cidr in cidrs:
            subnet = network(key, cidr)
            if subnet is not None and vpc is not None and not subnet.subnet_of(vpc):
                problems.append(f"{key}: {cidr} is outside the VPC {vpc_cidr}")
    if problems:
        raise ValueError("network policies: " + "; ".join(problems))
