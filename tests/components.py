"""Declaring one component on its own under the offline engine's mocks (for variants of its settings that
would otherwise need another run of the whole program)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random

from silhouette_infra.aws.context import AwsProviders, StackContext
from silhouette_infra.aws.naming import Naming
from silhouette_infra.aws.roles import OidcProvider
from silhouette_infra.cluster.handle import ClusterHandle
from silhouette_infra.synth.engine import CapturedResource
from silhouette_infra.synth.engine.run import mocked_runtime, on_a_stack_of_its_own

T = TypeVar("T")


def declare_alone(build: Callable[[], T], stack: str = "staging") -> tuple[T, list[CapturedResource]]:
    """Run ``build`` (which declares resources) in a fresh mocked Pulumi runtime; its result and every
    resource it registered, with inputs and options. On a stack of its own, as a whole program runs."""

    def declared() -> tuple[T, list[CapturedResource]]:
        with mocked_runtime(stack) as runtime:
            result = build()
            runtime.settle()
        return result, runtime.monitor.captured

    return on_a_stack_of_its_own(declared)


def stack_context(stack: str = "staging", *, protect: bool = False) -> StackContext:
    """A layer's stack context for a component declared alone (call inside ``declare_alone``'s build):
    providers in us-east-1 and us-west-2, a fixed account."""
    return StackContext(
        naming=Naming(stack),
        region="us-east-1",
        dr_region="us-west-2",
        account_id=pulumi.Output.from_input("123456789012"),
        protect=protect,
        providers=AwsProviders(
            primary=aws.Provider("aws-primary", region="us-east-1"),
            dr=aws.Provider("aws-dr", region="us-west-2"),
            random=random.Provider("random"),
        ),
    )


def cluster_handle() -> ClusterHandle:
    """A cluster handle for a component declared alone: a provider on an empty kubeconfig, nothing to wait for."""
    return ClusterHandle(
        provider=k8s.Provider("kubernetes", kubeconfig="{}"),
        ready=[],
        oidc=OidcProvider(
            arn="arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/X",
            issuer="https://oidc.eks.us-east-1.amazonaws.com/id/X",
        ),
        secret_store_name="aws-secrets-manager",
        storage_class="gp3-encrypted",
        system_placement={},
    )
