"""The dashboard (一图一码一指数) for operators and CDC staff: a JSON endpoint per panel, read from the lake.

* **one map** — ``/area-risk`` (every county's level and five colour on every day, for the day slider) and
  ``/area-risk/{day}`` (reasons and counts of one day);
* **one code** — ``/codes/daily`` (residents by colour per day);
* **one index** — ``/index`` (every county's or city's index, sub-indices and sub-indicators on one day) and
  ``/index/{area_code}`` (its history);
* **tracing** — ``/tracing/funnel`` (cases → close contacts → contacts of contacts → companions),
  ``/tracing/cases`` and ``/tracing/graph/{case_key}`` (the transmission graph of one case);
* **follow-up** — ``/followup`` and the visits field teams record (:mod:`shuzhi.api.routers.followup`);
* **handovers** — ``/received`` (the cases and contacts other regions handed over: per region, and the
  latest contacts with the sender's evidence);
* **the 2020 replay** — ``/replay`` (every Chinese city's level on every day of the real 2020 epidemic);
* **flows** — ``/flows`` (residents who were recently in a medium or high-risk area, per county, and the
  largest movements between cities, on one day);
* **supplies** — ``POST /supplies/plan`` (the stock of each city's warehouse in; each county's need, share
  and the shipments out);
* **decision support** — ``/epi`` (an area's epidemic curve, R(t) with its interval and reason, and the
  projection; the areas that have one).

Aggregates carry no personal data; the case list and a case's graph name persons (pseudonyms) and every read
is audited per person. Person keys are int64 pseudonyms beyond JavaScript's exact integers: sent as strings.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Annotated, Any, Literal

import ibis
from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, Field

from shuzhi import regions
from shuzhi.accounts import Purpose, Role
from shuzhi.api.access import Caller, requires
from shuzhi.api.deps import DbSession
from shuzhi.api.results import Found, LatestDay, Results
from shuzhi.api.schemas import Colour
from shuzhi.pipeline import GRAPH_FILE
from shuzhi.risk.index import INDICATORS
from shuzhi.risk.policy import LEVELS
from shuzhi.risk.replay import STEM as REPLAY_STEM
from shuzhi.supplies import PLAN_DAYS, Plan, stock_from_rows, supplies_policy, supply_plans
from shuzhi.tracing.graph import CATEGORIES, STRENGTH

router = APIRouter(prefix="/dashboard", tags=["dashboard"])
Staff = Annotated[
    Caller, requires(roles=[Role.OPERATOR, Role.EPIDEMIOLOGIST], purpose=Purpose.EPIDEMIC_CONTROL)
]
FIVE_COLOURS = ("green", "blue", "yellow", "orange", "red")
CODE_COLOURS: tuple[Colour, ...] = ("green", "yellow", "red")
Level = Literal["low", "medium", "high"]
FiveColour = Literal["green", "blue", "yellow", "orange", "red"]
PersonKey = Annotated[str, Path(pattern=r"^-?\d{1,19}$", description="a person key (int64, as text)")]


# one map


class CountySeries(BaseModel):
    code: str
    name: str
    city_code: str
    levels: list[Level | None] = Field(description="risk level per day of ``days`` (null: not rated)")
    five_colours: list[FiveColour | None] = Field(description="five-colour rating per day of ``days``")


class AreaRiskSeries(BaseModel):
    """Every county's risk on every day the pipeline rated, for the map's day slider."""

    days: list[dt.date]
    levels: list[str] = Field(description="risk levels, least severe first")
    five_colours: list[str] = Field(description="Zhejiang's five colours, least severe first")
    counties: list[CountySeries]


class CountyRisk(BaseModel):
    code: str
    name: str
    level: Level | None
    reason: str | None
    cumulative: int | None
    new_14d: int | None
    clusters_14d: int | None
    days_since_last: int | None
    five_colour: FiveColour | None
    five_colour_reason: str | None


class AreaRiskDay(BaseModel):
    day: dt.date
    counties: list[CountyRisk]


@router.get("/area-risk", response_model=AreaRiskSeries)
def area_risk(caller: Staff, found: Found) -> AreaRiskSeries:
    """Risk level and five colour of each of Zhejiang's 90 counties on every day (一图)."""
    levels = found.rows("area_risk", lambda t: t.select("county_code", "day", "level"))
    colours = _optional(found, "five_colour", lambda t: t.select("county_code", "day", "colour"))
    days = sorted({r["day"] for r in levels})
    position = {day: i for i, day in enumerate(days)}
    counties = []
    for county in regions.zhejiang_counties():
        series = CountySeries(
            code=county.code,
            name=county.name,
            city_code=county.city_code,
            levels=[None] * len(days),
            five_colours=[None] * len(days),
        )
        counties.append(series)
    by_code = {c.code: c for c in counties}
    for row in levels:
        if row["county_code"] in by_code:
            by_code[row["county_code"]].levels[position[row["day"]]] = row["level"]
    for row in colours:
        if row["county_code"] in by_code and row["day"] in position:
            by_code[row["county_code"]].five_colours[position[row["day"]]] = row["colour"]
    return AreaRiskSeries(days=days, levels=list(LEVELS), five_colours=list(FIVE_COLOURS), counties=counties)


