"""Engine and platform versions the settings accept, with where each list comes from.

Versions are data, not code paths: bumping one is a one-line change here plus a stack setting.
"""

from __future__ import annotations

import datetime

# Amazon EKS gives a minor version 14 months of standard support
# (https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html). In November 2026:
# 1.34 ends 2026-12-02 (so no new stack should start on it), 1.35 ends 2027-03-27, 1.36 is current.
# This table, not a scanner's built-in list, is the authority on which versions a stack may run.
EKS_KUBERNETES_VERSIONS: tuple[str, ...] = ("1.35", "1.36")

# End of standard support of every accepted version (UTC), from the release calendar of the same page.
# None: not known from AWS yet (the entry says why).
EKS_STANDARD_SUPPORT_ENDS: dict[str, datetime.date | None] = {
    "1.35": datetime.date(2027, 3, 27),
    # AWS's release notes list 1.36 as available on EKS, but no copy of AWS's release calendar reachable
    # here (searched November 2026) has its row, so the date is left unknown rather than guessed (a
    # third-party blog gives 2027-08-02, 14 months after an EKS release on 2026-06-02; unconfirmed).
    # Take it from the calendar, or `aws eks describe-cluster-versions`, when adopting 1.36.
    "1.36": None,
}

# RDS for PostgreSQL majors in standard support that we are willing to create. 14 leaves standard
# support in February 2027 and 15 in February 2028; a new platform starts on 16 or 17
# (https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-release-calendar.html).
POSTGRES_MAJOR_VERSIONS: tuple[str, ...] = ("16", "17")

# ElastiCache engine versions per engine
# (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/supported-engine-versions.html).
ELASTICACHE_ENGINE_VERSIONS: dict[str, tuple[str, ...]] = {
    "redis": ("6.2", "7.0", "7.1"),
    "valkey": ("7.2", "8.0", "8.1"),
}

# Amazon MQ for RabbitMQ: 3.11 and 3.12 reached end of support in 2025 and can no longer be created;
# 3.13 runs on mq.t3, mq.m5 and mq.m7g; 4.2 only on mq.m7g
# (https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rabbitmq-version-management.html).
AMAZON_MQ_RABBITMQ_VERSIONS: tuple[str, ...] = ("3.13", "4.2")
AMAZON_MQ_RABBITMQ_INSTANCE_FAMILIES: dict[str, tuple[str, ...]] = {
    "3.13": ("mq.t3", "mq.m5", "mq.m7g"),
    "4.2": ("mq.m7g",),
}

# Neo4j 5.26 is the 5.x long-term-support release.
NEO4J_VERSIONS: tuple[str, ...] = ("5.26",)
