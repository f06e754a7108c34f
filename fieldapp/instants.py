"""Instants: how a time someone recorded is stored, shown and sent.

A visit's or a check's time is stored as UTC with the recorder's offset from UTC beside it (in
minutes), so it is one instant wherever it is read and still shows as the recorder's clock did
(a visit at 09:30 in Hangzhou shows 09:30, not 01:30). A naive time given to a service is the
recorder's local time on this machine. On the wire it is ISO 8601 with the offset.
"""

from __future__ import annotations

import datetime as dt


def split(value: dt.datetime) -> tuple[dt.datetime, int]:
    """A recorded time → (UTC without tzinfo, as stored; the recorder's offset in minutes)."""
    aware = value if value.tzinfo is not None else value.astimezone()  # naive: this machine's zone
    offset = aware.utcoffset() or dt.timedelta(0)
    return aware.astimezone(dt.timezone.utc).replace(tzinfo=None), int(offset.total_seconds() // 60)


def aware(utc: dt.datetime, offset_minutes: int) -> dt.datetime:
    """The stored instant at the recorder's offset."""
    zone = dt.timezone(dt.timedelta(minutes=offset_minutes))
    return utc.replace(tzinfo=dt.timezone.utc).astimezone(zone)


def wall(utc: dt.datetime, offset_minutes: int) -> dt.datetime:
    """What the recorder's clock showed (naive), for display and ledgers."""
    return aware(utc, offset_minutes).replace(tzinfo=None)


def to_wire(utc: dt.datetime, offset_minutes: int = 0) -> str:
    return aware(utc, offset_minutes).isoformat()


def from_wire(text: str) -> tuple[dt.datetime, int]:
    """ISO 8601 with an offset → (UTC as stored, offset in minutes). A text without an offset
    is refused: it names no instant."""
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return split(value)
