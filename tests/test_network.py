"""Network layer requirements (docs/architecture.md layer 2), asserted on what each stack declares."""

from __future__ import annotations

import json

from silhouette_infra.planning.layout import plan_subnets
from silhouette_infra.synth.engine import CapturedResource, SynthResult

SUBNET = "aws:ec2/subnet:Subnet"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
NAT = "aws:ec2/natGateway:NatGateway"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"


def _subnets(result: SynthResult, tier: str) -> list[CapturedResource]:
    return [s for s in result.of_type(SUBNET) if s.inputs["tags"]["Tier"] == tier]


def test_vpc_spans_three_zones_with_three_tiers_from_the_layout(stack: SynthResult) -> None:
    settings = stack.settings.network
    layout = plan_subnets(
        settings.vpc_cidr,
        3,
        public_prefix=settings.public_subnet_prefix,
        private_prefix=settings.private_subnet_prefix,
        isolated_prefix=settings.isolated_subnet_prefix,
    )
    vpc = stack.named("aws:ec2/vpc:Vpc", "vpc")
    assert vpc.inputs["cidrBlock"] == settings.vpc_cidr
    assert vpc.inputs["enableDnsHostnames"] and vpc.inputs["enableDnsSupport"], "EKS and endpoints need VPC DNS"
    region = stack.settings.aws.region
    for tier in ("public", "private", "isolated"):
        subnets = _subnets(stack, tier)
        zones = [s.inputs["availabilityZone"] for s in subnets]
        assert zones == [f"{region}a", f"{region}b", f"{region}c"], f"{stack.stack}: {tier} subnets span {zones}"
        assert [s.inputs["cidrBlock"] for s in subnets] == list(layout.tier(tier)), f"{stack.stack}: {tier} CIDRs"
        for subnet in subnets:
            assert subnet.inputs["vpcId"] == vpc.id, f"{subnet.name}: not in the VPC"
            assert subnet.inputs["mapPublicIpOnLaunch"] is False, f"{subnet.name}: mapPublicIpOnLaunch must be false"


def test_subnets_carry_the_load_balancer_discovery_tags(stack: SynthResult) -> None:
    for subnet in _subnets(stack, "public"):
        assert subnet.inputs["tags"].get("kubernetes.io/role/elb") == "1", f"{subnet.name}: tags"
    for subnet in _subnets(stack, "private"):
        assert subnet.inputs["tags"].get("kubernetes.io/role/internal-elb") == "1", f"{subnet.name}: tags"
    for subnet in _subnets(stack, "isolated"):
        assert not any(key.startswith("kubernetes.io/") for key in subnet.inputs["tags"]), f"{subnet.name}: tags"


def test_production_has_a_nat_gateway_per_zone_and_staging_one(production: SynthResult, staging: SynthResult) -> None:
    assert len(production.of_type(NAT)) == 3, "production: a NAT gateway per AZ survives an AZ loss"
    assert len(staging.of_type(NAT)) == 1, "staging: one NAT gateway is enough and cheaper"
    public_ids = {s.id for s in _subnets(production, "public")}
    assert {nat.inputs["subnetId"] for nat in production.of_type(NAT)} == public_ids, "one NAT in each public subnet"


def _routes_of(result: SynthResult, table: CapturedResource) -> list[CapturedResource]:
    return [route for route in result.of_type(ROUTE) if route.inputs["routeTableId"] == table.id]


def _table_of(result: SynthResult, subnet: CapturedResource) -> CapturedResource:
    (association,) = [a for a in result.of_type(ASSOCIATION) if a.inputs["subnetId"] == subnet.id]
    (table,) = [t for t in result.of_type(ROUTE_TABLE) if t.id == association.inputs["routeTableId"]]
    return table


def test_private_subnets_reach_the_internet_through_their_zones_nat(stack: SynthResult) -> None:
    nats = {nat.id: nat for nat in stack.of_type(NAT)}
    for subnet in _subnets(stack, "private"):
        (route,) = _routes_of(stack, _table_of(stack, subnet))
        assert route.inputs["destinationCidrBlock"] == "0.0.0.0/0"
        nat = nats[route.inputs["natGatewayId"]]
        if stack.settings.network.nat_gateways == "one_per_az":
            zone = subnet.inputs["availabilityZone"]
            assert nat.name == f"nat-{zone}", f"{subnet.name}: routes through {nat.name}, not its own zone's NAT"


