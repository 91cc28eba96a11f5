"""Stack files as people really write them (issue 10).

Every malformed or unusual stack file below goes through the synth command exactly as ``make synth``
runs it (``main(["synth", "--stack", ...])``, which runs the real ``__main__.py`` under the mocks): it
must exit 2, print a few lines that name the file or the key, print no traceback, and declare nothing.
Valid partial overrides of both stacks must synthesise.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from ruamel.yaml import YAML

from silhouette_infra.settings.models import Settings
from silhouette_infra.synth import engine, libyaml
from silhouette_infra.synth.cli import main
from silhouette_infra.synth.engine import run as engine_run
from silhouette_infra.synth.engine.stack_file import read_stack_config
from silhouette_infra.validation.loader import SettingsError, _unwrap, load_settings
from tests.variants import UNPRICED_TYPES, staging_with_an_existing_certificate

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 8  # "make synth prints at most a few lines" for a bad stack file


@dataclass(frozen=True)
class Case:
    id: str
    source: str | dict[str, Any]  # the whole stack file, or its document (written out when the case runs)
    names: tuple[str, ...]  # what the message must name (a key, or the file with line and column)
    stack: str = "staging"

    @property
    def text(self) -> str:
        return self.source if isinstance(self.source, str) else _yaml(self.source)


def _yaml(document: Any) -> str:
    """A case's stack file as a person writes it (block style, the keys in their order), by libyaml's emitter: a
    string YAML 1.1 would read as something else (``yes``, ``7:00``) comes out quoted, so the YAML 1.2 reader
    under test reads back exactly ``document``."""
    return libyaml.safe_dump(document, sort_keys=False, default_flow_style=False)


@cache
def _stack_text(stack: str) -> str:
    return (ROOT / f"Pulumi.{stack}.yaml").read_text()


@cache
def _parsed(stack: str) -> dict[str, Any]:
    return dict(YAML(typ="safe", pure=True).load(_stack_text(stack)))


def _stack_document(stack: str) -> dict[str, Any]:
    """A copy of the stack file's document, the case's own to edit."""
    return copy.deepcopy(_parsed(stack))


def edited(case_id: str, overrides: dict[str, Any], *names: str, stack: str = "staging") -> Case:
    """The stack's own file with some ``silhouette:`` sections' keys replaced or added (nested form)."""
    document = _stack_document(stack)
    config = document["config"]
    for key, value in overrides.items():
        current = config.get(key)
        config[key] = {**current, **value} if isinstance(current, dict) and isinstance(value, dict) else value
    return Case(case_id, document, names, stack)


def appended(case_id: str, lines: str, *names: str, stack: str = "staging") -> Case:
    """The stack's own file with raw lines added under ``config:`` (as a person types them)."""
    return Case(
        case_id, _stack_text(stack) + "".join(f"  {line}\n" for line in lines.strip("\n").split("\n")), names, stack
    )


def raw(case_id: str, text: str, *names: str) -> Case:
    return Case(case_id, text, names)


