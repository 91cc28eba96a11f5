"""The cost estimate: priced from settings, and every instance type the settings accept has a price."""

from __future__ import annotations

import pytest

from silhouette_infra.cluster.capacity import INSTANCE_TYPES
from silhouette_infra.cost import HOURLY, monthly_cost
from silhouette_infra.settings import load_settings


def test_every_node_instance_type_the_capacity_check_knows_has_a_price() -> None:
    missing = sorted(set(INSTANCE_TYPES) - set(HOURLY))
    assert missing == [], f"add prices for {missing} to silhouette_infra/cost.py"


@pytest.mark.parametrize("stack", ["production", "staging"])
def test_every_layer_has_a_positive_cost(stack: str) -> None:
    costs = monthly_cost(load_settings(stack, {}))
    assert all(cost > 0 for cost in costs.values()), costs


def test_multi_az_doubles_the_database() -> None:
    single = load_settings("staging", {})
    double = load_settings("staging", {"silhouette:postgres": '{"multi_az": true}'})
    assert monthly_cost(double)["postgres"] == pytest.approx(2 * monthly_cost(single)["postgres"])
