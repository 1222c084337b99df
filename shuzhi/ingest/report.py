"""The ingest report: per file and per feed, rows read, landed and quarantined by reason, files skipped.

``Report.to_json()`` is what the lake keeps (``_reports/ingest-<timestamp>.json``) and what scripts read;
``Report.rich_table()`` is what the CLI prints. Every row read is either landed or quarantined, so
``rows_read == rows_landed + sum(quarantined)`` for every file and feed.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.table import Table

from shuzhi.ingest.reasons import REASONS

INGESTED = "ingested"
SKIPPED = "skipped"


def _add(into: dict[str, int], counts: dict[str, int]) -> None:
    for key, value in counts.items():
        into[key] = into.get(key, 0) + value


def _ordered(counts: dict[str, int]) -> dict[str, int]:
    rank = {r: i for i, r in enumerate(REASONS)}
    return dict(sorted(counts.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


@dataclass
class FileResult:
    """What happened to one source file."""

    feed: str
    file: str  # path relative to the feed directory
    sha256: str
    status: str  # ingested | skipped
    rows_read: int = 0
    rows_landed: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    tolerated: dict[str, int] = field(default_factory=dict)  # e.g. lines read as UTF-8 in a GBK file
    seconds: float = 0.0
    note: str = ""

    @property
    def rows_quarantined(self) -> int:
        return sum(self.quarantined.values())


@dataclass
class FeedSummary:
    """The files of one feed, added up."""

    feed: str
    files: int = 0
    files_skipped: int = 0
    rows_read: int = 0
    rows_landed: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    tolerated: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, result: FileResult) -> None:
        self.files += 1
        self.files_skipped += result.status == SKIPPED
        self.rows_read += result.rows_read
        self.rows_landed += result.rows_landed
        _add(self.quarantined, result.quarantined)
        _add(self.tolerated, result.tolerated)
        self.seconds += result.seconds
        self.quarantined = _ordered(self.quarantined)

    @property
    def rows_quarantined(self) -> int:
        return sum(self.quarantined.values())

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["rows_quarantined"] = self.rows_quarantined
        out["rows_per_second"] = round(self.rows_read / self.seconds) if self.seconds > 0 else None
        return out


@dataclass
class Report:
    """The outcome of one ``ingest`` run."""

    feed_dir: str
    lake: str
    started: dt.datetime
    finished: dt.datetime | None = None
    files: list[FileResult] = field(default_factory=list)
    unrecognised: list[str] = field(default_factory=list)  # files in the feed directory no adapter reads

    @property
    def feeds(self) -> dict[str, FeedSummary]:
        summaries: dict[str, FeedSummary] = {}
        for result in self.files:
            summaries.setdefault(result.feed, FeedSummary(result.feed)).add(result)
        return summaries

    @property
    def totals(self) -> FeedSummary:
        total = FeedSummary("total")
        for result in self.files:
            total.add(result)
        return total

    @property
    def seconds(self) -> float:
        end = self.finished or dt.datetime.now(dt.UTC)
        return (end - self.started).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        totals = self.totals
        return {
            "feed_dir": self.feed_dir,
            "lake": self.lake,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(totals.rows_read / self.seconds) if self.seconds > 0 else None,
            "totals": totals.as_dict(),
            "feeds": {name: s.as_dict() for name, s in self.feeds.items()},
            "files": [asdict(f) for f in self.files],
            "unrecognised": self.unrecognised,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def rich_table(self) -> Table:
        """One line per feed and a total: files, rows read, landed, quarantined with their reasons."""
        table = Table(title=f"Ingest of {self.feed_dir} ({self.seconds:.1f} s)", expand=False)
        table.add_column("feed", no_wrap=True)
        for name in ("files", "skipped", "rows read", "landed", "quarantined"):
            table.add_column(name, justify="right", no_wrap=True)
        table.add_column("reasons", overflow="fold", min_width=20)
        for summary in self.feeds.values():
            table.add_row(*_cells(summary))
        table.add_section()
        table.add_row(*_cells(self.totals), style="bold")
        if self.unrecognised:
            table.caption = (
                f"{len(self.unrecognised)} file(s) no adapter reads: {', '.join(self.unrecognised[:5])}"
            )
        return table


def _cells(s: FeedSummary) -> list[str]:
    reasons = " ".join(f"{reason}:{n:,}" for reason, n in s.quarantined.items())
    return [
        s.feed,
        f"{s.files:,}",
        f"{s.files_skipped:,}",
        f"{s.rows_read:,}",
        f"{s.rows_landed:,}",
        f"{s.rows_quarantined:,}",
        reasons,
    ]
