"""The failover command (issue 14, item 5): finds the recovery sources in the DR region and prints what the dr
stack needs. Tooling, beside ``synth``: the program never imports it."""
