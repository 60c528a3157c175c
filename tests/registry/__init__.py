"""Tests of attune_packs.registry: indices, registries, search, authoring."""
