"""R(t) of every Chinese city through the real 2020 epidemic, from the packaged daily counts.

The counts (``shuzhi.risk.replay``'s source: cumulative confirmed cases per city and day) are made
monotone, and each day's rise is that day's new cases; :func:`~shuzhi.decision.curves.series_table`
estimates R(t) and the projection as for the lake's cases. What the counts cannot say: which cases were
imported (all count as local, so a city seeded from Wuhan shows a high R at first), and the day of onset
(R follows the reports, about a week behind the infections). Reporting changes show up too: Wuhan's 13,436
cases of 2020-02-12 are the clinically diagnosed cases Hubei added that day, not a day's infections.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shuzhi.decision.curves import series_table
from shuzhi.decision.policy import EpiPolicy, epi_policy
from shuzhi.engine import Engine, connect
from shuzhi.risk.replay import daily_new_cases, load_counts

STEM = "replay_2020_city_rt"


def real_rt(policy: EpiPolicy, engine: Engine | None = None) -> pa.Table:
    """:data:`~shuzhi.decision.curves.EPI_SCHEMA` rows for every mapped city of the 2020 counts."""
    new = daily_new_cases(engine or connect(), load_counts())
    counts = pa.table(
        {
            "area_level": pa.array(["city"] * new.num_rows),
            "area_code": new["city_code"],
            "day": new["day"],
            "cases": new["cases"],
        }
    )
    return series_table(counts, policy, pc.min(new["day"]).as_py(), pc.max(new["day"]).as_py())


def write_real_rt(edition: str | Path, out_dir: Path | str, engine: Engine | None = None) -> Path:
    """Write :func:`real_rt` under the edition's ``epi`` section to ``out_dir``; return the Parquet path."""
    path = Path(out_dir) / f"{STEM}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(real_rt(epi_policy(edition), engine), path)
    return path
