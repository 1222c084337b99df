"""The national view: every region's own figures from the statistics it sent, and the nation's sums.

Each region speaks for its own areas (rows outside its jurisdiction are refused when its message lands), so
the view takes, per region and day, the row of the region itself (its city or province total) and the count
of its counties at each risk level, then sums the regions per day into the nation (``100000``). Counts the
region withheld by disclosure control stay null, and the nation's sum then says how many regions withheld one.
An Ibis expression over ``regional_statistics``, on any engine.
"""

from __future__ import annotations

import ibis
import pyarrow as pa

from shuzhi.engine import Engine
from shuzhi.federation.exchange import REGIONAL_STATISTICS

COUNTS = ("new_cases", "new_14d", "cumulative")
LEVELS = ("high", "medium", "low")
NATIONAL_VIEW_SCHEMA = pa.schema(
    [
        ("region", pa.string()),  # the sending region, or 100000 for the nation
        ("day", pa.date32()),
        *[(c, pa.int64()) for c in COUNTS],
        *[(f"counties_{level}", pa.int64()) for level in LEVELS],
        ("regions", pa.int64()),  # regions summed (1 for a region's own row)
        ("withheld", pa.int64()),  # regions whose new case count was withheld
    ]
)


def national_view(engine: Engine) -> pa.Table:
    """Rows per region and day, then the nation's per day (``region`` = ``100000``)."""
    if not engine.has_table(REGIONAL_STATISTICS):
        return NATIONAL_VIEW_SCHEMA.empty_table()
    s = engine.table(REGIONAL_STATISTICS)
    own = s.filter(s.area_code == s.from_region)
    own = own.select("day", region=own.from_region, **{c: own[c] for c in COUNTS})
    counties = s.filter(s.area_level == "county")
    levels = counties.group_by(region=counties.from_region, day=counties.day).aggregate(
        **{f"counties_{lv}": (counties.level == lv).sum().cast("int64") for lv in LEVELS}
    )
    regions = own.left_join(levels, ["region", "day"]).select(
        own.region,
        own.day,
        *[own[c].cast("int64").name(c) for c in COUNTS],
        *[levels[f"counties_{lv}"].fill_null(0).name(f"counties_{lv}") for lv in LEVELS],
        regions=ibis.literal(1, type="int64"),
        withheld=own.new_cases.isnull().cast("int64"),
    )
    nation = regions.group_by("day").aggregate(
        **{c: regions[c].sum() for c in COUNTS},
        **{f"counties_{lv}": regions[f"counties_{lv}"].sum() for lv in LEVELS},
        regions=regions.count(),
        withheld=regions.withheld.sum(),
    )
    nation = nation.mutate(region=ibis.literal("100000"))
    both = regions.union(nation.select(*NATIONAL_VIEW_SCHEMA.names))
    return engine.to_arrow(both.order_by(["day", "region"])).cast(NATIONAL_VIEW_SCHEMA)
