"""Compliance as code: the policy pack's rules as pure functions (no Pulumi import), the controls they
implement, and what is stateful. Tooling: synth and ``policy/__main__.py`` use it; the program never does."""
