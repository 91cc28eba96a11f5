"""Alertmanager configuration as plain data: routes by severity, inhibition, receivers without secrets.

Receiver credentials never enter the config (which lands in Helm values and the Pulumi state): each
is read from a file of the ``alertmanager-receivers`` Secret, which kube-prometheus-stack mounts at
``/etc/alertmanager/secrets/alertmanager-receivers/`` (``alertmanagerSpec.secrets``). The ``*_file``
fields used here (``routing_key_file``, ``api_url_file``, ``auth_password_file``) are accepted by
Debian bookworm's amtool 0.25 (checked by the tests) and by the Alertmanager the chart ships.

E-mail is a third channel, on only when ``alert_emails`` lists recipients: every receiver then also mails
them. The settings refuse recipients on an authenticating relay (Amazon SES) without an SMTP user name.
"""

from __future__ import annotations

from typing import Any

import yaml

SECRETS_DIR = "/etc/alertmanager/secrets/alertmanager-receivers"
PAGE_RECEIVER = "page"
TICKET_RECEIVER = "ticket"
NULL_RECEIVER = "null"
GROUP_BY = ["alertname", "namespace"]


def _slack(channel: str, *, critical: bool) -> dict[str, Any]:
    return {
        "api_url_file": f"{SECRETS_DIR}/slack-webhook-url",
        "channel": channel,
        "send_resolved": True,
        "title": ("[PAGE] " if critical else "") + "{{ .CommonLabels.alertname }} ({{ .Status | toUpper }})",
        "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.description }}\n"
        "Runbook: {{ .Annotations.runbook_url }}\n{{ end }}",
    }


def _email(email_to: list[str], smtp_from: str, smtp_smarthost: str, smtp_username: str | None) -> dict[str, Any]:
    email: dict[str, Any] = {
        "to": ", ".join(email_to),
        "from": smtp_from,
        "smarthost": smtp_smarthost,
        "require_tls": True,
        "send_resolved": True,
    }
    if smtp_username:
        # Alertmanager authenticates only with a username; the password stays in the mounted secret.
        email["auth_username"] = smtp_username
        email["auth_password_file"] = f"{SECRETS_DIR}/smtp-password"
    return email


def alertmanager_config(
    *,
    slack_channel: str,
    email_to: list[str],
    smtp_from: str,
    smtp_smarthost: str,
    smtp_username: str | None = None,
) -> dict[str, Any]:
    """Critical pages (PagerDuty, Slack), warning tickets (Slack), both also by e-mail to ``email_to`` when
    it lists anyone; info stays on dashboards."""
    email = {"email_configs": [_email(email_to, smtp_from, smtp_smarthost, smtp_username)]} if email_to else {}
    return {
        "route": {
            "receiver": TICKET_RECEIVER,  # anything without a known severity still reaches people
            "group_by": GROUP_BY,
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [
                {
                    "receiver": PAGE_RECEIVER,
                    "matchers": ['severity="critical"'],
                    "group_wait": "10s",
                    "repeat_interval": "1h",
                },
                {"receiver": TICKET_RECEIVER, "matchers": ['severity="warning"'], "repeat_interval": "12h"},
                {"receiver": NULL_RECEIVER, "matchers": ['severity="info"']},
                # The chart's Watchdog is a dead man's switch meant for an external heartbeat; not a page.
                {"receiver": NULL_RECEIVER, "matchers": ['alertname="Watchdog"']},
            ],
        },
        "inhibit_rules": [
            {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity="warning"'],
                "equal": ["alertname", "namespace", "service"],
            }
        ],
        "receivers": [
            {
                "name": PAGE_RECEIVER,
                "pagerduty_configs": [
                    {
                        "routing_key_file": f"{SECRETS_DIR}/pagerduty-routing-key",
                        "send_resolved": True,
                        "description": "{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}",
                    }
                ],
                "slack_configs": [_slack(slack_channel, critical=True)],
                **email,
            },
            {"name": TICKET_RECEIVER, "slack_configs": [_slack(slack_channel, critical=False)], **email},
            {"name": NULL_RECEIVER},
        ],
    }


def config_yaml(config: dict[str, Any]) -> str:
    """The config as the YAML file Alertmanager and amtool read."""
    return yaml.safe_dump(config, sort_keys=False, width=1000)
