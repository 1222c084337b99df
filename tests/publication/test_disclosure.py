"""The small-count rule: 0 stays 0, 1-7 are withheld, the rest go to the nearest multiple of 5."""

from __future__ import annotations

import ibis
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from shuzhi.engine import connect
from shuzhi.public import publication_policy
from shuzhi.public.disclosure import controlled

RULE = publication_policy("2022-9th").small_counts
ENGINE = connect()


def published(counts: list[int], rule=RULE) -> list[int | None]:
    t = ibis.memtable(pa.table({"n": pa.array(counts, pa.int64())}))
    return ENGINE.to_arrow(t.select(n=controlled(t.n, rule)))["n"].to_pylist()


def test_the_rule_by_hand():
    assert published([0, 1, 7, 8, 10, 12, 13, 17, 18, 1002]) == [0, None, None, 10, 10, 10, 15, 15, 20, 1000]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=50))
def test_no_small_count_is_ever_published_and_the_rest_move_at_most_half_a_step(counts):
    for true, shown in zip(counts, published(counts), strict=True):
        if true == 0:
            assert shown == 0
        elif true <= RULE.suppress_at_or_below:
            assert shown is None
        else:
            assert shown % RULE.round_to == 0 and abs(shown - true) <= RULE.round_to // 2
            assert shown > RULE.suppress_at_or_below


def test_the_numbers_come_from_the_policy():
    stricter = RULE.model_copy(update={"suppress_at_or_below": 10, "round_to": 10})
    assert published([9, 10, 11, 14, 15], stricter) == [None, None, 10, 10, 20]
