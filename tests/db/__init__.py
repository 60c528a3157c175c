"""Tests of attune_packs.db: drivers, migrations, models."""
