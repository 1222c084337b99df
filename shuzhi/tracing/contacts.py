"""The contacts table: its schema, and the one place where every rule's matches become its rows.

Each contact source (household, venues, vehicles, proximity, same time-and-place) yields *matches* with
the columns of :data:`MATCH_COLUMNS`. :func:`finish` labels them with the rule's setting and
classification from the policy, keeps the earliest match per (case, contact, rule, degree), and writes the
human evidence string — the same way for every rule, so a rule module only says who met whom, where and
when. :func:`traced` then dates each row: when tracing could first know of it."""

from __future__ import annotations

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from shuzhi.model import PERSON, TS
from shuzhi.tracing.policy import ContactPolicy

CONTACTS_SCHEMA = pa.schema(
    [
        pa.field("case_key", PERSON, nullable=False),
        pa.field("contact_key", PERSON, nullable=False),
        pa.field(
            "degree", pa.int8(), nullable=False
        ),  # 1: contact of the case; 2: contact of a close contact
        pa.field("via_key", PERSON),  # the close contact, for degree 2; null for degree 1
        pa.field("classification", pa.string(), nullable=False),  # close | secondary | companion
        pa.field("rule", pa.string(), nullable=False),  # the policy rule that matched
        pa.field("setting", pa.string(), nullable=False),  # household, workplace, meal, flight, ... (policy)
        pa.field("place", pa.string()),  # venue code, trip number, household id, enterprise/team, grid cell
        pa.field("first_contact_at", TS),
        pa.field("last_contact_at", TS),
        pa.field("overlap_seconds", pa.int64()),  # time together (cumulative for proximity)
        pa.field("evidence", pa.string(), nullable=False),  # where, when, how long, which seat
        # when tracing could first know of the contact: its case's diagnosis, or the contact itself if later
        # (null in rows from before it was recorded: read as the last contact)
        pa.field("traced_at", TS),
    ]
)
# what the rules' matches become before they are dated
FOUND_SCHEMA = pa.schema([f for f in CONTACTS_SCHEMA if f.name != "traced_at"])

MATCH_COLUMNS = (
    "case_key",
    "via_key",
    "contact_key",
    "rule",
    "place",
    "detail",
    "first_contact_at",
    "last_contact_at",
    "overlap_seconds",
)

CLOSE, SECONDARY, COMPANION = "close", "secondary", "companion"


def minutes(value: float) -> int:
    """A policy's minutes as whole seconds."""
    return round(value * 60)


def seconds(ts: ibis.Value) -> ibis.Value:
    """Epoch seconds of a timestamp: every duration is computed on these, never on intervals."""
    return ts.epoch_seconds()


def matches(table: ibis.Table, **columns: ibis.Value) -> ibis.Table:
    """Select the match columns of ``table``, with ``columns`` overriding or supplying some of them."""
    chosen = {name: columns[name] if name in columns else table[name] for name in MATCH_COLUMNS}
    return table.select(
        case_key=chosen["case_key"].cast("int64"),
        via_key=chosen["via_key"].cast("int64"),
        contact_key=chosen["contact_key"].cast("int64"),
        rule=chosen["rule"].cast("string"),
        place=chosen["place"].cast("string"),
        detail=chosen["detail"].cast("string"),
        first_contact_at=chosen["first_contact_at"].cast("timestamp(0)"),
        last_contact_at=chosen["last_contact_at"].cast("timestamp(0)"),
        overlap_seconds=chosen["overlap_seconds"].cast("int64"),
    )


def finish(
    found: ibis.Table, policy: ContactPolicy, degree: int, close_pairs: ibis.Table | None = None
) -> ibis.Table:
    """Contacts rows from matches: the earliest per (case, contact, rule), labelled, with evidence.

    At degree 1 a companion who is also a close contact of the same case is listed as close only. At degree
    2, the case and the pairs of ``close_pairs`` (columns ``k_case``, ``k_contact``: the case's close
    contacts) are left out.
    """
    if degree == 2:
        found = found.filter(found.contact_key != found.case_key)
        if close_pairs is not None:
            found = found.anti_join(
                close_pairs,
                [found.case_key == close_pairs.k_case, found.contact_key == close_pairs.k_contact],
            )
    earliest = _labelled(_earliest(found), policy, degree)
    if degree == 1 and any(rule.classification == COMPANION for rule in policy.rules):
        earliest = _close_beats_companion(earliest)
    return earliest.select(
        *[f.name for f in FOUND_SCHEMA if f.name != "evidence"], evidence=_evidence(earliest)
    )


