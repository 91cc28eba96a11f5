"""The bootstrap's typed settings, read from ``bootstrap/Pulumi.<name>.yaml`` (namespace ``silhouette-bootstrap``).

Pure data and one loader: every problem is reported at once, one line naming the stack file and the key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

NAMESPACE = "silhouette-bootstrap"
STACK_NAME = re.compile(r"[a-z][a-z0-9-]{0,30}")
REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")


def _stacks(stacks: list[str]) -> list[str]:
    bad = [stack for stack in stacks if not STACK_NAME.fullmatch(stack)]
    if bad:
        raise ValueError(f"stack names are lowercase letters, digits and '-': {', '.join(map(repr, bad))}")
    if len(set(stacks)) != len(stacks):
        raise ValueError("a stack is listed twice")
    return stacks


def _regions(regions: list[str]) -> list[str]:
    bad = [region for region in regions if not REGION.fullmatch(region)]
    if bad:
        raise ValueError(f"not AWS regions: {', '.join(map(repr, bad))}")
    return regions


class BootstrapSettings(BaseModel):
    """One AWS account's deployment identity and state."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_id: Annotated[str, Field(pattern=r"^\d{12}$")] = Field(
        description="The AWS account this bootstrap runs in; the provider refuses any other (allowed_account_ids)."
    )
    region: Annotated[str, Field(pattern=REGION.pattern)] = Field(
        default="us-east-1", description="Region of the state bucket, its log bucket and the KMS keys."
    )
    github_repository: Annotated[str, Field(pattern=f"^{REPOSITORY.pattern}$")] = Field(
        description="`owner/name` of the repository whose workflows may assume the roles (the OIDC `sub` claim)."
    )
    stacks: Annotated[list[str], Field(min_length=1), AfterValidator(_stacks)] = Field(
        description="The platform stacks deployed into this account; each gets a preview and a deploy role, and "
        "its deploy role trusts only the GitHub environment of the same name."
    )
    deploy_regions: Annotated[list[str], Field(min_length=1), AfterValidator(_regions)] = Field(
        default=["us-east-1", "us-west-2"],
        description="Regions the deploy roles may act in (the stacks' region and DR region); the permissions "
        "boundary denies every other region, global services excepted.",
    )
    deploy_policy_arns: list[Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/.+$")]] = Field(
        default=["arn:aws:iam::aws:policy/AdministratorAccess"],
        min_length=1,
        description="Managed policies of the deploy roles. What they may really do is these policies within the "
        "permissions boundary (README, Bootstrap).",
    )
    deploy_session_hours: int = Field(
        default=2,
        ge=1,
        le=12,
        description="Longest session of a deploy role: a production `pulumi up` must finish within it.",
    )
    state_version_retention_days: int = Field(
        default=365,
        ge=30,
        description="How long overwritten state files (earlier checkpoints) are kept in the versioned state bucket.",
    )
    access_log_retention_days: int = Field(
        default=365, ge=90, description="How long the state bucket's S3 server access logs are kept."
    )
    key_deletion_window_days: int = Field(
        default=30, ge=7, le=30, description="Waiting period before a scheduled deletion of a bootstrap KMS key."
    )


class BootstrapSettingsError(Exception):
    """Settings the bootstrap refuses: one line per problem, each naming the stack file and the key."""


def load_bootstrap_settings(stack: str, config: Mapping[str, str]) -> BootstrapSettings:
    """The settings of bootstrap stack ``stack`` from its raw config (``namespace:key`` to text or JSON text,
    as the CLI passes it and as the offline synth reads the stack file)."""
    file = f"bootstrap/Pulumi.{stack}.yaml"
    values: dict[str, object] = {}
    problems: list[str] = []
    for key, text in config.items():
        namespace, _, name = key.partition(":")
        if namespace != NAMESPACE:
            if namespace != "pulumi":
                problems.append(f"{key}: not a {NAMESPACE}: key; the bootstrap reads nothing else")
            continue
        # Lists arrive as JSON text; scalars as the text the file holds, which pydantic converts where a
        # number is expected (an account id stays text, leading zeros included).
        try:
            values[name] = json.loads(text) if text.lstrip().startswith(("[", "{")) else text
        except json.JSONDecodeError as error:
            problems.append(f"{key}: not valid JSON ({error.msg})")
    try:
        settings = BootstrapSettings.model_validate(values)
    except ValidationError as error:
        for detail in error.errors():
            where = ".".join(str(part) for part in detail["loc"])
            problems.append(f"{NAMESPACE}:{where}: {detail['msg']}")
        settings = None
    if problems or settings is None:
        raise BootstrapSettingsError(f"invalid bootstrap settings in {file}: " + "; ".join(problems))
    return settings
