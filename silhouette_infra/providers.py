"""Explicit AWS providers: the stack's region and the DR region, both carrying the default tags.

Default tags are the project's one tagging mechanism; resources add only their ``Name``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_aws as aws
import pulumi_random as random

from silhouette_infra.aws.naming import PROJECT
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


@dataclass(frozen=True)
class AwsProviders:
    primary: aws.Provider
    dr: aws.Provider
    random: random.Provider


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
