"""Explicit AWS providers: the stack's region and the DR region, both carrying the default tags.

Default tags are the project's one tagging mechanism; resources add only their ``Name``.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from silhouette_infra.aws.context import AwsProviders, StackContext
from silhouette_infra.aws.naming import PROJECT, Naming
from silhouette_infra.settings.models import Settings


def default_tags(settings: Settings, stack: str) -> dict[str, str]:
    return {
        "Project": PROJECT,
        "Environment": settings.environment,
        "Stack": stack,
        "ManagedBy": "pulumi",
        "CostCenter": settings.aws.cost_center,
        "DataClassification": settings.aws.data_classification,
    }


def build_aws_providers(settings: Settings, stack: str) -> AwsProviders:
    def provider(name: str, region: str) -> aws.Provider:
        return aws.Provider(
            name,
            region=region,
            default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags(settings, stack)),
            allowed_account_ids=settings.aws.allowed_account_ids or None,
        )

    return AwsProviders(
        primary=provider("aws-primary", settings.aws.region),
        dr=provider("aws-dr", settings.aws.dr_region),
        random=random.Provider("random"),
    )


def stack_context(settings: Settings, stack: str) -> StackContext:
    """The context every layer receives: the stack's naming, regions, providers and account."""
    providers = build_aws_providers(settings, stack)
    # One STS lookup for every layer that names the account (key policies, bucket names, confused-deputy
    # conditions), through the stack's provider so it is the account allowed_account_ids pins.
    account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=providers.primary)).account_id
    return StackContext(
        naming=Naming(stack),
        region=settings.aws.region,
        dr_region=settings.aws.dr_region,
        account_id=account_id,
        protect=settings.protect_stateful,
        providers=providers,
    )
