"""Network layer: VPC over the stack's AZs with public, private and isolated subnets."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from silhouette_infra.aws.iam import log_group_writer_policy, service_assume_role_policy
from silhouette_infra.aws.naming import Naming
from silhouette_infra.planning.layout import SubnetLayout, plan_subnets
from silhouette_infra.settings.models import NetworkSettings

# Tags the AWS Load Balancer Controller uses to discover subnets for internet-facing and internal ALBs.
PUBLIC_ELB_TAG = {"kubernetes.io/role/elb": "1"}
INTERNAL_ELB_TAG = {"kubernetes.io/role/internal-elb": "1"}


@dataclass
class NetworkArgs:
    settings: NetworkSettings
    naming: Naming
    region: str
    availability_zones: list[str]
    logs_key_arn: pulumi.Input[str]
    account_id: pulumi.Output[str]  # the stack's AWS account, looked up once for every layer


class Network(pulumi.ComponentResource):
    """VPC, subnets, routing, NAT, flow logs and VPC endpoints."""

    vpc_id: pulumi.Output[str]
    layout: SubnetLayout
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    isolated_subnet_ids: list[pulumi.Output[str]]
    endpoint_security_group_id: pulumi.Output[str]
    nat_gateway_count: int

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:network:Network", name, None, opts)
        settings, naming = args.settings, args.naming
        child = pulumi.ResourceOptions(parent=self)
        zones = args.availability_zones
        self.layout = plan_subnets(
            settings.vpc_cidr,
            len(zones),
            public_prefix=settings.public_subnet_prefix,
            private_prefix=settings.private_subnet_prefix,
            isolated_prefix=settings.isolated_subnet_prefix,
        )

        vpc = aws.ec2.Vpc(
            "vpc",
            cidr_block=settings.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=naming.name_tag("vpc"),
            opts=child,
        )
        self.vpc_id = vpc.id
        aws.ec2.DefaultSecurityGroup(
            "default-security-group",
            vpc_id=vpc.id,
            ingress=[],
            egress=[],
            tags=naming.name_tag("default-deny-all"),
            opts=child,
        )
        igw = aws.ec2.InternetGateway("internet-gateway", vpc_id=vpc.id, tags=naming.name_tag("igw"), opts=child)

        def subnets(tier: str, extra_tags: dict[str, str]) -> list[aws.ec2.Subnet]:
            return [
                aws.ec2.Subnet(
                    f"{tier}-subnet-{zone}",
                    vpc_id=vpc.id,
                    cidr_block=cidr,
                    availability_zone=zone,
                    map_public_ip_on_launch=False,
                    tags={**naming.name_tag(tier, zone), "Tier": tier, **extra_tags},
                    opts=child,
                )
                for zone, cidr in zip(zones, self.layout.tier(tier), strict=True)
            ]

        public = subnets("public", PUBLIC_ELB_TAG)
        private = subnets("private", INTERNAL_ELB_TAG)
        isolated = subnets("isolated", {})
        self.public_subnet_ids = [subnet.id for subnet in public]
        self.private_subnet_ids = [subnet.id for subnet in private]
        self.isolated_subnet_ids = [subnet.id for subnet in isolated]

        public_routes = aws.ec2.RouteTable("public-routes", vpc_id=vpc.id, tags=naming.name_tag("public"), opts=child)
        aws.ec2.Route(
            "public-default-route",
            route_table_id=public_routes.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )
        for zone, subnet in zip(zones, public, strict=True):
            aws.ec2.RouteTableAssociation(
                f"public-routes-{zone}", subnet_id=subnet.id, route_table_id=public_routes.id, opts=child
            )

        nat_zones = zones if settings.nat_gateways == "one_per_az" else zones[:1]
        self.nat_gateway_count = len(nat_zones)
        nat_gateways = []
        for zone, subnet in zip(nat_zones, public, strict=False):
            eip = aws.ec2.Eip(f"nat-ip-{zone}", domain="vpc", tags=naming.name_tag("nat", zone), opts=child)
            nat_gateways.append(
                aws.ec2.NatGateway(
                    f"nat-{zone}",
                    allocation_id=eip.id,
                    subnet_id=subnet.id,
                    connectivity_type="public",
                    tags=naming.name_tag("nat", zone),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
            )

        private_route_tables = []
        for index, (zone, subnet) in enumerate(zip(zones, private, strict=True)):
            table = aws.ec2.RouteTable(
                f"private-routes-{zone}", vpc_id=vpc.id, tags=naming.name_tag("private", zone), opts=child
            )
            nat = nat_gateways[index if len(nat_gateways) > 1 else 0]
            aws.ec2.Route(
                f"private-default-route-{zone}",
                route_table_id=table.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat.id,
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"private-routes-{zone}", subnet_id=subnet.id, route_table_id=table.id, opts=child
            )
            private_route_tables.append(table)

        # Isolated subnets have no route out of the VPC at all: only the S3 gateway endpoint.
        isolated_routes = aws.ec2.RouteTable(
            "isolated-routes", vpc_id=vpc.id, tags=naming.name_tag("isolated"), opts=child
        )
        for zone, subnet in zip(zones, isolated, strict=True):
            aws.ec2.RouteTableAssociation(
                f"isolated-routes-{zone}", subnet_id=subnet.id, route_table_id=isolated_routes.id, opts=child
            )

        self._flow_logs(vpc, args, child)

        aws.ec2.VpcEndpoint(
            "s3-gateway-endpoint",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in [*private_route_tables, isolated_routes]],
            tags=naming.name_tag("s3"),
            opts=child,
        )
        endpoint_sg = aws.ec2.SecurityGroup(
            "endpoints-security-group",
            name=naming.physical("vpc-endpoints"),
            description="HTTPS from inside the VPC to the interface VPC endpoints",
            vpc_id=vpc.id,
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    description="HTTPS from the VPC",
                    protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_blocks=[settings.vpc_cidr],
                )
            ],
            egress=[],
            tags=naming.name_tag("vpc-endpoints"),
            opts=child,
        )
        self.endpoint_security_group_id = endpoint_sg.id
        for service in settings.interface_endpoints:
            aws.ec2.VpcEndpoint(
                f"{service.replace('.', '-')}-endpoint",
                vpc_id=vpc.id,
                service_name=f"com.amazonaws.{args.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.private_subnet_ids,
                security_group_ids=[endpoint_sg.id],
                tags=naming.name_tag(service.replace(".", "-")),
                opts=child,
            )

        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
                "isolated_subnet_ids": self.isolated_subnet_ids,
            }
        )

    def _flow_logs(self, vpc: aws.ec2.Vpc, args: NetworkArgs, child: pulumi.ResourceOptions) -> None:
        naming = args.naming
        log_group = aws.cloudwatch.LogGroup(
            "flow-logs",
            name=naming.log_group("vpc-flow-logs"),
            retention_in_days=args.settings.flow_log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags=naming.name_tag("flow-logs"),
            opts=child,
        )
        role = aws.iam.Role(
            "flow-logs-role",
            name=naming.physical("vpc-flow-logs"),
            description="Lets VPC Flow Logs write to its log group",
            assume_role_policy=args.account_id.apply(
                lambda account: json.dumps(
                    service_assume_role_policy("vpc-flow-logs.amazonaws.com", account_id=account)
                )
            ),
            tags=naming.name_tag("vpc-flow-logs"),
            opts=child,
        )
        aws.iam.RolePolicy(
            "flow-logs-role-policy",
            role=role.id,
            policy=log_group.arn.apply(lambda arn: json.dumps(log_group_writer_policy("WriteFlowLogs", arn))),
            opts=child,
        )
        aws.ec2.FlowLog(
            "flow-log",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=naming.name_tag("flow-log"),
            opts=child,
        )
