"""The controls the project claims, and what infrastructure alone cannot provide for them.

Titles paraphrase the framework texts: AICPA Trust Services Criteria (2017, revised points of focus 2022),
HIPAA Security Rule 45 CFR §164.312 (technical safeguards), GDPR Article 32 (security of processing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Control:
    id: str
    framework: str
    title: str


CONTROLS: Final[dict[str, Control]] = {
    control.id: control
    for control in (
        Control(
            "SOC 2 CC6.1",
            "SOC 2",
            "Logical access security over protected information assets (access restricted, data encrypted)",
        ),
        Control("SOC 2 CC6.6", "SOC 2", "Logical access measures against threats from outside the system boundary"),
        Control("SOC 2 CC6.7", "SOC 2", "Transmission of information restricted and protected (encryption in transit)"),
        Control("SOC 2 CC7.2", "SOC 2", "System components monitored for anomalies (audit logging)"),
        Control("SOC 2 A1.2", "SOC 2", "Environmental protections, data backup and recovery infrastructure"),
        Control("HIPAA §164.312(a)(2)(iv)", "HIPAA", "Encryption and decryption of ePHI"),
        Control("HIPAA §164.312(b)", "HIPAA", "Audit controls: record and examine activity in systems with ePHI"),
        Control("HIPAA §164.312(c)(1)", "HIPAA", "Integrity: protect ePHI from improper alteration or destruction"),
        Control("HIPAA §164.312(e)(1)", "HIPAA", "Transmission security: guard ePHI sent over a network"),
        Control(
            "GDPR Art. 32",
            "GDPR",
            "Security of processing: encryption, confidentiality, availability and resilience, timely restore",
        ),
    )
}

OUT_OF_SCOPE: Final[tuple[tuple[str, str], ...]] = (
    (
        "Erasure and data-subject rights (GDPR Art. 15-17)",
        "Finding and deleting one person's data in PostgreSQL, Neo4j, Redis, the backups and the logs is "
        "application logic and a retention process; backups and DR copies keep deleted data until they expire.",
    ),
    (
        "Business Associate Agreements (HIPAA §164.308(b), §164.314)",
        "Signed with AWS (AWS Artifact) and every other vendor that handles ePHI; no resource can express one, "
        "and only HIPAA-eligible AWS services may hold ePHI.",
    ),
    (
        "Incident response (SOC 2 CC7.3-CC7.5, HIPAA §164.308(a)(6), GDPR Art. 33-34)",
        "The alerts, runbooks and audit trail here feed a process of people: triage, breach assessment, "
        "notification within 72 hours, post-mortems.",
    ),
    (
        "Access reviews and workforce security (SOC 2 CC6.2-CC6.3, HIPAA §164.308(a)(3)-(4))",
        "Who is listed in cluster.admin_role_arns and the account's IAM is reviewed by people, on a schedule.",
    ),
    (
        "Risk assessment, policies and training (SOC 2 CC3, CC1-CC2, HIPAA §164.308(a)(1), (a)(5))",
        "Organisational controls, documented and evidenced outside the infrastructure.",
    ),
    (
        "Application security (authentication, authorisation, input handling, encryption of fields)",
        "Inside the backend and frontend images; this repository only runs them hardened.",
    ),
    (
        "Restore testing (SOC 2 A1.3, HIPAA §164.308(a)(7)(ii)(D), GDPR Art. 32(1)(d))",
        "Backups exist by policy; that they restore within the RTO is shown only by regular restore drills.",
    ),
)
"""What infrastructure cannot provide, stated in the control matrix."""
