"""The bootstrap's resources: the state backend (state bucket, its access-log bucket, the state and secrets
keys) and the GitHub deployment identity (the OIDC provider, per stack a preview and a deploy role).

Built from the ground floor's builders (secure bucket, customer-managed key, role), with one explicit AWS
provider bound to the settings' account.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi.runtime import config as runtime_config

from silhouette_infra.aws.buckets import (
    access_log_bucket_policy,
    bucket_name,
    encrypted_bucket_policy,
    lifecycle_rule,
    secure_bucket,
    sse_kms,
)
from silhouette_infra.aws.keys import customer_managed_key, delegated_key_policy
from silhouette_infra.aws.naming import PROJECT, Naming
from silhouette_infra.aws.roles import role_with_policies
from silhouette_infra.bootstrap import policies
from silhouette_infra.bootstrap.settings import BootstrapSettings

STATE_PREFIX = "state/"  # where the state bucket's access logs go in the log bucket
NAMING = Naming("bootstrap")  # the bucket and key names: silhouette-bootstrap-...
ROLES = Naming("github")  # the roles: silhouette-github-<stack>-preview / -deploy (policies.ROLE_PREFIX)
READ_ONLY_ACCESS = "ReadOnlyAccess"


def raw_config() -> dict[str, str]:
    """The running program's config as the CLI (or the offline synth) passes it: ``namespace:key`` to text."""
    merged = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in merged.items()}


def _json(document: pulumi.Output[dict[str, Any]]) -> pulumi.Output[str]:
    return document.apply(lambda value: json.dumps(value, sort_keys=True))


@dataclass(frozen=True)
class Names:
    """Physical names known before anything exists: what the policies and the outputs refer to."""

    state_bucket: str
    log_bucket: str
    secrets_key_alias: str

    @classmethod
    def of(cls, settings: BootstrapSettings) -> Names:
        return cls(
            state_bucket=bucket_name(NAMING, "pulumi-state", settings.region, settings.account_id),
            log_bucket=bucket_name(NAMING, "state-logs", settings.region, settings.account_id),
            secrets_key_alias=f"alias/{NAMING.physical('pulumi-secrets')}",
        )


class StateBackend(pulumi.ComponentResource):
    """The S3 state bucket (versioned, SSE-KMS, TLS-only, public access blocked, access-logged, protected), its
    access-log bucket, the key that encrypts both, and the key of the stacks' ``awskms://`` secrets provider."""

    def __init__(self, settings: BootstrapSettings, names: Names, opts: pulumi.ResourceOptions) -> None:
        super().__init__("silhouette:bootstrap:StateBackend", "state", None, opts)
        child = pulumi.ResourceOptions(parent=self)
        state_arn = f"arn:aws:s3:::{names.state_bucket}"
        self.state_key = customer_managed_key(
            "state-key",
            naming=NAMING,
            purpose="pulumi-state",
            description="the Pulumi state bucket and its access logs",
            policy=json.dumps(
                delegated_key_policy(
                    "pulumi-state",
                    account_id=settings.account_id,
                    statements=[
                        policies.access_logs_key_statement(account_id=settings.account_id, source_bucket_arn=state_arn)
                    ],
                )
            ),
            deletion_window_days=settings.key_deletion_window_days,
            protect=True,
            opts=child,
        )
        self.secrets_key = customer_managed_key(
            "secrets-key",
            naming=NAMING,
            purpose="pulumi-secrets",
            description="the awskms:// secrets provider of the Pulumi stacks",
            policy=json.dumps(delegated_key_policy("pulumi-secrets", account_id=settings.account_id)),
            deletion_window_days=settings.key_deletion_window_days,
            protect=True,
            opts=child,
        )
        logs = secure_bucket(
            "state-logs",
            physical_name=names.log_bucket,
            tags=NAMING.name_tag("state-logs"),
            encryption=sse_kms(self.state_key.arn),
            lifecycle=[
                lifecycle_rule(
                    "expire-access-logs", expiration_days=settings.access_log_retention_days, noncurrent_days=30
                )
            ],
            policy=lambda arn: arn.apply(
                lambda log_arn: json.dumps(access_log_bucket_policy(log_arn, state_arn, settings.account_id))
            ),
            parent=self,
            protect=True,
        )
        key_arn = self.state_key.arn
        state = secure_bucket(
            "state",
            physical_name=names.state_bucket,
            tags=NAMING.name_tag("pulumi-state"),
            encryption=sse_kms(key_arn),
            lifecycle=[lifecycle_rule("expire-old-checkpoints", noncurrent_days=settings.state_version_retention_days)],
            policy=lambda arn: _json(
                pulumi.Output.all(arn, key_arn).apply(lambda values: encrypted_bucket_policy(values[0], values[1]))
            ),
            parent=self,
            protect=True,
        )
        aws.s3.BucketLogging(
            "state-access-logging",
            bucket=state.bucket.id,
            target_bucket=logs.bucket.id,
            target_prefix=STATE_PREFIX,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs.policy]),
        )
        self.state_bucket = state.bucket
        self.bucket_arns = [state.bucket.arn, logs.bucket.arn]
        self.register_outputs({"state_bucket": state.bucket.bucket, "secrets_key_arn": self.secrets_key.arn})