@router.get("/area-risk/{day}", response_model=AreaRiskDay)
def area_risk_day(caller: Staff, found: Found, day: dt.date) -> AreaRiskDay:
    """Each county's level with its reason and counts, and its five colour, on one day."""
    risk = {r["county_code"]: r for r in found.rows("area_risk", lambda t: t.filter(t.day == day))}
    if not risk:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no area risk was computed for {day}")
    colours = {r["county_code"]: r for r in _optional(found, "five_colour", lambda t: t.filter(t.day == day))}
    counties = [
        _county_risk(c, risk.get(c.code, {}), colours.get(c.code, {})) for c in regions.zhejiang_counties()
    ]
    return AreaRiskDay(day=day, counties=counties)


def _county_risk(county: regions.Region, risk: dict[str, Any], colour: dict[str, Any]) -> CountyRisk:
    return CountyRisk(
        code=county.code,
        name=county.name,
        level=risk.get("level"),
        reason=risk.get("reason"),
        cumulative=risk.get("cumulative"),
        new_14d=risk.get("new_14d"),
        clusters_14d=risk.get("clusters_14d"),
        days_since_last=risk.get("days_since_last"),
        five_colour=colour.get("colour"),
        five_colour_reason=colour.get("reason"),
    )


def _optional(found: Results, name: str, build: Any) -> list[dict[str, Any]]:
    """Rows of a table the panel can do without (empty when the pipeline has not written it)."""
    return found.rows(name, build) if found.has(name) else []


# one code


class CodeCounts(BaseModel):
    """Residents by health-code colour per day (一码)."""

    days: list[dt.date]
    green: list[int]
    yellow: list[int]
    red: list[int]


@router.get("/codes/daily", response_model=CodeCounts)
def codes_daily(caller: Staff, found: Found) -> CodeCounts:
    """How many residents held each colour on each day."""
    rows = found.rows("code_counts", lambda t: t.select("day", "colour", "persons"))
    days = sorted({r["day"] for r in rows})
    position = {day: i for i, day in enumerate(days)}
    counts = {colour: [0] * len(days) for colour in CODE_COLOURS}
    for row in rows:
        if row["colour"] in counts:
            counts[row["colour"]][position[row["day"]]] = row["persons"]
    return CodeCounts(days=days, **counts)


# one index


class IndexRow(BaseModel):
    area_code: str
    name: str
    area_level: Literal["county", "city"]
    index: float | None
    control: float | None
    flow: float | None
    values: dict[str, float | None] = Field(description="each sub-indicator's value")
    scores: dict[str, float | None] = Field(description="each sub-indicator's score, 0-100")


