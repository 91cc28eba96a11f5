"""``python -m silhouette_infra.failover``: see ``command.py``."""

import sys

from silhouette_infra.failover.command import main

sys.exit(main(sys.argv[1:]))