class GitHubDeployment(pulumi.ComponentResource):
    """GitHub's OIDC provider and, per stack, a read-only preview role and a deploy role inside the permissions
    boundary, each trusting only this repository's tokens with the right ``sub`` and ``aud``."""

    def __init__(self, settings: BootstrapSettings, backend: StateBackend, opts: pulumi.ResourceOptions) -> None:
        super().__init__("silhouette:bootstrap:GitHubDeployment", "github", None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # IAM needs no thumbprint for GitHub: it trusts the provider's certificate through its own library of
        # root CAs (pulumi_aws.iam.OpenIdConnectProvider, thumbprint_lists).
        self.provider = aws.iam.OpenIdConnectProvider(
            "github-oidc",
            url=policies.GITHUB_OIDC_URL,
            client_id_lists=[policies.STS_AUDIENCE],
            tags=ROLES.name_tag("oidc"),
            opts=child,
        )
        boundary_document = pulumi.Output.all(*backend.bucket_arns, backend.state_key.arn, backend.secrets_key.arn)
        self.boundary = aws.iam.Policy(
            "deploy-boundary",
            name=policies.BOUNDARY_POLICY_NAME,
            description="Permissions boundary of the GitHub deploy roles (README, Bootstrap)",
            policy=_json(
                boundary_document.apply(
                    lambda arns: policies.deploy_boundary_policy(
                        account_id=settings.account_id,
                        regions=settings.deploy_regions,
                        bucket_arns=arns[:2],
                        key_arns=arns[2:],
                    )
                )
            ),
            opts=child,
        )
        state_reader = _json(
            pulumi.Output.all(backend.state_bucket.arn, backend.state_key.arn, backend.secrets_key.arn).apply(
                lambda arns: policies.state_reader_policy(
                    bucket_arn=arns[0], state_key_arn=arns[1], secrets_key_arn=arns[2]
                )
            )
        )
        self.preview_roles: dict[str, aws.iam.Role] = {}
        self.deploy_roles: dict[str, aws.iam.Role] = {}
        for stack in settings.stacks:
            self.preview_roles[stack] = role_with_policies(
                f"{stack}-preview",
                naming=ROLES,
                description=f"pulumi preview of {stack} from GitHub Actions: read-only",
                trust_policy=self._trust(policies.preview_subjects(settings.github_repository)),
                managed_policy_arns=[f"arn:aws:iam::aws:policy/{READ_ONLY_ACCESS}"],
                inline_policies={"pulumi-state-read": state_reader},
                parent=self,
            )
            self.deploy_roles[stack] = role_with_policies(
                f"{stack}-deploy",
                naming=ROLES,
                description=f"pulumi up of {stack} from its GitHub environment, within the deploy boundary",
                trust_policy=self._trust(policies.deploy_subjects(settings.github_repository, stack)),
                managed_policy_arns=list(settings.deploy_policy_arns),
                permissions_boundary=self.boundary.arn,
                max_session_seconds=settings.deploy_session_hours * 3600,
                parent=self,
            )
        self.register_outputs({"oidc_provider_arn": self.provider.arn})

    def _trust(self, subjects: list[str]) -> pulumi.Output[str]:
        return self.provider.arn.apply(
            lambda arn: json.dumps(policies.github_trust_policy(provider_arn=arn, subjects=subjects))
        )


def build_bootstrap(settings: BootstrapSettings, name: str) -> Mapping[str, Any]:
    """Declare the bootstrap of one account; returns the stack outputs, among them ``github_variables``: the
    repository variables the workflows read (README, Delivery)."""
    provider = aws.Provider(
        "aws",
        region=settings.region,
        allowed_account_ids=[settings.account_id],
        default_tags=aws.ProviderDefaultTagsArgs(
            tags={"Project": PROJECT, "Stack": f"bootstrap-{name}", "ManagedBy": "pulumi"}
        ),
    )
    opts = pulumi.ResourceOptions(providers={"aws": provider})
    names = Names.of(settings)
    backend = StateBackend(settings, names, opts)
    github = GitHubDeployment(settings, backend, opts)
    backend_url = f"s3://{names.state_bucket}?region={settings.region}"
    secrets_provider = f"awskms://{names.secrets_key_alias}?region={settings.region}"
    variables: dict[str, Any] = {"AWS_REGION": settings.region}
    for stack in settings.stacks:
        prefix = stack.upper().replace("-", "_")
        variables[f"{prefix}_PREVIEW_ROLE_ARN"] = github.preview_roles[stack].arn
        variables[f"{prefix}_DEPLOY_ROLE_ARN"] = github.deploy_roles[stack].arn
        variables[f"{prefix}_PULUMI_BACKEND_URL"] = backend_url
    return {
        "state_bucket": backend.state_bucket.bucket,
        "backend_url": backend_url,
        "secrets_provider": secrets_provider,
        "oidc_provider_arn": github.provider.arn,
        "deploy_boundary_arn": github.boundary.arn,
        "github_variables": variables,
    }
