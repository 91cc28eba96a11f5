"""``silhouette-ops``: the operators' tool on boto3 (issue 13). Tooling beside the program, like ``synth``: the
program never imports it, and it knows the stack only through its outputs (``pulumi stack output``)."""
