"""The bootstrap program (bootstrap/, README "Bootstrap"), run offline under the same mocks and checkov checks as
the platform: the state bucket and its guarantees, the secrets key, GitHub's OIDC provider and the CI roles'
trust, the deploy boundary, and bad settings refused in one line."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from silhouette_infra.bootstrap import policies
from silhouette_infra.bootstrap.settings import BootstrapSettingsError, load_bootstrap_settings
from silhouette_infra.synth import bootstrap as synth_bootstrap
from silhouette_infra.synth.bootstrap import EXAMPLE_STACK, BootstrapResult, check, run_bootstrap
from silhouette_infra.synth.cli import main
from silhouette_infra.synth.engine.mocks import CapturedResource, unwrap_secrets
from silhouette_infra.synth.engine.stack_file import read_stack_config
from tests.support import PROJECT_ROOT, checkov_missing

REPOSITORY = "example-org/silhouette-infra"  # bootstrap/Pulumi.example.yaml
STACKS = ("staging", "production")
WORKFLOW_VARIABLE = re.compile(r"\$\{\{\s*vars\.([A-Z0-9_]+)\s*\}\}")


@cache
def example() -> BootstrapResult:
    return run_bootstrap(EXAMPLE_STACK)


def named(type_token: str, name: str) -> CapturedResource:
    return example().named(type_token, name)


def document(resource: CapturedResource, key: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(unwrap_secrets(resource.inputs[key]))
    return parsed


def of_bucket(type_token: str, bucket: CapturedResource) -> CapturedResource:
    """The one ``type_token`` resource configuring ``bucket``."""
    (match,) = [r for r in example().of_type(type_token) if r.inputs.get("bucket") == bucket.id]
    return match


def statements(policy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {statement["Sid"]: statement for statement in policy["Statement"]}


@pytest.mark.checkov
def test_the_example_bootstrap_passes_checkov_with_only_recorded_skips() -> None:
    if (missing := checkov_missing()) is not None:
        pytest.fail(missing)
    report = check(example())
    assert report.checked > 50, f"checkov checked only {report.checked} bootstrap resources"
    assert report.ok, "bootstrap example: " + "; ".join(f"{f.check} {f.resource}" for f in report.failures)


def test_the_state_bucket_is_versioned_kms_encrypted_tls_only_private_logged_and_protected() -> None:
    state = named("aws:s3/bucket:Bucket", "state")
    logs = named("aws:s3/bucket:Bucket", "state-logs")
    state_key = named("aws:kms/key:Key", "state-key")
    assert state.protect and logs.protect, "the state and log buckets must be Pulumi-protected"
    assert state.inputs.get("forceDestroy") is False, "aws_s3_bucket.state: force_destroy would empty the state"
    versioning = of_bucket("aws:s3/bucketVersioning:BucketVersioning", state)
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled", "state bucket: versioning off"
    encryption = of_bucket(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", state
    )
    default = encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert default == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": state_key.outputs["arn"]}, (
        f"state bucket: default encryption {default}, expected SSE-KMS with the state key"
    )
    block = of_bucket("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", state)
    assert all(block.inputs[flag] for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls")), (
        "state bucket: public access not blocked"
    )
    assert block.inputs["restrictPublicBuckets"] is True, "state bucket: public buckets not restricted"
    policy = statements(document(of_bucket("aws:s3/bucketPolicy:BucketPolicy", state), "policy"))
    assert policy["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, (
        "state bucket policy: requests without TLS are not denied"
    )
    logging = of_bucket("aws:s3/bucketLogging:BucketLogging", state)
    assert logging.inputs["targetBucket"] == logs.id, "state bucket: access logs do not go to the log bucket"
    log_policy = statements(document(of_bucket("aws:s3/bucketPolicy:BucketPolicy", logs), "policy"))
    delivery = log_policy["S3ServerAccessLogDelivery"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}, "log bucket: S3 logging cannot write"
    assert delivery["Condition"]["ArnLike"]["aws:SourceArn"] == state.outputs["arn"], (
        "log bucket: S3 logging may write on behalf of any bucket, not only the state bucket"
    )


def test_the_keys_rotate_and_are_protected_and_the_secrets_provider_names_the_secrets_key() -> None:
    for name in ("state-key", "secrets-key"):
        key = named("aws:kms/key:Key", name)
        assert key.inputs["enableKeyRotation"] is True, f"aws_kms_key.{name}: rotation off"
        assert key.protect, f"aws_kms_key.{name}: not protected (losing it loses the state or every secret)"
    alias = named("aws:kms/alias:Alias", "secrets-key-alias")
    assert example().outputs["secrets_provider"] == f"awskms://{alias.inputs['name']}?region=us-east-1", (
        "output secrets_provider does not name the secrets key's alias"
    )
    for stack in STACKS:
        stack_file = (PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text()
        assert f"secretsprovider: {example().outputs['secrets_provider']}" in stack_file, (
            f"Pulumi.{stack}.yaml does not use the bootstrap's awskms:// secrets provider"
        )


def test_the_oidc_provider_is_githubs_for_sts() -> None:
    provider = named("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "github-oidc")
    assert provider.inputs["url"] == "https://token.actions.githubusercontent.com", "OIDC provider url"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"], "OIDC provider audiences"


def _trust(stack: str, kind: str) -> dict[str, Any]:
    role = named("aws:iam/role:Role", f"{stack}-{kind}-role")
    (statement,) = document(role, "assumeRolePolicy")["Statement"]
    return dict(statement)


@pytest.mark.parametrize("stack", STACKS)
def test_a_deploy_role_trusts_only_its_stacks_github_environment_in_this_repository(stack: str) -> None:
    statement = _trust(stack, "deploy")
    provider = named("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "github-oidc")
    assert statement["Principal"] == {"Federated": provider.outputs["arn"]}, f"{stack}-deploy: trusted principal"
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity", f"{stack}-deploy: trust action"
    assert set(statement["Condition"]) == {"StringEquals"}, f"{stack}-deploy: a StringLike would allow wildcards"
    assert statement["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": [f"repo:{REPOSITORY}:environment:{stack}"],
    }, f"{stack}-deploy: trusts {statement['Condition']}"


@pytest.mark.parametrize("stack", STACKS)
def test_a_preview_role_trusts_pull_requests_and_main_of_this_repository_only(stack: str) -> None:
    condition = _trust(stack, "preview")["Condition"]
    assert condition == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": [
                f"repo:{REPOSITORY}:pull_request",
                f"repo:{REPOSITORY}:ref:refs/heads/main",
            ],
        }
    }, f"{stack}-preview trusts {condition}"


@pytest.mark.parametrize("stack", STACKS)
def test_a_preview_role_reads_and_a_deploy_role_is_inside_the_boundary(stack: str) -> None:
    preview = named("aws:iam/role:Role", f"{stack}-preview-role")
    deploy = named("aws:iam/role:Role", f"{stack}-deploy-role")
    boundary = named("aws:iam/policy:Policy", "deploy-boundary")
    assert "permissionsBoundary" not in preview.inputs, f"{stack}-preview: read-only needs no boundary"
    assert deploy.inputs["permissionsBoundary"] == boundary.outputs["arn"], f"{stack}-deploy: no permissions boundary"
    attached = {
        r.inputs["policyArn"]
        for r in example().of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.inputs["role"] == preview.outputs["name"]
    }
    assert attached == {"arn:aws:iam::aws:policy/ReadOnlyAccess"}, f"{stack}-preview: managed policies {attached}"
    (inline,) = [
        r for r in example().of_type("aws:iam/rolePolicy:RolePolicy") if r.inputs["role"] == preview.outputs["id"]
    ]
    actions = {
        action
        for statement in document(inline, "policy")["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert actions == {"s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject", "kms:Decrypt"}, (
        f"{stack}-preview: state access {sorted(actions)} (a preview writes nothing)"
    )


def test_the_deploy_boundary_denies_other_regions_long_lived_credentials_and_the_bootstraps_own_resources() -> None:
    boundary = statements(document(named("aws:iam/policy:Policy", "deploy-boundary"), "policy"))
    assert boundary["DenyOtherRegions"]["Condition"] == {
        "StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"]}
    }, "deploy boundary: region condition"
    assert {"iam:CreateUser", "iam:CreateAccessKey", "organizations:*"} <= set(
        boundary["DenyAccountLevelChanges"]["Action"]
    ), "deploy boundary: IAM users, access keys or organization changes allowed"
    own_iam = boundary["DenyChangingTheBootstrapIam"]["Resource"]
    assert any(arn.endswith(":role/silhouette-github-*") for arn in own_iam), "deploy roles can change themselves"
    assert any(arn.endswith(f":policy/{policies.BOUNDARY_POLICY_NAME}") for arn in own_iam), (
        "deploy roles can change their own boundary"
    )
    state = named("aws:s3/bucket:Bucket", "state")
    bucket_guard = boundary["DenyChangingTheStateBuckets"]
    assert state.outputs["arn"] in bucket_guard["Resource"], "deploy boundary: the state bucket is not guarded"
    assert {"s3:DeleteBucket", "s3:PutBucketPolicy", "s3:DeleteObjectVersion"} <= set(bucket_guard["Action"]), (
        "deploy boundary: the state bucket can be deleted, opened or its history erased"
    )
    keys = {named("aws:kms/key:Key", name).outputs["arn"] for name in ("state-key", "secrets-key")}
    assert set(boundary["DenyChangingTheBootstrapKeys"]["Resource"]) == keys, "deploy boundary: keys not guarded"
    assert "kms:ScheduleKeyDeletion" in boundary["DenyChangingTheBootstrapKeys"]["Action"], "keys can be deleted"


def test_the_github_variables_cover_every_variable_the_workflows_read() -> None:
    workflows = PROJECT_ROOT / ".github" / "workflows"
    used = {name for path in workflows.glob("*.yml") for name in WORKFLOW_VARIABLE.findall(path.read_text())}
    provided = set(example().outputs["github_variables"])
    assert used, "the workflows read no repository variable: the pattern or the workflows changed"
    assert used <= provided, f"workflows read variables the bootstrap does not print: {sorted(used - provided)}"


def test_bad_bootstrap_settings_are_one_line_naming_the_file_and_every_key() -> None:
    config = read_stack_config(PROJECT_ROOT / "bootstrap" / "Pulumi.example.yaml")
    config["silhouette-bootstrap:account_id"] = "1234"
    config["silhouette-bootstrap:stacks"] = json.dumps(["staging", "Staging!"])
    config["silhouette-bootstrap:colour"] = "blue"
    config["aws:region"] = "eu-west-1"
    with pytest.raises(BootstrapSettingsError) as raised:
        load_bootstrap_settings("example", config)
    message = str(raised.value)
    assert "\n" not in message, "a settings error is one line"
    for expected in (
        "bootstrap/Pulumi.example.yaml",
        "silhouette-bootstrap:account_id",
        "silhouette-bootstrap:stacks",
        "silhouette-bootstrap:colour",
        "aws:region",
    ):
        assert expected in message, f"the settings error does not name {expected}: {message}"


def test_synth_of_a_bad_bootstrap_stack_exits_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.broken.yaml").write_text('config:\n  silhouette-bootstrap:account_id: "12"\n')
    monkeypatch.setattr(synth_bootstrap, "BOOTSTRAP_ROOT", tmp_path)
    for stack in ("broken", "missing"):
        assert main(["synth", "--program", "bootstrap", "--stack", stack, "--no-checks"]) == 2, f"stack {stack}"
        error = capsys.readouterr().err.strip()
        assert error.count("\n") == 0 and "Traceback" not in error, f"stack {stack}: {error}"
        assert error.startswith("bootstrap: "), f"stack {stack}: {error}"
