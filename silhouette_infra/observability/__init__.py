"""Observability: metrics, alerts, dashboards, alarms; and the audit trail."""
