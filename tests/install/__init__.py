"""Tests of attune_packs.install: the pipeline, the store, crashes and concurrency."""
