"""The cost estimate: priced from the instance catalogue, and it never blocks a synth."""

from __future__ import annotations

import pytest

from silhouette_infra.planning.instance_types import CATALOGUE
from silhouette_infra.synth.cost import monthly_cost
from silhouette_infra.validation.loader import load_settings


def test_every_node_instance_type_in_the_catalogue_has_a_price() -> None:
    """EKS node types are what the stacks run most of; the estimate must not silently drop them."""
    missing = sorted(
        name for name, instance in CATALOGUE.items() if instance.service == "ec2" and not instance.hourly_usd
    )
    assert missing == [], f"add list prices for {missing} to silhouette_infra/planning/instance_types.py"


@pytest.mark.parametrize("stack", ["production", "staging"])
def test_every_layer_of_the_stack_files_is_priced(stack: str) -> None:
    estimate = monthly_cost(load_settings(stack, {}))
    assert all(cost > 0 for cost in estimate.layers.values()), estimate.layers
    assert estimate.unpriced == {}, f"{stack}: unpriced {estimate.unpriced}"


def test_multi_az_doubles_the_database() -> None:
    single = load_settings("staging", {})
    double = load_settings("staging", {"silhouette:postgres": '{"multi_az": true}'})
    assert monthly_cost(double).layers["postgres"] == pytest.approx(2 * monthly_cost(single).layers["postgres"])


def test_a_type_without_a_list_price_is_an_unpriced_line_not_a_failure() -> None:
    """Issue 10: db.m7g.large and cache.r7g.large are real types the settings accept; an estimate must never
    block a synth, so the layers they are in are marked unpriced and the total is a lower bound."""
    settings = load_settings(
        "staging",
        {
            "silhouette:postgres": '{"instance_class": "db.m7g.large"}',
            "silhouette:redis": '{"node_type": "cache.r7g.large"}',
        },
    )
    estimate = monthly_cost(settings)
    assert estimate.unpriced == {"postgres": ["db.m7g.large"], "redis": ["cache.r7g.large"]}
    assert estimate.layers["redis"] == 0
    assert estimate.layers["postgres"] > 0, "postgres storage is still priced"
