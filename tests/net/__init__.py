"""Tests of attune_packs.net: HTTP(S) with retries, the download cache, git."""
