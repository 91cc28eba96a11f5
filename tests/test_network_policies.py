"""The application namespace's NetworkPolicies allow exactly the flows of the design (issue 5, point 4),
proven with network-config-analyzer (nca, IBM) rather than by reading the YAML back.

One nca run (``--scheme``) holds the whole table. Its network configuration ``design`` is the policies of
the application namespace plus the real policies of the Neo4j namespace (``silhouette_infra.data.neo4j``),
over synthetic pods carrying the labels the workloads use. Each row of ``FLOWS`` becomes a one-policy
configuration describing that single flow (an egress rule of its source pod, or an ingress rule of its
destination pod when the source is an address), and one nca query against ``design``: ``permits`` for an
allowed flow, ``forbids`` for a denied one. A flow that selected no pod would pass ``forbids`` vacuously:
the flows are built from the synthetic pods' own labels, and every pod they name is in the pod list.

Pod selectors in the flows use the design's labels, so a backend row covers every backend copy at once:
the rolling Deployment's pods, a blue-green colour and a canary track.

nca lives in its own virtual environment (it pins ``PyYAML==6.0.2``; the project pins 6.0.4) and runs as
a subprocess: ``$SILHOUETTE_NCA`` or ``<repo>/.venv-nca/bin/nca``.
"""

from __future__ import annotations

import inspect
import ipaddress
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from silhouette_infra.cluster import keda
from silhouette_infra.data import neo4j, postgres, rabbitmq, redis
from silhouette_infra.namespaces import network_policies as design
from silhouette_infra.namespaces.network_policies import network_policies
from silhouette_infra.observability.stack import monitoring_network_policies
from silhouette_infra.observability.tracing import collector_network_policy
from silhouette_infra.planning.layout import plan_subnets
from silhouette_infra.planning.release import COLOR_LABEL, NAME_LABEL, TRACK_LABEL
from silhouette_infra.settings.models import ClusterSettings, Neo4jSettings, NetworkSettings
from silhouette_infra.synth.checks.cache import ValidatorCache, run_validator
from silhouette_infra.synth.checks.kubernetes_schema import validate_manifests
from tests.support import PROJECT_ROOT, nca_executable

PART_OF = {"app.kubernetes.io/part-of": "silhouette"}
KUBERNETES_VERSION = "1.35"

NETWORK = NetworkSettings()
CLUSTER = ClusterSettings()
LAYOUT = plan_subnets(
    NETWORK.vpc_cidr,
    len(NETWORK.availability_zones),
    public_prefix=NETWORK.public_subnet_prefix,
    private_prefix=NETWORK.private_subnet_prefix,
    isolated_prefix=NETWORK.isolated_subnet_prefix,
)
APP = "silhouette-production"
MONITORING = "monitoring"
OTHER = "default"


def app_policies(**overrides: Any) -> list[dict[str, Any]]:
    arguments: dict[str, Any] = {
        "namespace": APP,
        "monitoring_namespace": MONITORING,
        "public_subnet_cidrs": LAYOUT.public,
        "isolated_subnet_cidrs": LAYOUT.isolated,
        "vpc_cidr": NETWORK.vpc_cidr,
        **overrides,
    }
    return network_policies(**arguments)


def monitoring_policies() -> list[dict[str, Any]]:
    """The monitoring namespace's own policies (observability layer), with the collector's."""
    return [
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", **policy}
        for policy in [
            *monitoring_network_policies(MONITORING, NETWORK.vpc_cidr, CLUSTER.service_ipv4_cidr),
            collector_network_policy(namespace=MONITORING, app_namespace=APP),
        ]
    ]


def keda_policies() -> list[dict[str, Any]]:
    """KEDA's namespace (cluster layer): only its operator reaches the broker, on the management port."""
    return keda.keda_network_policies(
        control_plane_cidrs=LAYOUT.private, service_cidr=CLUSTER.service_ipv4_cidr, broker_cidrs=LAYOUT.isolated
    )


def neo4j_policies() -> list[dict[str, Any]]:
    placeholder = "unused-by-network-policies"
    neo4j_design = neo4j.Neo4jDesign(
        settings=Neo4jSettings(),
        stack="production",
        region="us-east-1",
        storage_class=placeholder,
        secret_store_name=placeholder,
        credentials_secret_name=placeholder,
        backup_bucket=placeholder,
        backup_kms_key_arn=placeholder,
        backup_role_arn=placeholder,
        app_namespace=APP,
        dump_kms_key_arn=placeholder,
    )
    return neo4j.network_policies(neo4j_design)


# --------------------------------------------------------------------------------------- endpoints
@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str
    labels: Mapping[str, str] = field(hash=False)

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"

    def manifest(self) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": self.name, "namespace": self.namespace, "labels": dict(self.labels)},
            "spec": {"containers": [{"name": "main", "image": "registry.example/app:1.0.0"}]},
        }

    def peer(self) -> dict[str, Any]:
        return {
            "namespaceSelector": {"matchLabels": {design.NAMESPACE_NAME_LABEL: self.namespace}},
            "podSelector": {"matchLabels": dict(self.labels)},
        }


@dataclass(frozen=True)
class Address:
    ip: str
    what: str

    def __str__(self) -> str:
        return f"{self.ip} ({self.what})"

    def peer(self) -> dict[str, Any]:
        return {"ipBlock": {"cidr": f"{self.ip}/32"}}


