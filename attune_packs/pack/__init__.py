"""What a pack is, offline: the pack.yaml model and its validation, content discovery,
checksums (the only place that computes Attune checksums), safe archive extraction,
runtime checks and pack tests.  Imports only the base modules (errors, events,
config, fsutil, yamlio, locking, versioning) and the standard library.
"""
