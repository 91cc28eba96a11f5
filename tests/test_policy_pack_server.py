"""The pack as the Pulumi CLI runs it: policy/__main__.py started as a process, spoken to over the analyzer gRPC
protocol the CLI uses (``pulumi.runtime.proto``). It lists every policy, finds nothing in production, reports a
violating resource as mandatory with its fix, and takes its enforcement from the CLI's configuration."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from silhouette_infra.compliance.model import Enforcement
from silhouette_infra.compliance.pack import POLICY_NAMES
from silhouette_infra.synth.checks.policy import as_policy_resource, pack_config
from silhouette_infra.synth.engine import CapturedResource
from tests.policy_fixtures import CASES
from tests.support import PROJECT_ROOT, synth

LEVELS = {Enforcement.MANDATORY: analyzer_pb2.MANDATORY, Enforcement.ADVISORY: analyzer_pb2.ADVISORY}


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The pack's analyzer server; it prints its port first, as the CLI expects."""
    server = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "policy" / "__main__.py")],
        stdout=subprocess.PIPE,
        cwd=PROJECT_ROOT / "policy",
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(props))
    return struct


def _stack_request(resources: list[CapturedResource]) -> analyzer_pb2.AnalyzeStackRequest:
    return analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                type=r.type,
                name=r.name,
                urn=r.urn,
                properties=_struct(as_policy_resource(r).props),
                options=analyzer_pb2.AnalyzerResourceOptions(protect=r.protect),
                parent=r.parent_urn,
            )
            for r in resources
        ]
    )


def _configure(analyzer: analyzer_pb2_grpc.AnalyzerStub, stack: str) -> None:
    """What the CLI sends for `--policy-pack-config policy/<stack>.json`: a level for every policy."""
    config = pack_config(stack)
    analyzer.Configure(
        analyzer_pb2.ConfigureAnalyzerRequest(
            policyConfig={
                name: analyzer_pb2.PolicyConfig(enforcementLevel=LEVELS[config.level(name)]) for name in POLICY_NAMES
            }
        )
    )


def test_the_pack_lists_every_policy(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "silhouette-compliance"
    assert [policy.name for policy in info.policies] == list(POLICY_NAMES)


def test_production_passes_the_running_pack(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    _configure(analyzer, "production")
    production = synth("production")
    diagnostics = [
        d
        for r in production.resources
        for d in analyzer.Analyze(
            analyzer_pb2.AnalyzeRequest(type=r.type, name=r.name, urn=r.urn, properties=_struct(r.inputs))
        ).diagnostics
    ]
    diagnostics += analyzer.AnalyzeStack(_stack_request(production.resources)).diagnostics
    assert [d.message for d in diagnostics] == []


def test_a_violation_is_mandatory_and_names_the_fix(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    _configure(analyzer, "production")
    (bad,) = CASES["imdsv2-on-nodes"].bad
    request = analyzer_pb2.AnalyzeRequest(type=bad.type, name=bad.name, urn=bad.urn, properties=_struct(bad.props))
    (diagnostic,) = analyzer.Analyze(request).diagnostics
    assert diagnostic.policyName == "imdsv2-on-nodes" and diagnostic.urn == bad.urn
    assert diagnostic.enforcementLevel == analyzer_pb2.MANDATORY
    assert "httpTokens is 'optional'" in diagnostic.message and "Fix: give every node group" in diagnostic.message


def test_staging_s_config_makes_its_accepted_violations_advisory(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    _configure(analyzer, "staging")
    diagnostics = analyzer.AnalyzeStack(_stack_request(synth("staging").resources)).diagnostics
    assert {d.policyName for d in diagnostics} == {"dr-copies", "stateful-resources-protected"}
    assert {d.enforcementLevel for d in diagnostics} == {analyzer_pb2.ADVISORY}
