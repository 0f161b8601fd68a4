import time
import uuid

from oauthflow.models import new_family_id


def test_family_ids_are_uuid7_and_sort_by_time():
    first = new_family_id()
    time.sleep(0.002)
    later = new_family_id()
    assert first.version == 7
    assert first.variant == uuid.RFC_4122
    assert later > first
    assert abs((first.int >> 80) - time.time_ns() // 1_000_000) < 5_000


def test_family_ids_are_unique():
    assert len({new_family_id() for _ in range(10_000)}) == 10_000
