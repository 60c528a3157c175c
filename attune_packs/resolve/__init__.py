"""Deciding what to install: the dependency resolver, the planner (installed
packs + registries + local packs) and lock files.  Imports base, pack,
registry, fetch and db (read-only queries); never install/.
"""
