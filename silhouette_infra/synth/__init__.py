"""The offline synth tooling (CLI, mocked engine, validators, summary, cost, stateful guard, docs).
It runs the program; the program never imports it."""
