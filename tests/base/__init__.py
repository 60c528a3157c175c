"""Tests of the base modules: versioning, YAML reading, configuration."""
