"""Published case itineraries and the same-trip query (同行程查询).

The trips index cases took in their infectious window (the contact policy's window, as tracing uses it) are
published as the 2020 notices published them: the day, times, kind and number of the trip, the carriage
where the policy allows it, from and to, the notice's day (the latest diagnosis among the cases on it), the
publisher, and ``verified`` (it comes from the carrier's manifest, not from a self-report). Several cases on
one trip make one row: no person, no seat, no count. A resident looks up their own trip by number and day.
"""

from __future__ import annotations

import ibis
import pyarrow as pa

from shuzhi.engine import Engine
from shuzhi.public.policy import PublicationPolicy
from shuzhi.tracing.cases import index_cases
from shuzhi.tracing.policy import ContactPolicy

TRIP = (
    "day",
    "mode",
    "trip_no",
    "carriage",
    "dep_time",
    "arr_time",
    "origin_region",
    "destination_region",
    "origin_stop",
    "destination_stop",
)
ITINERARY_SCHEMA = pa.schema(
    [
        ("day", pa.date32()),
        ("mode", pa.string()),
        ("trip_no", pa.string()),
        ("carriage", pa.string()),  # null: not published, or none
        ("dep_time", pa.timestamp("s")),
        ("arr_time", pa.timestamp("s")),
        ("origin_region", pa.string()),
        ("destination_region", pa.string()),
        ("origin_stop", pa.string()),
        ("destination_stop", pa.string()),
        ("notice_day", pa.date32()),
        ("publisher", pa.string()),
        ("verified", pa.bool_()),
        ("edition", pa.string()),
    ]
)


def published_itineraries(
    engine: Engine, contact_policy: ContactPolicy, publication: PublicationPolicy
) -> ibis.Table:
    """:data:`ITINERARY_SCHEMA` rows: every published trip of an index case in its window."""
    cases = index_cases(engine, contact_policy)
    trips = engine.table("trips")
    trips = trips.filter(trips.mode.isin(list(publication.itineraries.modes)))
    joined = trips.join(
        cases,
        [
            trips.person_key == cases.case_key,
            trips.dep_time < cases.window_end,
            trips.arr_time > cases.window_start,
        ],
    )
    carriage = joined.carriage if publication.itineraries.carriage else ibis.null("string")
    trip = joined.select(
        day=joined.dep_time.date(),
        mode="mode",
        trip_no="trip_no",
        carriage=carriage,
        dep_time=joined.dep_time.cast("timestamp(0)"),
        arr_time=joined.arr_time.cast("timestamp(0)"),
        origin_region="origin_region",
        destination_region="destination_region",
        origin_stop="origin_stop",
        destination_stop="destination_stop",
        diagnosed=joined.diagnosed_at.date(),
    )
    notices = trip.group_by(list(TRIP)).aggregate(notice_day=trip.diagnosed.max())
    return notices.mutate(
        publisher=ibis.literal(publication.publisher),
        verified=ibis.literal(True),
        edition=ibis.literal(publication.edition),
    )
