"""Quarantine reason classes (docs/feeds.md) and the record of rejected rows.

A rejected row gets exactly one reason: the first check it fails, in the order of ``CHECK_ORDER``. The ID
checks form one step (``id_*``), whose reason is the first of ``idcard.ID_REASONS`` that fails. ``Rejects``
collects rejected rows of one source file as it is parsed and validated and turns them into quarantine rows,
with every ID number in the raw text masked.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import pyarrow as pa

from shuzhi import idcard, model

TRUNCATED = "truncated"
MALFORMED = "malformed"
BAD_DATE = "bad_date"
UNKNOWN_REGION = "unknown_region"
UNKNOWN_VENUE = "unknown_venue"
TIME_ORDER = "time_order"
DUPLICATE = "duplicate"
BAD_VALUE = "bad_value"
ID_CHECK = "id_*"

# The order in which checks run; a row is quarantined for the first one it fails.
CHECK_ORDER = (
    TRUNCATED,
    MALFORMED,
    BAD_DATE,
    ID_CHECK,
    UNKNOWN_REGION,
    UNKNOWN_VENUE,
    TIME_ORDER,
    DUPLICATE,
    BAD_VALUE,
)
REASONS = (
    TRUNCATED,
    MALFORMED,
    BAD_DATE,
    *idcard.ID_REASONS,
    UNKNOWN_REGION,
    UNKNOWN_VENUE,
    TIME_ORDER,
    DUPLICATE,
    BAD_VALUE,
)
TOLERATED = ("late", "out_of_order", "mixed_encoding")  # faults that are no reason to reject a row


def step(reason: str) -> int:
    """The position of a reason's check in ``CHECK_ORDER``."""
    return CHECK_ORDER.index(ID_CHECK if reason in idcard.ID_REASONS else reason)


# Runs of letters and digits holding at least 8 digits and 11 or more characters: ID numbers (valid or not),
# phone numbers. They are masked in quarantined raw text: the first 6 and the last character stay.
_ID_LIKE = re.compile(
    r"(?<![0-9A-Za-z])(?=(?:[A-Za-z]*[0-9]){8})([0-9A-Za-z]{6})([0-9A-Za-z]{4,})([0-9A-Za-z])(?![0-9A-Za-z])"
)


def mask_ids(text: str) -> str:
    """``text`` with every ID-number-like token masked (``330102***********4``)."""
    return _ID_LIKE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)


@dataclass
class Rejects:
    """Rejected rows of one source file: line, field, reason, detail and (unmasked until built) raw text."""

    lines: list[int] = field(default_factory=list)
    fields: list[str | None] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    raws: list[str] = field(default_factory=list)

    def add(self, line: int, field_name: str | None, reason: str, detail: str, raw: str) -> None:
        self.lines.append(line)
        self.fields.append(field_name)
        self.reasons.append(reason)
        self.details.append(detail)
        self.raws.append(raw)

    def extend(self, lines, field_names, reasons, details, raws) -> None:  # noqa: ANN001 - parallel sequences
        self.lines.extend(int(x) for x in lines)
        self.fields.extend(field_names)
        self.reasons.extend(reasons)
        self.details.extend(details)
        self.raws.extend(raws)

    def __len__(self) -> int:
        return len(self.lines)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for reason in self.reasons:
            counts[reason] = counts.get(reason, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: REASONS.index(kv[0])))

    def table(self, feed: str, file: str, ingested_on: dt.date) -> pa.Table:
        """The quarantine rows (``model.QUARANTINE``), in line order, raw text masked."""
        order = sorted(range(len(self.lines)), key=lambda i: (self.lines[i], step(self.reasons[i])))
        n = len(order)
        columns = {
            "feed": [feed] * n,
            "file": [file] * n,
            "line": [self.lines[i] for i in order],
            "field": [self.fields[i] for i in order],
            "reason": [self.reasons[i] for i in order],
            "detail": [self.details[i] for i in order],
            "raw": [mask_ids(self.raws[i]) for i in order],
            "ingested_on": [ingested_on] * n,
        }
        return pa.table(columns, schema=model.QUARANTINE.schema)