class IndexDay(BaseModel):
    """The index of every area of one level on one day (一指数), with the days that have one."""

    day: dt.date
    days: list[dt.date]
    indicators: list[str]
    rows: list[IndexRow]


class IndexHistory(BaseModel):
    area_code: str
    name: str
    days: list[dt.date]
    index: list[float | None]
    control: list[float | None]
    flow: list[float | None]
    scores: dict[str, list[float | None]]


@router.get("/index", response_model=IndexDay)
def index_day(
    caller: Staff,
    found: Found,
    day: LatestDay = None,
    level: Annotated[Literal["county", "city"], Query()] = "county",
) -> IndexDay:
    """Index, control and flow sub-indices and every sub-indicator of each county (or city) on one day."""
    days, chosen = found.day_of("index", day, "no index was computed")
    rows = found.rows(
        "index",
        lambda t: t.filter((t.day == chosen) & (t.area_level == level)).order_by(ibis.desc("index")),
    )
    return IndexDay(day=chosen, days=days, indicators=list(INDICATORS), rows=[_index_row(r) for r in rows])


def _index_row(row: dict[str, Any]) -> IndexRow:
    return IndexRow(
        area_code=row["area_code"],
        name=regions.name_of(row["area_code"]),
        area_level=row["area_level"],
        index=row["index"],
        control=row["control"],
        flow=row["flow"],
        values={name: row[name] for name in INDICATORS},
        scores={name: row[f"score_{name}"] for name in INDICATORS},
    )


@router.get("/index/{area_code}", response_model=IndexHistory)
def index_history(
    caller: Staff, found: Found, area_code: Annotated[str, Path(pattern=r"^\d{6}$")]
) -> IndexHistory:
    """One area's index, sub-indices and sub-indicator scores on every day."""
    rows = found.rows("index", lambda t: t.filter(t.area_code == area_code).order_by("day"))
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no index was computed for {area_code}")
    return IndexHistory(
        area_code=area_code,
        name=regions.name_of(area_code),
        days=[r["day"] for r in rows],
        index=[r["index"] for r in rows],
        control=[r["control"] for r in rows],
        flow=[r["flow"] for r in rows],
        scores={name: [r[f"score_{name}"] for r in rows] for name in INDICATORS},
    )


# tracing


class Funnel(BaseModel):
    """Persons found by tracing, each counted once under their strongest classification."""

    cases: int
    close: int
    secondary: int
    companion: int
    by_setting: dict[str, dict[str, int]] = Field(description="classification → setting → contacts")


class CaseSummary(BaseModel):
    case_key: str
    status: str | None
    diagnosed_at: str | None
    close: int
    secondary: int


class GraphNode(BaseModel):
    id: str
    name: str
    category: int
    status: str
    symbolSize: int  # the ECharts option's name
    diagnosed_at: str | None = None


class GraphEdge(BaseModel):
    source: str
    target: str
    case: str
    degree: int
    classification: str
    rule: str
    rules: list[str]
    evidence: list[str]
    first_contact_at: str | None


class CaseGraph(BaseModel):
    """The transmission graph of one case, shaped for an ECharts ``graph`` series."""

    case_key: str
    categories: list[dict[str, str]]
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    secondary_edges: int = Field(description="edges to contacts of contacts in all, shown or not")
    secondary_shown: int = Field(description="of those, the ones in ``edges`` (at most the limit asked for)")


@router.get("/tracing/funnel", response_model=Funnel)
def tracing_funnel(caller: Staff, found: Found) -> Funnel:
    """Cases → close contacts → contacts of contacts → same time-and-place companions."""
    strongest = found.rows("contacts", _strongest)
    persons = Counter(r["classification"] for r in strongest)
    by_setting: dict[str, dict[str, int]] = {}
    for row in strongest:
        group = by_setting.setdefault(row["classification"], {})
        group[row["setting"]] = group.get(row["setting"], 0) + 1
    return Funnel(
        cases=len(_cases(found)),
        close=persons["close"],
        secondary=persons["secondary"],
        companion=persons["companion"],
        by_setting=by_setting,
    )


