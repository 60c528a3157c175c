"""Registry indices and registries: the index model, its canonical form and
validation, release history, loading and caching indices, picking versions,
search, and authoring (entries, update, merge).  Imports base, pack and net;
never fetch, resolve, install or db.
"""