# --------------------------------------------------------------------------------------- generated per section
def _sections(model: type[BaseModel] = Settings, prefix: str = "") -> Iterator[tuple[str, type[BaseModel]]]:
    for name, field in model.model_fields.items():
        annotation = _unwrap(field.annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield f"{prefix}{name}", annotation
            yield from _sections(annotation, f"{prefix}{name}.")


def _nested(path: str, value: Any) -> dict[str, Any]:
    section, *rest = path.split(".")
    for part in reversed(rest):
        value = {part: value}
    return {f"silhouette:{section}": value}


def _out_of_range(model: type[BaseModel]) -> tuple[str, int] | None:
    for name, field in model.model_fields.items():
        for constraint in field.metadata:
            if getattr(constraint, "le", None) is not None and _unwrap(field.annotation) is int:
                return name, int(constraint.le) + 1
            if getattr(constraint, "ge", None) is not None and _unwrap(field.annotation) is int:
                return name, int(constraint.ge) - 1
    return None


def _wrong_type_value(model: type[BaseModel], name: str) -> Any:
    annotation = _unwrap(model.model_fields[name].annotation)
    return "not-a-list" if getattr(annotation, "__origin__", None) is list else ["not", "a", "scalar"]


def generated_cases() -> list[Case]:
    """For every section: an unknown key, a wrong type and (where it has one) an out-of-range number."""
    cases = []
    for path, model in _sections():
        cases.append(edited(f"{path}-unknown-key", _nested(f"{path}.bogus_setting", 1), f"{path}.bogus_setting"))
        first = next(iter(model.model_fields))
        cases.append(
            edited(f"{path}-wrong-type", _nested(f"{path}.{first}", _wrong_type_value(model, first)), f"{path}.{first}")
        )
        bound = _out_of_range(model)
        if bound is not None:
            cases.append(edited(f"{path}-out-of-range", _nested(f"{path}.{bound[0]}", bound[1]), f"{path}.{bound[0]}"))
    return cases


# --------------------------------------------------------------------------------------- written by hand
NODE_GROUP = {"name": "apps", "instance_types": ["m6i.large"], "min_size": 1, "desired_size": 2, "max_size": 4}

HAND_WRITTEN: list[Case] = [
    # The file itself: what the Pulumi CLI would refuse or silently misread.
    raw(
        "yaml-unclosed-bracket",
        "config:\n  silhouette:network:\n    availability_zones: [a, b\n",
        "Pulumi.staging.yaml:",
    ),
    raw(
        "yaml-bad-indentation",
        "config:\n  silhouette:aws:\n    region: us-east-1\n   dr_region: x\n",
        "Pulumi.staging.yaml:4:",
    ),
    raw("yaml-tab", "config:\n\tsilhouette:aws: {}\n", "Pulumi.staging.yaml:2:"),
    appended(
        "duplicate-section", "silhouette:network:\n    nat_gateways: single", "Pulumi.staging.yaml:", "duplicate key"
    ),
    raw(
        "duplicate-nested-key",
        "config:\n  silhouette:network:\n    vpc_cidr: 10.1.0.0/16\n    vpc_cidr: 10.2.0.0/16\n",
        "Pulumi.staging.yaml:4:",
        "duplicate key",
    ),
    raw(
        "misspelled-top-level-key",
        "confg:\n  silhouette:network:\n    nat_gateways: single\n",
        "Pulumi.staging.yaml",
        "confg",
    ),
    raw("document-is-a-list", "- config\n", "Pulumi.staging.yaml"),
    raw("config-is-text", "config: silhouette\n", "Pulumi.staging.yaml", "config"),
    # Keys the program would not read.
    appended("aws-region", "aws:region: eu-west-1", "aws:region", "silhouette:aws.region"),
    appended("aws-profile", "aws:profile: prod", "aws:profile", "AWS_PROFILE"),
    appended("kubernetes-kubeconfig", "kubernetes:kubeconfig: ~/.kube/config", "kubernetes:kubeconfig"),
    appended("random-namespace-key", "random:seed: 1", "random:seed"),
    appended(
        "misspelled-namespace", "silhoutte:postgres:\n    multi_az: false", "silhoutte:postgres", "silhouette:postgres"
    ),
    appended("key-without-namespace", "region: us-east-1", "region:", "namespace:key"),
    # Flat keys, as `pulumi config set` writes them without --path.
    appended("flat-unknown-key", "silhouette:network.vpc_cdir: 10.2.0.0/16", "silhouette:network.vpc_cdir", "vpc_cidr"),
    appended("flat-set-twice", "silhouette:network.vpc_cidr: 10.2.0.0/16", "silhouette:network.vpc_cidr", "twice"),
    appended("flat-list-index", "silhouette:cluster.node_groups[0].max_size: 5", "node_groups[0].max_size", "--path"),
    appended("flat-wrong-type", "silhouette:postgres.multi_az: maybe", "silhouette:postgres.multi_az", "boolean"),
    appended("flat-out-of-range", "silhouette:keys.deletion_window_days: '3'", "silhouette:keys.deletion_window_days"),
    # YAML 1.1 habits: the CLI reads YAML 1.2.
    edited("yaml11-yes", {"silhouette:postgres": {"multi_az": "yes"}}, "silhouette:postgres.multi_az", "YAML 1.2"),
    appended(
        "yaml11-sexagesimal", "silhouette:rabbitmq.maintenance_time: 7:00", "silhouette:rabbitmq.maintenance_time"
    ),
    appended(
        "unquoted-version", "silhouette:redis:\n    engine_version: 7.1", "silhouette:redis.engine_version", "quotes"
    ),
    raw(
        "unquoted-kubernetes-version",
        "config:\n  silhouette:cluster:\n    kubernetes_version: 1.35\n",
        "silhouette:cluster.kubernetes_version",
        "quotes",
    ),
    # Empty values, missing required keys, list items.
    appended("empty-section", "silhouette:audit:", "silhouette:audit", "no value"),
    edited("empty-value", {"silhouette:postgres": {"instance_class": None}}, "silhouette:postgres.instance_class"),
    edited(
        "node-group-missing-name",
        {"silhouette:cluster": {"node_groups": [{k: v for k, v in NODE_GROUP.items() if k != "name"}]}},
        "silhouette:cluster.node_groups[0].name",
        "missing",
    ),
    edited(
        "taint-missing-key",
        {"silhouette:cluster": {"node_groups": [{**NODE_GROUP, "taints": [{"value": "x"}]}]}},
        "silhouette:cluster.node_groups[0].taints[0].key",
    ),
    edited(
        "node-group-min-above-desired",
        {"silhouette:cluster": {"node_groups": [{**NODE_GROUP, "min_size": 3}]}},
        "silhouette:cluster.node_groups[0].min_size",
    ),
    edited("bad-zone", {"silhouette:network": {"availability_zones": ["a", "x9", "c"]}}, "availability_zones[1]"),
    edited("bad-peered-cidr", {"silhouette:network": {"peered_cidrs": ["10.9.0.0/33"]}}, "peered_cidrs[0]"),
    edited("bad-alert-email", {"silhouette:observability": {"alert_emails": ["a@b.io", "nobody"]}}, "alert_emails[1]"),
    edited(
        "account-id-13-digits", {"silhouette:aws": {"allowed_account_ids": ["1234567890123"]}}, "allowed_account_ids[0]"
    ),
    edited(
        "account-id-too-large-number",
        {"silhouette:aws": {"allowed_account_ids": [1234567890123]}},
        "allowed_account_ids[0]",
    ),
    # Every enum.
    edited("enum-environment", {"silhouette:environment": "prod"}, "silhouette:environment"),
    edited(
        "enum-data-classification", {"silhouette:aws": {"data_classification": "secret"}}, "aws.data_classification"
    ),
    edited("enum-nat-gateways", {"silhouette:network": {"nat_gateways": "none"}}, "network.nat_gateways"),
    edited(
        "enum-interface-endpoint", {"silhouette:network": {"interface_endpoints": ["s3"]}}, "interface_endpoints[0]"
    ),
    edited(
        "enum-capacity-type",
        {"silhouette:cluster": {"node_groups": [{**NODE_GROUP, "capacity_type": "RESERVED"}]}},
        "node_groups[0].capacity_type",
    ),
    edited(
        "enum-taint-effect",
        {"silhouette:cluster": {"node_groups": [{**NODE_GROUP, "taints": [{"key": "k", "effect": "NoSchedule"}]}]}},
        "taints[0].effect",
    ),
    edited(
        "enum-monitoring-interval", {"silhouette:postgres": {"monitoring_interval_seconds": 20}}, "monitoring_interval"
    ),
    edited("enum-redis-engine", {"silhouette:redis": {"engine": "memcached"}}, "silhouette:redis.engine"),
    edited("enum-deployment-mode", {"silhouette:rabbitmq": {"deployment_mode": "CLUSTER"}}, "rabbitmq.deployment_mode"),
    edited("enum-maintenance-day", {"silhouette:rabbitmq": {"maintenance_day": "Sunday"}}, "rabbitmq.maintenance_day"),
    edited("enum-release-strategy", {"silhouette:apps": {"release": {"strategy": "big_bang"}}}, "release.strategy"),
    edited("enum-active-color", {"silhouette:apps": {"release": {"active_color": "red"}}}, "release.active_color"),
    # Every version.
    edited("version-kubernetes", {"silhouette:cluster": {"kubernetes_version": "1.29"}}, "cluster.kubernetes_version"),
    edited(
        "version-kube-proxy",
        {"silhouette:cluster": {"addon_versions": {"kube_proxy": "v1.34.0-eksbuild.1"}}},
        "addon_versions.kube_proxy",
    ),
    edited(
        "version-vpc-cni", {"silhouette:cluster": {"addon_versions": {"vpc_cni": "1.20"}}}, "addon_versions.vpc_cni"
    ),
    edited(
        "version-autoscaler",
        {"silhouette:cluster_addons": {"cluster_autoscaler_image_tag": "v1.34.0"}},
        "cluster_autoscaler_image_tag",
    ),
    edited(
        "version-helm-chart", {"silhouette:cluster_addons": {"metrics_server_chart": "3.13"}}, "metrics_server_chart"
    ),
    edited(
        "version-observability-chart",
        {"silhouette:observability": {"kube_prometheus_stack_chart": "latest"}},
        "kube_prometheus_stack_chart",
    ),
    edited("version-postgres", {"silhouette:postgres": {"major_version": "14"}}, "postgres.major_version"),
    edited(
        "version-redis", {"silhouette:redis": {"engine": "valkey", "engine_version": "7.1"}}, "redis.engine_version"
    ),
    edited("version-rabbitmq", {"silhouette:rabbitmq": {"engine_version": "3.12"}}, "rabbitmq.engine_version"),
    edited("version-neo4j", {"silhouette:neo4j": {"version": "4.4"}}, "neo4j.version"),
    edited("version-neo4j-image", {"silhouette:neo4j": {"image": "neo4j:5.20.0"}}, "neo4j.image"),
    # Every instance-type field.
    edited(
        "instance-node-group",
        {"silhouette:cluster": {"node_groups": [{**NODE_GROUP, "instance_types": ["m6i.larg"]}]}},
        "node_groups[0].instance_types[0]",
        "m6i.large",
    ),
    edited("instance-postgres", {"silhouette:postgres": {"instance_class": "db.r6g.huge"}}, "postgres.instance_class"),
    edited("instance-postgres-pattern", {"silhouette:postgres": {"instance_class": "r6g.large"}}, "instance_class"),
    edited(
        "instance-redis", {"silhouette:redis": {"node_type": "cache.r7g.larg"}}, "redis.node_type", "cache.r7g.large"
    ),
    edited("instance-rabbitmq", {"silhouette:rabbitmq": {"host_instance_type": "mq.m6.large"}}, "host_instance_type"),
    edited(
        "instance-rabbitmq-family",
        {"silhouette:rabbitmq": {"engine_version": "4.2", "host_instance_type": "mq.m5.large"}},
        "host_instance_type",
    ),
    # Images.
    edited("image-latest", {"silhouette:apps": {"backend": {"image": "latest"}}}, "apps.backend.image", "latest"),
    edited(
        "image-latest-full-reference",
        {"silhouette:apps": {"allowed_registries": ["ghcr.io"], "backend": {"image": "ghcr.io/s/backend:latest"}}},
        "apps.backend.image",
    ),
    edited("image-untagged", {"silhouette:apps": {"frontend": {"image": "ghcr.io/s/frontend"}}}, "apps.frontend.image"),
    edited(
        "image-registry-not-allowed",
        {"silhouette:apps": {"frontend": {"image": "ghcr.io/s/frontend:1.2.0"}}},
        "apps.frontend.image",
        "allowed_registries",
    ),
    edited("image-neo4j-latest", {"silhouette:neo4j": {"image": "neo4j:latest"}}, "neo4j.image"),
    edited("image-backup-latest", {"silhouette:neo4j": {"backup_image": "amazon/aws-cli:latest"}}, "backup_image"),
    edited(
        "image-collector-untagged",
        {"silhouette:observability": {"tracing": {"collector_image": "public.ecr.aws/a/b"}}},
        "collector_image",
    ),
    # Production's rules, and the README's example of one message with three problems.
    edited(
        "readme-three-problems",
        {
            "silhouette:network": {"vpc_cidr": "10.0.0.0/33"},
            "silhouette:postgres": {"bogus": 1},
            "silhouette:redis": {"multi_az": False},
        },
        "silhouette:network.vpc_cidr",
        "silhouette:postgres.bogus",
        "silhouette:redis.multi_az",
        "3 problems",
        stack="production",
    ),
    edited(
        "production-public-endpoint",
        {"silhouette:cluster": {"endpoint_public_access_cidrs": ["0.0.0.0/0"]}},
        "endpoint_public_access_cidrs[0]",
        stack="production",
    ),
]

CASES = HAND_WRITTEN + generated_cases()


def test_the_table_covers_at_least_forty_stack_files_and_every_section() -> None:
    assert len(CASES) >= 40, len(CASES)
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    for path, _ in _sections():
        assert f"{path}-unknown-key" in ids and f"{path}-wrong-type" in ids, path


@pytest.fixture
def run_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[[Case], tuple[int, str, list[SettingsError]]]:
    """Run ``make synth``'s command on a stack file; return its exit code, what it printed and the settings
    errors the program raised (to check what had been declared)."""
    raised: list[SettingsError] = []
    original_run_stack = engine.run_stack

    def recording_run_stack(stack: str, config: dict[str, str] | None = None) -> engine.SynthResult:
        try:
            return original_run_stack(stack, config)
        except SettingsError as error:
            raised.append(error)
            raise

    def run(case: Case) -> tuple[int, str, list[SettingsError]]:
        path = tmp_path / f"Pulumi.{case.stack}.yaml"
        path.write_bytes(case.text.encode())
        monkeypatch.setattr(engine_run, "stack_config", lambda stack: read_stack_config(path))
        monkeypatch.setattr(engine, "run_stack", recording_run_stack)
        code = main(["synth", "--stack", case.stack])
        captured = capsys.readouterr()
        return code, captured.out + captured.err, raised

    return run


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_a_bad_stack_file_is_a_short_message_naming_the_key_and_nothing_is_declared(
    case: Case, run_file: Callable[[Case], tuple[int, str, list[SettingsError]]]
) -> None:
    code, printed, raised = run_file(case)
    assert code == 2, f"{case.id}: exit code {code}, printed:\n{printed}"
    assert "Traceback" not in printed and "Task was destroyed" not in printed, f"{case.id}:\n{printed}"
    lines = printed.strip().splitlines()
    assert len(lines) <= MAX_LINES, f"{case.id}: {len(lines)} lines:\n{printed}"
    for expected in case.names:
        assert expected in printed, f"{case.id}: the message does not name {expected!r}:\n{printed}"
    assert "Pulumi.staging.yaml" in printed or "Pulumi.production.yaml" in printed, f"{case.id}: no file:\n{printed}"
    for error in raised:
        assert error.declared == [], f"{case.id}: declared before refusing the settings: {error.declared[:5]}"


def test_an_unknown_stack_is_one_line_listing_the_known_stacks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["synth", "--stack", "prodution", "--no-checks"]) == 2
    printed = capsys.readouterr().err.strip()
    assert printed == (
        "unknown stack 'prodution': there is no Pulumi.prodution.yaml; known stacks: dr, production, staging"
    ), printed


