"""Administrative divisions (GB/T 2260): codes, names and the province → city → county hierarchy.

The division list is the Ministry of Civil Affairs list of April 2019 (the vintage the 2020 data uses),
packaged in ``shuzhi/data/``. Longgang (330383), made a county-level city from Cangnan county in August
2019, is added so that the list matches Zhejiang's 90 county-level divisions of 2020.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pyarrow as pa

ADDED_AFTER_201904 = {"330383": "龙港市"}


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str  # province | city | county

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"

    @property
    def city_code(self) -> str:
        return self.code[:4] + "00"


def _level(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    return "city" if code.endswith("00") else "county"


def _data_text(name: str) -> str:
    return resources.files("shuzhi.data").joinpath(name).read_text(encoding="utf-8")


@cache
def divisions() -> dict[str, Region]:
    """Every division by code."""
    rows = csv.DictReader(_data_text("gb2260_mca_201904.tsv").splitlines(), delimiter="\t")
    names = {r["Code"]: r["Name"] for r in rows}
    names.update(ADDED_AFTER_201904)
    return {code: Region(code, name, _level(code)) for code, name in sorted(names.items())}


def name_of(code: str) -> str:
    """The division's name, or the code itself for a code the list does not hold."""
    region = divisions().get(code)
    return region.name if region else code


def parent(code: str) -> str | None:
    """The code of the enclosing division, or None for a province."""
    level = _level(code)
    if level == "province":
        return None
    city = code[:4] + "00"
    if level == "county" and city in divisions():
        return city
    return code[:2] + "0000"


@cache
def province_prefixes() -> frozenset[str]:
    return frozenset(code[:2] for code, r in divisions().items() if r.level == "province")


BOUNDARY_FILES = {
    "county": "zhejiang_counties.geojson",
    "city": "zhejiang_cities.geojson",
    "province": "china_provinces.geojson",  # the nation's provinces, for the national view
}


@cache
def boundaries(level: str = "county") -> dict:
    """GeoJSON boundaries: Zhejiang's ``county`` or ``city`` divisions, or China's ``province`` ones;
    properties ``adcode`` and ``name``."""
    name = BOUNDARY_FILES[level]
    return json.loads(_data_text(name))


@cache
def zhejiang_counties() -> list[Region]:
    """The 90 county-level divisions of Zhejiang in 2020, in code order."""
    codes = sorted(str(f["properties"]["adcode"]) for f in boundaries("county")["features"])
    return [divisions()[c] for c in codes]


def county_centroids() -> dict[str, tuple[float, float]]:
    """(lon, lat) centroid of each Zhejiang county, from the boundary file."""
    return {
        str(f["properties"]["adcode"]): tuple(f["properties"].get("centroid") or f["properties"]["center"])
        for f in boundaries("county")["features"]
    }


def table() -> pa.Table:
    """All divisions as an Arrow table (code, name, level, parent_code), for joins in the lake."""
    regions = list(divisions().values())
    return pa.table(
        {
            "code": [r.code for r in regions],
            "name": [r.name for r in regions],
            "level": [r.level for r in regions],
            "parent_code": [parent(r.code) for r in regions],
        }
    )
