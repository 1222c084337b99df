"""Colours: every resident's health code for a day, with the rule, reason and evidence that set it.

For the requested days the evidence of every rule is unrolled into its phases (:mod:`shuzhi.codes.timeline`),
the clearing day of each piece of evidence is joined on (:mod:`shuzhi.codes.clearing`), and the phases that
hold on a day compete: the most severe colour wins, ties go to the rule listed first in the policy, then to
the evidence whose colour lasts longest, then to the latest evidence. Residents no rule applies to get the
policy's default (green, rule ``default_green``). Codes are as of the end of the day: evidence of the day
counts, and a check-in streak or test result completed that day clears.

Everything is an Ibis expression run by the engine layer; only the final table is materialised.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from shuzhi.codes.clearing import cleared
from shuzhi.codes.evidence import Window, evidence
from shuzhi.codes.inputs import Sources
from shuzhi.codes.policy import CodePolicy, load_policy
from shuzhi.codes.text import BETWEEN_LANGUAGES, bilingual, join_present, render
from shuzhi.codes.timeline import holds, phased, plus_days
from shuzhi.engine import Engine

CODES = pa.schema(
    [
        ("person_key", pa.int64()),
        ("day", pa.date32()),
        ("colour", pa.string()),
        ("rule", pa.string()),
        ("reason", pa.string()),
        ("evidence", pa.string()),
        ("valid_until", pa.date32()),
        ("turns_green", pa.string()),
    ]
)


def as_policy(policy: CodePolicy | str | Path) -> CodePolicy:
    """A policy object, or the ``codes`` section of the edition named (or the folder given)."""
    return policy if isinstance(policy, CodePolicy) else load_policy(policy)


def candidates(sources: Sources, policy: CodePolicy, window: Window) -> ir.Table:
    """Every phase of every piece of evidence that may hold in ``window``, with ``cleared_on`` (or null)."""
    phases = phased(evidence(sources, policy, window), policy)
    clearances = cleared(sources, policy, phases, window)
    if clearances is None:
        return phases.mutate(cleared_on=ibis.null("date"))
    keys = ["person_key", "rule", "at"]
    return phases.left_join(clearances, keys).select(phases, cleared_on=clearances.cleared_on)


def winners(held: ir.Table) -> ir.Table:
    """Per person and day, the one phase that sets the colour (see the module docstring for the order)."""
    rank = ibis.row_number().over(
        group_by=["person_key", "day"],
        order_by=[
            held.severity,
            held.rule_order,
            held.phase_end.desc(nulls_first=True),
            held.at.desc(),
            held.evidence,
        ],
    )
    ranked = held.mutate(rank=rank)
    return ranked.filter(ranked.rank == 0).drop("rank")


def codes(
    engine: Engine, policy: CodePolicy | str | Path, day: dt.date, allow_missing: bool = False
) -> pa.Table:
    """Every resident's colour on ``day``, as a table of schema :data:`CODES` (in no particular order).

    ``policy`` is a :class:`CodePolicy` or an edition (name or folder). Input tables that are absent raise
    ``KeyError`` unless ``allow_missing``, which reads them as empty.
    """
    policy = as_policy(policy)
    sources = Sources(engine, allow_missing)
    on = ibis.literal(day, type="date")
    phases = candidates(sources, policy, Window(day, day))
    held = phases.filter(*holds(phases, on)).mutate(day=on)
    top = _described(winners(held), policy)
    residents = sources.table("residents").select("person_key")
    described = [top[c] for c in CODES.names[2:]]
    joined = residents.left_join(top, residents.person_key == top.person_key).select(
        residents.person_key, *described
    )
    return engine.to_arrow(_with_default(joined, policy, on)).cast(CODES)


def _with_default(t: ir.Table, policy: CodePolicy, day: ir.DateValue) -> ir.Table:
    default = policy.default
    return t.select(
        person_key=t.person_key,
        day=day,
        colour=t.colour.fill_null(default.colour),
        rule=t.rule.fill_null(default.id),
        reason=t.reason.fill_null(bilingual(default.reason)),
        evidence=t.evidence,
        valid_until=t.valid_until,
        turns_green=t.turns_green,
    )


def _described(top: ir.Table, policy: CodePolicy) -> ir.Table:
    """The winning phases as codes: colour, rule, reason, evidence, valid_until, turns_green."""
    return top.select(
        "person_key",
        "colour",
        "rule",
        reason=_reason(top, policy),
        evidence=top.evidence,
        valid_until=top.phase_end,
        turns_green=_turns_green(top, policy, "zh") + BETWEEN_LANGUAGES + _turns_green(top, policy, "en"),
    )


def _reason(t: ir.Table, policy: CodePolicy) -> ir.StringValue:
    common = {"date": t.s, "place": t.place}
    zh, en = {**common, "label": t.label_zh}, {**common, "label": t.label_en}
    return ibis.cases(*[(t.rule == r.id, bilingual(r.reason, zh, en)) for r in policy.rules])


def _turns_green(t: ir.Table, policy: CodePolicy, lang: str) -> ir.StringValue:
    """Ways the colour turns green: the lapse date (or the release text), check-in, negative tests."""
    texts, clearing = policy.texts, policy.clearing
    lapse = render(getattr(texts.green_from, lang), {"date": t.green_on})
    parts = [ibis.ifelse(t.green_on.notnull(), lapse, t[f"release_{lang}"])]
    if clearing.checkin is not None:
        since = plus_days(t.s, clearing.checkin.from_offset_days)
        text = render(getattr(clearing.checkin.turns_green, lang), {"days": t.checkin_days, "date": since})
        parts.append(ibis.ifelse(t.checkin_days.notnull(), text, ibis.null("string")))
    if clearing.negative_tests is not None:
        tests = clearing.negative_tests
        text = render(getattr(tests.turns_green, lang), tests.describe())
        parts.append(ibis.ifelse(t.tests_apply, text, ibis.null("string")))
    return join_present(getattr(texts.separator, lang), parts)
