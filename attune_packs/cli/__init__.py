"""The command line: one declared grammar, thin commands over the core services."""
