"""The bootstrap program (``bootstrap/``): what the platform's stacks need before their first ``pulumi up`` and
cannot own themselves. Run once per AWS account, with a local backend. Program floor, beside ``platform``; it
uses only the ground floor (``aws/``)."""
