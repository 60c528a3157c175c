"""Tests of attune_packs.resolve: the resolver, plans, dependency trees, lock files."""
