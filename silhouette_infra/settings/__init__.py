"""Typed, validated settings of the platform: pure data models, profiles and versions below, the loader
and the cross-field rules (which call the planners) above them. Import from the submodules."""
