"""The health code a resident shows: the colour the published rules gave, a manual change in force, signed.

The computed colour is the resident's newest row of the lake's ``codes`` table (colour, rule, bilingual
reason, evidence, valid-until, what turns it green); an approved manual change (four eyes) in force overrides
it and says so. The result is signed by this instance's region key as a short-lived ``SZ1:`` token and drawn
as a QR code (SVG) in the colour it carries. The history merges the rules' colour changes
(``code_changes``) with manual changes, newest first. Where the code's rule puts the resident under a measure,
their row of the follow-up worklist (``followup``) says which day of it and which tests are next, and how
many health declarations they made in the app today against the checks a day the measure asks for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import ibis
import segno
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuzhi.api.declared import DeclaredCode
from shuzhi.api.issuer import InstanceCredentials
from shuzhi.api.results import NotComputed, Results
from shuzhi.api.schemas import ColourChange, FollowupOut, HealthCodeOut, ManualColourOut
from shuzhi.codes.text import BETWEEN_LANGUAGES
from shuzhi.model import CHINA
from shuzhi.store.models import HealthDeclaration, ManualChange

MANUAL_RULE = "manual_change"
QR_COLOURS = {"green": "#1a7f37", "yellow": "#a15c00", "red": "#c62828"}  # dark enough for any scanner


class NoCode(LookupError):
    """Neither the rules nor a manual change have given this person a colour yet."""


@dataclass(frozen=True)
class Shown:
    """The colour shown and why, in both languages."""

    colour: str
    rule: str
    reason_zh: str
    reason_en: str


def health_code(
    found: Results,
    credentials: InstanceCredentials,
    person_key: int,
    manual: list[ManualChange],
    now: dt.datetime,
    declared_today: int = 0,
    declared: DeclaredCode | None = None,
) -> HealthCodeOut:
    """The resident's signed code with its explanation; ``manual`` are the approved changes, newest first;
    ``declared_today`` the health declarations they made in the app today (:func:`declarations_today`);
    ``declared`` the code the declarations not yet analysed set, shown where more severe than the analysed
    one (:mod:`shuzhi.api.declared`)."""
    analysed = latest_code(found, person_key)
    computed = declared.over(analysed) if declared else analysed
    in_force = manual[0] if manual else None
    shown = _shown(computed, in_force)
    signed = credentials.issue_code(person_key, shown.colour, shown.rule, now)
    from_app = declared is not None and declared.shown(computed)
    computed, analysed = computed or {}, analysed or {}
    return HealthCodeOut(
        payload=signed.payload,
        qr_svg=qr_svg(signed.payload, shown.colour),
        issued_at=signed.issued_at,
        expires_at=signed.expires_at,
        colour=shown.colour,
        rule=shown.rule,
        reason_zh=shown.reason_zh,
        reason_en=shown.reason_en,
        evidence=computed.get("evidence"),
        day=computed.get("day"),
        valid_until=computed.get("valid_until"),
        turns_green_zh=_language(computed.get("turns_green"), 0),
        turns_green_en=_language(computed.get("turns_green"), 1),
        computed_colour=computed.get("colour"),
        manual_colour=ManualColourOut.model_validate(in_force) if in_force else None,
        history=_declared_first(computed, from_app) + history(found, person_key, manual),
        followup=own_followup(found, person_key, analysed.get("day"), declared_today),
        from_app_declaration=from_app,
    )


def _declared_first(code: dict[str, Any], from_app: bool) -> list[ColourChange]:
    """The change a declaration made since the analysis brought, newest of all (none otherwise)."""
    if not from_app:
        return []
    return [ColourChange(day=code["day"], colour=code["colour"], rule=code["rule"], source="declared")]


def _shown(computed: dict[str, Any] | None, manual: ManualChange | None) -> Shown:
    if manual is not None:
        return Shown(
            manual.colour, MANUAL_RULE, f"人工更正：{manual.reason}", f"manual correction: {manual.reason}"
        )
    if computed is None:
        raise NoCode("no health code has been computed for you yet")
    return Shown(
        computed["colour"],
        computed["rule"],
        _language(computed["reason"], 0),
        _language(computed["reason"], 1),
    )


def _language(text: str | None, which: int) -> str | None:
    """The Chinese (0) or English (1) half of a bilingual text of the rules (the whole text if it has one)."""
    if text is None:
        return None
    halves = text.split(BETWEEN_LANGUAGES, 1)
    return halves[which] if len(halves) == 2 else text


def latest_code(found: Results, person_key: int) -> dict[str, Any] | None:
    """The person's newest computed code (a ``codes`` row), or None."""
    try:
        rows = found.rows(
            "codes", lambda t: t.filter(t.person_key == person_key).order_by(ibis.desc("day")).limit(1)
        )
    except NotComputed:
        return None
    return rows[0] if rows else None


def declarations_today(session: Session, person_key: int, now: dt.datetime) -> int:
    """The health declarations the person made in the app since the start of ``now``'s local day."""
    midnight = dt.datetime.combine(now.astimezone(CHINA).date(), dt.time(), CHINA)
    made = select(func.count()).where(
        HealthDeclaration.person_key == person_key, HealthDeclaration.declared_at >= midnight
    )
    return session.scalar(made) or 0


def own_followup(
    found: Results, person_key: int, day: dt.date | None, declared_today: int = 0
) -> FollowupOut | None:
    """The person's row of the follow-up worklist of the code's day, or None."""
    try:
        rows = found.rows("followup", lambda t: t.filter(t.person_key == person_key, t.day == day))
    except NotComputed:
        return None
    if not rows:
        return None
    row = rows[0]
    fields = {k: row[k] for k in FollowupOut.model_fields if k in row}
    reasons = {"reason_zh": _language(row["reason"], 0), "reason_en": _language(row["reason"], 1)}
    return FollowupOut(**fields, **reasons, declared_today=declared_today)


def history(found: Results, person_key: int, manual: list[ManualChange]) -> list[ColourChange]:
    """Colour changes by the rules and by manual changes, newest first."""
    try:
        rows = found.rows("code_changes", lambda t: t.filter(t.person_key == person_key))
    except NotComputed:
        rows = []
    changes = [ColourChange(day=r["day"], colour=r["colour"], rule=r["rule"], source="rules") for r in rows]
    changes += [
        ColourChange(day=m.decided_at.date(), colour=m.colour, rule=MANUAL_RULE, source="manual")
        for m in manual
    ]
    return sorted(changes, key=lambda c: (c.day, c.source == "manual"), reverse=True)


def qr_svg(payload: str, colour: str) -> str:
    """The payload as a QR code (error correction M, alphanumeric mode): an SVG data URI in ``colour``."""
    code = segno.make_qr(payload, error="m", boost_error=False)
    return code.svg_data_uri(scale=4, border=4, dark=QR_COLOURS[colour])