def host(cidr: str, index: int = 10) -> str:
    return str(ipaddress.IPv4Network(cidr)[index])


BACKEND = Pod("backend", APP, {NAME_LABEL: design.BACKEND, **PART_OF})
BACKEND_GREEN = Pod("backend-green", APP, {NAME_LABEL: design.BACKEND, COLOR_LABEL: "green", **PART_OF})
BACKEND_CANARY = Pod("backend-canary", APP, {NAME_LABEL: design.BACKEND, TRACK_LABEL: "canary", **PART_OF})
FRONTEND = Pod("frontend", APP, {NAME_LABEL: design.FRONTEND, **PART_OF})
MIGRATIONS = Pod("backend-migrations", APP, {NAME_LABEL: design.MIGRATIONS, **PART_OF})
WORKER = Pod("worker", APP, {NAME_LABEL: design.WORKER, **PART_OF})
KEDA_OPERATOR = Pod("keda-operator", keda.NAMESPACE, dict(keda.OPERATOR))
KEDA_METRICS = Pod("keda-operator-metrics-apiserver", keda.NAMESPACE, dict(keda.METRICS_SERVER))
KEDA_WEBHOOKS = Pod("keda-admission-webhooks", keda.NAMESPACE, dict(keda.WEBHOOKS))
DEBUG = Pod("debug", APP, {NAME_LABEL: "debug"})
PROMETHEUS = Pod("prometheus", MONITORING, {NAME_LABEL: design.PROMETHEUS})
GRAFANA = Pod("grafana", MONITORING, {NAME_LABEL: "grafana"})
COLLECTOR = Pod("otel-collector", MONITORING, {NAME_LABEL: design.OTEL_COLLECTOR})
KUBE_STATE_METRICS = Pod("kube-state-metrics", MONITORING, {NAME_LABEL: "kube-state-metrics"})
NEO4J = Pod("neo4j-0", neo4j.NAMESPACE, dict(neo4j.SERVER_SELECTOR))
COREDNS = Pod("coredns", design.DNS_NAMESPACE, dict(design.DNS_SELECTOR))
FAKE_FRONTEND = Pod("fake-frontend", OTHER, {NAME_LABEL: design.FRONTEND})
FAKE_BACKEND = Pod("fake-backend", OTHER, {NAME_LABEL: design.BACKEND})
FAKE_PROMETHEUS = Pod("fake-prometheus", OTHER, {NAME_LABEL: design.PROMETHEUS})
PODS = (
    BACKEND,
    BACKEND_GREEN,
    BACKEND_CANARY,
    FRONTEND,
    MIGRATIONS,
    WORKER,
    KEDA_OPERATOR,
    KEDA_METRICS,
    KEDA_WEBHOOKS,
    DEBUG,
    PROMETHEUS,
    GRAFANA,
    COLLECTOR,
    KUBE_STATE_METRICS,
    NEO4J,
    COREDNS,
    FAKE_FRONTEND,
    FAKE_BACKEND,
    FAKE_PROMETHEUS,
)

ALB = Address(host(LAYOUT.public[0]), "ALB, public subnet a")
ALB_OTHER_ZONE = Address(host(LAYOUT.public[2]), "ALB, public subnet c")
POSTGRES = Address(host(LAYOUT.isolated[0]), "PostgreSQL, isolated subnet a")
REDIS = Address(host(LAYOUT.isolated[1]), "Redis, isolated subnet b")
RABBITMQ = Address(host(LAYOUT.isolated[2]), "RabbitMQ, isolated subnet c")
NODE = Address(host(LAYOUT.private[0]), "node or VPC endpoint, private subnet a")
INSTANCE_METADATA = Address("169.254.169.254", "instance metadata")
POD_IDENTITY_AGENT = Address("169.254.170.23", "EKS Pod Identity agent")
INTERNET = Address("8.8.8.8", "internet")
KUBERNETES_SERVICE = Address(host(CLUSTER.service_ipv4_cidr, 1), "the kubernetes Service (API server ClusterIP)")
CARRIER_GRADE_NAT = Address("100.64.0.10", "RFC 6598 shared space")
OTHER_PRIVATE_172 = Address("172.16.0.10", "RFC 1918, outside the VPC")
OTHER_PRIVATE_192 = Address("192.168.1.10", "RFC 1918, outside the VPC")


# --------------------------------------------------------------------------------------- the table
@dataclass(frozen=True)
class Flow:
    id: str
    source: Pod | Address
    destination: Pod | Address
    port: int
    allowed: bool
    protocol: str = "TCP"

    def __str__(self) -> str:
        verdict = "allowed" if self.allowed else "denied"
        return f"{self.id}: {self.source} -> {self.destination} {self.protocol}/{self.port} should be {verdict}"

    @property
    def query(self) -> str:
        return "permits" if self.allowed else "forbids"

    def query_policy(self) -> dict[str, Any]:
        """One NetworkPolicy whose only captured connection is this flow."""
        ports = [{"protocol": self.protocol, "port": self.port}]
        if isinstance(self.source, Pod):
            owner = self.source
            spec = {"policyTypes": ["Egress"], "egress": [{"to": [self.destination.peer()], "ports": ports}]}
        else:
            assert isinstance(self.destination, Pod), f"{self.id}: an address-to-address flow has no pod to police"
            owner = self.destination
            spec = {"policyTypes": ["Ingress"], "ingress": [{"from": [self.source.peer()], "ports": ports}]}
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": self.id, "namespace": owner.namespace},
            "spec": {"podSelector": {"matchLabels": dict(owner.labels)}, **spec},
        }


