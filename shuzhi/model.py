"""The canonical model: every table of the lake, defined once.

Each department feed is mapped onto these tables by its ingest adapter; every analytic reads them. A table
declares its Arrow schema, its natural key (what makes two rows the same fact: a second row with the same key
is a duplicate) and the column whose date names its day partition in the lake
(``<lake>/<table>/day=YYYY-MM-DD/``).

Persons appear only as ``person_key``: a keyed pseudonym (int64) of the GB 11643 ID number, computed at the
door by ``shuzhi.privacy.pseudonym``. No raw ID number is ever stored in the lake. Registries whose dates span
decades (residence registrations) are partitioned by year (``day=YYYY-01-01``) instead of by day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

PERSON = pa.int64()
REGION = pa.string()  # GB/T 2260 six-digit code
TS = pa.timestamp("s")  # local time (Asia/Shanghai) without zone, as departments record it
CHINA = dt.timezone(dt.timedelta(hours=8), "CST")  # that local time: China keeps no summer time


@dataclass(frozen=True)
class Table:
    """One canonical table: schema, natural key and the column that names its day partition."""

    name: str
    schema: pa.Schema
    key: tuple[str, ...]
    day_column: str
    description: str
    period: str = "day"  # "year" for registries whose dates span decades: one partition per year, not per day

    @property
    def columns(self) -> list[str]:
        return self.schema.names

    def partition_days(self, rows: pa.Table) -> pa.Array:
        """The partition day of each row: its day column's date, floored to the table's period."""
        days = rows.column(self.day_column).combine_chunks().cast(pa.date32())
        return days if self.period == "day" else pc.floor_temporal(days, unit=self.period)


def _table(
    name: str,
    fields: list[tuple[str, pa.DataType]],
    key: tuple[str, ...],
    day: str,
    doc: str,
    period: str = "day",
) -> Table:
    return Table(name, pa.schema([pa.field(n, t) for n, t in fields]), key, day, doc, period)


RESIDENTS = _table(
    "residents",
    [
        ("person_key", PERSON),
        ("household_id", pa.string()),
        ("county_code", REGION),
        ("sex", pa.string()),  # "M" | "F", from the ID number's sequence digit
        ("birth_year", pa.int16()),
        ("registered_on", pa.date32()),
    ],
    ("person_key",),
    "registered_on",
    "Residence registrations (community): who lives in which household and county.",
    period="year",
)

HOME_OBSERVATIONS = _table(
    "home_observations",
    [
        ("person_key", PERSON),
        ("county_code", REGION),
        ("start_date", pa.date32()),
        ("end_date", pa.date32()),
        ("reason", pa.string()),
    ],
    ("person_key", "start_date"),
    "start_date",
    "Home observation orders issued by the community.",
)

ENTERPRISES = _table(
    "enterprises",
    [
        ("enterprise_code", pa.string()),  # unified social credit code, 18 characters
        ("name", pa.string()),
        ("county_code", REGION),
        ("industry", pa.string()),
        ("registered_staff", pa.int32()),
        ("as_of", pa.date32()),
    ],
    ("enterprise_code",),
    "as_of",
    "Enterprise registry.",
)

EMPLOYMENTS = _table(
    "employments",
    [
        ("person_key", PERSON),
        ("enterprise_code", pa.string()),
        (
            "team",
            pa.string(),
        ),  # the enclosed workspace (office, workshop, class) inside the enterprise or school
        ("as_of", pa.date32()),
    ],
    ("person_key", "enterprise_code"),
    "as_of",
    "Staff and pupils: who works or studies where, and in which team (shared enclosed workspace).",
)

ELECTRICITY = _table(
    "electricity",
    [
        ("enterprise_code", pa.string()),
        ("day", pa.date32()),
        ("kwh", pa.float64()),
    ],
    ("enterprise_code", "day"),
    "day",
    "Electricity use per enterprise per day (grid company).",
)

VENUES = _table(
    "venues",
    [
        ("venue_code", pa.string()),  # 场所码
        ("name", pa.string()),
        ("category", pa.string()),
        ("county_code", REGION),
        ("capacity", pa.int32()),
        ("lon", pa.float64()),
        ("lat", pa.float64()),
        ("as_of", pa.date32()),
    ],
    ("venue_code",),
    "as_of",
    "Venues with a venue code: category, county, capacity and coordinates.",
)

VENUE_STAYS = _table(
    "venue_stays",
    [
        ("person_key", PERSON),
        ("venue_code", pa.string()),
        ("time_in", TS),
        ("time_out", TS),
    ],
    ("person_key", "venue_code", "time_in"),
    "time_in",
    "Venue-code check-ins: who was at which venue from when to when.",
)

TRIPS = _table(
    "trips",
    [
        ("person_key", PERSON),
        ("mode", pa.string()),  # flight | train | coach | bus | metro | ship
        ("trip_no", pa.string()),  # flight or train number, bus line + vehicle, ...
        ("dep_time", TS),
        ("arr_time", TS),
        ("origin_region", REGION),
        ("destination_region", REGION),
        ("origin_stop", pa.string()),
        ("destination_stop", pa.string()),
        # train carriage or ship cabin; for aircraft cabin crew, the rows they served ("1-20"); or null
        ("carriage", pa.string()),
        ("carriage_class", pa.string()),  # hard_seat, hard_sleeper, soft_sleeper, economy, crew...; null
        ("seat_row", pa.int16()),  # aircraft/coach/bus row; null where unknown
        ("seat", pa.string()),  # seat or berth label as printed on the ticket
    ],
    ("person_key", "mode", "trip_no", "dep_time"),
    "dep_time",
    "Trips by public transport with the seat where the manifest has one.",
)

CREW = "crew"  # the carriage_class of a vehicle's crew (cabin crew, attendants) in the trips table

TESTS = _table(
    "tests",
    [
        ("person_key", PERSON),
        ("sampled_at", TS),
        ("reported_at", TS),
        ("method", pa.string()),  # pcr | antigen
        ("result", pa.string()),  # positive | negative
        ("lab", pa.string()),
    ],
    ("person_key", "sampled_at"),
    "sampled_at",
    "Nucleic-acid and antigen tests.",
)

DIAGNOSES = _table(
    "diagnoses",
    [
        ("person_key", PERSON),
        ("status", pa.string()),  # confirmed | suspected | asymptomatic
        ("onset_date", pa.date32()),  # null for asymptomatic cases
        ("diagnosed_at", TS),
        ("county_code", REGION),
    ],
    ("person_key", "status", "diagnosed_at"),
    "diagnosed_at",
    "Diagnoses of confirmed, suspected and asymptomatic cases.",
)

VACCINATIONS = _table(
    "vaccinations",
    [
        ("person_key", PERSON),
        ("vaccinated_on", pa.date32()),
        ("product", pa.string()),
        ("dose", pa.int8()),
    ],
    ("person_key", "dose"),
    "vaccinated_on",
    "Vaccination doses.",
)

FEVER_VISITS = _table(
    "fever_visits",
    [
        ("person_key", PERSON),
        ("visited_at", TS),
        ("hospital", pa.string()),
        ("county_code", REGION),
        ("temperature", pa.float32()),
    ],
    ("person_key", "visited_at"),
    "visited_at",
    "Fever-clinic visits.",
)

DECLARATIONS = _table(
    "declarations",
    [
        ("person_key", PERSON),
        ("declared_at", TS),
        ("county_code", REGION),
        ("temperature", pa.float32()),
        ("symptoms", pa.list_(pa.string())),  # e.g. fever, cough; empty when none
        ("visited_regions", pa.list_(pa.string())),  # six-digit codes travelled through in the last 14 days
    ],
    ("person_key", "declared_at"),
    "declared_at",
    "Health declarations (one form every department reads; fields after GB/T 38962).",
)

TELECOM_STAYS = _table(
    "telecom_stays",
    [
        ("person_key", PERSON),
        ("city_code", REGION),
        ("first_seen", TS),
        ("last_seen", TS),
    ],
    ("person_key", "city_code", "first_seen"),
    "first_seen",
    "Telecom itinerary: the cities where a phone was seen, from first to last sighting of the day.",
)

PROXIMITY = _table(
    "proximity",
    [
        ("person_key_a", PERSON),
        ("person_key_b", PERSON),
        ("start_at", TS),
        ("duration_seconds", pa.int64()),
    ],
    ("person_key_a", "person_key_b", "start_at"),
    "start_at",
    "Proximity records (Bluetooth exposure logs, wearable sensors): persons a and b were within range from "
    "start_at for duration_seconds. Either side may report a record; the order of the pair means nothing.",
)

PERSON_REGIONS = _table(
    "person_regions",
    [
        ("person_key", PERSON),
        ("home_region", REGION),  # the six digits that begin the ID number: the region of registration (户籍)
        ("seen_on", pa.date32()),  # the day the file that named the person was ingested
    ],
    ("person_key", "home_region"),
    "seen_on",
    "The home region of every person a feed names (from the ID number's first six digits, kept at the door "
    "as the ID itself is dropped): where a visitor's cases and contacts are handed over (shuzhi.federation).",
)

QUARANTINE = _table(
    "quarantine",
    [
        ("feed", pa.string()),
        ("file", pa.string()),
        ("line", pa.int64()),
        ("field", pa.string()),
        ("reason", pa.string()),  # a reason class, see shuzhi.ingest.reasons
        ("detail", pa.string()),
        ("raw", pa.string()),  # the offending line with any ID number masked
        ("ingested_on", pa.date32()),
    ],
    ("file", "line", "reason"),
    "ingested_on",
    "Rows that failed validation, with the reason; nothing is lost.",
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        RESIDENTS,
        HOME_OBSERVATIONS,
        ENTERPRISES,
        EMPLOYMENTS,
        ELECTRICITY,
        VENUES,
        VENUE_STAYS,
        TRIPS,
        TESTS,
        DIAGNOSES,
        VACCINATIONS,
        FEVER_VISITS,
        DECLARATIONS,
        TELECOM_STAYS,
        PROXIMITY,
        PERSON_REGIONS,
        QUARANTINE,
    )
}

TRIP_MODES = ("flight", "train", "coach", "bus", "metro", "ship")
DIAGNOSIS_STATUSES = ("confirmed", "suspected", "asymptomatic")
TEST_RESULTS = ("positive", "negative")
VENUE_CATEGORIES = (
    "restaurant",
    "supermarket",
    "market",
    "mall",
    "cinema",
    "gym",
    "hospital",
    "scenic",
    "hotel",
    "office",
)


def raw_id_column(column: str) -> str:
    """The raw-ID column a person column stands for: ``person_key`` → ``id_number``, ``person_key_a`` →
    ``id_number_a``; other columns are themselves."""
    return column.replace("person_key", "id_number", 1) if column.startswith("person_key") else column


def with_raw_ids(table: Table) -> pa.Schema:
    """The schema of ``table`` as the simulator holds it: raw ID numbers (``id_number``), not pseudonyms."""
    raw = [
        pa.field(raw_id_column(f.name), pa.string()) if f.name != raw_id_column(f.name) else f
        for f in table.schema
    ]
    return pa.schema(raw)
