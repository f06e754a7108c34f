"""Sync with the provincial platform: the wire contract, the client and the reference server.

Not built yet (a later issue); the package exists so the layering contract in pyproject.toml
already holds it to importing the core only.
"""
