"""Alertmanager config: amtool accepts it, severities reach the right receivers, pages mute tickets, no secrets."""

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

CONFIG = alertmanager_config(
    slack_channel="#silhouette-alerts",
    email_to=["oncall@silhouette.example.com", "sre@silhouette.example.com"],
    smtp_from="alerts@silhouette.example.com",
    smtp_smarthost="email-smtp.us-east-1.amazonaws.com:587",
    smtp_username="AKIAEXAMPLESMTPUSER",
)


def amtool() -> str:
    path = shutil.which("amtool")
    assert path, "amtool not found: apt-get install -y prometheus-alertmanager"
    return path


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("alertmanager") / "alertmanager.yaml"
    path.write_text(config_yaml(CONFIG))
    return path


def test_amtool_accepts_the_config(config_file: Path) -> None:
    result = subprocess.run([amtool(), "check-config", str(config_file)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


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