HTTP = 8080
METRICS = 9090
FLOWS = (
    # The ALB (target type ip) reaches the HTTP ports from the public subnets, nothing else.
    Flow("alb-to-frontend-http", ALB, FRONTEND, HTTP, True),
    Flow("alb-to-backend-http", ALB_OTHER_ZONE, BACKEND, HTTP, True),
    Flow("alb-to-backend-metrics", ALB, BACKEND, METRICS, False),
    Flow("alb-to-frontend-metrics", ALB, FRONTEND, METRICS, False),
    Flow("alb-to-migrations", ALB, MIGRATIONS, HTTP, False),
    Flow("alb-to-unlisted-pod", ALB, DEBUG, HTTP, False),
    Flow("private-subnet-host-to-backend-http", NODE, BACKEND, HTTP, False),
    Flow("internet-to-frontend-http", INTERNET, FRONTEND, HTTP, False),
    # frontend: the backend's HTTP port and DNS.
    Flow("frontend-to-backend-http", FRONTEND, BACKEND, HTTP, True),
    Flow("frontend-to-backend-metrics", FRONTEND, BACKEND, METRICS, False),
    Flow("frontend-to-dns-udp", FRONTEND, COREDNS, 53, True, "UDP"),
    Flow("frontend-to-dns-tcp", FRONTEND, COREDNS, 53, True),
    Flow("frontend-to-postgres", FRONTEND, POSTGRES, design.POSTGRES_PORT, False),
    Flow("frontend-to-neo4j", FRONTEND, NEO4J, design.NEO4J_BOLT_PORT, False),
    Flow("frontend-to-internet-https", FRONTEND, INTERNET, 443, False),
    # backend: data services on their ports, Neo4j, DNS, the internet on 80/443 only.
    Flow("backend-to-frontend-http", BACKEND, FRONTEND, HTTP, False),
    Flow("backend-to-backend-http", BACKEND, BACKEND, HTTP, False),
    Flow("backend-to-postgres", BACKEND, POSTGRES, design.POSTGRES_PORT, True),
    Flow("backend-to-redis", BACKEND, REDIS, design.REDIS_PORT, True),
    Flow("backend-to-rabbitmq-amqps", BACKEND, RABBITMQ, design.RABBITMQ_PORT, True),
    Flow("backend-to-rabbitmq-plain-amqp", BACKEND, RABBITMQ, 5672, False),
    Flow("backend-to-isolated-subnet-ssh", BACKEND, POSTGRES, 22, False),
    Flow("backend-to-neo4j-bolt", BACKEND, NEO4J, design.NEO4J_BOLT_PORT, True),
    Flow("backend-to-neo4j-http", BACKEND, NEO4J, 7474, False),
    Flow("backend-to-dns-udp", BACKEND, COREDNS, 53, True, "UDP"),
    Flow("backend-to-dns-tcp", BACKEND, COREDNS, 53, True),
    Flow("backend-to-private-subnet-https", BACKEND, NODE, 443, False),
    Flow("backend-to-instance-metadata", BACKEND, INSTANCE_METADATA, 80, False),
    Flow("backend-to-pod-identity-agent", BACKEND, POD_IDENTITY_AGENT, 80, False),
    Flow("backend-to-internet-https", BACKEND, INTERNET, 443, True),
    Flow("backend-to-internet-http", BACKEND, INTERNET, 80, True),
    Flow("backend-to-internet-smtp", BACKEND, INTERNET, 25, False),
    Flow("backend-to-internet-quic", BACKEND, INTERNET, 443, False, "UDP"),
    Flow("backend-to-carrier-grade-nat-https", BACKEND, CARRIER_GRADE_NAT, 443, False),
    Flow("backend-to-172-16-private-https", BACKEND, OTHER_PRIVATE_172, 443, False),
    Flow("backend-to-192-168-private-https", BACKEND, OTHER_PRIVATE_192, 443, False),
    # Traces: the backend sends OTLP to the collector, nobody else does; the collector sends HTTPS out only.
    Flow("backend-to-collector-otlp-grpc", BACKEND, COLLECTOR, design.OTLP_GRPC_PORT, True),
    Flow("backend-to-collector-otlp-http", BACKEND, COLLECTOR, design.OTLP_HTTP_PORT, True),
    Flow("backend-to-collector-metrics", BACKEND, COLLECTOR, 8888, False),
    Flow("frontend-to-collector-otlp-grpc", FRONTEND, COLLECTOR, design.OTLP_GRPC_PORT, False),
    Flow("migrations-to-collector-otlp-grpc", MIGRATIONS, COLLECTOR, design.OTLP_GRPC_PORT, False),
    Flow("unlisted-pod-to-collector-otlp-grpc", DEBUG, COLLECTOR, design.OTLP_GRPC_PORT, False),
    Flow("backend-label-outside-app-namespace-to-collector", FAKE_BACKEND, COLLECTOR, design.OTLP_GRPC_PORT, False),
    Flow("prometheus-to-collector-metrics", PROMETHEUS, COLLECTOR, 8888, True),
    Flow("collector-to-internet-https", COLLECTOR, INTERNET, 443, True),
    Flow("collector-to-vpc-endpoint-https", COLLECTOR, NODE, 443, True),
    Flow("collector-to-instance-metadata", COLLECTOR, INSTANCE_METADATA, 80, False),
    Flow("collector-to-internet-http", COLLECTOR, INTERNET, 80, False),
    Flow("collector-to-backend-http", COLLECTOR, BACKEND, HTTP, False),
    # Blue-green and canary copies keep the backend's name label, so they have its flows.
    Flow("green-backend-to-postgres", BACKEND_GREEN, POSTGRES, design.POSTGRES_PORT, True),
    Flow("canary-backend-to-internet-https", BACKEND_CANARY, INTERNET, 443, True),
    Flow("frontend-to-canary-backend-http", FRONTEND, BACKEND_CANARY, HTTP, True),
    # The migration Job: PostgreSQL and DNS.
    Flow("migrations-to-postgres", MIGRATIONS, POSTGRES, design.POSTGRES_PORT, True),
    Flow("migrations-to-dns-udp", MIGRATIONS, COREDNS, 53, True, "UDP"),
    Flow("migrations-to-redis", MIGRATIONS, REDIS, design.REDIS_PORT, False),
    Flow("migrations-to-neo4j", MIGRATIONS, NEO4J, design.NEO4J_BOLT_PORT, False),
    Flow("migrations-to-internet-https", MIGRATIONS, INTERNET, 443, False),
    Flow("migrations-to-backend-http", MIGRATIONS, BACKEND, HTTP, False),
    # The workflow workers (issue 15): the data services on their ports (PostgreSQL through RDS Proxy in the
    # isolated subnets), never the broker's management API; Neo4j, the collector, DNS, HTTPS out; no HTTP
    # out, never the instance metadata; only Prometheus comes in.
    Flow("worker-to-rabbitmq-amqps", WORKER, RABBITMQ, design.RABBITMQ_PORT, True),
    Flow("worker-to-rabbitmq-management", WORKER, RABBITMQ, keda.BROKER_MANAGEMENT_PORT, False),
    Flow("worker-to-postgres-proxy", WORKER, POSTGRES, design.POSTGRES_PORT, True),
    Flow("worker-to-redis", WORKER, REDIS, design.REDIS_PORT, True),
    Flow("worker-to-neo4j-bolt", WORKER, NEO4J, design.NEO4J_BOLT_PORT, True),
    Flow("worker-to-collector-otlp-grpc", WORKER, COLLECTOR, design.OTLP_GRPC_PORT, True),
    Flow("worker-to-dns-udp", WORKER, COREDNS, 53, True, "UDP"),
    Flow("worker-to-internet-https", WORKER, INTERNET, 443, True),
    Flow("worker-to-internet-http", WORKER, INTERNET, 80, False),
    Flow("worker-to-instance-metadata", WORKER, INSTANCE_METADATA, 80, False),
    Flow("worker-to-instance-metadata-https", WORKER, INSTANCE_METADATA, 443, False),
    Flow("worker-to-private-subnet-https", WORKER, NODE, 443, False),
    Flow("worker-to-backend-http", WORKER, BACKEND, HTTP, False),
    Flow("prometheus-to-worker-metrics", PROMETHEUS, WORKER, METRICS, True),
    Flow("alb-to-worker", ALB, WORKER, METRICS, False),
    Flow("frontend-to-worker", FRONTEND, WORKER, METRICS, False),
    Flow("backend-to-worker", BACKEND, WORKER, METRICS, False),
    # KEDA: its operator reads queue lengths from the broker's management API, nothing else of the broker;
    # the metrics API server and the webhooks never reach it; nothing reaches the internet.
    Flow("keda-operator-to-rabbitmq-management", KEDA_OPERATOR, RABBITMQ, keda.BROKER_MANAGEMENT_PORT, True),
    Flow("keda-operator-to-rabbitmq-amqps", KEDA_OPERATOR, RABBITMQ, design.RABBITMQ_PORT, False),
    Flow("keda-operator-to-postgres", KEDA_OPERATOR, POSTGRES, design.POSTGRES_PORT, False),
    Flow("keda-operator-to-kubernetes-service", KEDA_OPERATOR, KUBERNETES_SERVICE, 443, True),
    Flow("keda-operator-to-control-plane-eni", KEDA_OPERATOR, NODE, 443, True),
    Flow("keda-operator-to-internet-https", KEDA_OPERATOR, INTERNET, 443, False),
    Flow("keda-operator-to-instance-metadata", KEDA_OPERATOR, INSTANCE_METADATA, 80, False),
    Flow("keda-operator-to-worker", KEDA_OPERATOR, WORKER, METRICS, False),
    Flow("keda-metrics-to-rabbitmq-management", KEDA_METRICS, RABBITMQ, keda.BROKER_MANAGEMENT_PORT, False),
    Flow("keda-webhooks-to-rabbitmq-management", KEDA_WEBHOOKS, RABBITMQ, keda.BROKER_MANAGEMENT_PORT, False),
    Flow("keda-metrics-to-operator-grpc", KEDA_METRICS, KEDA_OPERATOR, keda.OPERATOR_GRPC_PORT, True),
    Flow("control-plane-to-keda-metrics", NODE, KEDA_METRICS, keda.METRICS_SERVER_PORT, True),
    Flow("control-plane-to-keda-webhooks", NODE, KEDA_WEBHOOKS, keda.WEBHOOK_PORT, True),
    Flow("internet-to-keda-metrics", INTERNET, KEDA_METRICS, keda.METRICS_SERVER_PORT, False),
    Flow("worker-to-keda-operator-grpc", WORKER, KEDA_OPERATOR, keda.OPERATOR_GRPC_PORT, False),
    Flow("backend-to-keda-operator-grpc", BACKEND, KEDA_OPERATOR, keda.OPERATOR_GRPC_PORT, False),
    # Prometheus scrapes the metrics ports; nobody else in monitoring, nobody elsewhere labelled prometheus.
    # kube-state-metrics lists and watches the API: its ClusterIP and the control plane's ENIs, on 443 only.
    Flow("kube-state-metrics-to-kubernetes-service", KUBE_STATE_METRICS, KUBERNETES_SERVICE, 443, True),
    Flow("kube-state-metrics-to-control-plane-eni", KUBE_STATE_METRICS, NODE, 443, True),
    Flow("kube-state-metrics-to-node-kubelet", KUBE_STATE_METRICS, NODE, 10250, False),
    Flow("kube-state-metrics-to-internet-https", KUBE_STATE_METRICS, INTERNET, 443, False),
    Flow("prometheus-to-backend-metrics", PROMETHEUS, BACKEND, METRICS, True),
    Flow("prometheus-to-frontend-metrics", PROMETHEUS, FRONTEND, METRICS, True),
    Flow("prometheus-to-backend-http", PROMETHEUS, BACKEND, HTTP, False),
    Flow("grafana-to-backend-metrics", GRAFANA, BACKEND, METRICS, False),
    Flow("prometheus-label-outside-monitoring-to-backend-metrics", FAKE_PROMETHEUS, BACKEND, METRICS, False),
    # A pod no rule names gets nothing, and the design's labels count only in the design's namespaces.
    Flow("unlisted-pod-to-backend-http", DEBUG, BACKEND, HTTP, False),
    Flow("unlisted-pod-to-dns", DEBUG, COREDNS, 53, False, "UDP"),
    Flow("unlisted-pod-to-internet-https", DEBUG, INTERNET, 443, False),
    Flow("backend-to-unlisted-pod-http", BACKEND, DEBUG, HTTP, False),
    Flow("frontend-label-outside-app-namespace-to-backend-http", FAKE_FRONTEND, BACKEND, HTTP, False),
    Flow("backend-label-outside-app-namespace-to-neo4j", FAKE_BACKEND, NEO4J, design.NEO4J_BOLT_PORT, False),
)


