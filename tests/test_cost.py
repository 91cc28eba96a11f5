"""The cost estimate (issue 16 part 5): every line priced from the dated table or listed as unpriced, every
declared AWS type accounted for, production compared with the design's $1,950, and never a blocked synth."""

from __future__ import annotations

import json

import pytest

from silhouette_infra.planning.instance_types import CATALOGUE
from silhouette_infra.planning.prices import PRICES, UNPRICED
from silhouette_infra.planning.usage import ASSUMED, application_nodes_at_average
from silhouette_infra.synth.cost import (
    BUDGET_USD,
    COST_BEGIN,
    COST_END,
    NO_CHARGE,
    PRICED_TYPES,
    alternatives,
    buys,
    monthly_cost,
    render_markdown,
    smallest_compliant,
)
from silhouette_infra.synth.docs import README
from silhouette_infra.synth.engine import SynthResult
from silhouette_infra.synth.engine.run import stack_config
from silhouette_infra.synth.summary import cost_lines
from silhouette_infra.validation.loader import SettingsError, load_settings
from silhouette_infra.validation.rules import DAEMONSET_OVERHEAD


def test_every_node_instance_type_in_the_catalogue_has_a_price() -> None:
    """EKS node types are what the stacks run most of; the estimate must not silently drop them."""
    missing = sorted(
        name for name, instance in CATALOGUE.items() if instance.service == "ec2" and not instance.hourly_usd
    )
    assert missing == [], f"add list prices for {missing} to silhouette_infra/planning/instance_types.py"


def test_every_price_has_a_source_page_and_a_read_date() -> None:
    for key, price in PRICES.items():
        assert price.usd > 0 and price.unit, f"prices.py {key}: a positive price with its unit"
        assert price.source.startswith("https://") and price.aws_page.startswith("https://aws.amazon.com/"), (
            f"prices.py {key}: the page it was read from and the AWS pricing page"
        )
        assert len(price.read) == 10, f"prices.py {key}: the date it was read (YYYY-MM-DD)"
    assert not set(PRICES) & set(UNPRICED), "a charge is either priced or unpriced, not both"


def test_every_declared_aws_type_is_priced_or_has_no_charge(stack: SynthResult) -> None:
    """Coverage: a resource type the program starts declaring is priced by a line or named in NO_CHARGE."""
    declared = {r.type for r in stack.resources if r.custom and r.type.startswith("aws:")}
    unaccounted = sorted(declared - PRICED_TYPES - set(NO_CHARGE))
    assert unaccounted == [], f"{stack.stack}: add these types to synth/cost.py (a line or NO_CHARGE): {unaccounted}"


def test_every_line_is_priced_from_the_table_or_listed_as_unpriced(stack: SynthResult) -> None:
    estimate = monthly_cost(stack.settings, stack.resources)
    for line in estimate.lines:
        assert line.usd is None or line.usd >= 0, f"{stack.stack} {line.layer}/{line.item}: a price or unpriced"
        assert line.basis, f"{stack.stack} {line.layer}/{line.item}: the line says how it was reached"
        if line.usd is None:
            assert "unpriced:" in line.basis, f"{stack.stack} {line.layer}/{line.item}: says why it is unpriced"
    listed = {(layer, item) for layer, items in estimate.unpriced.items() for item in items}
    assert listed == {(line.layer, line.item) for line in estimate.lines if line.usd is None}
    assert ("edge", "WAF requests") in {(line.layer, line.item) for line in estimate.lines}
    nat = next(line for line in estimate.lines if line.item == "NAT gateway hours")
    declared = sum(r.type == "aws:ec2/natGateway:NatGateway" for r in stack.resources)
    assert nat.quantity == declared * 730, f"{stack.stack}: the NAT line prices the {declared} declared gateways"


def test_usage_lines_show_their_assumptions(production: SynthResult) -> None:
    """A figure nothing measures is labelled an assumption wherever the estimate is printed."""
    printed = "\n".join(cost_lines(production))
    for item in ("NAT data processed", "container logs ingested", "X-Ray traces", "WAF requests"):
        assert item in printed, f"synth's summary prints the {item} line"
    assert printed.count("assumed") >= 4, "the assumed figures say so in synth's summary"
    assert all(assumption.why for assumption in ASSUMED.values())


