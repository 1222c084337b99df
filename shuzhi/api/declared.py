"""The colour a resident's newest app declarations set at once, before the next analysis lands them.

The analysis colours codes from the lake, which holds the app's health declarations made before it ran (its
record's ``app_declarations_until``). A resident who declares a fever, or a stay in a risk area, after that
must not go on showing the green of the last run: their code is also coloured from those declarations alone,
by the same rules (the ``symptoms`` and ``arrivals`` rules of the edition the analysis applied, the arrivals
against the lake's area risk), for today, and the more severe of the two colours is shown. Only a more severe
colour is taken from them: what clears a colour (days of normal check-in, negative tests) waits for the
analysis, which sees all the evidence.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuzhi.api.results import NotComputed, Results
from shuzhi.codes import codes, load_policy
from shuzhi.codes.policy import ArrivalsWhen, CodePolicy
from shuzhi.engine import connect
from shuzhi.ingest.app import lake_row
from shuzhi.model import CHINA, DECLARATIONS, TABLES
from shuzhi.pipeline import DEFAULT_EDITION, RUNS_FILE
from shuzhi.risk.area import AREA_RISK_SCHEMA
from shuzhi.store.models import HealthDeclaration

SOURCES = ("symptoms", "arrivals")  # the code rules a health declaration can meet
# a declaration made this long before the landing may have missed it (committed as the landing read)
OVERLAP = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Declared:
    """The rules of the analysis's edition that declarations meet, and what the lake already holds."""

    policy: CodePolicy  # the edition's policy with only those rules
    default_rule: str
    severity: dict[str, int]  # colour → 0 for the most severe
    lookback_days: int | None  # how far back a declaration can still set a colour today (None: no limit)
    reads_symptoms: bool  # a rule reads declared fever and symptoms
    reads_visits: bool  # a rule reads declared visited regions
    landed_until: dt.datetime | None = None  # the app's declarations before this are in the lake (None: none)

    def may_colour(self, declaration: HealthDeclaration) -> bool:
        """Whether a rule can meet ``declaration``: a fever or symptom, a visited region where a rule reads
        them (a normal check-in alone never raises a colour: most requests need no rules run)."""
        abnormal = self.policy.declaration
        ill = declaration.temperature >= abnormal.fever_celsius or bool(
            set(declaration.symptoms) & set(abnormal.symptoms)
        )
        return (self.reads_symptoms and ill) or (self.reads_visits and bool(declaration.visited_regions))

    def worse(
        self, analysed: dict[str, Any] | None, declared: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The code row of the two with the more severe colour (the analysed one on a tie)."""
        if declared is None or (
            analysed is not None and self.severity[analysed["colour"]] <= self.severity[declared["colour"]]
        ):
            return analysed
        return declared


@dataclass(frozen=True)
class DeclaredCode:
    """The code declarations not yet analysed set on their own (``row``, a ``codes`` row; None: none)."""

    rules: Declared
    row: dict[str, Any] | None

    def over(self, analysed: dict[str, Any] | None) -> dict[str, Any] | None:
        """The code to show: ``row`` where it is more severe than the ``analysed`` one."""
        return self.rules.worse(analysed, self.row)

    def shown(self, code: dict[str, Any] | None) -> bool:
        """Whether ``code`` (what :meth:`over` chose) is the one the declarations set."""
        return code is not None and code is self.row


def declared_rules(found: Results) -> Declared:
    """The rules declarations meet, in the edition the last codes step applied, and its landing instant."""
    try:
        step = found.output(RUNS_FILE).get("steps", {}).get("codes") or {}
    except NotComputed:
        step = {}
    rules = _rules_of(step.get("edition", DEFAULT_EDITION), step.get("policy", {}).get("codes"))
    until = step.get("app_declarations_until")
    return replace(rules, landed_until=dt.datetime.fromisoformat(until) if until else None)


@functools.lru_cache(maxsize=8)
def _rules_of(edition: str, policy_sha256: str | None) -> Declared:
    """The edition's rules that declarations meet, read once per version of its file the analysis applied
    (``policy_sha256``, the cache key: the code request is a hot path)."""
    policy = load_policy(edition)
    rules = [rule for rule in policy.rules if rule.when.source in SOURCES]
    arrivals = [rule.when for rule in rules if isinstance(rule.when, ArrivalsWhen)]
    spans = [rule.span_days for rule in rules]
    return Declared(
        policy.model_copy(update={"rules": rules}),
        policy.default.id,
        {colour: policy.severity(colour) for colour in policy.colours},
        None if None in spans else max(spans, default=0),
        any(rule.when.source == "symptoms" for rule in rules),
        any("declarations" in when.via for when in arrivals),
    )


def unseen_declarations(
    session: Session, person_key: int, rules: Declared, now: dt.datetime
) -> list[HealthDeclaration]:
    """The person's health declarations the lake does not hold yet that a rule can still count today."""
    query = select(HealthDeclaration).where(HealthDeclaration.person_key == person_key)
    if rules.landed_until is not None:
        query = query.where(HealthDeclaration.declared_at >= rules.landed_until - OVERLAP)
    if rules.lookback_days is not None:
        query = query.where(HealthDeclaration.declared_at >= now - dt.timedelta(days=rules.lookback_days + 1))
    return list(session.scalars(query.order_by(HealthDeclaration.declared_at)))


def declared_code(
    found: Results, rules: Declared, declarations: list[HealthDeclaration], now: dt.datetime
) -> DeclaredCode:
    """Today's code from ``declarations`` alone (its row None when they set no colour)."""
    return DeclaredCode(rules, _coloured(found, rules, declarations, now))


def _coloured(
    found: Results, rules: Declared, declarations: list[HealthDeclaration], now: dt.datetime
) -> dict[str, Any] | None:
    if not any(rules.may_colour(d) for d in declarations):
        return None
    today = now.astimezone(CHINA).date()
    engine = connect()  # in memory: one person's few rows
    rows = [lake_row(d) for d in declarations]
    engine.register("declarations", pa.Table.from_pylist(rows, schema=DECLARATIONS.schema))
    home = {"person_key": declarations[0].person_key, "county_code": declarations[-1].region_code}
    engine.register("residents", pa.Table.from_pylist([home], schema=TABLES["residents"].schema))
    engine.register("area_risk", _area_risk(found, today, rules.lookback_days))
    [row] = codes(engine, rules.policy, today, allow_missing=True).to_pylist()
    return None if row["rule"] == rules.default_rule else row


def _area_risk(found: Results, today: dt.date, lookback_days: int | None) -> pa.Table:
    """The lake's area risk of the days a declared stay can still count (empty before any rating)."""
    since = None if lookback_days is None else today - dt.timedelta(days=lookback_days + 1)
    try:
        return found.query("area_risk", lambda t: t if since is None else t.filter(t.day >= since)).select(
            AREA_RISK_SCHEMA.names
        )
    except NotComputed:
        return AREA_RISK_SCHEMA.empty_table()
