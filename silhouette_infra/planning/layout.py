"""Pure subnet planning: VPC CIDR + AZ count + tier prefix lengths -> one subnet per tier per AZ."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

TIERS = ("public", "private", "isolated")


class LayoutError(ValueError):
    """The requested subnets do not fit the VPC."""


@dataclass(frozen=True)
class SubnetLayout:
    """Subnet CIDRs per tier, index i lives in availability zone i."""

    public: tuple[str, ...]
    private: tuple[str, ...]
    isolated: tuple[str, ...]

    def tier(self, name: str) -> tuple[str, ...]:
        return tuple(getattr(self, name))

    def all_cidrs(self) -> list[str]:
        return [*self.public, *self.private, *self.isolated]


def plan_subnets(
    vpc_cidr: str, az_count: int, *, public_prefix: int, private_prefix: int, isolated_prefix: int
) -> SubnetLayout:
    """Carve ``az_count`` subnets per tier out of ``vpc_cidr``, largest blocks first so that every
    block is aligned without gaps, and in tier order within equal sizes. Deterministic: the same
    inputs always give the same CIDRs, so adding settings never renumbers existing subnets."""
    vpc = ipaddress.IPv4Network(vpc_cidr)
    if az_count < 1:
        raise LayoutError("at least one availability zone is needed")
    prefixes = {"public": public_prefix, "private": private_prefix, "isolated": isolated_prefix}
    for tier, prefix in prefixes.items():
        if prefix <= vpc.prefixlen:
            raise LayoutError(f"{tier} subnets (/{prefix}) must be smaller than the VPC (/{vpc.prefixlen})")
        if prefix > 28:
            raise LayoutError(f"{tier} subnets (/{prefix}) are smaller than the /28 AWS minimum")

    order = sorted(TIERS, key=lambda tier: (prefixes[tier], TIERS.index(tier)))
    cursor = int(vpc.network_address)
    end = int(vpc.broadcast_address) + 1
    allocated: dict[str, list[str]] = {tier: [] for tier in TIERS}
    for tier in order:
        size = 2 ** (32 - prefixes[tier])
        for _ in range(az_count):
            cursor = -(-cursor // size) * size  # align up to the block size
            if cursor + size > end:
                needed = sum(az_count * 2 ** (32 - p) for p in prefixes.values())
                raise LayoutError(
                    f"{az_count} AZs x 3 tiers (/{public_prefix}, /{private_prefix}, /{isolated_prefix}) need "
                    f"{needed} addresses; {vpc} has {vpc.num_addresses}"
                )
            allocated[tier].append(str(ipaddress.IPv4Network((cursor, prefixes[tier]))))
            cursor += size
    return SubnetLayout(
        public=tuple(allocated["public"]),
        private=tuple(allocated["private"]),
        isolated=tuple(allocated["isolated"]),
    )
