"""Registries: the index model, its canonical form and validation, loading and
caching indices, picking versions, search, and authoring (entries, update,
merge).  Imports base, pack and net; never fetch, resolve, install or db.
"""
