"""Network layer: VPC over the stack's AZs with public, private and isolated subnets."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from silhouette_infra.aws.context import LayerArgs
from silhouette_infra.aws.iam import log_group_writer_policy, service_assume_role_policy
from silhouette_infra.planning.layout import SubnetLayout, plan_subnets
from silhouette_infra.settings.models import NetworkSettings

# Tags the AWS Load Balancer Controller uses to discover subnets for internet-facing and internal ALBs.
PUBLIC_ELB_TAG = {"kubernetes.io/role/elb": "1"}
INTERNAL_ELB_TAG = {"kubernetes.io/role/internal-elb": "1"}


@dataclass
class NetworkArgs(LayerArgs):
    settings: NetworkSettings
    availability_zones: list[str]
    logs_key_arn: pulumi.Input[str]


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
        settings = args.settings
        self._args = args
        self._child = pulumi.ResourceOptions(parent=self)
        self.layout = plan_subnets(
            settings.vpc_cidr,
            len(args.availability_zones),
            public_prefix=settings.public_subnet_prefix,
            private_prefix=settings.private_subnet_prefix,
            isolated_prefix=settings.isolated_subnet_prefix,
        )

        vpc, igw = self._vpc()
        self.vpc_id = vpc.id
        public = self._subnets(vpc, "public", PUBLIC_ELB_TAG)
        private = self._subnets(vpc, "private", INTERNAL_ELB_TAG)
        isolated = self._subnets(vpc, "isolated", {})
        self.public_subnet_ids = [subnet.id for subnet in public]
        self.private_subnet_ids = [subnet.id for subnet in private]
        self.isolated_subnet_ids = [subnet.id for subnet in isolated]

        self._public_routing(vpc, igw, public)
        nat_gateways = self._nat_gateways(igw, public)
        private_route_tables = self._private_routing(vpc, private, nat_gateways)
        isolated_routes = self._isolated_routing(vpc, isolated)
        self._flow_logs(vpc)
        self.endpoint_security_group_id = self._endpoints(vpc, [*private_route_tables, isolated_routes])

        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
                "isolated_subnet_ids": self.isolated_subnet_ids,
            }
        )

    def _vpc(self) -> tuple[aws.ec2.Vpc, aws.ec2.InternetGateway]:
        """The VPC with DNS, its default security group emptied of every rule, and its internet gateway."""
        naming, child = self._args.naming, self._child
        vpc = aws.ec2.Vpc(
            "vpc",
            cidr_block=self._args.settings.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=naming.name_tag("vpc"),
            opts=child,
        )
        aws.ec2.DefaultSecurityGroup(
            "default-security-group",
            vpc_id=vpc.id,
            ingress=[],
            egress=[],
            tags=naming.name_tag("default-deny-all"),
            opts=child,
        )
        igw = aws.ec2.InternetGateway("internet-gateway", vpc_id=vpc.id, tags=naming.name_tag("igw"), opts=child)
        return vpc, igw

    def _subnets(self, vpc: aws.ec2.Vpc, tier: str, extra_tags: dict[str, str]) -> list[aws.ec2.Subnet]:
        """One subnet of the tier per zone, at the CIDRs the layout planned; none assigns public IPs."""
        return [
            aws.ec2.Subnet(
                f"{tier}-subnet-{zone}",
                vpc_id=vpc.id,
                cidr_block=cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={**self._args.naming.name_tag(tier, zone), "Tier": tier, **extra_tags},
                opts=self._child,
            )
            for zone, cidr in zip(self._args.availability_zones, self.layout.tier(tier), strict=True)
        ]

    def _public_routing(self, vpc: aws.ec2.Vpc, igw: aws.ec2.InternetGateway, public: list[aws.ec2.Subnet]) -> None:
        """One route table for the public subnets, its default route through the internet gateway."""
        child = self._child
        public_routes = aws.ec2.RouteTable(
            "public-routes", vpc_id=vpc.id, tags=self._args.naming.name_tag("public"), opts=child
        )
        aws.ec2.Route(
            "public-default-route",
            route_table_id=public_routes.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )
        for zone, subnet in zip(self._args.availability_zones, public, strict=True):
            aws.ec2.RouteTableAssociation(
                f"public-routes-{zone}", subnet_id=subnet.id, route_table_id=public_routes.id, opts=child
            )

    def _nat_gateways(self, igw: aws.ec2.InternetGateway, public: list[aws.ec2.Subnet]) -> list[aws.ec2.NatGateway]:
        """A NAT gateway with its Elastic IP in each zone's public subnet, or in the first zone's only."""
        naming, zones = self._args.naming, self._args.availability_zones
        nat_zones = zones if self._args.settings.nat_gateways == "one_per_az" else zones[:1]
        self.nat_gateway_count = len(nat_zones)
        nat_gateways = []
        for zone, subnet in zip(nat_zones, public, strict=False):
            eip = aws.ec2.Eip(f"nat-ip-{zone}", domain="vpc", tags=naming.name_tag("nat", zone), opts=self._child)
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
        return nat_gateways

    def _private_routing(
        self, vpc: aws.ec2.Vpc, private: list[aws.ec2.Subnet], nat_gateways: list[aws.ec2.NatGateway]
    ) -> list[aws.ec2.RouteTable]:
        """A route table per private subnet, out through its zone's NAT gateway (or the only one)."""
        naming, child = self._args.naming, self._child
        private_route_tables = []
        for index, (zone, subnet) in enumerate(zip(self._args.availability_zones, private, strict=True)):
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
        return private_route_tables

    def _isolated_routing(self, vpc: aws.ec2.Vpc, isolated: list[aws.ec2.Subnet]) -> aws.ec2.RouteTable:
        """Isolated subnets have no route out of the VPC at all: only the S3 gateway endpoint."""
        child = self._child
        isolated_routes = aws.ec2.RouteTable(
            "isolated-routes", vpc_id=vpc.id, tags=self._args.naming.name_tag("isolated"), opts=child
        )
        for zone, subnet in zip(self._args.availability_zones, isolated, strict=True):
            aws.ec2.RouteTableAssociation(
                f"isolated-routes-{zone}", subnet_id=subnet.id, route_table_id=isolated_routes.id, opts=child
            )
        return isolated_routes

    def _endpoints(self, vpc: aws.ec2.Vpc, route_tables: list[aws.ec2.RouteTable]) -> pulumi.Output[str]:
        """The S3 gateway endpoint on the given route tables, and the interface endpoints in the private subnets
        behind a security group that admits HTTPS from the VPC only. Returns that group's id."""
        args, naming, child = self._args, self._args.naming, self._child
        aws.ec2.VpcEndpoint(
            "s3-gateway-endpoint",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in route_tables],
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
                    cidr_blocks=[args.settings.vpc_cidr],
                )
            ],
            egress=[],
            tags=naming.name_tag("vpc-endpoints"),
            opts=child,
        )
        for service in args.settings.interface_endpoints:
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
        return endpoint_sg.id

    def _flow_logs(self, vpc: aws.ec2.Vpc) -> None:
        """Flow records of all the VPC's traffic to an encrypted log group, written through a role of their own."""
        args, naming, child = self._args, self._args.naming, self._child
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
