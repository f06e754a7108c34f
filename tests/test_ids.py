"""Record ids: RFC 9562 version-7 UUIDs, unique and in the order they were made."""

from __future__ import annotations

import time
import uuid

from fieldapp.ids import new_id, new_ids


def test_ids_are_version_7_and_carry_the_time():
    before = time.time_ns() // 1_000_000
    u = uuid.UUID(new_id())
    after = time.time_ns() // 1_000_000
    assert u.version == 7 and u.variant == uuid.RFC_4122
    assert before <= u.int >> 80 <= after + 1  # +1: a used-up millisecond borrows the next


def test_ids_sort_in_the_order_they_were_made_and_never_repeat():
    made = new_ids(150_000) + [new_id() for _ in range(2000)] + new_ids(3)
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert all(len(i) == 36 and i.count("-") == 4 for i in made[:100])