# --------------------------------------------------------------------------------------- valid, unusual files
def test_production_overrides_one_field_of_a_section_and_the_rest_keeps_its_defaults() -> None:
    """The README's "deploy a new image" step: only the backend's image, as a flat key; the frontend's
    replica count nested; an account id that `pulumi config set --path` stored as a number."""
    document = _stack_document("production")
    document["config"]["silhouette:apps.backend.image"] = "1.4.2"
    document["config"]["silhouette:apps"] = {"frontend": {"max_replicas": 12}}
    document["config"]["silhouette:aws"]["allowed_account_ids"] = [12345678901]
    settings = load_settings("production", read_stack_config(_write(document)))
    assert settings.apps.backend.image == "1.4.2"
    assert settings.apps.backend.max_replicas == 20, "apps.backend.max_replicas keeps the production default"
    assert settings.apps.frontend.max_replicas == 12 and settings.apps.frontend.min_replicas == 2
    assert settings.aws.allowed_account_ids == ["012345678901"], "a number is formatted back to 12 digits"


def test_staging_with_real_types_missing_a_price_synthesises_with_unpriced_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """db.m7g.large and cache.r7g.large are real types the settings accept and the price table lacks: the stack
    file that asks for them (flat keys and a section) is read, and synth prints them as unpriced lines. The
    program's run is the shared one with these types (``variants.UNPRICED_TYPES``)."""
    document = _stack_document("staging")
    document["config"]["silhouette:postgres.instance_class"] = UNPRICED_TYPES["postgres"]["instance_class"]
    document["config"]["silhouette:redis"] = UNPRICED_TYPES["redis"]
    document["config"]["silhouette:network.vpc_cidr"] = "10.2.0.0/16"
    document["config"]["silhouette:network"].pop("vpc_cidr")
    settings = load_settings("staging", read_stack_config(_write(document, tmp_path)))
    assert (settings.postgres.instance_class, settings.redis.node_type, settings.network.vpc_cidr) == (
        "db.m7g.large",
        "cache.r7g.large",
        "10.2.0.0/16",
    )
    monkeypatch.setattr(engine, "run_stack", lambda stack, config=None: staging_with_an_existing_certificate())
    assert main(["synth", "--stack", "staging", "--no-checks"]) == 0
    printed = capsys.readouterr().out
    unpriced = {line.split(":", 1)[0].strip(): line for line in printed.splitlines() if "unpriced in " in line}
    assert "instances (db.m7g.large)" in unpriced.get("unpriced in postgres", ""), printed
    assert "nodes (cache.r7g.large)" in unpriced.get("unpriced in redis", ""), printed


def test_yaml_12_reads_times_and_yes_as_text_like_the_pulumi_cli(tmp_path: Path) -> None:
    config = read_stack_config(
        _write({"config": {"silhouette:rabbitmq": {"maintenance_time": "07:00"}, "silhouette:x": "yes"}}, tmp_path)
    )
    assert config["silhouette:x"] == "yes"
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text("config:\n  silhouette:rabbitmq:\n    maintenance_time: 7:00\n  silhouette:y: on\n")
    config = read_stack_config(path)
    assert config["silhouette:rabbitmq"] == '{"maintenance_time": "7:00"}', "YAML 1.1 would read 420"
    assert config["silhouette:y"] == "on"


def _write(document: dict[str, Any], directory: Path | None = None) -> Path:
    import tempfile

    folder = directory or Path(tempfile.mkdtemp())
    path = folder / "Pulumi.production.yaml"
    path.write_text(_yaml(document))
    return path
