"""Pulumi mocks that answer like AWS would, and a monitor that keeps every registration.

The outputs are deterministic (derived from the resource's URN) so that two runs of the same stack
produce byte-identical JSON, and realistic (ids with the AWS prefixes, ARNs in the provider's
region and the mock account) so that code which parses or concatenates them behaves as in a real
deployment.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime import mocks
from pulumi.runtime.proto import resource_pb2

MOCK_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"

# id prefixes AWS uses for EC2-family resources.
_ID_PREFIXES = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:ec2/networkAcl:NetworkAcl": "acl-",
    "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl": "acl-",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
}


def _digest(text: str, length: int = 17) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def eks_cluster_outputs(name: str, region: str) -> dict[str, Any]:
    """What ``pulumi_eks.Cluster`` (a remote component, which registers no children under mocks) returns."""
    issuer_id = _digest(name, 32).upper()
    issuer = f"oidc.eks.{region}.amazonaws.com/id/{issuer_id}"
    server = f"https://{_digest(name + 'api', 32).upper()}.gr7.{region}.eks.amazonaws.com"
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority-data": "bW9jaw=="}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
        "users": [
            {
                "name": name,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": ["eks", "get-token", "--cluster-name", name, "--region", region],
                    }
                },
            }
        ],
    }
    return {
        "kubeconfig": kubeconfig,
        "kubeconfigJson": json.dumps(kubeconfig),
        "oidcIssuer": issuer,
        "oidcProviderUrl": f"https://{issuer}",
        "oidcProviderArn": f"arn:aws:iam::{MOCK_ACCOUNT_ID}:oidc-provider/{issuer}",
        "clusterSecurityGroupId": "sg-" + _digest(name + "cluster"),
        "nodeSecurityGroupId": "sg-" + _digest(name + "nodes"),
    }


@dataclass
class CapturedResource:
    """One registered resource with its inputs, its options and the outputs the mock returned."""

    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    options: dict[str, Any]
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def parent_urn(self) -> str:
        return str(self.options.get("parent", ""))

    @property
    def protect(self) -> bool:
        return bool(self.options.get("protect"))


class AwsLikeMocks(mocks.Mocks):
    """Answers resource registrations and invokes with AWS-shaped values."""

    def __init__(self, primary_region: str = DEFAULT_REGION) -> None:
        self.provider_regions: dict[str, str] = {}
        self.primary_region = primary_region
        self.invoked: list[tuple[str, str]] = []  # (token, provider reference) of every invoke, in call order

    # ------------------------------------------------------------------ resources
    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        typ = args.typ
        seed = f"{typ}::{args.name}"
        if typ.startswith("pulumi:providers:"):
            return f"provider-{_digest(seed, 8)}", inputs
        region = self._region_of(args.provider) or inputs.get("region") or self.primary_region
        if typ == "eks:index:Cluster":
            return "", {**inputs, **eks_cluster_outputs(str(inputs.get("name", args.name)), region)}
        for key, value in list(inputs.items()):  # namePrefix -> name, nodeGroupNamePrefix -> nodeGroupName, ...
            generated = key.removesuffix("Prefix")
            if typ.startswith("aws:") and key != generated and isinstance(value, str) and generated not in inputs:
                inputs[generated] = value + _digest(seed, 8)  # what AWS generates from a prefix
        resource_id = self._id(typ, args.name, inputs, seed)
        state = {**inputs, "id": resource_id}
        if typ == "random:index/randomPassword:RandomPassword":
            state["result"] = ("Mock" + _digest(seed, 64))[: int(inputs.get("length", 32))]
        state.update(self._computed(typ, args.name, inputs, resource_id, region))
        return resource_id, state

    def remember_provider(self, urn: str, provider_id: str, inputs: dict[str, Any]) -> None:
        if "region" in inputs:
            self.provider_regions[f"{urn}::{provider_id}"] = str(inputs["region"])

    def _region_of(self, provider_ref: str | None) -> str | None:
        return self.provider_regions.get(provider_ref) if provider_ref else None

    @staticmethod
    def _id(typ: str, name: str, inputs: dict[str, Any], seed: str) -> str:
        if typ in _ID_PREFIXES:
            return _ID_PREFIXES[typ] + _digest(seed)
        if typ == "aws:kms/key:Key":
            return str(uuid.UUID(hex=_digest(seed, 32)))
        if typ == "aws:kms/alias:Alias":
            return str(inputs.get("name", f"alias/{name}"))
        for key in ("name", "bucket", "roleName", "identifier", "replicationGroupId", "brokerName"):
            if isinstance(inputs.get(key), str):
                return str(inputs[key])
        return f"{name}-{_digest(seed, 8)}"

    @staticmethod
    def _computed(typ: str, name: str, inputs: dict[str, Any], resource_id: str, region: str) -> dict[str, Any]:
        account = MOCK_ACCOUNT_ID
        if not typ.startswith("aws:"):
            return {}
        service = typ.split(":")[1].split("/")[0]
        arn_by_type = {
            "aws:kms/key:Key": f"arn:aws:kms:{region}:{account}:key/{resource_id}",
            "aws:kms/alias:Alias": f"arn:aws:kms:{region}:{account}:{resource_id}",
            "aws:cloudwatch/logGroup:LogGroup": f"arn:aws:logs:{region}:{account}:log-group:{resource_id}",
            "aws:iam/role:Role": f"arn:aws:iam::{account}:role/{resource_id}",
            "aws:rds/instance:Instance": f"arn:aws:rds:{region}:{account}:db:{resource_id}",
            "aws:iam/policy:Policy": f"arn:aws:iam::{account}:policy/{resource_id}",
            "aws:s3/bucket:Bucket": f"arn:aws:s3:::{resource_id}",
            "aws:s3/bucketV2:BucketV2": f"arn:aws:s3:::{resource_id}",
            "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (
                f"arn:aws:iam::{account}:oidc-provider/{str(inputs.get('url', name)).removeprefix('https://')}"
            ),
        }
        arn = arn_by_type.get(
            typ, f"arn:aws:{service}:{region}:{account}:{typ.rsplit(':', 1)[1].lower()}/{resource_id}"
        )
        computed: dict[str, Any] = {"arn": arn, "ownerId": account, "tagsAll": inputs.get("tags", {})}
        if typ == "aws:kms/key:Key":
            computed["keyId"] = resource_id
        if typ == "aws:ec2/vpc:Vpc":
            computed.update(
                defaultSecurityGroupId="sg-" + _digest(resource_id + "default"),
                mainRouteTableId="rtb-" + _digest(resource_id + "main"),
                defaultNetworkAclId="acl-" + _digest(resource_id + "acl"),
            )
        if typ == "aws:ec2/eip:Eip":
            computed["publicIp"] = f"203.0.113.{int(_digest(resource_id, 2), 16) % 250 + 1}"
        if typ == "aws:secretsmanager/secret:Secret":
            computed["arn"] = (
                f"arn:aws:secretsmanager:{region}:{account}:secret:{resource_id}-{_digest(resource_id, 6)}"
            )
        if typ == "aws:rds/instance:Instance":
            address = f"{resource_id}.c{_digest(resource_id, 12)}.{region}.rds.amazonaws.com"
            computed.update(address=address, endpoint=f"{address}:{inputs.get('port', 5432)}")
            if inputs.get("manageMasterUserPassword"):
                secret = (
                    f"arn:aws:secretsmanager:{region}:{account}:secret:rds!db-{uuid.UUID(hex=_digest(address, 32))}"
                )
                computed["masterUserSecrets"] = [
                    {"secretArn": secret, "kmsKeyId": inputs.get("masterUserSecretKmsKeyId"), "secretStatus": "active"}
                ]
        if typ == "aws:rds/proxy:Proxy":
            # RDS Proxy endpoints are <proxy name>.proxy-<random>.<region>.rds.amazonaws.com.
            computed["endpoint"] = f"{resource_id}.proxy-c{_digest(resource_id, 12)}.{region}.rds.amazonaws.com"
        if typ == "aws:elasticache/replicationGroup:ReplicationGroup":
            short_region = "".join(part if i != 1 else part[0] for i, part in enumerate(region.split("-")))
            host = f"{resource_id}.{_digest(resource_id, 6)}.{short_region}.cache.amazonaws.com"
            computed.update(primaryEndpointAddress=f"master.{host}", readerEndpointAddress=f"replica.{host}")
        if typ == "aws:mq/broker:Broker":
            host = f"b-{uuid.UUID(hex=_digest(resource_id, 32))}.mq.{region}.on.aws"
            computed["instances"] = [
                {"endpoints": [f"amqps://{host}:5671"], "consoleUrl": f"https://{host}", "ipAddress": ""}
            ]
        if typ == "aws:acm/certificate:Certificate" and inputs.get("validationMethod") == "DNS":
            computed["domainValidationOptions"] = [
                {
                    "domainName": domain,
                    "resourceRecordName": f"_{_digest(domain + 'name', 32)}.{domain}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": (
                        f"_{_digest(domain + 'value', 32)}.{_digest(domain, 10)}.acm-validations.aws."
                    ),
                }
                for domain in [inputs.get("domainName"), *inputs.get("subjectAlternativeNames", [])]
                if isinstance(domain, str)
            ]
        if typ == "aws:route53/record:Record":
            computed["fqdn"] = str(inputs.get("name", "")).rstrip(".")
        if typ == "aws:ec2/launchTemplate:LaunchTemplate":
            computed["latestVersion"] = 1
        if typ == "aws:ecr/repository:Repository":
            computed["repositoryUrl"] = f"{account}.dkr.ecr.{region}.amazonaws.com/{resource_id}"
        if typ == "aws:ec2/vpcEndpoint:VpcEndpoint":
            computed["dnsEntries"] = [
                {"dnsName": f"{resource_id}.{inputs.get('serviceName', '')}", "hostedZoneId": "Z1"}
            ]
            computed["prefixListId"] = "pl-" + _digest(resource_id, 8)
        return computed

    # ------------------------------------------------------------------ invokes
    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.invoked.append((args.token, args.provider or ""))
        region = self._region_of(args.provider) or DEFAULT_REGION
        answers: dict[str, dict[str, Any]] = {
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "accountId": MOCK_ACCOUNT_ID,
                "arn": f"arn:aws:iam::{MOCK_ACCOUNT_ID}:role/deployer",
                "userId": "AROAMOCK:deployer",
                "id": MOCK_ACCOUNT_ID,
            },
            "aws:index/getPartition:getPartition": {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "id": "aws",
            },
            "aws:index/getRegion:getRegion": {"name": region, "region": region, "id": region},
        }
        if args.token == "aws:lb/getLoadBalancer:getLoadBalancer":
            name = str(args.args.get("name"))
            suffix = f"app/{name}/{_digest(name, 16)}"
            answers[args.token] = {
                "name": name,
                "arn": f"arn:aws:elasticloadbalancing:{region}:{MOCK_ACCOUNT_ID}:loadbalancer/{suffix}",
                "arnSuffix": suffix,
                "dnsName": f"{name}-{int(_digest(name, 8), 16)}.{region}.elb.amazonaws.com",
                "loadBalancerType": "application",
                "id": suffix,
            }
        if args.token not in answers:
            raise NotImplementedError(
                f"the offline engine has no answer for invoke {args.token}; add one in "
                "silhouette_infra/synth/engine/mocks.py (prefer computing the value in Python instead of an invoke)"
            )
        return answers[args.token], []


class CapturingMonitor(mocks.MockMonitor):
    """A MockMonitor that keeps each RegisterResourceRequest: inputs and options, in order."""

    def __init__(self, aws_mocks: AwsLikeMocks) -> None:
        super().__init__(aws_mocks)
        self.aws_mocks = aws_mocks
        self.captured: list[CapturedResource] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        from pulumi.runtime import rpc

        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            return response
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        registration = self.resources[response.urn]
        captured = CapturedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            inputs=_plain(inputs),
            options=_options(request, response.urn),
            id=registration.id or "",
            outputs=_plain(registration.state),
        )
        if request.type.startswith("pulumi:providers:"):
            self.aws_mocks.remember_provider(response.urn, captured.id, captured.inputs)
        self.captured.append(captured)
        return response


def _options(request: resource_pb2.RegisterResourceRequest, urn: str) -> dict[str, Any]:
    custom_timeouts = request.customTimeouts
    return {
        "parent": request.parent,
        "provider": request.provider,
        "protect": bool(request.protect) if request.HasField("protect") else False,
        "retain_on_delete": bool(request.retainOnDelete) if request.HasField("retainOnDelete") else False,
        "delete_before_replace": bool(request.deleteBeforeReplace),
        "ignore_changes": list(request.ignoreChanges),
        "replace_on_changes": list(request.replaceOnChanges),
        "dependencies": sorted(request.dependencies),  # a set in the SDK: sorted, so every run captures one order
        "aliases": [*request.aliasURNs, *(_alias_urn(alias, urn) for alias in request.aliases)],
        "additional_secret_outputs": list(request.additionalSecretOutputs),
        "custom_timeouts": {
            "create": custom_timeouts.create,
            "update": custom_timeouts.update,
            "delete": custom_timeouts.delete,
        },
    }


def _alias_urn(alias: Any, urn: str) -> str:
    """The URN an alias names: given as one, or as a spec whose unset fields are the resource's own (stack,
    project, type, name, parent). A parent's type chain, without the root stack's, comes before the type
    (``urn:pulumi:<stack>::<project>::<parent types>$<type>::<name>``)."""
    if alias.WhichOneof("alias") == "urn":
        return str(alias.urn)
    spec = alias.spec
    head, qualified_type, name = urn.rsplit("::", 2)
    stack_and_project = head.removeprefix("urn:pulumi:").split("::", 1)
    stack, project = spec.stack or stack_and_project[0], spec.project or stack_and_project[1]
    own_type = spec.type or qualified_type.rsplit("$", 1)[-1]
    parent = spec.WhichOneof("parent")
    if parent == "noParent" and spec.noParent:
        chain: list[str] = []
    elif parent == "parentUrn" and spec.parentUrn:
        chain = [part for part in spec.parentUrn.rsplit("::", 2)[1].split("$") if part != "pulumi:pulumi:Stack"]
    else:
        chain = qualified_type.split("$")[:-1]
    return f"urn:pulumi:{stack}::{project}::{'$'.join([*chain, own_type])}::{spec.name or name}"


SECRET_KEY = "__secret__"


def unwrap_secrets(value: Any) -> Any:
    """A captured value as the provider receives it: every ``{"__secret__": v}`` wrapper becomes ``v``."""
    if isinstance(value, dict):
        if set(value) == {SECRET_KEY}:
            return unwrap_secrets(value[SECRET_KEY])
        return {key: unwrap_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(item) for item in value]
    return value


def _plain(value: Any) -> Any:
    """Turn deserialized RPC values into JSON-able data; secrets are kept as a marked wrapper."""
    from pulumi.runtime import rpc

    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return {SECRET_KEY: _plain(value.get("value"))}
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value == rpc.UNKNOWN:
        return "<unknown>"
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Unknown):  # an output value the engine does not know (yet)
        return "<unknown>"
    return str(value)
