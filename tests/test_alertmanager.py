"""Alertmanager config: amtool accepts it (also as the chart merges it), severities reach the right receivers,
pages mute tickets, no secrets, and alert e-mail only where the relay will take it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from silhouette_infra.observability.alertmanager import (
    NULL_RECEIVER,
    PAGE_RECEIVER,
    SECRETS_DIR,
    TICKET_RECEIVER,
    alertmanager_config,
    config_yaml,
)
from silhouette_infra.synth.engine import SynthResult
from silhouette_infra.validation.loader import SettingsError, load_settings
from tests.helm_charts import KPS_DEFAULT_ALERTMANAGER_CONFIG, helm_merge
from tests.support import config_with

SES = "email-smtp.us-east-1.amazonaws.com:587"
CONFIG = alertmanager_config(
    slack_channel="#silhouette-alerts",
    email_to=["oncall@silhouette.example.com", "sre@silhouette.example.com"],
    smtp_from="alerts@silhouette.example.com",
    smtp_smarthost=SES,
    smtp_username="AKIAEXAMPLESMTPUSER",
)
WITHOUT_EMAIL = alertmanager_config(
    slack_channel="#silhouette-alerts", email_to=[], smtp_from="alerts@silhouette.example.com", smtp_smarthost=SES
)
# What Alertmanager reads: kube-prometheus-stack 79.5.0's default alertmanager.config with ours merged in by Helm.
CONFIGS = {
    "with e-mail": CONFIG,
    "without e-mail": WITHOUT_EMAIL,
    "as the chart merges it": helm_merge(KPS_DEFAULT_ALERTMANAGER_CONFIG, CONFIG),
}


def amtool() -> str:
    path = shutil.which("amtool")
    assert path, "amtool not found: apt-get install -y prometheus-alertmanager"
    return path


@pytest.fixture(scope="module", params=list(CONFIGS))
def config_file(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("alertmanager") / "alertmanager.yaml"
    path.write_text(config_yaml(CONFIGS[request.param]))
    return path


def test_amtool_accepts_the_config(config_file: Path) -> None:
    result = subprocess.run([amtool(), "check-config", str(config_file)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_chart_adds_only_its_global_timeout_and_template_path() -> None:
    """Helm merges maps and replaces lists: the chart's routes, inhibitions and null receiver do not survive."""
    merged = CONFIGS["as the chart merges it"]
    assert {key: value for key, value in merged.items() if key not in CONFIG} == {
        "global": {"resolve_timeout": "5m"},
        "templates": ["/etc/alertmanager/config/*.tmpl"],
    }
    assert {key: merged[key] for key in CONFIG} == CONFIG


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["severity=critical", "alertname=ApiAvailabilityErrorBudgetBurn"], PAGE_RECEIVER),
        (["severity=warning", "alertname=PodCrashLooping"], TICKET_RECEIVER),
        (["severity=info", "alertname=InfoInhibitor"], NULL_RECEIVER),
        (["severity=none", "alertname=Watchdog"], NULL_RECEIVER),
    ],
)
def test_each_severity_reaches_its_receiver(config_file: Path, labels: list[str], receiver: str) -> None:
    result = subprocess.run(
        [
            amtool(),
            "config",
            "routes",
            "test",
            f"--config.file={config_file}",
            f"--verify.receivers={receiver}",
            *labels,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"{labels} should reach {receiver}: {result.stdout}{result.stderr}"


def test_the_page_receiver_notifies_pagerduty_slack_and_email_and_the_ticket_receiver_slack_and_email() -> None:
    receivers = {receiver["name"]: set(receiver) - {"name"} for receiver in CONFIG["receivers"]}
    assert receivers == {
        PAGE_RECEIVER: {"pagerduty_configs", "slack_configs", "email_configs"},
        TICKET_RECEIVER: {"slack_configs", "email_configs"},
        NULL_RECEIVER: set(),
    }


def test_without_recipients_pages_and_tickets_go_to_pagerduty_and_slack_only() -> None:
    receivers = {receiver["name"]: set(receiver) - {"name"} for receiver in WITHOUT_EMAIL["receivers"]}
    assert receivers == {
        PAGE_RECEIVER: {"pagerduty_configs", "slack_configs"},
        TICKET_RECEIVER: {"slack_configs"},
        NULL_RECEIVER: set(),
    }
    assert WITHOUT_EMAIL["route"] == CONFIG["route"], "the routing does not depend on e-mail"


def test_the_stacks_send_no_alert_email_until_recipients_and_an_smtp_user_are_set(stack: SynthResult) -> None:
    config = stack.named("kubernetes:helm.sh/v3:Release", "kube-prometheus-stack").inputs["values"]["alertmanager"]
    assert stack.settings.observability.alert_emails == []
    assert not any("email_configs" in receiver for receiver in config["config"]["receivers"])


def _observability_problems(stack: str, **observability: object) -> list[tuple[str, str]]:
    try:
        load_settings(stack, config_with(stack, observability=observability))
    except SettingsError as error:
        return error.problems
    return []


@pytest.mark.parametrize(
    ("stack", "smarthost"),
    [("production", SES), ("staging", SES), ("staging", "email-smtp-fips.us-east-1.amazonaws.com:465")],
)
def test_alert_email_through_ses_without_an_smtp_user_is_refused_naming_the_key(stack: str, smarthost: str) -> None:
    """SES's SMTP endpoints accept authenticated mail only
    (https://docs.aws.amazon.com/ses/latest/dg/smtp-credentials.html); Alertmanager sends none without a user."""
    problems = _observability_problems(stack, alert_emails=["oncall@silhouette.example.com"], smtp_smarthost=smarthost)
    assert [path for path, _ in problems] == ["observability.smtp_username"], problems
    assert "SES" in problems[0][1] and "smtp-password" in problems[0][1]


@pytest.mark.parametrize(
    "observability",
    [
        {"alert_emails": ["oncall@silhouette.example.com"], "smtp_username": "AKIAEXAMPLESMTPUSER"},
        {"alert_emails": ["oncall@silhouette.example.com"], "smtp_smarthost": "smtp.internal.example.com:25"},
        {"alert_emails": [], "smtp_smarthost": "email-smtp-fips.us-east-1.amazonaws.com:587"},
    ],
    ids=["ses-with-user", "own-relay", "no-recipients"],
)
def test_alert_email_settings_that_can_deliver_are_accepted(observability: dict[str, object]) -> None:
    assert _observability_problems("staging", **observability) == []


def test_a_page_inhibits_the_ticket_of_the_same_alert() -> None:
    assert {
        "source_matchers": ['severity="critical"'],
        "target_matchers": ['severity="warning"'],
        "equal": ["alertname", "namespace", "service"],
    } in CONFIG["inhibit_rules"]


def test_receiver_credentials_are_files_of_the_mounted_secret() -> None:
    """Keys, webhook URLs and passwords stay out of Helm values and the Pulumi state."""
    rendered = config_yaml(CONFIG)
    for secret_field in ("routing_key:", "service_key:", "api_url:", "auth_password:", "hooks.slack.com"):
        assert secret_field not in rendered, f"{secret_field} must not be inlined in the Alertmanager config"
    page = next(receiver for receiver in CONFIG["receivers"] if receiver["name"] == PAGE_RECEIVER)
    assert page["pagerduty_configs"][0]["routing_key_file"] == f"{SECRETS_DIR}/pagerduty-routing-key"
    assert page["slack_configs"][0]["api_url_file"] == f"{SECRETS_DIR}/slack-webhook-url"
    assert page["email_configs"][0]["auth_password_file"] == f"{SECRETS_DIR}/smtp-password"
    assert page["email_configs"][0]["auth_username"] == "AKIAEXAMPLESMTPUSER"
