"""Turns any SOURCE into a staged pack folder: SOURCE classification, the one
Provenance type (install, lock file, audit row, results), local and remote
fetchers behind fetch_pack().  Imports base, pack, net and registry.
"""