# --------------------------------------------------------------------------------------- running nca
@dataclass(frozen=True)
class Verdict:
    holds: bool  # nca's permits (allowed flow) or forbids (denied flow) query holds
    explanation: str


@dataclass
class NcaRun:
    verdicts: dict[str, Verdict]
    connectivity: list[str]

    def map_between(self, flow: Flow) -> list[str]:
        """nca's connectivity-map lines from the flow's source pod, or to its destination pod."""
        names = [f"{e}[Pod]" for e in (flow.source, flow.destination) if isinstance(e, Pod)]
        return [line for line in self.connectivity if any(name in line for name in names)]


def _dump(path: Path, documents: list[dict[str, Any]]) -> None:
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))


def _explain(result: dict[str, Any]) -> str:
    lines = [str(result.get("textual_result", "")).replace("\n", "; ")]
    for part in result.get("explanation", []):
        lines.append(str(part.get("description", "")))
        lines.extend(f"  {c['src']} -> {c['dst']}: {c['conn']}" for c in part.get("connections", []))
    return "\n".join(lines)


def _nca(directory: Path, scheme: Path) -> str:
    """nca on ``scheme``, its results written under ``directory/results`` (from an earlier run on the same files
    when the validator cache has one: synth/checks/cache.py); its output."""
    inputs = [path for path in directory.rglob("*") if path.is_file() and path.parent.name != "results"]
    store = ValidatorCache.for_project(PROJECT_ROOT)
    arguments = ["--scheme", str(scheme)]
    completed = run_validator(
        store,
        nca_executable(),
        "network_config_analyzer",
        arguments,
        directory,
        inputs=inputs,
        results=directory / "results",
    )
    if completed.returncode != 0:  # nca counts queries it could not execute
        pytest.fail(f"nca exited {completed.returncode}:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    return completed.stdout


def run_nca(directory: Path, flows: tuple[Flow, ...]) -> NcaRun:
    namespaces = sorted({pod.namespace for pod in PODS})
    _dump(
        directory / "namespaces.yaml",
        [
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": n, "labels": {design.NAMESPACE_NAME_LABEL: n}},
            }
            for n in namespaces
        ],
    )
    _dump(directory / "pods.yaml", [pod.manifest() for pod in PODS])
    _dump(directory / "design.yaml", [*app_policies(), *neo4j_policies(), *monitoring_policies(), *keda_policies()])
    (directory / "flows").mkdir()
    (directory / "results").mkdir()
    configs = [{"name": "design", "networkPolicyList": ["design.yaml"]}]
    queries: list[dict[str, Any]] = [
        {
            "name": "connectivity",
            "connectivityMap": ["design"],
            "outputConfiguration": {
                "outputFormat": "txt_no_fw_rules",
                "outputPath": str(directory / "results" / "connectivity.txt"),
            },
        }
    ]
    for flow in flows:
        _dump(directory / "flows" / f"{flow.id}.yaml", [flow.query_policy()])
        configs.append({"name": flow.id, "networkPolicyList": [f"flows/{flow.id}.yaml"]})
        output = {"outputFormat": "json", "outputPath": str(directory / "results" / f"{flow.id}.json")}
        queries.append({"name": flow.id, flow.query: ["design", flow.id], "outputConfiguration": output})
    scheme = directory / "scheme.yaml"
    scheme.write_text(
        yaml.safe_dump(
            {
                "namespaceList": "namespaces.yaml",
                "podList": "pods.yaml",
                "networkConfigList": configs,
                "queries": queries,
            }
        )
    )

    printed = _nca(directory, scheme)
    verdicts = {}
    for flow in flows:
        path = directory / "results" / f"{flow.id}.json"
        if not path.is_file():
            pytest.fail(f"nca wrote no result for {flow.id}:\n{printed[-3000:]}")
        (result,) = json.loads(path.read_text())
        # numerical_result 0: the query holds (nca's convention for permits and forbids in a scheme)
        verdicts[flow.id] = Verdict(holds=result["numerical_result"] == 0, explanation=_explain(result))
    connectivity = (directory / "results" / "connectivity.txt").read_text().splitlines()
    return NcaRun(verdicts=verdicts, connectivity=[line for line in connectivity if "=>" in line])


