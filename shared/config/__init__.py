"""Configuration: the one table of tunables, how a raw value is parsed, and the typed settings read once."""