def test_public_subnets_route_to_the_internet_gateway(stack: SynthResult) -> None:
    igw = stack.named("aws:ec2/internetGateway:InternetGateway", "internet-gateway")
    for subnet in _subnets(stack, "public"):
        (route,) = _routes_of(stack, _table_of(stack, subnet))
        assert route.inputs == {**route.inputs, "destinationCidrBlock": "0.0.0.0/0", "gatewayId": igw.id}


def test_isolated_subnets_have_no_route_out_of_the_vpc(stack: SynthResult) -> None:
    for subnet in _subnets(stack, "isolated"):
        routes = _routes_of(stack, _table_of(stack, subnet))
        assert routes == [], f"{subnet.name}: isolated data subnets must not route out, found {routes}"


def test_flow_logs_capture_all_traffic_into_an_encrypted_log_group(stack: SynthResult) -> None:
    (flow_log,) = stack.of_type("aws:ec2/flowLog:FlowLog")
    log_group = stack.named("aws:cloudwatch/logGroup:LogGroup", "flow-logs")
    logs_key = stack.named("aws:kms/key:Key", "logs-key")
    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["vpcId"] == stack.named("aws:ec2/vpc:Vpc", "vpc").id
    assert flow_log.inputs["logDestination"] == log_group.outputs["arn"]
    assert log_group.inputs["kmsKeyId"] == logs_key.outputs["arn"], "flow-logs: kmsKeyId must be the logs key"
    assert log_group.inputs["retentionInDays"] == stack.settings.network.flow_log_retention_days
    role = stack.named("aws:iam/role:Role", "flow-logs-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"]
    policy = json.loads(stack.named("aws:iam/rolePolicy:RolePolicy", "flow-logs-role-policy").inputs["policy"])
    (statement,) = policy["Statement"]
    assert "*" not in json.dumps(statement["Resource"]).replace(":*", ""), "flow-logs role: only its log group"


def test_default_security_group_is_stripped_of_every_rule(stack: SynthResult) -> None:
    (default_sg,) = stack.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default_sg.inputs.get("ingress", []) == [] and default_sg.inputs.get("egress", []) == []


def test_vpc_endpoints_keep_aws_traffic_inside_the_vpc(stack: SynthResult) -> None:
    region = stack.settings.aws.region
    endpoints = {e.inputs["serviceName"]: e for e in stack.of_type(ENDPOINT)}
    s3 = endpoints[f"com.amazonaws.{region}.s3"]
    assert s3.inputs["vpcEndpointType"] == "Gateway"
    private_and_isolated = {
        _table_of(stack, subnet).id for tier in ("private", "isolated") for subnet in _subnets(stack, tier)
    }
    assert set(s3.inputs["routeTableIds"]) == private_and_isolated, "s3 gateway endpoint: route tables"
    sg = stack.named("aws:ec2/securityGroup:SecurityGroup", "endpoints-security-group")
    (ingress,) = sg.inputs["ingress"]
    assert (ingress["fromPort"], ingress["toPort"], ingress["cidrBlocks"]) == (
        443,
        443,
        [stack.settings.network.vpc_cidr],
    )
    for service in ("ecr.api", "ecr.dkr", "sts", "logs", "secretsmanager"):
        endpoint = endpoints[f"com.amazonaws.{region}.{service}"]
        assert endpoint.inputs["vpcEndpointType"] == "Interface"
        assert endpoint.inputs["privateDnsEnabled"] is True, f"{endpoint.name}: privateDnsEnabled"
        assert endpoint.inputs["securityGroupIds"] == [sg.id], f"{endpoint.name}: security group"
        assert endpoint.inputs["subnetIds"] == [s.id for s in _subnets(stack, "private")], f"{endpoint.name}: subnets"
