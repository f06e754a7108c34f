"""FieldApp core: domain, local store, services, photos — no Qt widgets, no ui, no sync."""

__version__ = "0.1.0"
APP_NAME = "FieldApp"
APP_ID = "fieldapp"
