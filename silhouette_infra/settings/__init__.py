"""The platform's settings as pure data: the pydantic models, the per-stack profiles and the engine and
platform versions they accept. Validation, which calls the planners, lives above in ``validation``."""
