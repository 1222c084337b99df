"""What each kind of message carries, checked row by row (pure; pydantic models, no I/O).

A *handover* carries the cases and contacts the sender found whose residence is in the recipient's
jurisdiction, keyed by the federation's shared pseudonyms (``pseudonyms`` names the key by its
fingerprint); *statistics* carry the sender's published open statistics (already under disclosure control);
*trust_list* carries a signed trust list; a *receipt* answers a message with what became of it. Times travel
as ISO 8601 text (local wall-clock time, as in the lake). A bad row is reported with its index, field and
reason and the good rows around it still land (:func:`rows`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError

from shuzhi.model import DIAGNOSIS_STATUSES
from shuzhi.policy import Strict

Region = Annotated[str, Field(pattern=r"^\d{6}$")]
PersonKey = Annotated[int, Field(ge=-(2**63), lt=2**63)]
Count = Annotated[int, Field(ge=0)]


class CaseRow(Strict):
    """A diagnosis, as in the lake's ``diagnoses`` table."""

    person_key: PersonKey
    status: Literal[DIAGNOSIS_STATUSES]  # type: ignore[valid-type]
    onset_date: dt.date | None
    diagnosed_at: dt.datetime
    county_code: Region


class ContactRow(Strict):
    """A contact, as in the ``contacts`` table the sender's trace wrote."""

    case_key: PersonKey
    contact_key: PersonKey
    degree: Literal[1, 2]
    via_key: PersonKey | None
    classification: Literal["close", "secondary", "companion"]
    rule: Annotated[str, Field(min_length=1, max_length=64)]
    setting: Annotated[str, Field(min_length=1, max_length=64)]
    place: str | None
    first_contact_at: dt.datetime | None
    last_contact_at: dt.datetime | None
    overlap_seconds: int | None
    evidence: Annotated[str, Field(min_length=1)]
    traced_at: dt.datetime | None = None  # when the sender's tracing could first know of it (absent: unknown)


class StatisticsRow(Strict):
    """A row of the sender's ``open_statistics`` (counts withheld by disclosure control are null)."""

    area_level: Literal["county", "city", "province"]
    area_code: Region
    day: dt.date
    level: str | None
    new_cases: Count | None
    new_local_cases: Count | None
    new_14d: Count | None
    cumulative: Count | None
    edition: str


class Handover(BaseModel):
    pseudonyms: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]
    cases: list[dict[str, Any]]
    contacts: list[dict[str, Any]]


class Statistics(BaseModel):
    rows: list[dict[str, Any]]


class TrustListBody(BaseModel):
    signed: bytes


class Receipt(BaseModel):
    message: str  # the id of the message received
    digest: bytes  # its SHA-256
    status: Literal["accepted", "rejected", "duplicate"]
    reason: str = ""
    landed: dict[str, int] = {}
    rejected_rows: list[dict[str, Any]] = []


BODIES: dict[str, type[BaseModel]] = {
    "handover": Handover,
    "statistics": Statistics,
    "trust_list": TrustListBody,
    "receipt": Receipt,
}


class BodyError(ValueError):
    """A body that does not have the shape of its kind; names the field."""


def parse(kind: str, body: dict[str, Any]) -> BaseModel:
    try:
        return BODIES[kind].model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise BodyError(f"body.{where}: {first['msg']}") from None


def rows(
    model: type[Strict],
    items: list[dict[str, Any]],
    table: str,
    refuse: Callable[[Any], tuple[str, str] | None] = lambda row: None,
) -> tuple[list[Strict], list[dict]]:
    """The valid rows, and for every invalid one its table, index, field and reason; ``refuse(row)`` may
    name a (field, reason) for which a well-formed row is still not taken."""
    good, bad = [], []
    for index, item in enumerate(items):
        try:
            row = model.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "row"
            bad.append({"table": table, "row": index, "field": field, "reason": first["msg"]})
            continue
        refused = refuse(row)
        if refused:
            bad.append({"table": table, "row": index, "field": refused[0], "reason": refused[1]})
        else:
            good.append(row)
    return good, bad


def to_wire(record: dict[str, Any]) -> dict[str, Any]:
    """A lake row as body text: dates and times in ISO 8601, the rest as they are."""
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in record.items()}
