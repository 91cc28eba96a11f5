"""The subnet layout is a pure function of the VPC CIDR, the AZ count and the tier sizes."""

from __future__ import annotations

import ipaddress
import itertools

import pytest

from silhouette_infra.planning.layout import LayoutError, plan_subnets


@pytest.mark.parametrize(
    ("vpc", "zones", "prefixes"),
    [
        ("10.0.0.0/16", 3, (24, 19, 24)),
        ("10.1.0.0/16", 3, (24, 19, 24)),
        ("10.20.0.0/20", 3, (26, 23, 26)),
        ("172.16.0.0/16", 2, (24, 18, 24)),
        ("192.168.0.0/18", 6, (26, 22, 26)),
    ],
)
def test_subnets_are_inside_the_vpc_aligned_and_disjoint(vpc: str, zones: int, prefixes: tuple[int, int, int]) -> None:
    public, private, isolated = prefixes
    layout = plan_subnets(vpc, zones, public_prefix=public, private_prefix=private, isolated_prefix=isolated)
    network = ipaddress.IPv4Network(vpc)
    subnets = [ipaddress.IPv4Network(cidr) for cidr in layout.all_cidrs()]
    assert len(layout.public) == len(layout.private) == len(layout.isolated) == zones
    assert all(subnet.subnet_of(network) for subnet in subnets), layout
    for first, second in itertools.combinations(subnets, 2):
        assert not first.overlaps(second), f"{first} overlaps {second}"
    assert {s.prefixlen for s in map(ipaddress.IPv4Network, layout.private)} == {private}
    assert {s.prefixlen for s in map(ipaddress.IPv4Network, layout.public)} == {public}


def test_default_production_layout_is_stable() -> None:
    """Renumbering a subnet replaces it and everything in it: the layout must never drift."""
    layout = plan_subnets("10.0.0.0/16", 3, public_prefix=24, private_prefix=19, isolated_prefix=24)
    assert layout.private == ("10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19")
    assert layout.public == ("10.0.96.0/24", "10.0.97.0/24", "10.0.98.0/24")
    assert layout.isolated == ("10.0.99.0/24", "10.0.100.0/24", "10.0.101.0/24")


def test_subnets_that_do_not_fit_are_an_error() -> None:
    with pytest.raises(LayoutError, match="need 4608 addresses"):
        plan_subnets("10.0.0.0/20", 3, public_prefix=24, private_prefix=22, isolated_prefix=24)


@pytest.mark.parametrize(("prefix", "message"), [(16, "smaller than the VPC"), (29, "/28 AWS minimum")])
def test_impossible_subnet_sizes_are_an_error(prefix: int, message: str) -> None:
    with pytest.raises(LayoutError, match=message):
        plan_subnets("10.0.0.0/16", 3, public_prefix=prefix, private_prefix=19, isolated_prefix=24)
