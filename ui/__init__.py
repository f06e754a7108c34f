"""FieldApp's window: PySide6 widgets on top of the fieldapp core (and, later, sync)."""
