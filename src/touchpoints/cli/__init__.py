"""The `touchpoints` command line: one module per command group."""
