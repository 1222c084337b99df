"""The national view on every engine: each region's own row and county levels, then the nation's sums."""

from __future__ import annotations

from risk.spec import arrow, assert_rows

from shuzhi.federation.exchange import RECEIVED_SCHEMAS, REGIONAL_STATISTICS
from shuzhi.federation.national import national_view

# Zhejiang sent its province row and two counties; Jiangsu sent its province row with the new cases withheld.
RECEIVED = """
| from_region | area_level | area_code | day        | level  | new_cases | new_14d | cumulative |
| 330000      | province   | 330000    | 2020-02-01 |        | 10        | 15      | 45         |
| 330000      | county     | 330102    | 2020-02-01 | medium | 10        | 10      | 40         |
| 330000      | county     | 330302    | 2020-02-01 | low    | 0         | 0       | 0          |
| 320000      | province   | 320000    | 2020-02-01 |        |           | 5       | 7          |
"""
# counties at each level: high / medium / low
EXPECTED = """
| region | day        | new_cases | new_14d | cumulative | counties_high | counties_medium | counties_low |
| 330000 | 2020-02-01 | 10        | 15      | 45         | 0             | 1               | 1            |
| 320000 | 2020-02-01 |           | 5       | 7          | 0             | 0               | 0            |
| 100000 | 2020-02-01 | 10        | 20      | 52         | 0             | 1               | 1            |
"""
SUMMED = {"330000": (1, 0), "320000": (1, 1), "100000": (2, 1)}  # regions summed, regions that withheld


def test_the_nation_sums_each_regions_own_row_and_counts_who_withheld(engine):
    engine.register(REGIONAL_STATISTICS, arrow(RECEIVED, RECEIVED_SCHEMAS[REGIONAL_STATISTICS]))
    view = national_view(engine)
    assert_rows(view, EXPECTED, keys=("region", "day"))
    assert {r["region"]: (r["regions"], r["withheld"]) for r in view.to_pylist()} == SUMMED


def test_no_statistics_no_rows(engine):
    assert national_view(engine).num_rows == 0
