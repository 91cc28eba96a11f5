"""The stacks whose committed files the tests run (``Pulumi.<stack>.yaml``), in a module that imports nothing:
``conftest.py`` parametrises its fixtures with them in pytest-xdist's controller too."""

STACKS = ("production", "staging")
