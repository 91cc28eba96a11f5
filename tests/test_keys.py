"""Keys layer (docs/architecture.md layer 1): a rotating customer-managed key per purpose."""

from __future__ import annotations

import json

import pytest

from silhouette_infra.keys import PURPOSES, key_policy
from silhouette_infra.synth.engine import MOCK_ACCOUNT_ID, CapturedResource, SynthResult

KEY = "aws:kms/key:Key"


def _layer_keys(result: SynthResult) -> list[CapturedResource]:
    return [key for key in result.of_type(KEY) if (c := result.component_of(key)) and c.type == "silhouette:keys:Keys"]


def test_every_kms_key_of_the_stack_rotates(stack: SynthResult) -> None:
    """Keys outside the keys layer too (the DR region's backup key)."""
    for key in stack.of_type(KEY):
        assert key.inputs["enableKeyRotation"] is True, f"{stack.stack}: {key.name}.enableKeyRotation"


def test_a_rotating_customer_managed_key_per_purpose(stack: SynthResult) -> None:
    keys = {key.name: key for key in _layer_keys(stack)}
    assert sorted(keys) == sorted(f"{purpose}-key" for purpose in PURPOSES)
    for name, key in keys.items():
        assert key.inputs["enableKeyRotation"] is True, f"{stack.stack}: {name}.enableKeyRotation"
        assert key.inputs["rotationPeriodInDays"] == stack.settings.keys.rotation_period_days, f"{name}: rotation"
        assert key.inputs["deletionWindowInDays"] == stack.settings.keys.deletion_window_days, f"{name}: window"
        assert key.inputs["customerMasterKeySpec"] == "SYMMETRIC_DEFAULT", f"{name}: symmetric (rotation needs it)"


def test_deletion_window_is_longest_in_production(production: SynthResult, staging: SynthResult) -> None:
    assert {k.inputs["deletionWindowInDays"] for k in _layer_keys(production)} == {30}
    assert {k.inputs["deletionWindowInDays"] for k in _layer_keys(staging)} == {7}


def test_keys_are_protected_in_production_only(production: SynthResult, staging: SynthResult) -> None:
    for key in production.of_type(KEY):
        assert key.protect, f"production: {key.name} must be protected (a deleted key destroys its data)"
    for key in staging.of_type(KEY):
        assert not key.protect, f"staging: {key.name} is deliberately unprotected so the stack can be torn down"


def test_every_key_has_an_alias_named_after_stack_and_purpose(stack: SynthResult) -> None:
    keys = {key.id: key.name for key in _layer_keys(stack)}
    aliases = {
        alias.inputs["name"]: keys[alias.inputs["targetKeyId"]]
        for alias in stack.of_type("aws:kms/alias:Alias")
        if (c := stack.component_of(alias)) and c.type == "silhouette:keys:Keys"
    }
    assert aliases == {f"alias/silhouette-{stack.stack}-{purpose}": f"{purpose}-key" for purpose in PURPOSES}


def test_key_policies_delegate_to_this_account_and_never_to_anyone(stack: SynthResult) -> None:
    for key in stack.of_type(KEY):
        policy = json.loads(key.inputs["policy"])
        for statement in policy["Statement"]:
            assert statement["Principal"] not in ("*", {"AWS": "*"}), f"{key.name}: {statement['Sid']} is public"
        root = policy["Statement"][0]
        assert root["Principal"] == {"AWS": f"arn:aws:iam::{MOCK_ACCOUNT_ID}:root"}, f"{key.name}: root statement"


def test_cloudwatch_logs_may_use_the_logs_key_for_this_accounts_log_groups_only() -> None:
    policy = key_policy("logs", account_id="111122223333", region="eu-west-1")
    (logs,) = [s for s in policy["Statement"] if s["Sid"] == "CloudWatchLogsOfThisAccount"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert "kms:GenerateDataKey*" in logs["Action"] and "kms:Decrypt" in logs["Action"]
    assert logs["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:111122223333:*"}
    }


def test_auto_scaling_may_attach_volumes_encrypted_with_the_ebs_key() -> None:
    policy = key_policy("ebs", account_id="111122223333", region="us-east-1")
    role = "arn:aws:iam::111122223333:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    grants = [s for s in policy["Statement"] if s["Action"] == "kms:CreateGrant"]
    assert grants and grants[0]["Principal"] == {"AWS": role}
    assert grants[0]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


@pytest.mark.parametrize("purpose", ["cluster", "databases", "backups", "registry"])
def test_keys_used_through_iam_roles_have_only_the_delegation_statement(purpose: str) -> None:
    policy = key_policy(purpose, account_id="111122223333", region="us-east-1")  # type: ignore[arg-type]
    assert [s["Sid"] for s in policy["Statement"]] == ["DelegateToIamOfThisAccount"]
