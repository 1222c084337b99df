"""Handover and the national view over a real road: a simulated province traced by Wenzhou; Ningbo colours
its residents from what Wenzhou sends; the nation sums what both regions publish. Slow (about a minute)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pyarrow.compute as pc
import pytest

from shuzhi.codes import codes
from shuzhi.credentials.keys import NATIONAL
from shuzhi.engine import connect
from shuzhi.federation.bodies import parse
from shuzhi.federation.exchange import accept, acknowledge, compose, messages
from shuzhi.federation.messages import Message, new_id, open_sealed
from shuzhi.federation.national import national_view
from shuzhi.lake import Lake
from shuzhi.pipeline import DEFAULT_EDITION

from .conftest import NINGBO, T0, WENZHOU

pytestmark = pytest.mark.slow


def _receipt(member, sealed: bytes):
    return parse("receipt", open_sealed(sealed, member.trust, member.region).body)


def _ningbo_close_contacts(province) -> set[int]:
    wenzhou = province.members[WENZHOU]
    contacts = connect(lake=wenzhou.lake).table("contacts").to_pyarrow()
    residents = Lake(wenzhou.lake).read("residents")
    ningbo = residents.filter(pc.starts_with(residents["county_code"], "3302"))["person_key"]
    close = contacts.filter(
        pc.and_(pc.equal(contacts["classification"], "close"), pc.is_in(contacts["contact_key"], ningbo))
    )
    return set(close["contact_key"].to_pylist())


def _day(province) -> dt.date:
    days = Lake(province.members[WENZHOU].lake).days("codes")
    return days[-1]


def test_ningbo_colours_its_residents_from_wenzhous_handover(province):
    wenzhou, ningbo = province.member(WENZHOU), province.member(NINGBO)
    expected = _ningbo_close_contacts(province)
    assert expected, "the simulated province has close contacts living in Ningbo"
    day = _day(province)
    before = codes(connect(lake=ningbo.data.lake), DEFAULT_EDITION, day, allow_missing=True)
    assert set(pc.unique(before["colour"]).to_pylist()) == {"green"}

    receipt = accept(ningbo, compose(wenzhou, NINGBO, "handover", T0), T0)
    answer = acknowledge(wenzhou, receipt, T0)
    assert answer.status == "accepted" and not answer.rejected_rows
    assert answer.landed["received_contacts"] >= len(expected)

    after = codes(connect(lake=ningbo.data.lake), DEFAULT_EDITION, day, allow_missing=True)
    red = after.filter(pc.equal(after["colour"], "red"))
    assert red.num_rows > 0 and set(red["person_key"].to_pylist()) <= expected | _cases(ningbo)
    received = Lake(ningbo.data.lake).root / "received_contacts"
    landed = connect(lake=ningbo.data.lake).table("received_contacts").to_pyarrow()
    evidence = landed["evidence"].to_pylist()
    assert received.exists() and all(e.startswith(f"reported by {WENZHOU}: ") for e in evidence)
    # when Wenzhou's tracing found each: what Ningbo's codes count the days of colour from
    assert landed["traced_at"].null_count == 0
    assert pc.all(pc.greater_equal(landed["traced_at"], landed["last_contact_at"])).as_py()
    pointers = red["evidence"].to_pylist()
    assert any(f", at {WENZHOU}:" in p for p in pointers), pointers[:3]  # where: in the reporting region


def _cases(member) -> set[int]:
    engine = connect(lake=member.data.lake)
    if not engine.has_table("received_cases"):
        return set()
    return set(engine.table("received_cases").person_key.to_pyarrow().to_pylist())


def test_a_second_handover_replaces_the_first_and_a_bad_row_is_reported_while_the_rest_land(province):
    wenzhou, ningbo = province.member(WENZHOU), province.member(NINGBO)
    accept(ningbo, compose(wenzhou, NINGBO, "handover", T0 + dt.timedelta(hours=1)), T0)
    engine = connect(lake=ningbo.data.lake)
    landed = engine.table("received_contacts").count().to_pyarrow().as_py()

    body = _body(wenzhou)
    body["contacts"][0]["classification"] = "acquaintance"
    answer = _receipt(wenzhou, accept(ningbo, _next_handover(wenzhou, ningbo, body), T0))
    assert answer.status == "accepted"
    assert answer.rejected_rows == [
        {
            "table": "contacts",
            "row": 0,
            "field": "classification",
            "reason": answer.rejected_rows[0]["reason"],
        }
    ]
    engine = connect(lake=ningbo.data.lake)
    assert engine.table("received_contacts").count().to_pyarrow().as_py() == landed - 1


def test_a_handover_under_other_pseudonyms_is_refused(province):
    wenzhou, ningbo = province.member(WENZHOU), province.member(NINGBO)
    body = {**_body(wenzhou), "pseudonyms": "0" * 16}
    answer = _receipt(wenzhou, accept(ningbo, _next_handover(wenzhou, ningbo, body), T0))
    assert answer.status == "rejected" and answer.reason.startswith("body.pseudonyms: keyed by 0000")


def _next_handover(sender, receiver, body: dict) -> bytes:
    """A handover with ``body``, signed as the next message of the receiver's accepted chain."""
    last = [m for m in _log(receiver) if m["direction"] == "in" and m["status"] == "accepted"][0]
    chained = Message(WENZHOU, NINGBO, "handover", last["seq"] + 1, bytes.fromhex(last["digest"]), T0, body)
    return sender.sign(replace(chained, id=new_id()))


def _body(member) -> dict:
    from shuzhi.federation.exchange import BUILDERS

    return BUILDERS["handover"](member, NINGBO, T0)


def test_the_nation_sums_what_each_region_publishes_of_its_own_areas(province):
    national = province.member(NATIONAL)
    for region in (WENZHOU, NINGBO):
        member = province.member(region)
        if region == NINGBO:  # Ningbo publishes the same province's statistics; it sends its own areas'
            import shutil

            shutil.copytree(
                province.members[WENZHOU].lake / "open_statistics",
                member.data.lake / "open_statistics",
                dirs_exist_ok=True,
            )
        sealed = compose(member, NATIONAL, "statistics", T0)
        sent = {row["area_code"][:4] for row in open_sealed(sealed, member.trust, NATIONAL).body["rows"]}
        assert sent == {region[:4]}  # the province's other areas stay with the sender
        answer = _receipt(member, accept(national, sealed, T0))
        assert answer.status == "accepted" and not answer.rejected_rows
    view = national_view(connect(lake=national.data.lake))
    rows = view.to_pylist()
    published = connect(lake=province.members[WENZHOU].lake).table("open_statistics").to_pyarrow().to_pylist()
    own = {(r["area_code"], r["day"]): r for r in published if r["area_level"] == "city"}
    last = max(r["day"] for r in rows)
    by = {(r["region"], r["day"]): r for r in rows}
    for region in (WENZHOU, NINGBO):
        assert by[(region, last)]["cumulative"] == own[(region, last)]["cumulative"]
    nation = by[(NATIONAL, last)]
    known = [
        own[(r, last)]["cumulative"] for r in (WENZHOU, NINGBO) if own[(r, last)]["cumulative"] is not None
    ]
    assert nation["regions"] == 2 and nation["cumulative"] == (sum(known) if known else None)


def _log(member) -> list[dict]:
    with member.store.session() as session:
        return messages(session)
