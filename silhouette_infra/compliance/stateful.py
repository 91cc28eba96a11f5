"""What counts as stateful: the resource types whose replacement loses data, and the properties that replace
them. Pure data, so that the policy pack (which protects them) and synth's replacement guard share one list.

The properties are those the AWS provider (Terraform schema ``ForceNew``) cannot change in place: a new value
means delete-and-create, which for these resources loses data.
"""

from __future__ import annotations

from typing import Final

REPLACING_PROPERTIES: Final[dict[str, tuple[str, ...]]] = {
    "aws:rds/instance:Instance": ("identifier", "engine", "kmsKeyId", "storageEncrypted", "username", "dbName"),
    "aws:elasticache/replicationGroup:ReplicationGroup": (
        "replicationGroupId",
        "atRestEncryptionEnabled",
        "kmsKeyId",
        "port",
        "subnetGroupName",
    ),
    "aws:mq/broker:Broker": (
        "brokerName",
        "engineType",
        "deploymentMode",
        "encryptionOptions",
        "publiclyAccessible",
        "storageType",
        "subnetIds",
    ),
    "aws:s3/bucket:Bucket": ("bucket", "bucketPrefix"),
    "aws:kms/key:Key": ("customerMasterKeySpec", "keyUsage", "multiRegion"),
    "aws:backup/vault:Vault": ("name", "kmsKeyArn"),
    "aws:secretsmanager/secret:Secret": ("name", "namePrefix"),
    "aws:ecr/repository:Repository": ("name", "encryptionConfigurations"),
    "eks:index:Cluster": ("name", "encryptionConfigKeyArn"),
}

STATEFUL_TYPES: Final = frozenset(REPLACING_PROPERTIES)
