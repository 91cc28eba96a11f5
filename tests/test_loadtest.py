"""The k6 load test (issue 15 part 5), checked offline: k6 itself is not installable here, so the script is
loaded in Node with stub ``k6`` and ``k6/http`` modules (``tests/k6_harness.mjs``), which also checks its
syntax. Its thresholds must be the SLO settings of the stack it runs against, its rates that stack's throughput
targets (``apps.throughput``), and ``loadtest/slo.json`` (the only place the script reads figures from) must be
what ``make docs`` writes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from silhouette_infra.observability.alerts import availability_budget
from silhouette_infra.settings.models import Settings
from silhouette_infra.synth import loadtest
from silhouette_infra.synth.engine import known_stacks, stack_config
from silhouette_infra.validation.loader import SettingsError, load_settings
from tests.support import node_executable

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "loadtest" / "api.js"
HARNESS = Path(__file__).resolve().parent / "k6_harness.mjs"
BASE_URL = "https://silhouette.example.com"
# The stubs record what the script asks of k6: each request, and nothing else of the response than a status.
K6_STUBS = {
    "package.json": json.dumps({"name": "k6", "type": "module", "exports": {".": "./index.js", "./http": "./http.js"}}),
    "index.js": "export function check(value, checks) { return Object.values(checks).every((f) => f(value)); }\n",
    "http.js": (
        "function record(method, url, body, params) {\n"
        "  globalThis.__requests.push({ method, url, body: body ?? null, params });\n"
        "  return { status: 200 };\n"
        "}\n"
        "export default {\n"
        "  get: (url, params) => record('GET', url, null, params),\n"
        "  post: (url, body, params) => record('POST', url, body, params),\n"
        "};\n"
    ),
}


def node() -> str:
    return node_executable()


@pytest.fixture(scope="module")
def k6_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The script as an ES module beside its slo.json and the stub k6 modules."""
    directory = tmp_path_factory.mktemp("k6")
    shutil.copy(SCRIPT, directory / "api.mjs")
    shutil.copy(loadtest.SLO_JSON, directory / "slo.json")
    stubs = directory / "node_modules" / "k6"
    stubs.mkdir(parents=True)
    for name, text in K6_STUBS.items():
        (stubs / name).write_text(text)
    return directory


def _load(directory: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node(), str(HARNESS), str(directory), json.dumps(env)], capture_output=True, text=True, check=False
    )


def _loaded(directory: Path, **env: str) -> dict[str, Any]:
    result = _load(directory, **env)
    assert result.returncode == 0, f"loadtest/api.js does not load in k6's init context: {result.stderr}"
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def _settings(stack: str) -> Settings:
    return load_settings(stack, stack_config(stack))


@pytest.fixture(scope="module")
def runs(k6_directory: Path) -> dict[str, dict[str, Any]]:
    return {stack: _loaded(k6_directory, BASE_URL=BASE_URL, STACK=stack) for stack in known_stacks()}


def test_slo_json_is_what_make_docs_generates_from_the_stack_settings() -> None:
    assert loadtest.is_current(), "loadtest/slo.json is stale: run `make docs`"


@pytest.mark.parametrize("stack", known_stacks())
def test_k6_thresholds_are_the_stacks_slos(runs: dict[str, dict[str, Any]], stack: str) -> None:
    """p95 below the API's latency objective, failed requests below its error budget (the alerts' budget:
    the stricter of availability and error rate), read from the settings, not from slo.json."""
    slo = _settings(stack).observability.slo
    assert runs[stack]["options"]["thresholds"] == {
        "http_req_duration": [f"p(95)<{slo.latency_p95_ms}"],
        "http_req_failed": [f"rate<{availability_budget(slo):g}"],
    }, f"loadtest/api.js with STACK={stack}: thresholds differ from silhouette:observability.slo"


def test_production_runs_the_designs_figures(runs: dict[str, dict[str, Any]]) -> None:
    """The design: 1,000 requests/s at p95 < 200 ms and errors < 0.1 %; 10,000 workflows an hour (x 2 at peak)."""
    options = runs["production"]["options"]
    assert options["thresholds"] == {"http_req_duration": ["p(95)<200"], "http_req_failed": ["rate<0.001"]}
    assert max(stage["target"] for stage in options["scenarios"]["api"]["stages"]) == 1000
    assert options["scenarios"]["workflows"]["rate"] == 20_000


