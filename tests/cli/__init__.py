"""Tests of attune_packs.cli: grammar, help, completion, rendering, progress, signals."""