def test_production_total_and_budget_comparison_follow_the_computed_lines(production: SynthResult) -> None:
    estimate = monthly_cost(production.settings, production.resources)
    assert estimate.total == pytest.approx(sum(line.usd or 0 for line in estimate.lines), abs=0.01)
    assert estimate.total == pytest.approx(sum(estimate.layers.values()), abs=0.05)
    gap = estimate.total - BUDGET_USD
    expected = f"${gap:,.0f} over" if gap > 0 else f"${-gap:,.0f} under"
    assert f"design budget $1,950: {expected}" in "\n".join(cost_lines(production))
    readme = README.read_text()
    assert f"Production: **${estimate.total:,.0f} a month** priced, against the design's $1,950 ({expected})" in readme


def test_every_production_line_says_what_it_buys(production: SynthResult) -> None:
    """The README compares the total with the design's budget line by line: each line names what it buys."""
    silent = [line.item for line in monthly_cost(production.settings, production.resources).lines if not buys(line)]
    assert silent == [], f"add these production cost lines to synth/cost.py BUYS: {silent}"


def test_every_alternative_saves_money_and_the_compliant_ones_pass_the_settings_rules(production: SynthResult) -> None:
    """The README's priced alternatives: each is cheaper, and one marked as keeping the design's availability is
    accepted by the same rules a stack file is (capacity, throughput, production's Multi-AZ)."""
    for alternative, saving in alternatives(production.settings, production.resources):
        assert saving > 0, f"alternative {alternative.change!r} saves nothing"
        overrides = {f"silhouette:{alternative.section}": json.dumps(alternative.values)}
        if alternative.compliant:
            load_settings("production", {**stack_config("production"), **overrides})
        else:
            with pytest.raises(SettingsError):
                load_settings("production", {**stack_config("production"), **overrides})


def test_the_smallest_compliant_configuration_is_cheaper_and_accepted(production: SynthResult) -> None:
    overrides = {
        f"silhouette:{a.section}": json.dumps(a.values) for a, _ in alternatives(production.settings, []) if a.compliant
    }
    settings = load_settings("production", {**stack_config("production"), **overrides})
    smallest = smallest_compliant(production.settings, production.resources)
    assert smallest.total == monthly_cost(settings, production.resources).total
    assert smallest.total < monthly_cost(production.settings, production.resources).total


def test_staging_is_cheaper_than_production(production: SynthResult, staging: SynthResult) -> None:
    full = monthly_cost(production.settings, production.resources)
    cheap = monthly_cost(staging.settings, staging.resources)
    assert cheap.total < full.total, f"staging ${cheap.total:,.0f} vs production ${full.total:,.0f}"


def test_production_apps_desired_size_is_what_the_capacity_model_needs_at_the_average_load(
    production: SynthResult,
) -> None:
    """Right-sizing: the apps group starts at the nodes the average load needs; the autoscaler grows it."""
    needed = application_nodes_at_average(production.settings, DAEMONSET_OVERHEAD).value
    apps = next(g for g in production.settings.cluster.node_groups if g.runs_applications)
    assert apps.desired_size == needed, f"cluster.node_groups apps desired_size {apps.desired_size}, model {needed}"


def test_multi_az_doubles_the_database_instances(production: SynthResult, staging: SynthResult) -> None:
    single = load_settings("staging", {})
    double = load_settings("staging", {"silhouette:postgres": '{"multi_az": true}'})
    one, two = (
        next(line for line in monthly_cost(s, staging.resources).lines if line.layer == "postgres")
        for s in (single, double)
    )
    assert two.usd == pytest.approx(2 * (one.usd or 0)), "postgres instances: Multi-AZ bills the standby too"


def test_a_type_without_a_list_price_is_an_unpriced_line_not_a_failure(staging: SynthResult) -> None:
    """db.m7g.large and cache.r7g.large are real types the settings accept with no recorded price: their lines
    are unpriced and the rest of their layers is still priced."""
    settings = load_settings(
        "staging",
        {
            "silhouette:postgres": '{"instance_class": "db.m7g.large"}',
            "silhouette:redis": '{"node_type": "cache.r7g.large"}',
        },
    )
    estimate = monthly_cost(settings, staging.resources)
    assert "instances (db.m7g.large)" in estimate.unpriced["postgres"]
    assert "nodes (cache.r7g.large)" in estimate.unpriced["redis"]
    assert estimate.layers["postgres"] > 0, "postgres storage is still priced"


def test_the_readme_cost_table_is_current(production: SynthResult, staging: SynthResult) -> None:
    text = README.read_text()
    block = text.split(COST_BEGIN, 1)[1].split(COST_END, 1)[0].strip()
    expected = render_markdown(
        monthly_cost(production.settings, production.resources),
        monthly_cost(staging.settings, staging.resources),
        alternatives(production.settings, production.resources),
        smallest_compliant(production.settings, production.resources),
    )
    assert block == expected, "README.md's cost table is stale: run `make docs`"
