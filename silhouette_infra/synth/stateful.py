"""What counts as stateful, which input changes replace it, and the guard that compares two runs.

The properties are those the AWS provider (Terraform schema ``ForceNew``) cannot change in place: a
new value means delete-and-create, which for these resources loses data.
"""

from __future__ import annotations

from typing import Any

from silhouette_infra.synth.engine.mocks import CapturedResource

REPLACING_PROPERTIES: dict[str, tuple[str, ...]] = {
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


def stateful(resources: list[CapturedResource]) -> list[CapturedResource]:
    return [resource for resource in resources if resource.type in REPLACING_PROPERTIES]


def identity(resources: list[CapturedResource]) -> dict[str, dict[str, Any]]:
    """URN -> the values of the properties that would replace each stateful resource."""
    return {
        resource.urn: {key: resource.inputs.get(key) for key in REPLACING_PROPERTIES[resource.type]}
        for resource in stateful(resources)
    }


def replacement_problems(recorded: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]) -> list[str]:
    """Every recorded stateful resource that the current program would delete or replace."""
    problems = []
    for urn, properties in sorted(recorded.items()):
        if urn not in current:
            problems.append(f"{urn} is gone: `pulumi up` would delete it")
            continue
        for key, old in properties.items():
            new = current[urn].get(key)
            if new != old:
                problems.append(f"{urn}: {key} {old!r} -> {new!r} replaces it (delete and create: its data is lost)")
    return problems
