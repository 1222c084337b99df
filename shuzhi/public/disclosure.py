"""Disclosure control: small counts withheld, the rest rounded — as an expression any engine runs."""

from __future__ import annotations

import ibis

from shuzhi.public.policy import SmallCounts


def controlled(count: ibis.IntegerValue, rule: SmallCounts) -> ibis.IntegerValue:
    """0 stays 0; 1 to ``suppress_at_or_below`` become null (withheld); the rest go to the nearest multiple of
    ``round_to`` (halves up, in integers, so every engine rounds alike)."""
    step = rule.round_to
    rounded = ((count + step // 2) // step) * step
    withheld = ibis.null("int64")
    return ibis.cases((count == 0, 0), (count <= rule.suppress_at_or_below, withheld), else_=rounded).cast(
        "int64"
    )
