"""Department feeds in, canonical tables out: ``shuzhi ingest DIR``.

Each file of a feed directory (layout and formats: docs/feeds.md) is read by its feed's adapter
(``adapters``), parsed into rows with their physical line (``parse``), converted and checked field by field
(``fields``) and row by row in the contract's order (``validate``), its ID numbers replaced by keyed
pseudonyms (``shuzhi.privacy``), and committed to the Parquet lake (``shuzhi.lake``): good rows by table and
day, bad rows to the quarantine with one reason each (``reasons``). ``ingest`` returns a ``Report``
(``report``). The health declarations residents make in the app join the department feed's table (``app``).

    from shuzhi.ingest import ingest
    report = ingest("feeds/", "data/lake")
    print(report.to_json())
"""

from shuzhi.ingest.adapters import FEEDS, Feed
from shuzhi.ingest.report import FeedSummary, FileResult, Report
from shuzhi.ingest.run import SimulatedCrash, discover, ingest

__all__ = ["FEEDS", "Feed", "FeedSummary", "FileResult", "Report", "SimulatedCrash", "discover", "ingest"]
