"""Tests of attune_packs.pack: manifest, validation, checksums, archives, runtimes, pack tests."""
