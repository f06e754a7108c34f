"""Every user action as one function and one transaction, callable without a window.

Signatures follow one shape: the open `Store` first, then the action's data, then optional
`progress(done, total)` and `cancel` (a `threading.Event`) for the long ones. Each returns
the ids it changed so a view refreshes only those.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from collections.abc import Callable

from fieldapp.errors import FieldAppError, Interrupted

Progress = Callable[[int, int], None]


@dataclass
class Changes:
    """What an action changed, by table; views refresh only these."""

    tasks: set[str] = field(default_factory=set)
    visits: set[str] = field(default_factory=set)
    findings: set[str] = field(default_factory=set)
    checks: set[str] = field(default_factory=set)
    photos: set[str] = field(default_factory=set)
    refused: list[FieldAppError] = field(default_factory=list)  # items not taken, and why


def check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Interrupted()