def _labelled(found: ibis.Table, policy: ContactPolicy, degree: int) -> ibis.Table:
    """Matches with the degree, and the setting and classification of their rule."""
    rules = policy.rules
    setting = found.rule.substitute({r.name: r.setting for r in rules})
    by_rule = found.rule.substitute({r.name: r.classification for r in rules})
    classification = ibis.literal(SECONDARY) if degree == 2 else by_rule
    return found.mutate(
        degree=ibis.literal(degree, type="int8"), setting=setting, classification=classification
    )


def _earliest(t: ibis.Table) -> ibis.Table:
    """The earliest match per (case, contact, rule); ties go to the longest, then the lowest via and place."""
    order = [t.first_contact_at, t.overlap_seconds.desc(), t.via_key, t.place]
    ranked = t.mutate(
        rank=ibis.row_number().over(group_by=["case_key", "contact_key", "rule"], order_by=order)
    )
    return ranked.filter(ranked.rank == 0).drop("rank")


def _close_beats_companion(t: ibis.Table) -> ibis.Table:
    is_close = (t.classification == CLOSE).ifelse(1, 0)
    marked = t.mutate(has_close=is_close.max().over(group_by=["case_key", "contact_key"]))
    return marked.filter((marked.classification != COMPANION) | (marked.has_close == 0)).drop("has_close")


def _evidence(t: ibis.Table) -> ibis.Value:
    """'meal at V0012 (restaurant, capacity 40): 2022-03-01 12:05 to 2022-03-01 12:50, 45 min'.

    One ``concat_ws`` of the pieces (a null piece is left out, on every engine): a chain of ``+`` copies the
    growing string once per piece, which costs a third more over a million contacts.
    """
    when = _minute(t.first_contact_at) + " to " + _minute(t.last_contact_at)
    pieces = [
        "via close contact " + t.via_key.cast("string") + ": ",
        t.setting,
        " at ",
        t.place.fill_null("?"),
        " (" + t.detail + ")",
        ": ",
        when.fill_null("?"),
        ", " + (t.overlap_seconds // 60).cast("string") + " min",
    ]
    return ibis.literal("").join(pieces)


def _minute(ts: ibis.Value) -> ibis.Value:
    """'YYYY-MM-DD HH:MM'."""
    return ts.strftime("%Y-%m-%d %H:%M")


def to_arrow(table: pa.Table) -> pa.Table:
    """An engine result cast to exactly :data:`FOUND_SCHEMA` (column order, types, nullability)."""
    return table.select(FOUND_SCHEMA.names).cast(FOUND_SCHEMA)


def empty() -> pa.Table:
    return FOUND_SCHEMA.empty_table()


def traced(found: pa.Table, cases: pa.Table) -> pa.Table:
    """``found`` (:data:`FOUND_SCHEMA`) as :data:`CONTACTS_SCHEMA`, each row dated by ``traced_at``.

    Tracing starts from a diagnosis (``cases``: case_key, diagnosed_at), so a contact can be known no earlier
    than its case's; a contact of a close contact made after it (before the close contact was isolated) is
    known when it happens. Computed on the fetched rows: a lookup among the cases, no engine pass.
    """
    diagnosed = pc.take(cases["diagnosed_at"], pc.index_in(found["case_key"], cases["case_key"]))
    known = pc.max_element_wise(diagnosed.cast(TS), found["last_contact_at"])
    return found.append_column(CONTACTS_SCHEMA.field("traced_at"), known).cast(CONTACTS_SCHEMA)
