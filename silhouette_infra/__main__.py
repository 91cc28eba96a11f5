"""``python -m silhouette_infra``: the offline synth tooling's command line (silhouette_infra/synth/cli.py)."""

import os
import sys

from silhouette_infra.synth.cli import main

if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Tearing down the interpreter (thousands of SDK classes, the engine's threads) takes seconds and
    # does nothing for a one-shot command: leave at once with the command's exit code.
    os._exit(code)
