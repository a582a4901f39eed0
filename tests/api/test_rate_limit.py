"""The rate limit is the grant's, whatever key of it calls: an officer who takes more keys of one
grant gets no more calls (per key, each new key brought a fresh count, so any limit could be
multiplied at will); another grant has its own."""

from __future__ import annotations

import pytest
from calling import ENTRY

from api.guard import Gate, Refused


def test_the_keys_of_one_grant_share_its_rate_limit(store, grant) -> None:
    gate = Gate(store, {"officer"}, "3/minute")
    g, other = grant(ENTRY["persons_status"]), grant(ENTRY["persons_status"])
    second = store.issue_key(g.request_id, actor="clerk", role="officer", scope=g.department)
    third = store.issue_key(g.request_id, actor="clerk", role="officer", scope=g.department)
    for key in (g.key, second, third):
        assert gate.grant(key).request_id == g.request_id
    for key in (g.key, second, third, "cbk_" + third.split("_", 1)[1]):
        with pytest.raises(Refused) as refused:
            gate.grant(key)
        assert (refused.value.status, refused.value.code) == (429, "rate_limited")
    assert gate.grant(other.key).request_id == other.request_id  # another grant counts alone