@pytest.fixture(scope="module")
def nca(tmp_path_factory: pytest.TempPathFactory) -> NcaRun:
    return run_nca(tmp_path_factory.mktemp("nca"), FLOWS)


# --------------------------------------------------------------------------------------- the proof
@pytest.mark.nca
@pytest.mark.parametrize("flow", FLOWS, ids=[flow.id for flow in FLOWS])
def test_nca_allows_exactly_the_flows_of_the_design(nca: NcaRun, flow: Flow) -> None:
    """Every row of the table, as network-config-analyzer computes it from the policies."""
    verdict = nca.verdicts[flow.id]
    computed = "\n".join(nca.map_between(flow)) or "(no connections)"
    context = f"{flow}\nnca computed:\n{verdict.explanation}\nnca's connectivity map for these pods:\n{computed}"
    assert verdict.holds, context


def test_the_table_names_each_flow_once_between_listed_pods() -> None:
    """Guards the proof itself: a flow from or to a pod nca does not know would be forbidden vacuously."""
    ids = [flow.id for flow in FLOWS]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for flow in FLOWS:
        for endpoint in (flow.source, flow.destination):
            assert not isinstance(endpoint, Pod) or endpoint in PODS, f"{flow.id}: {endpoint} is not in PODS"


@pytest.mark.nca
def test_nca_connectivity_map_of_the_app_namespace_is_exactly_the_design(nca: NcaRun) -> None:
    """Beyond the sampled table: every connection nca finds to or from a pod of the application namespace,
    with its ports, is one of these (addresses as the ranges nca derives from the policies' CIDRs)."""
    public = _span(LAYOUT.public)
    isolated = _span(LAYOUT.isolated)
    dns = "{protocols:TCP, UDP,dst_ports:53}"
    expected: set[tuple[Pod | str, Pod | str, str]] = {
        (public, FRONTEND, _tcp(HTTP)),
        (PROMETHEUS, FRONTEND, _tcp(METRICS)),
        (FRONTEND, COREDNS, dns),
        (MIGRATIONS, isolated, _tcp(design.POSTGRES_PORT)),
        (MIGRATIONS, COREDNS, dns),
        (PROMETHEUS, WORKER, _tcp(METRICS)),
        (WORKER, isolated, _tcp(design.POSTGRES_PORT, design.REDIS_PORT, design.RABBITMQ_PORT)),
        (WORKER, NEO4J, _tcp(design.NEO4J_BOLT_PORT)),
        (WORKER, COLLECTOR, _tcp(design.OTLP_GRPC_PORT, design.OTLP_HTTP_PORT)),
        (WORKER, COREDNS, dns),
        *((WORKER, internet, _tcp(443)) for internet in INTERNET_RANGES),
    }
    for backend in (BACKEND, BACKEND_GREEN, BACKEND_CANARY):
        expected |= {
            (public, backend, _tcp(HTTP)),
            (FRONTEND, backend, _tcp(HTTP)),
            (PROMETHEUS, backend, _tcp(METRICS)),
            (backend, isolated, _tcp(design.POSTGRES_PORT, design.REDIS_PORT, design.RABBITMQ_PORT)),
            (backend, NEO4J, _tcp(design.NEO4J_BOLT_PORT)),
            (backend, COLLECTOR, _tcp(design.OTLP_GRPC_PORT, design.OTLP_HTTP_PORT)),
            (backend, COREDNS, dns),
            *((backend, internet, _tcp(*design.INTERNET_PORTS)) for internet in INTERNET_RANGES),
        }
    wanted = {(_endpoint(source), _endpoint(destination), conns) for source, destination, conns in expected}
    found = set()
    for line in nca.connectivity:
        endpoints, conns = line.split(" : ", 1)
        source, destination = endpoints.split(" => ")
        if f"{APP}/" in endpoints:
            found.add((source, destination, conns))
    assert found == wanted, (
        f"nca finds but the design has not: {sorted(found - wanted)}\n"
        f"the design has but nca does not find: {sorted(wanted - found)}"
    )


