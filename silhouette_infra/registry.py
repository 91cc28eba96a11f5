"""Image registries: one ECR repository per service, immutable tags, scanned, KMS-encrypted."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from silhouette_infra.aws.context import LayerArgs
from silhouette_infra.settings.models import RegistrySettings

PROJECT_PREFIX = "silhouette"  # repositories are <project>/<stack>/<service>


def lifecycle_policy(settings: RegistrySettings) -> dict[str, Any]:
    """Untagged layers expire quickly; tagged releases are kept deep enough to roll back."""
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"expire untagged images after {settings.untagged_expiry_days} days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": settings.untagged_expiry_days,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"keep the {settings.keep_tagged_images} most recent tagged images",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": settings.keep_tagged_images,
                },
                "action": {"type": "expire"},
            },
        ]
    }


@dataclass
class RegistryArgs(LayerArgs):
    settings: RegistrySettings
    key_arn: pulumi.Input[str]


class Registry(pulumi.ComponentResource):
    repository_urls: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:registry:Registry", name, None, opts)
        self.repository_urls = {}
        policy = json.dumps(lifecycle_policy(args.settings))
        for repository_name in args.settings.repositories:
            repository = aws.ecr.Repository(
                repository_name,
                name=f"{PROJECT_PREFIX}/{args.naming.stack}/{repository_name}",
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                encryption_configurations=[
                    aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=args.key_arn)
                ],
                force_delete=False,
                tags=args.naming.name_tag(repository_name),
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            )
            aws.ecr.LifecyclePolicy(
                f"{repository_name}-lifecycle",
                repository=repository.name,
                policy=policy,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.repository_urls[repository_name] = repository.repository_url
        if args.settings.replicate_to_dr_region:
            self._replication(args)
        self.register_outputs({"repository_urls": self.repository_urls})

    def _replication(self, args: RegistryArgs) -> None:
        """Every image pushed to the stack's repositories is replicated to the DR region, so the dr stack pulls
        the same digests there (https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html).

        The configuration is one per registry (account and region): a second stack in the same account would
        replace this one, so it names this stack's repository prefix only and is declared by production alone.
        Replicated repositories are created in the DR region encrypted like the source (AES-256 where the
        source's KMS key does not exist there); they are the images, not data to protect further."""
        aws.ecr.ReplicationConfiguration(
            "registry-replication",
            replication_configuration=aws.ecr.ReplicationConfigurationReplicationConfigurationArgs(
                rules=[
                    aws.ecr.ReplicationConfigurationReplicationConfigurationRuleArgs(
                        destinations=[
                            aws.ecr.ReplicationConfigurationReplicationConfigurationRuleDestinationArgs(
                                region=args.context.dr_region, registry_id=args.account_id
                            )
                        ],
                        repository_filters=[
                            aws.ecr.ReplicationConfigurationReplicationConfigurationRuleRepositoryFilterArgs(
                                filter=f"{PROJECT_PREFIX}/{args.naming.stack}/", filter_type="PREFIX_MATCH"
                            )
                        ],
                    )
                ]
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
