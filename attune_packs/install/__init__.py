"""Making it so: the install pipeline by phase (plan, fetch/prepare, verify,
activate, record), dependency installation, lock-file installs, the versioned
store and its recovery, maintenance (uninstall, rollback, verify) and the
read-side queries.  May import every domain package below it and db.
"""