# Everything but 10.0.0.0/8, 100.64.0.0/10, 169.254.0.0/16, 172.16.0.0/12 and 192.168.0.0/16, as nca prints it.
INTERNET_RANGES = (
    "0.0.0.0-9.255.255.255",
    "11.0.0.0-100.63.255.255",
    "100.128.0.0-169.253.255.255",
    "169.255.0.0-172.15.255.255",
    "172.32.0.0-192.167.255.255",
    "192.169.0.0-255.255.255.255",
)


def _endpoint(endpoint: Pod | str) -> str:
    return f"{endpoint}[Pod]" if isinstance(endpoint, Pod) else endpoint


def _tcp(*ports: int) -> str:
    """nca's notation: sorted ports, consecutive ones as a range (4317-4318)."""
    runs: list[list[int]] = []
    for port in sorted(ports):
        if runs and port == runs[-1][-1] + 1:
            runs[-1].append(port)
        else:
            runs.append([port])
    spans = [str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs]
    return "{protocols:TCP,dst_ports:" + ",".join(spans) + "}"


def _span(cidrs: tuple[str, ...]) -> str:
    """Adjacent subnets as nca prints them: one address range."""
    networks = sorted(ipaddress.IPv4Network(c) for c in cidrs)
    for before, after in itertools.pairwise(networks):
        assert int(before.broadcast_address) + 1 == int(after.network_address), f"{cidrs} are not adjacent"
    return f"{networks[0].network_address}-{networks[-1].broadcast_address}"


