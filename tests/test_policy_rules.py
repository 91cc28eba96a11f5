"""Every policy of the compliance pack passes a compliant fixture and fails a violating one with a message
that names the resource, the control and the fix (issue 16, "Bad input"); the pack's config refuses unknown
keys and levels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from silhouette_infra.compliance.controls import CONTROLS
from silhouette_infra.compliance.model import Enforcement, PackConfig, PackConfigError, Resource
from silhouette_infra.compliance.pack import POLICIES, POLICY_NAMES, evaluate
from silhouette_infra.synth.checks.policy import pack_config
from tests.policy_fixtures import BUCKET, CASES, S3, r, sse

BY_NAME = {policy.name: policy for policy in POLICIES}
ONLY = {name: PackConfig(Enforcement.DISABLED, {name: Enforcement.MANDATORY}) for name in POLICY_NAMES}


def test_every_policy_has_a_passing_and_a_violating_case() -> None:
    assert sorted(CASES) == sorted(POLICY_NAMES), "add a Case to tests/policy_fixtures.py for each new policy"


def test_every_policy_names_controls_the_matrix_knows_and_a_fix() -> None:
    for policy in POLICIES:
        assert policy.controls and set(policy.controls) <= set(CONTROLS), f"{policy.name}: unknown controls"
        assert len(policy.fix) > 20 and len(policy.evidence) > 20, f"{policy.name}: fix and evidence must say something"


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_compliant_fixture_passes(name: str) -> None:
    violations = evaluate(CASES[name].good, ONLY[name])
    assert violations == [], f"{name}: the compliant fixture was reported: {[v.message for v in violations]}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_violating_fixture_fails_naming_resource_control_and_fix(name: str) -> None:
    case, policy = CASES[name], BY_NAME[name]
    violations = evaluate(case.bad, ONLY[name])
    assert violations, f"{name}: the violating fixture passed"
    message = violations[0].message
    assert case.expect in message, f"{name}: {message!r} does not say {case.expect!r}"
    assert violations[0].resource in message and message.startswith("urn:pulumi:"), (
        f"{name}: no resource in {message!r}"
    )
    assert all(control in message for control in policy.controls), f"{name}: controls missing from {message!r}"
    assert f"Fix: {policy.fix}" in message, f"{name}: the fix is missing from {message!r}"
    assert violations[0].enforcement is Enforcement.MANDATORY


def test_a_server_access_log_bucket_may_use_sse_s3_and_no_other_bucket() -> None:
    """The one exception of s3-encrypted-with-cmk: S3 server access logging supports only SSE-S3 targets."""
    logging = r("aws:s3/bucketLogging:BucketLogging", "logging", bucket="source", targetBucket=BUCKET)
    bucket, sse_s3 = r(S3, "b", bucket=BUCKET), sse("AES256", None)
    assert evaluate([bucket, sse_s3, logging], ONLY["s3-encrypted-with-cmk"]) == []
    assert evaluate([bucket, sse_s3], ONLY["s3-encrypted-with-cmk"]) != []


def test_an_elasticache_export_bucket_may_use_sse_s3() -> None:
    """The second exception: ElastiCache seeds only from an SSE-S3 .rdb, so a bucket whose policy grants its
    snapshot service principal may use SSE-S3; the same bucket granting another principal may not."""
    bucket, sse_s3 = r(S3, "b", bucket=BUCKET), sse("AES256", None)

    def policy(service: str) -> Resource:
        document = {"Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "s3:GetObject"}]}
        return r("aws:s3/bucketPolicy:BucketPolicy", "p", bucket=BUCKET, policy=json.dumps(document))

    elasticache = policy("us-east-1.elasticache-snapshot.amazonaws.com")
    assert evaluate([bucket, sse_s3, elasticache], ONLY["s3-encrypted-with-cmk"]) == []
    assert evaluate([bucket, sse_s3, policy("logging.s3.amazonaws.com")], ONLY["s3-encrypted-with-cmk"]) != []


def test_a_bucket_without_its_companion_resources_is_reported_by_each_policy() -> None:
    bare = [r(S3, "b", bucket="lonely")]
    for name in ("s3-encrypted-with-cmk", "s3-deny-insecure-transport", "s3-public-access-blocked"):
        assert evaluate(bare, ONLY[name]), f"{name}: a bucket with no encryption/policy/access block passed"


# ---- the pack's config


def test_enforcement_comes_from_the_config_all_then_per_policy() -> None:
    config = PackConfig.parse({"all": "advisory", "dr-copies": {"enforcementLevel": "mandatory"}}, POLICY_NAMES, "x")
    assert config.level("dr-copies") is Enforcement.MANDATORY
    assert config.level("rds-force-ssl") is Enforcement.ADVISORY
    assert PackConfig.parse({}, POLICY_NAMES, "x").level("rds-force-ssl") is Enforcement.MANDATORY


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"al": "mandatory"}, "policy/x.json: al: unknown key (not 'all' nor a policy of the pack: "),
        (
            {"all": "blocking"},
            "policy/x.json: all: 'blocking' is not an enforcement level (mandatory, advisory, disabled)",
        ),
        ({"dr-copies": {"enforcementLevel": "advisory", "days": 3}}, "policy/x.json: dr-copies: unknown key 'days'"),
        (["mandatory"], "policy/x.json: expected a JSON object of policy names to enforcement levels"),
    ],
)
def test_a_bad_pack_config_is_one_line_naming_the_file_and_key(document: object, message: str) -> None:
    with pytest.raises(PackConfigError) as raised:
        PackConfig.parse(document, POLICY_NAMES, "policy/x.json")
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


def test_a_config_that_is_not_json_names_file_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"all": mandatory}')
    with pytest.raises(PackConfigError, match=r"^policy/broken.json:1:9: not JSON"):
        pack_config("broken", tmp_path)


def test_production_enforces_every_policy_and_staging_advises() -> None:
    production, staging = pack_config("production"), pack_config("staging")
    assert {production.level(name) for name in POLICY_NAMES} == {Enforcement.MANDATORY}
    assert {staging.level(name) for name in POLICY_NAMES} == {Enforcement.ADVISORY}


@pytest.mark.parametrize("kind", ["LoadBalancer", "NodePort"])
def test_a_service_exposed_outside_the_cluster_is_a_public_data_store(kind: str) -> None:
    """Neo4j runs in the cluster: its Service must stay ClusterIP like every other one."""
    exposed = r("kubernetes:core/v1:Service", "neo4j", spec={"type": kind}, metadata={"name": "neo4j"})
    (violation,) = evaluate([exposed], ONLY["data-store-not-public"])
    assert f"Service type {kind!r} exposes it outside the cluster" in violation.message


def test_an_eks_cluster_counts_as_protected_only_through_its_own_deletion_protection() -> None:
    """Offline the component's input says it; under the CLI the aws:eks/cluster:Cluster it parents does. A
    deletion-protected cluster elsewhere in the stack does not count for this one."""
    component = r("eks:index:Cluster", "eks")
    other = r("aws:eks/cluster:Cluster", "other", parent="urn:other", deletionProtection=True)
    (violation,) = evaluate([component, other], ONLY["stateful-resources-protected"])
    assert violation.resource == component.urn
    child = r("aws:eks/cluster:Cluster", "eks-cluster", parent=component.urn, deletionProtection=True)
    assert evaluate([component, child], ONLY["stateful-resources-protected"]) == []


def test_rds_proxy_without_tls_is_reported() -> None:
    proxy = r("aws:rds/proxy:Proxy", "postgres-proxy", requireTls=False)
    (violation,) = evaluate([proxy], ONLY["rds-force-ssl"])
    assert "requireTls is not true" in violation.message and violation.resource == proxy.urn
