"""Who is handed over to whom: a person's home is their registered residence here, else the county their
latest declaration names, else the region their ID number names (a visitor's); a region receives the persons
whose home lies in its jurisdiction."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from shuzhi.lake import Lake
from shuzhi.model import TABLES
from shuzhi.tracing.contacts import CONTACTS_SCHEMA

from .conftest import HANGZHOU, T0, keys_only_at

DAY = dt.date(2020, 2, 1)
RESIDENT_WITH_A_JIANGSU_ID, JIANGSU_VISITOR, HANGZHOU_VISITOR, JIANGSU_ID_LIVING_IN_ANHUI = 1, 2, 3, 4


def _contact(person: int) -> dict:
    at = dt.datetime(2020, 2, 1, 12)
    return {
        "case_key": 9,
        "contact_key": person,
        "degree": 1,
        "via_key": None,
        "classification": "close",
        "rule": "shared_table",
        "setting": "meal",
        "place": "V0000001",
        "first_contact_at": at,
        "last_contact_at": at + dt.timedelta(hours=1),
        "overlap_seconds": 3600,
        "evidence": "meal at V0000001",
    }


def _declaration(person: int, county: str, hour: int) -> dict:
    return {
        "person_key": person,
        "declared_at": dt.datetime(2020, 2, 1, hour),
        "county_code": county,
        "temperature": 36.5,
        "symptoms": [],
        "visited_regions": [],
    }


def test_a_visitor_goes_to_the_region_of_their_id_and_a_resident_stays_home(tmp_path):
    from shuzhi.federation.exchange import BUILDERS

    federation = keys_only_at(tmp_path, T0)
    hangzhou = federation.member(HANGZHOU)
    lake = Lake(hangzhou.data.lake)
    resident = {"person_key": RESIDENT_WITH_A_JIANGSU_ID, "household_id": "H1", "county_code": "330102"}
    lake.write_part(
        "residents", DAY, "part-r.parquet", pa.Table.from_pylist([resident], TABLES["residents"].schema)
    )
    homes = [
        (RESIDENT_WITH_A_JIANGSU_ID, "320102"),
        (JIANGSU_VISITOR, "320104"),
        (HANGZHOU_VISITOR, "330106"),
        (JIANGSU_ID_LIVING_IN_ANHUI, "320105"),
    ]
    seen = [{"person_key": k, "home_region": r, "seen_on": DAY} for k, r in homes]
    lake.write_part(
        "person_regions", DAY, "part-s.parquet", pa.Table.from_pylist(seen, TABLES["person_regions"].schema)
    )
    declared = [  # where they declare they live now: Hefei, then (the latest) Wuhu; the resident, Shanghai
        _declaration(JIANGSU_ID_LIVING_IN_ANHUI, "340102", 8),
        _declaration(JIANGSU_ID_LIVING_IN_ANHUI, "340202", 9),
        _declaration(RESIDENT_WITH_A_JIANGSU_ID, "310101", 9),
    ]
    lake.write_part(
        "declarations", DAY, "part-d.parquet", pa.Table.from_pylist(declared, TABLES["declarations"].schema)
    )
    contacts = [_contact(p) for p, _ in homes]
    lake.write_part("contacts", DAY, "part-c.parquet", pa.Table.from_pylist(contacts, CONTACTS_SCHEMA))

    to_jiangsu = BUILDERS["handover"](hangzhou, "320000", T0)
    assert [c["contact_key"] for c in to_jiangsu["contacts"]] == [JIANGSU_VISITOR]
    to_nanjing = BUILDERS["handover"](hangzhou, "320100", T0)
    assert [c["contact_key"] for c in to_nanjing["contacts"]] == [JIANGSU_VISITOR]  # 320104 is in Nanjing
    assert BUILDERS["handover"](hangzhou, "320200", T0)["contacts"] == []
    to_wuhu = BUILDERS["handover"](hangzhou, "340200", T0)  # the latest declaration wins over the ID's region
    assert [c["contact_key"] for c in to_wuhu["contacts"]] == [JIANGSU_ID_LIVING_IN_ANHUI]
    assert BUILDERS["handover"](hangzhou, "340100", T0)["contacts"] == []
    assert BUILDERS["handover"](hangzhou, "310000", T0)["contacts"] == []  # a registered resident stays here


def test_codes_read_own_and_received_rows_together(tmp_path):
    """Where this region traced contacts of its own and another region sent some, codes read both."""
    from shuzhi.codes.inputs import Sources
    from shuzhi.engine import connect
    from shuzhi.federation.exchange import RECEIVED_SCHEMAS

    lake = Lake(tmp_path)
    own, received = _contact(1), {**_contact(2), "from_region": "320100"}
    lake.write_part("contacts", DAY, "part-c.parquet", pa.Table.from_pylist([own], CONTACTS_SCHEMA))
    schema = RECEIVED_SCHEMAS["received_contacts"]
    lake.write_part("received_contacts", DAY, "part-320100.parquet", pa.Table.from_pylist([received], schema))
    contacts = Sources(connect(lake=tmp_path)).table("contacts")
    assert sorted(contacts.contact_key.to_pyarrow().to_pylist()) == [1, 2]