# --------------------------------------------------------------------------------------- pure checks
def peers(policy: dict[str, Any]) -> list[dict[str, Any]]:
    spec = policy["spec"]
    return [
        *(peer for rule in spec.get("ingress", []) for peer in rule.get("from", [])),
        *(peer for rule in spec.get("egress", []) for peer in rule.get("to", [])),
    ]


def rules(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [*policy["spec"].get("ingress", []), *policy["spec"].get("egress", [])]


def test_every_pod_of_the_app_namespace_is_denied_by_default() -> None:
    (default_deny,) = [p for p in app_policies() if p["spec"]["podSelector"] == {}]
    assert default_deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert {p["metadata"]["namespace"] for p in app_policies()} == {APP}


def test_policies_select_pods_by_the_labels_the_workloads_carry() -> None:
    """Pods by ``app.kubernetes.io/name`` only (so blue-green and canary copies match), namespaces by the
    API server's ``kubernetes.io/metadata.name`` only; one peer with both selectors where a pod of another
    namespace is meant (two peers would admit the whole namespace, or the label in any namespace)."""
    workloads = {design.BACKEND, design.FRONTEND, design.MIGRATIONS, design.WORKER}
    pods_elsewhere = {
        MONITORING: [{NAME_LABEL: design.PROMETHEUS}, {NAME_LABEL: design.OTEL_COLLECTOR}],
        neo4j.NAMESPACE: [dict(neo4j.SERVER_SELECTOR)],
        design.DNS_NAMESPACE: [dict(design.DNS_SELECTOR)],
    }
    for policy in app_policies():
        name = policy["metadata"]["name"]
        selector = policy["spec"]["podSelector"]
        assert selector == {} or selector == {"matchLabels": {NAME_LABEL: name}}, name
        assert name in workloads or selector == {}, name
        for peer in peers(policy):
            if "ipBlock" in peer:
                assert set(peer) == {"ipBlock"}, f"{name}: {peer}"
            elif "namespaceSelector" in peer:
                assert peer["namespaceSelector"].keys() == {"matchLabels"}, f"{name}: {peer}"
                assert peer["namespaceSelector"]["matchLabels"].keys() == {design.NAMESPACE_NAME_LABEL}, (
                    f"{name}: {peer}"
                )
                namespace = peer["namespaceSelector"]["matchLabels"][design.NAMESPACE_NAME_LABEL]
                assert peer["podSelector"]["matchLabels"] in pods_elsewhere[namespace], f"{name}: {peer}"
                assert peer["podSelector"].keys() == {"matchLabels"}, f"{name}: {peer}"
            else:
                assert peer == {
                    "podSelector": {"matchLabels": {NAME_LABEL: peer["podSelector"]["matchLabels"][NAME_LABEL]}}
                }
                assert peer["podSelector"]["matchLabels"][NAME_LABEL] in workloads, f"{name}: {peer}"


def test_no_rule_opens_the_internet_without_excluding_metadata_and_private_ranges() -> None:
    """The only ipBlocks are the ALB's public subnets, the data subnets, and 0.0.0.0/0 less link-local
    (169.254.169.254 is the instance metadata service) and every private range."""
    vpc = ipaddress.IPv4Network(NETWORK.vpc_cidr)
    required = {design.LINK_LOCAL, *design.PRIVATE_RANGES}
    for policy in app_policies():
        for peer in peers(policy):
            if "ipBlock" not in peer:
                continue
            block = peer["ipBlock"]
            if block["cidr"] == design.ANYWHERE:
                assert required <= set(block.get("except", [])), f"{policy['metadata']['name']}: {block}"
            else:
                assert block["cidr"] in (*LAYOUT.public, *LAYOUT.isolated), f"{policy['metadata']['name']}: {block}"
                assert ipaddress.IPv4Network(block["cidr"]).subnet_of(vpc)
                assert "except" not in block


def test_every_port_is_a_number_with_its_protocol() -> None:
    """Named ports and port ranges would depend on the containers; every rule lists explicit ports."""
    for policy in app_policies(backend_port=8081, frontend_port=3000, metrics_port=9100):
        for rule in rules(policy):
            assert rule["ports"], f"{policy['metadata']['name']}: a rule without ports opens every port"
            for port in rule["ports"]:
                assert set(port) == {"protocol", "port"}, port
                assert port["protocol"] in {"TCP", "UDP"}, port
                assert isinstance(port["port"], int), port
                assert 1 <= port["port"] <= 65535, port
    ports = {
        p["port"]
        for policy in app_policies(backend_port=8081, frontend_port=3000)
        for r in rules(policy)
        for p in r["ports"]
    }
    assert {8081, 3000} <= ports and HTTP not in ports


def test_data_service_ports_are_the_ones_the_data_layer_opens() -> None:
    assert design.POSTGRES_PORT == postgres.PORT
    assert design.REDIS_PORT == redis.PORT
    assert design.RABBITMQ_PORT == rabbitmq.PORT
    assert design.NEO4J_BOLT_PORT == neo4j.BOLT_PORT
    assert inspect.signature(network_policies).parameters["neo4j_namespace"].default == neo4j.NAMESPACE
    assert {NAME_LABEL: design.NEO4J} == neo4j.SERVER_SELECTOR


def test_policies_are_valid_kubernetes_objects() -> None:
    report = validate_manifests(app_policies(), KUBERNETES_VERSION)
    assert report.ok, [str(f) for f in report.failures]


def test_a_vpc_or_peered_network_outside_the_private_ranges_is_excluded_from_the_internet() -> None:
    assert design.internet_exceptions("10.0.0.0/16") == [design.LINK_LOCAL, *design.PRIVATE_RANGES]
    assert design.internet_exceptions("100.64.0.0/16", ["192.168.10.0/24"]) == [
        design.LINK_LOCAL,
        *design.PRIVATE_RANGES,
    ]
    assert design.internet_exceptions("11.0.0.0/16", ["203.0.113.0/24"]) == [
        design.LINK_LOCAL,
        *design.PRIVATE_RANGES,
        "11.0.0.0/16",
        "203.0.113.0/24",
    ]
    (backend,) = [
        p
        for p in app_policies(
            vpc_cidr="11.0.0.0/16", public_subnet_cidrs=["11.0.0.0/24"], isolated_subnet_cidrs=["11.0.1.0/24"]
        )
        if p["metadata"]["name"] == design.BACKEND
    ]
    (internet,) = [peer["ipBlock"] for peer in peers(backend) if peer.get("ipBlock", {}).get("cidr") == design.ANYWHERE]
    assert "11.0.0.0/16" in internet["except"]


def test_bad_arguments_are_reported_together() -> None:
    with pytest.raises(ValueError) as raised:
        app_policies(
            namespace="Silhouette_Production",
            backend_port=0,
            frontend_port=9090,
            public_subnet_cidrs=[],
            isolated_subnet_cidrs=["10.1.0.0/24", "10.0.1.1/24"],
            peered_cidrs=["not-a-cidr"],
        )
    message = str(raised.value)
    for expected in (
        "namespace='Silhouette_Production' is not a DNS label",
        "backend_port=0 is not a port",
        "metrics_port=9090 is also frontend_port",
        "public_subnet_cidrs is empty",
        "isolated_subnet_cidrs: 10.1.0.0/24 is outside the VPC 10.0.0.0/16",
        "isolated_subnet_cidrs: '10.0.1.1/24' is not an IPv4 CIDR",
        "peered_cidrs: 'not-a-cidr' is not an IPv4 CIDR",
    ):
        assert expected in message


def test_manifests_share_no_objects() -> None:
    """A caller may change one manifest (a Pulumi transform, an annotation) without changing another, and
    the synth's YAML carries no anchors."""
    assert "&id" not in yaml.safe_dump(app_policies())


def test_backend_reaches_the_aws_api_endpoints_on_443_only() -> None:
    """IRSA needs STS; with private DNS its endpoint resolves into the private subnets."""
    from silhouette_infra.namespaces.network_policies import network_policies

    policies = network_policies(
        namespace="silhouette-production",
        monitoring_namespace="monitoring",
        public_subnet_cidrs=["10.0.96.0/24"],
        isolated_subnet_cidrs=["10.0.99.0/24"],
        vpc_cidr="10.0.0.0/16",
        aws_endpoint_cidrs=["10.0.0.0/19"],
    )
    (backend,) = [p for p in policies if p["metadata"]["name"] == "backend"]
    endpoint_rules = [r for r in backend["spec"]["egress"] if r.get("to") == [{"ipBlock": {"cidr": "10.0.0.0/19"}}]]
    assert endpoint_rules == [
        {"to": [{"ipBlock": {"cidr": "10.0.0.0/19"}}], "ports": [{"protocol": "TCP", "port": 443}]}
    ]
