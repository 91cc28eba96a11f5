"""The stack context every layer receives: the facts about the stack that are the same for all of them
(its naming, region, account, whether stateful resources are protected, its providers), typed once instead
of passed one keyword at a time."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from silhouette_infra.aws.naming import Naming


@dataclass(frozen=True)
class AwsProviders:
    """The stack's explicit providers: its region, the DR region, and random (generated credentials)."""

    primary: aws.Provider
    dr: aws.Provider
    random: random.Provider


@dataclass(frozen=True)
class StackContext:
    naming: Naming
    region: str
    dr_region: str
    account_id: pulumi.Output[str]  # looked up once, through the primary provider (allowed_account_ids pins it)
    protect: bool  # protect stateful resources (settings.protect_stateful)
    providers: AwsProviders

    def options(self) -> pulumi.ResourceOptions:
        """Options of a layer declared in the stack's region."""
        return pulumi.ResourceOptions(providers={"aws": self.providers.primary})

    def data_options(self) -> pulumi.ResourceOptions:
        """Options of a layer that also generates credentials (random)."""
        return pulumi.ResourceOptions(providers={"aws": self.providers.primary, "random": self.providers.random})


@dataclass
class LayerArgs:
    """The base of every layer's args: the stack context, and its facts by name for the layer's body."""

    context: StackContext

    @property
    def naming(self) -> Naming:
        return self.context.naming

    @property
    def region(self) -> str:
        return self.context.region

    @property
    def account_id(self) -> pulumi.Output[str]:
        return self.context.account_id

    @property
    def protect(self) -> bool:
        return self.context.protect
