"""Tests of attune_packs.fetch: every SOURCE form into a staged folder, messages."""
