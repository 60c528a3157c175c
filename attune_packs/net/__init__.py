"""Transport that knows nothing of packs: HTTP(S) with retries and URL policy, TLS,
the content-addressed download cache and git clones.  Imports the base modules
and, from pack/, only attune_packs.pack.checksum (file digests).
"""
