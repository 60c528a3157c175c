"""Installing and keeping packs: the install pipeline split by phase (decide,
fetch, verify, prepare, activate, record), dependency installation, lock-file
installs, the versioned store and its crash recovery, maintenance (uninstall,
rollback, verify) and the read-side queries (list, show, history).  May import
every domain package below it (pack, net, registry, fetch, resolve) and db.
"""