@pytest.mark.parametrize("stack", known_stacks())
def test_k6_ramps_to_the_api_objective_and_enqueues_workflows_at_the_peak_rate(
    runs: dict[str, dict[str, Any]], stack: str
) -> None:
    targets = _settings(stack).apps.throughput
    scenarios = runs[stack]["options"]["scenarios"]
    api = scenarios["api"]
    assert (api["executor"], api["timeUnit"]) == ("ramping-arrival-rate", "1s"), "api: an open model, per second"
    assert max(stage["target"] for stage in api["stages"]) == targets.api_requests_per_second, (
        f"api scenario of STACK={stack}: ramps to apps.throughput.api_requests_per_second"
    )
    assert api["stages"][0]["target"] == api["stages"][1]["target"], "api: ramp, then hold the rate"
    workflows = scenarios["workflows"]
    assert (workflows["executor"], workflows["timeUnit"]) == ("constant-arrival-rate", "1h")
    assert workflows["rate"] == round(targets.workflows_per_hour * targets.workflow_peak_factor), (
        f"workflows scenario of STACK={stack}: workflows_per_hour x workflow_peak_factor per hour"
    )
    assert (workflows["startTime"], workflows["duration"]) == (
        api["stages"][0]["duration"],
        api["stages"][1]["duration"],
    )


def test_k6_requests_the_default_endpoints(runs: dict[str, dict[str, Any]]) -> None:
    requests = runs["staging"]["requests"]
    assert [(r["method"], r["url"]) for r in requests] == [
        ("GET", f"{BASE_URL}/api/healthz"),
        ("POST", f"{BASE_URL}/api/workflows/load-test/executions"),
    ]
    assert requests[1]["params"]["headers"] == {"Content-Type": "application/json"}, "no token unless TOKEN is set"


def test_k6_endpoints_rate_and_token_come_from_the_environment(k6_directory: Path) -> None:
    run = _loaded(
        k6_directory,
        BASE_URL=f"{BASE_URL}/",
        API_PATH="/api/v1/status",
        WORKFLOW_PATH="/api/v1/workflows/{id}/run",
        WORKFLOW_ID="nightly report",
        TOKEN="not-a-real-token",
        API_RATE="250",
    )
    assert [(r["method"], r["url"]) for r in run["requests"]] == [
        ("GET", f"{BASE_URL}/api/v1/status"),
        ("POST", f"{BASE_URL}/api/v1/workflows/nightly%20report/run"),
    ]
    assert all(r["params"]["headers"]["Authorization"] == "Bearer not-a-real-token" for r in run["requests"])
    assert max(stage["target"] for stage in run["options"]["scenarios"]["api"]["stages"]) == 250


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "BASE_URL=(unset): set the API's scheme and host"),
        ({"BASE_URL": "silhouette.example.com"}, "BASE_URL=silhouette.example.com: set the API's scheme and host"),
        ({"BASE_URL": BASE_URL, "STACK": "prod"}, "STACK=prod: loadtest/slo.json has no such stack"),
    ],
)
def test_k6_refuses_a_missing_base_url_or_unknown_stack_in_one_line(
    k6_directory: Path, env: dict[str, str], message: str
) -> None:
    result = _load(k6_directory, **env)
    assert result.returncode == 1 and result.stderr.startswith(message), (
        f"loadtest/api.js with {env}: {result.stderr!r}"
    )
    assert len(result.stderr.strip().splitlines()) == 1, "one line, no stack trace"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("queue_messages_per_second", 0),
        ("queue_messages_per_second", -5),
        ("cache_hit_ratio_percent", 100),
        ("database_availability_percent", 100),
    ],
)
def test_an_impossible_objective_is_a_settings_error_naming_the_key(key: str, value: float) -> None:
    """Issue 15, bad input: throughput figures of zero or negative (and objectives no service can meet) stop
    the program before anything is declared, naming the key."""
    config = {"silhouette:observability": json.dumps({"slo": {key: value}})}
    with pytest.raises(SettingsError) as raised:
        load_settings("staging", config)
    assert f"silhouette:observability.slo.{key}: " in str(raised.value), str(raised.value)
