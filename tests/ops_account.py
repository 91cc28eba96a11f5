"""A moto account shaped by the program's real outputs, for the ``silhouette-ops`` tests.

``account(stack)`` starts from the outputs the real program exports under Pulumi's mocks (``synth``), creates
in moto a resource for each identifier the tool reads (the RDS instance, the replication group and its
snapshot, the broker, the cluster and node groups, the ALB, the alarm topic, the backup bucket with a Neo4j
export, the secrets), and returns those outputs with moto's generated ids (VPC, subnets, KMS keys, ARNs) in
place of the mocks'. Where moto 5.2.5 lacks an API the tests answer that call with botocore's Stubber (or,
for one operation on a client moto otherwise serves, botocore's ``before-call`` event, the hook Stubber
itself uses), each named where it is done.

Seeding costs about 0.1 s of CPU and thirty API calls, so each test module seeds one ``SharedAccount`` and hands it
to its tests: as it is (``read_only``) to a test that only reads moto, guarded so that a change fails the test, or
to one test that may change it (``to_change``), after which the next test gets it seeded again. Every test gets
its own outputs, answers and stubs, and the tool's clients are lent to it from a pool with the event hooks they
had when made (``ToolClients``), so no stub or hook outlives its test.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable, Iterator
from copy import copy, deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import moto.eks.utils
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from moto import mock_aws

from silhouette_infra.ops.aws import RETRIES, AwsClients
from silhouette_infra.ops.outputs import StackOutputs
from tests.support import synth

# moto's EC2 backend otherwise loads about 1,300 AMIs into every new account (0.35 s); no test here needs one.
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
NEO4J_EXPORT = b":begin\nCREATE (:Workflow {id: 1});\nCREATE (:Workflow {id: 2});\n:commit\n"


@dataclass
class Account:
    outputs: dict[str, Any]
    session: boto3.Session
    now: datetime
    read_only: bool = False
    answers: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    redis_snapshot_age: timedelta = timedelta(hours=3)
    clients: ToolClients = field(init=False)

    def __post_init__(self) -> None:
        self.clients = ToolClients(self)

    @property
    def stack_outputs(self) -> StackOutputs:
        return StackOutputs(self.outputs["cluster_name"].removeprefix("silhouette-"), "the moto account", self.outputs)

    def client(self, service: str, region: str | None = None) -> Any:
        """A client that seeds and edits the account: shared by every account of the test process (moto serves
        whichever mock is active), never hooked (``stub`` and ``answer`` hook the tool's own clients). On a
        ``read_only`` account, only its reading methods."""
        client = _seeding_client(service, region or self.outputs["region"])
        return _ReadingClient(client) if self.read_only else client

    def stub(self, service: str, region: str | None = None) -> Stubber:
        """A Stubber-backed client the tool will use for ``service`` (every call on it must be stubbed)."""
        client = self.clients.lend(service, region or self.outputs["region"])
        stubber = Stubber(client)
        self.clients.put(service, region or self.outputs["region"], client)
        stubber.activate()
        return stubber

    def answer(self, service: str, operation: str, response: dict[str, Any]) -> None:
        """Answer one operation of the tool's ``service`` client with ``response`` (the latest given wins); moto
        serves the client's other operations."""
        client = self.clients.get(service, self.outputs["region"])
        key = (service, operation)
        if key not in self.answers:

            def handler(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
                return AWSResponse("https://stubbed", 200, {}, None), self.answers[key]

            event = f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"
            client.meta.events.register(event, handler)
        self.answers[key] = response


class ToolClients(AwsClients):
    """The tool's clients of one account, each lent when the tool or a test first asks for it (a test needs a
    few of the services an account has), with a healthy account's answers to the calls moto 5.2.5 lacks
    (``_healthy_defaults``) and, on a ``read_only`` account, refusing any call that would change moto (any but
    Describe, List, Get, Head: the test fails naming it). Stubbed and answered calls end at ``before-call`` and
    never reach moto.

    Making a client costs about 7 ms of CPU (botocore builds its class and copies the session's event hooks)
    and a test asks for three to eight, so clients are lent from a pool of the process (``lend``, for these and
    for ``Account.stub``) and taken back when the test ends (``give_back``), with the event hooks they had when
    made: whatever a test registered on them (answers, Stubbers, after-call edits, recorders, the read-only
    guard) goes with it. What else a client keeps between calls is the standard retry mode's quota, which only
    retried errors draw on (two stubbed calls of the suite) and every successful call refills."""

    def __init__(self, account: Account) -> None:
        super().__init__(account.session)
        self._account = account
        self._lent: list[tuple[tuple[str, str], Any, Any]] = []

    def get(self, service: str, region: str) -> Any:
        key = (service, region)
        if key in self._clients:
            return self._clients[key]
        if key == ("guardduty", self._account.outputs["region"]):
            _no_guardduty_findings(self._account)
            return self._clients[key]
        client = self._clients[key] = self.lend(service, region)
        if self._account.read_only:
            client.meta.events.register_first(
                f"before-send.{client.meta.service_model.service_id.hyphenize()}", _refuse_change
            )
        if region == self._account.outputs["region"]:
            _healthy_defaults(self._account, service)
        return client

    def lend(self, service: str, region: str) -> Any:
        """A client of the pool for this account's test (another than those it holds), with the event hooks it
        had when made."""
        key = (service, region)
        idle = _IDLE_CLIENTS.setdefault(key, [])
        if idle:
            client, hooks_when_made = idle.pop()
            vars(client.meta.events).update(vars(copy(hooks_when_made)))
        else:
            client = self._session.client(service, region_name=region, config=RETRIES)
            hooks_when_made = copy(client.meta.events)
        self._lent.append((key, client, hooks_when_made))
        return client

    def give_back(self) -> None:
        """Return the lent clients to the pool (the account's test has ended)."""
        for key, client, hooks_when_made in self._lent:
            _IDLE_CLIENTS[key].append((client, hooks_when_made))
        self._lent.clear()
        self._clients.clear()


# The idle clients of the pool, by service and region, each with a copy of the event hooks it had when made
# (botocore's EventAliaser; copying it copies its handler registry, not the handlers).
_IDLE_CLIENTS: dict[tuple[str, str], list[tuple[Any, Any]]] = {}


@cache
def boto3_session() -> boto3.Session:
    """One session for every account and client of a test process: a session keeps the service models it has
    parsed, about 2 s of JSON for the services here."""
    return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")


@cache
def _seeding_client(service: str, region: str) -> Any:
    """One client per service and region for seeding: a client costs about 13 ms to make, and an account needs a
    dozen."""
    return boto3_session().client(service, region_name=region, config=RETRIES)


# Every botocore session of a test process shares one loader of botocore's data: a loader parses each service's
# JSON model once (0.1 to 0.3 s for RDS, EC2 or S3), and the tool and the failover command make sessions of their
# own, as they must against AWS (ops/aws.py, failover/command.py). Loaded models are only read.
botocore.session.create_loader = cache(botocore.loaders.create_loader)

# moto 5.2.5's EKS checks every role ARN's partition with a fresh boto3 ``Session()`` (moto/eks/utils.py,
# ``validate_role_arn``), which re-reads botocore's endpoints file: 0.25 s a call, three calls an account. The
# same check against this process's one session.
moto.eks.utils.Session = boto3_session  # type: ignore[attr-defined]


READING_OPERATIONS = ("Describe", "List", "Get", "Head")


class _ReadingClient:
    """A seeding client of a shared account: its reading methods only, any other fails the test."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        if not name.startswith(("describe_", "list_", "get_", "head_")):
            raise AssertionError(f"{name} would change the account other tests share: use the account to change")
        return getattr(self._client, name)


def _refuse_change(event_name: str, **_: Any) -> None:
    operation = event_name.rsplit(".", 1)[-1]
    if not operation.startswith(READING_OPERATIONS):
        raise AssertionError(f"{operation} would change the account other tests share: use the account to change")


def real_outputs(stack: str) -> dict[str, Any]:
    """The outputs the program exports, as `pulumi stack output --json` prints them."""
    outputs: dict[str, Any] = json.loads(json.dumps(synth(stack).outputs, default=str))
    return outputs


def account(stack: str) -> Account:
    """A seeded moto account of its own (call inside ``mock_aws``), for a caller that keeps it, such as the
    benchmark of ``silhouette-ops status``; the tests are lent theirs by a ``SharedAccount``."""
    seeded = Account(real_outputs(stack), boto3_session(), datetime.now(UTC))
    for seed in SEEDS:
        seed(seeded)
    return seeded


class SharedAccount:
    """One seeded moto account for the tests of a module (a module-scoped fixture). Its mock is on only while a
    test holds it (``mock_aws`` started without reset and stopped without removing data, so a test that does not
    ask for it runs outside moto, as before); pytest runs a module's tests one after another, so no other test's
    mock resets it meanwhile.

    - ``read_only()``: the account as seeded, for a test that only reads moto. Its tool clients and seeding
      clients refuse any other call (the test fails naming it), so a test that changes the account cannot pass
      as read-only.
    - ``to_change()``: the account for a test that changes moto; the next test gets it seeded again.

    Either way the test gets its own outputs (a copy), tool clients, stubs and answers: nothing a test hooks or
    stubs reaches another test, in whatever order they run."""

    def __init__(self, stack: str) -> None:
        self.stack = stack
        self._mock = mock_aws()
        self._seeded: Account | None = None
        self._changed = False

    def read_only(self) -> Iterator[Account]:
        yield from self._lend(read_only=True)

    def to_change(self) -> Iterator[Account]:
        yield from self._lend(read_only=False)

    def _lend(self, *, read_only: bool) -> Iterator[Account]:
        self._mock.start(reset=False)
        try:
            if self._seeded is None or self._changed:
                self._mock.reset()
                self._seeded = account(self.stack)
            self._changed = not read_only
            lent = Account(deepcopy(self._seeded.outputs), self._seeded.session, self._seeded.now, read_only)
            try:
                yield lent
            finally:
                lent.clients.give_back()
        finally:
            self._mock.stop(remove_data=False)

    def __enter__(self) -> SharedAccount:
        return self

    def __exit__(self, *_: object) -> None:
        """Drop the account's data (moto's backends are process-wide)."""
        self._mock.reset()


def lent_accounts() -> tuple[Any, Any]:
    """The fixtures ``production`` (the module's ``shared`` account as seeded, for a test that only reads moto)
    and ``production_to_change`` (for a test that changes it), for a test module whose ``shared`` fixture says
    which of its tests take which."""

    @pytest.fixture(name="production")
    def read_only(shared: SharedAccount) -> Iterator[Account]:
        yield from shared.read_only()

    @pytest.fixture(name="production_to_change")
    def to_change(shared: SharedAccount) -> Iterator[Account]:
        yield from shared.to_change()

    return read_only, to_change


def _network(account: Account) -> None:
    ec2, outputs = account.client("ec2"), account.outputs
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    outputs["vpc_id"] = vpc
    outputs["isolated_subnet_ids"] = [
        ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"10.0.{20 + index}.0/24", AvailabilityZone=f"{outputs['region']}{zone}"
        )["Subnet"]["SubnetId"]
        for index, zone in enumerate("abc")
    ]
    # The KMS key ARNs stay the program's: moto's RDS and ElastiCache take a key ARN without looking it up.


def _postgres(account: Account) -> None:
    outputs = account.outputs
    tag_key, tag_value = next(iter(outputs["backup_selection_tag"].items()))
    account.client("rds").create_db_instance(
        DBInstanceIdentifier=outputs["postgres_identifier"],
        Engine="postgres",
        DBInstanceClass="db.t4g.medium",
        AllocatedStorage=100,
        MasterUsername="silhouette_admin",
        MasterUserPassword="not-a-secret-moto-only",
        MultiAZ=True,
        StorageEncrypted=True,
        KmsKeyId=outputs["kms_key_arns"]["databases"],
        BackupRetentionPeriod=7,
        Tags=[{"Key": tag_key, "Value": tag_value}],
    )
    account.client("cloudwatch").put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "FreeStorageSpace",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": outputs["postgres_identifier"]}],
                "Value": 60 * 1024**3,
                "Timestamp": account.now - timedelta(minutes=5),
            }
        ],
    )


def _redis(account: Account) -> None:
    elasticache, group = account.client("elasticache"), account.outputs["redis_replication_group_id"]
    elasticache.create_replication_group(
        ReplicationGroupId=group,
        ReplicationGroupDescription="cache",
        Engine="redis",
        CacheNodeType="cache.t4g.small",
        NumCacheClusters=1,
    )
    elasticache.create_snapshot(ReplicationGroupId=group, SnapshotName=f"{group}-daily")


def _broker_and_cluster(account: Account) -> None:
    outputs = account.outputs
    account.client("mq").create_broker(
        BrokerName=outputs["rabbitmq_broker_name"],
        EngineType="RABBITMQ",
        EngineVersion="3.13",
        HostInstanceType="mq.t3.micro",
        DeploymentMode="SINGLE_INSTANCE",
        PubliclyAccessible=False,
        AutoMinorVersionUpgrade=True,
        Users=[{"Username": "silhouette", "Password": "not-a-secret-moto-only"}],
    )
    eks = account.client("eks")
    role = "arn:aws:iam::123456789012:role/eks"
    eks.create_cluster(
        name=outputs["cluster_name"], roleArn=role, resourcesVpcConfig={"subnetIds": outputs["isolated_subnet_ids"]}
    )
    for group in outputs["node_group_names"]:
        eks.create_nodegroup(
            clusterName=outputs["cluster_name"],
            nodegroupName=group,
            nodeRole=role,
            subnets=outputs["isolated_subnet_ids"],
        )


def _load_balancer_and_alarms(account: Account) -> None:
    outputs, elbv2 = account.outputs, account.client("elbv2")
    balancer = elbv2.create_load_balancer(Name=outputs["load_balancer_name"], Subnets=outputs["isolated_subnet_ids"])
    group = elbv2.create_target_group(
        Name="backend", Protocol="HTTP", Port=8080, VpcId=outputs["vpc_id"], TargetType="ip"
    )
    group_arn = group["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(
        LoadBalancerArn=balancer["LoadBalancers"][0]["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group_arn}],
    )
    elbv2.register_targets(TargetGroupArn=group_arn, Targets=[{"Id": "10.0.20.10", "Port": 8080}])
    outputs["alarm_topic_arn"] = account.client("sns").create_topic(Name="alarms")["TopicArn"]
    account.client("cloudwatch").put_metric_alarm(
        AlarmName=f"{outputs['postgres_identifier']}-cpu",
        MetricName="CPUUtilization",
        Namespace="AWS/RDS",
        Statistic="Average",
        Period=300,
        EvaluationPeriods=1,
        Threshold=80,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[outputs["alarm_topic_arn"]],
    )


def _backups(account: Account) -> None:
    outputs, s3 = account.outputs, account.client("s3")
    bucket = outputs["backup_bucket"]
    s3.create_bucket(Bucket=bucket) if outputs["region"] == "us-east-1" else s3.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": outputs["region"]}
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    if "backup_bucket_replication" in outputs["recovery"]["services"]:
        s3.put_bucket_replication(
            Bucket=bucket,
            ReplicationConfiguration={
                "Role": "arn:aws:iam::123456789012:role/replication",
                "Rules": [
                    {
                        "ID": "to-dr-region",
                        "Status": "Enabled",
                        "Priority": 1,
                        "Filter": {},
                        "DeleteMarkerReplication": {"Status": "Enabled"},
                        "Destination": {"Bucket": "arn:aws:s3:::replica"},
                    }
                ],
            },
        )
    key = f"{outputs['neo4j_backup_prefix']}20261129T000000Z.cypher.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(NEO4J_EXPORT))
    account.client("backup").create_backup_vault(BackupVaultName=outputs["backup_vault_name"])
    # Neo4j's volume as the EBS CSI driver tags it, which the hourly plan selects.
    account.client("ec2").create_volume(
        AvailabilityZone=f"{outputs['region']}a",
        Size=100,
        TagSpecifications=[
            {
                "ResourceType": "volume",
                "Tags": [{"Key": key, "Value": value} for key, value in outputs["neo4j_volume_tags"].items()],
            }
        ],
    )


def neo4j_volume_arn(account: Account) -> str:
    """The ARN of the volume ``_backups`` created (as the tagging API names it)."""
    (volume,) = account.client("ec2").describe_volumes()["Volumes"]
    return f"arn:aws:ec2:{account.outputs['region']}:123456789012:volume/{volume['VolumeId']}"


def _secrets(account: Account) -> None:
    client = account.client("secretsmanager")
    for name, policy in account.outputs["secrets"].items():
        created = client.create_secret(Name=f"silhouette/test/{name}", SecretString="{}")
        policy["id"] = created["ARN"]


SEEDS: tuple[Callable[[Account], None], ...] = (
    _network,
    _postgres,
    _redis,
    _broker_and_cluster,
    _load_balancer_and_alarms,
    _backups,
    _secrets,
)


def recovery_points(
    account: Account, *, age: timedelta, vault: str, resource_arn: str, more: dict[str, timedelta] | None = None
) -> dict[str, Any]:
    """A vault's answer: a recovery point of ``resource_arn`` ``age`` old, and one of each resource in ``more``."""
    ages = {resource_arn: age, **(more or {})}
    return {
        "RecoveryPoints": [
            {
                "RecoveryPointArn": f"arn:aws:backup:{account.outputs['region']}:123456789012:recovery-point:{index}",
                "BackupVaultName": vault,
                "ResourceArn": arn,
                "Status": "COMPLETED",
                "CreationDate": account.now - point_age,
            }
            for index, (arn, point_age) in enumerate(ages.items(), start=1)
        ]
    }


def _healthy_defaults(account: Account, service: str) -> None:
    """A healthy account's answers to the calls moto lacks, set on the tool's ``service`` client of the account's
    region when it is made (GuardDuty's, a stubbed client, in ``_no_guardduty_findings``)."""
    if service == "elasticache":

        def snapshot_times(parsed: dict[str, Any], **_: Any) -> None:
            for snapshot in parsed.get("Snapshots", []):
                snapshot["NodeSnapshots"] = [
                    {"CacheClusterId": "node-1", "SnapshotCreateTime": account.now - account.redis_snapshot_age}
                ]

        # moto 5.2.5 leaves out a snapshot's NodeSnapshots (where its creation time is): added to moto's
        # DescribeSnapshots answer through botocore's after-call event.
        elasticache = account.clients.get("elasticache", account.outputs["region"])
        elasticache.meta.events.register("after-call.elasticache.DescribeSnapshots", snapshot_times)
    elif service == "rds":
        # moto 5.2.5 lacks RDS DescribePendingMaintenanceActions: answered empty, the other RDS calls go to moto.
        account.answer("rds", "DescribePendingMaintenanceActions", {"PendingMaintenanceActions": []})


def _no_guardduty_findings(account: Account) -> None:
    """moto 5.2.5 lacks GuardDuty ListFindings: the tool's GuardDuty client is a Stubber answering ListDetectors
    and ListFindings (no finding)."""
    guardduty = account.stub("guardduty")
    guardduty.add_response("list_detectors", {"DetectorIds": ["detector1"]})
    guardduty.add_response("list_findings", {"FindingIds": []})


def postgres_arn(account: Account) -> str:
    instances = account.client("rds").describe_db_instances(DBInstanceIdentifier=account.outputs["postgres_identifier"])
    arn: str = instances["DBInstances"][0]["DBInstanceArn"]
    return arn