def _strongest(t: ibis.Table) -> ibis.Table:
    """One row per contact: the strongest classification that found them, and its setting."""
    strength = t.classification.cases(*STRENGTH.items(), else_=len(STRENGTH))
    ranked = t.mutate(rank=ibis.row_number().over(group_by=t.contact_key, order_by=[strength, t.setting]))
    return ranked.filter(ranked["rank"] == 0).select("contact_key", "classification", "setting")


@router.get("/tracing/cases", response_model=list[CaseSummary])
def tracing_cases(
    caller: Staff,
    session: DbSession,
    found: Found,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[CaseSummary]:
    """The cases with the most close contacts and contacts of contacts (for choosing a graph)."""
    cases = _cases(found)
    counts: dict[str, Counter[str]] = {}
    for edge in found.output(GRAPH_FILE)["edges"]:
        counts.setdefault(edge["case"], Counter())[edge["classification"]] += 1
    summaries = [
        CaseSummary(
            case_key=key,
            status=node.get("status"),
            diagnosed_at=node.get("diagnosed_at"),
            close=counts.get(key, Counter())["close"],
            secondary=counts.get(key, Counter())["secondary"],
        )
        for key, node in cases.items()
    ]
    chosen = sorted(summaries, key=lambda c: (-c.close - c.secondary, c.case_key))[:limit]
    caller.record_reads(session, "contacts", [int(c.case_key) for c in chosen])
    return chosen


@router.get("/tracing/graph/{case_key}", response_model=CaseGraph)
def tracing_graph(
    caller: Staff,
    session: DbSession,
    found: Found,
    case_key: PersonKey,
    secondary: Annotated[
        int, Query(ge=0, le=100_000, description="at most this many edges to contacts of contacts")
    ] = 500,
) -> CaseGraph:
    """Who the case exposed and who those contacts exposed (close contacts, and contacts of contacts up to
    ``secondary`` edges: a graph of thousands of nodes is read by no one and drawn by no browser)."""
    graph = found.output(GRAPH_FILE)
    edges = [e for e in graph["edges"] if e["case"] == case_key]
    first = [e for e in edges if e["degree"] == 1]
    second = [e for e in edges if e["degree"] != 1]
    shown = first + second[:secondary]
    keys = {case_key} | {e["source"] for e in shown} | {e["target"] for e in shown}
    nodes = [n for n in graph["nodes"] if n["id"] in keys]
    if not any(n["id"] == case_key for n in nodes):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{case_key} is not a traced case")
    caller.record_reads(session, "contacts", [int(n["id"]) for n in nodes])
    return CaseGraph(
        case_key=case_key,
        categories=graph["categories"],
        nodes=nodes,
        edges=shown,
        secondary_edges=len(second),
        secondary_shown=min(len(second), secondary),
    )


def _cases(found: Results) -> dict[str, dict[str, Any]]:
    """The graph's case nodes by key."""
    case = CATEGORIES.index("case")
    return {n["id"]: n for n in found.output(GRAPH_FILE)["nodes"] if n["category"] == case}


# handovers from other regions (shuzhi.federation): their cases and traced contacts of this region's people

RECEIVED_CASES, RECEIVED_CONTACTS = "received_cases", "received_contacts"
RECEIVED_SHOWN = 200  # the latest contacts listed; the counts cover all


class RegionHandover(BaseModel):
    region: str
    name: str
    cases: int
    contacts: int = Field(description="persons traced as contacts (any classification)")
    close: int
    secondary: int
    latest_contact_at: str | None = Field(description="local wall-clock time, as in the lake (no offset)")


class ReceivedContact(BaseModel):
    person_key: str
    from_region: str
    classification: str
    setting: str
    first_contact_at: str | None = Field(description="local wall-clock time, as in the lake (no offset)")
    evidence: str = Field(description="as the sending region wrote it (it names the region)")


class Received(BaseModel):
    """What other regions handed over; the health codes read it beside this region's own tracing."""

    regions: list[RegionHandover]
    contacts: list[ReceivedContact] = Field(description=f"the latest {RECEIVED_SHOWN}, newest first")


@router.get("/received", response_model=Received)
def received(caller: Staff, session: DbSession, found: Found) -> Received:
    """The cases and contacts of this region's people other regions handed over (none yet: empty lists)."""
    cases = found.rows(RECEIVED_CASES, _per_region_cases) if found.has(RECEIVED_CASES) else []
    contacts = found.rows(RECEIVED_CONTACTS, _per_region_contacts) if found.has(RECEIVED_CONTACTS) else []
    latest = found.rows(RECEIVED_CONTACTS, _latest_received) if found.has(RECEIVED_CONTACTS) else []
    by_region: dict[str, dict[str, Any]] = {}
    for row in [*cases, *contacts]:
        by_region.setdefault(row["from_region"], {}).update(row)
    regions_out = [
        RegionHandover(
            region=code,
            name=regions.name_of(code),
            cases=row.get("cases", 0),
            contacts=row.get("contacts", 0),
            close=row.get("close", 0),
            secondary=row.get("secondary", 0),
            latest_contact_at=wall_clock(row.get("latest_contact_at")),
        )
        for code, row in sorted(by_region.items())
    ]
    caller.record_reads(session, RECEIVED_CONTACTS, [r["contact_key"] for r in latest])
    shown = [
        ReceivedContact(
            person_key=str(r["contact_key"]),
            from_region=r["from_region"],
            classification=r["classification"],
            setting=r["setting"],
            first_contact_at=wall_clock(r["first_contact_at"]),
            evidence=r["evidence"],
        )
        for r in latest
    ]
    return Received(regions=regions_out, contacts=shown)


def wall_clock(at: dt.datetime | None) -> str | None:
    """A lake time (naive, local) as ISO text without an offset."""
    return at.isoformat() if at is not None else None


def _per_region_cases(t: ibis.Table) -> ibis.Table:
    return t.group_by("from_region").aggregate(cases=t.person_key.nunique())


def _per_region_contacts(t: ibis.Table) -> ibis.Table:
    def persons(classification: str) -> ibis.Value:
        return (t.classification == classification).ifelse(t.contact_key, ibis.null()).nunique()

    return t.group_by("from_region").aggregate(
        contacts=t.contact_key.nunique(),
        close=persons("close"),
        secondary=persons("secondary"),
        latest_contact_at=t.first_contact_at.max(),
    )


def _latest_received(t: ibis.Table) -> ibis.Table:
    newest = t.order_by([t.first_contact_at.desc(), t.contact_key]).limit(RECEIVED_SHOWN)
    return newest.select(
        "contact_key", "from_region", "classification", "setting", "first_contact_at", "evidence"
    )


# the 2020 replay


class Replay(BaseModel):
    """Every Chinese city's level on every day of the real 2020 epidemic under the February 2020 rule."""

    days: list[dt.date] = Field(description="first and last day; ``cities`` has one level per day between")
    levels: list[str]
    rule: str
    assumption: str
    names: dict[str, str]
    cities: dict[str, list[int]] = Field(description="city code → index into ``levels`` per day")
    skipped: list[dict[str, Any]] = Field(description="codes that are not places on the map, with counts")


@router.get("/replay", response_model=Replay)
def replay(caller: Staff, found: Found) -> dict[str, Any]:
    """The real 2020 replay by city (``shuzhi replay --out <data>/outputs``)."""
    return found.output(f"{REPLAY_STEM}.json")


# decision support: the epidemic curve, R(t) and the projection


class EpiArea(BaseModel):
    area_code: str
    name: str
    area_level: Literal["province", "city", "county"]


class EpiDay(BaseModel):
    day: dt.date
    cases: int
    local_cases: int
    cumulative: int
    rt_mean: float | None = Field(description="R's posterior mean; null where there is no estimate")
    rt_low: float | None
    rt_high: float | None
    cases_in_window: int
    reason: str


class EpiProjected(BaseModel):
    day: dt.date
    expected: float
    expected_low: float
    expected_high: float
    reason: str


class EpiCurve(BaseModel):
    """One area's daily cases, R(t) and the projection, with the areas that have a curve."""

    area: EpiArea
    edition: str
    observed: list[EpiDay]
    projected: list[EpiProjected]
    areas: list[EpiArea]


@router.get("/epi", response_model=EpiCurve)
def epi(
    caller: Staff,
    found: Found,
    area: Annotated[
        str | None, Query(pattern=r"^\d{6}$", description="area code (default: the province)")
    ] = None,
) -> EpiCurve:
    """Daily cases (local and imported), R(t) with its credible interval and reason, and the projection."""
    areas = [
        _epi_area(r)
        for r in found.rows(
            "epi",
            lambda t: t.select("area_level", "area_code").distinct().order_by(["area_level", "area_code"]),
        )
    ]
    chosen = area or next((a.area_code for a in areas if a.area_level == "province"), None)
    rows = found.rows("epi", lambda t: t.filter(t.area_code == chosen).order_by("day")) if chosen else []
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no epidemic curve for {chosen or 'the province'}")
    order = {"province": 0, "city": 1, "county": 2}
    return EpiCurve(
        area=_epi_area(rows[0]),
        edition=rows[0]["edition"],
        observed=[EpiDay(**r) for r in rows if not r["projected"]],
        projected=[EpiProjected(**r) for r in rows if r["projected"]],
        areas=sorted(areas, key=lambda a: (order[a.area_level], a.area_code)),
    )


def _epi_area(row: dict[str, Any]) -> EpiArea:
    return EpiArea(
        area_code=row["area_code"], name=regions.name_of(row["area_code"]), area_level=row["area_level"]
    )


# supplies: each county's need, its share, and the shipments that move the fewest units between cities


class StockRow(BaseModel):
    item: str = Field(min_length=1, max_length=32)
    holder: str = Field(pattern=r"^\d{6}$", description="the GB/T 2260 code of the city holding the stock")
    quantity: int = Field(ge=0)


class SuppliesRequest(BaseModel):
    stock: list[StockRow] = Field(max_length=10_000)
    day: dt.date | None = Field(
        default=None,
        ge=PLAN_DAYS[0],
        le=PLAN_DAYS[1],
        description="plan as of this day (default: the last rated)",
    )
    edition: str = Field(default="2020-5th", pattern=r"^[\w-]{1,32}$")


class CountySupply(BaseModel):
    county_code: str
    name: str
    level: str
    need: int
    allocated: int
    reason: str


class ShipmentOut(BaseModel):
    holder: str
    holder_name: str
    county_code: str
    name: str
    quantity: int
    across_cities: bool


class ItemPlan(BaseModel):
    item: str
    unit: str
    need: int
    allocated: int
    short: int
    moved_between_cities: int
    counties: list[CountySupply]
    shipments: list[ShipmentOut]


class SuppliesPlan(BaseModel):
    day: dt.date
    edition: str
    items: list[ItemPlan]


@router.post("/supplies/plan", response_model=SuppliesPlan)
def supplies_plan(caller: Staff, found: Found, request: SuppliesRequest) -> SuppliesPlan:
    """Masks, test kits and beds for the coming week: each county's need from the lake (with its reason),
    shares by risk priority when stock is short, and shipments moving the fewest units between cities."""
    policy = supplies_policy(request.edition)  # an unknown edition or a bad row: 422, naming it
    stock = stock_from_rows([r.model_dump() for r in request.stock], set(policy.items))
    day, plans = found.compute(
        lambda engine: supply_plans(engine, request.edition, stock, request.day), after="area_risk"
    )
    return SuppliesPlan(day=day, edition=request.edition, items=[_item_plan(p) for p in plans])


def _item_plan(plan: Plan) -> ItemPlan:
    counties = [
        CountySupply(
            county_code=n.county_code,
            name=regions.name_of(n.county_code),
            level=n.level,
            need=n.quantity,
            allocated=plan.allocated.get(n.county_code, 0),
            reason=n.reason,
        )
        for n in plan.needs
    ]
    shipments = [
        ShipmentOut(
            holder=s.holder,
            holder_name=regions.name_of(s.holder),
            county_code=s.county_code,
            name=regions.name_of(s.county_code),
            quantity=s.quantity,
            across_cities=s.across_cities,
        )
        for s in plan.shipments
    ]
    return ItemPlan(
        item=plan.item,
        unit=plan.unit,
        need=sum(c.need for c in counties),
        allocated=sum(c.allocated for c in counties),
        short=plan.short,
        moved_between_cities=sum(s.quantity for s in shipments if s.across_cities),
        counties=counties,
        shipments=shipments,
    )


# high-risk population flows: arrivals from risk areas per county, and the largest movements between cities

TOP_FLOWS = 20


class CountyArrivals(BaseModel):
    county_code: str | None = Field(description="the residence; null for persons without a registration")
    name: str
    persons: int
    by_level: dict[str, int]


class CityFlow(BaseModel):
    origin_code: str
    origin_name: str
    destination_code: str
    destination_name: str
    movements: int
    persons: int


class FlowsDay(BaseModel):
    day: dt.date
    days: list[dt.date]
    arrivals: list[CountyArrivals] = Field(description="residents with a risk area in their recent places")
    flows: list[CityFlow] = Field(description=f"the {TOP_FLOWS} largest movements between cities")


@router.get("/flows", response_model=FlowsDay)
def flows_day(
    caller: Staff,
    found: Found,
    day: LatestDay = None,
) -> FlowsDay:
    """Residents whose recent places show a medium or high-risk area, per county, and the largest movements
    between cities (trips and telecom itineraries together) on one day."""
    days, chosen = found.day_of("od_flows", day, "no flows were computed")

    def per_county(t: ibis.Table) -> ibis.Table:
        on_day = t.filter(t.day == chosen)
        return on_day.group_by(["county_code", "level"]).aggregate(persons=on_day.person_key.nunique())

    counts: dict[str | None, dict[str, int]] = {}
    for row in found.rows("risk_arrivals", per_county):
        counts.setdefault(row["county_code"], {})[row["level"]] = row["persons"]

    def largest(t: ibis.Table) -> ibis.Table:
        on_day = t.filter(t.day == chosen)
        summed = on_day.group_by(["origin_code", "destination_code"]).aggregate(
            movements=on_day.movements.sum(), persons=on_day.persons.sum()
        )
        return summed.order_by([ibis.desc("movements"), "origin_code", "destination_code"]).limit(TOP_FLOWS)

    return FlowsDay(
        day=chosen,
        days=days,
        arrivals=sorted(
            (
                CountyArrivals(
                    county_code=code,
                    name=regions.name_of(code) if code else "未登记 unregistered",
                    persons=sum(levels.values()),
                    by_level=levels,
                )
                for code, levels in counts.items()
            ),
            key=lambda c: (-c.persons, c.county_code or ""),
        ),
        flows=[
            CityFlow(
                origin_name=regions.name_of(r["origin_code"]),
                destination_name=regions.name_of(r["destination_code"]),
                **r,
            )
            for r in found.rows("od_flows", largest)
        ],
    )
