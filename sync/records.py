"""Records between the local store and the wire: the same field names, times as instants.

On the wire a record's fields are its local columns (`Record.to_dict`) with every stored time
as ISO 8601 with an offset: created/updated times as UTC, a visit's or check's time at the
recorder's offset. Dates stay dates. A photo's `taken_at` is the camera's clock, which names no
zone, and travels as it is. Fields this FieldApp does not know (a newer platform's) are dropped
when a pulled record is stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, DateTime

from fieldapp import instants
from fieldapp.models import RECORD_MODELS as MODELS
# A recorded time and the column holding its recorder's offset.
RECORDED = {("visits", "visited_at"): "visited_offset", ("checks", "checked_at"): "checked_offset"}
CAMERA_CLOCK = {("photos", "taken_at")}


def _columns(entity: str, kind: type) -> set[str]:
    return {c.key for c in MODELS[entity].__table__.columns if isinstance(c.type, kind)}  # type: ignore[attr-defined]


_DATETIMES = {e: _columns(e, DateTime) for e in MODELS}
_DATES = {e: _columns(e, Date) for e in MODELS}
_KNOWN = {e: {c.key for c in MODELS[e].__table__.columns} for e in MODELS}  # type: ignore[attr-defined]


def to_wire(entity: str, fields: dict[str, Any] | None, offsets: dict[str, int] | None = None,
            legacy: bool = False) -> dict[str, Any]:
    """A logged record (JSON values) as it travels. `offsets` gives a recorded time's offset when
    the entry itself does not carry it; `legacy`: an entry from before migration 0005, whose
    recorded times are the recorder's wall clock, not UTC."""
    out = dict(fields or {})
    for key in _DATETIMES[entity] & out.keys():
        value = out[key]
        if value is None or (entity, key) in CAMERA_CLOCK:
            continue
        when = dt.datetime.fromisoformat(value)
        offset_key = RECORDED.get((entity, key))
        if offset_key is None:
            out[key] = instants.to_wire(when, 0)
            continue
        offset = out.get(offset_key, (offsets or {}).get(offset_key, 0))
        if legacy:  # the wall clock at `offset` → UTC
            when = when - dt.timedelta(minutes=offset)
        out[key] = instants.to_wire(when, offset)
        out[offset_key] = offset
    return out


def from_wire(entity: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Pulled fields → values for the local model's columns (unknown fields dropped).
    Raises ValueError on a value that does not fit (the caller stops the pull)."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key not in _KNOWN[entity] or key == "version":
            continue
        if value is not None and key in _DATETIMES[entity]:
            if (entity, key) in CAMERA_CLOCK:
                value = dt.datetime.fromisoformat(value).replace(tzinfo=None)
            else:
                value, offset = instants.from_wire(value)
                offset_key = RECORDED.get((entity, key))
                if offset_key:
                    out[offset_key] = offset
        elif value is not None and key in _DATES[entity]:
            value = dt.date.fromisoformat(value)
        out[key] = value
    return out
