"""The reference provincial platform server: FastAPI over SQLAlchemy, implementing sync/contract.py.

It keeps no state in its process between requests (SQLite for a small office, PostgreSQL with
several processes for a province) and never goes into the desktop installer: it is the
`server` extra. Start it with `fieldapp-platform serve`; see `sync.server.cli`.
"""
