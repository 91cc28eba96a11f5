"""Settings validation: the loader (stack config to one validated ``Settings``, every problem in one
message) and the cross-field rules, which call the planners. Above the pure settings data."""
