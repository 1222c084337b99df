"""How good is a trace? Recall and precision of close contacts against a simulator's ground truth.

The simulator knows who truly had close contact with whom (``truth/close_contacts.parquet``: case_id_number,
contact_id_number, setting, place, first_contact_at, last_contact_at) and who infected whom
(``truth/infections.parquet``: id_number, infector_id_number, setting, place, infected_at, onset_date,
asymptomatic, first_positive_sample_at, diagnosed_at), by raw ID number. The caller passes the pseudonymiser
that turned ID numbers into person keys at ingestion, so truth and trace meet on ``person_key``.

* **recall** — of the true close contacts (pairs) of the traced index cases, the share traced as close;
* **recall in window** — the same, of the true contacts that met the case's traced window: how well the rules
  find contacts, apart from how far back the edition's window reaches;
* **precision** — of the traced close-contact pairs, the share that were true close contacts;
* **infected traced before onset** — of the persons infected by a traced index case, the share listed as a
  close contact or contact of a contact whom tracing could find (``traced_at``: their case's diagnosis, or
  the contact itself if later) before their onset (or, with no onset, before their first positive sample):
  the people tracing could have quarantined in time.

Pairs are directed, (case, contact), as the truth states them. Everything here works on
small tables (the trace's rows and the truth's), with pyarrow joins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shuzhi.tracing.contacts import CLOSE, COMPANION, SECONDARY
from shuzhi.tracing.trace import TraceResult

Pseudonymise = Callable[[pa.Array], pa.Array]
"""ID numbers (string array) → person keys (int64 array), e.g. ``Pseudonymiser(key).keys``."""


@dataclass(frozen=True)
class Evaluation:
    """The scores of one trace against the truth, with the counts they come from."""

    edition: str
    cases: int
    true_pairs: int
    traced_pairs: int
    hits: int
    hits_in_window: int
    true_pairs_in_window: int
    infected: int
    infected_traced_before_onset: int
    persons: dict[str, int] = field(default_factory=dict)  # distinct persons listed, by classification
    recall_by_setting: dict[str, float] = field(default_factory=dict)
    precision_by_rule: dict[str, float] = field(default_factory=dict)

    @property
    def recall(self) -> float:
        return self.hits / self.true_pairs if self.true_pairs else float("nan")

    @property
    def recall_in_window(self) -> float:
        return self.hits_in_window / self.true_pairs_in_window if self.true_pairs_in_window else float("nan")

    @property
    def precision(self) -> float:
        return self.hits / self.traced_pairs if self.traced_pairs else float("nan")

    @property
    def traced_before_onset(self) -> float:
        return self.infected_traced_before_onset / self.infected if self.infected else float("nan")

    def as_dict(self) -> dict:
        scores = {
            "recall": self.recall,
            "precision": self.precision,
            "before_onset": self.traced_before_onset,
        }
        return {**asdict(self), **scores}


@dataclass(frozen=True)
class Truth:
    """The simulator's ground truth with person keys: close-contact pairs and infections."""

    close_contacts: pa.Table  # case_key, contact_key, setting, first_contact_at, last_contact_at
    infections: pa.Table  # person_key, infector_key, onset_at

    @classmethod
    def read(cls, truth_dir: Path | str, pseudonymise: Pseudonymise) -> Truth:
        folder = Path(truth_dir)
        return cls.from_tables(
            pq.read_table(folder / "close_contacts.parquet"),
            pq.read_table(folder / "infections.parquet"),
            pseudonymise,
        )

    @classmethod
    def from_tables(cls, close: pa.Table, infections: pa.Table, pseudonymise: Pseudonymise) -> Truth:
        pairs = pa.table(
            {
                "case_key": _keys(close["case_id_number"], pseudonymise),
                "contact_key": _keys(close["contact_id_number"], pseudonymise),
                "setting": close["setting"],
                "first_contact_at": close["first_contact_at"],
                "last_contact_at": close["last_contact_at"],
            }
        )
        infected = pa.table(
            {
                "person_key": _keys(infections["id_number"], pseudonymise),
                "infector_key": _keys(infections["infector_id_number"], pseudonymise),
                "onset_at": _onset(infections),
            }
        )
        return cls(pairs, infected)


def evaluate(result: TraceResult, truth: Truth) -> Evaluation:
    """Score ``result`` against ``truth``."""
    cases = result.cases.select(["case_key", "window_start", "window_end"])
    of_cases = truth.close_contacts.join(cases, "case_key", join_type="inner")
    true_pairs = _distinct(of_cases, ["setting"])
    in_window = _pairs(of_cases.filter(_meets_window(of_cases)))
    traced = _distinct(result.close, ["rule"])
    hit = _mark(traced, _pairs(true_pairs))
    found = _mark(true_pairs, _pairs(traced))
    infected, in_time = _before_onset(result, truth)
    return Evaluation(
        edition=result.edition,
        cases=cases.num_rows,
        true_pairs=_pairs(true_pairs).num_rows,
        traced_pairs=_pairs(traced).num_rows,
        hits=_pairs(hit.filter(hit["hit"])).num_rows,
        hits_in_window=_pairs(_mark(in_window, _pairs(traced)).filter(pc.field("hit"))).num_rows,
        true_pairs_in_window=in_window.num_rows,
        infected=infected,
        infected_traced_before_onset=in_time,
        persons=_persons(result.contacts),
        recall_by_setting=_share_by(found, "setting"),
        precision_by_rule=_share_by(hit, "rule"),
    )


def _meets_window(t: pa.Table) -> pa.Array:
    starts_before_end = pc.less_equal(t["first_contact_at"], t["window_end"])
    return pc.and_(starts_before_end, pc.greater_equal(t["last_contact_at"], t["window_start"]))


def _persons(contacts: pa.Table) -> dict[str, int]:
    by_class = contacts.group_by("classification").aggregate([("contact_key", "count_distinct")])
    return {row["classification"]: row["contact_key_count_distinct"] for row in by_class.to_pylist()}


def _keys(ids: pa.ChunkedArray | pa.Array, pseudonymise: Pseudonymise) -> pa.Array:
    """Person keys of ID numbers, nulls kept."""
    ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    keys = pseudonymise(pc.fill_null(ids, "")).cast(pa.int64())
    return pc.if_else(pc.is_valid(ids), keys, pa.scalar(None, pa.int64()))


def _onset(infections: pa.Table) -> pa.Array:
    """Onset as a timestamp (midnight of the onset day), else the first positive sample."""
    onset = pc.cast(pc.cast(infections["onset_date"], pa.date32()), pa.timestamp("s"))
    sample = pc.cast(infections["first_positive_sample_at"], pa.timestamp("s"))
    return pc.coalesce(onset, sample)


def _distinct(t: pa.Table, label: list[str]) -> pa.Table:
    """One row per (case_key, contact_key, *label)."""
    return t.group_by(["case_key", "contact_key", *label]).aggregate([])


def _pairs(t: pa.Table) -> pa.Table:
    return t.group_by(["case_key", "contact_key"]).aggregate([])


def _mark(t: pa.Table, pairs: pa.Table) -> pa.Table:
    """``t`` with a boolean ``hit``: is its (case, contact) pair in ``pairs``?"""
    marked = pairs.append_column("hit", pa.array([True] * pairs.num_rows, pa.bool_()))
    joined = t.join(marked, ["case_key", "contact_key"], join_type="left outer")
    return joined.set_column(joined.schema.get_field_index("hit"), "hit", pc.fill_null(joined["hit"], False))


def _share_by(marked: pa.Table, column: str) -> dict[str, float]:
    grouped = marked.group_by(column).aggregate([("hit", "mean")]).to_pylist()
    return {row[column]: round(row["hit_mean"], 4) for row in sorted(grouped, key=lambda r: str(r[column]))}


def _before_onset(result: TraceResult, truth: Truth) -> tuple[int, int]:
    """(persons infected by a traced case, those of them traced (``traced_at``) before their onset)."""
    cases = result.cases.select(["case_key"]).rename_columns(["infector_key"])
    by_case = truth.infections.join(cases, "infector_key", join_type="inner")
    infected = pc.unique(by_case["person_key"])
    listed = result.contacts.filter(pc.is_in(result.contacts["classification"], pa.array([CLOSE, SECONDARY])))
    when = listed.group_by("contact_key").aggregate([("traced_at", "min")])
    when = when.rename_columns(["person_key", "listed_at"])
    people = truth.infections.join(when, "person_key", join_type="inner")
    people = people.filter(pc.is_in(people["person_key"], infected))
    early = pc.less(people["listed_at"], people["onset_at"])
    in_time = pc.unique(people.filter(pc.fill_null(early, False))["person_key"])
    return len(infected), len(in_time)


HEADER = (
    "| edition | cases | true close pairs | traced close pairs | recall | recall in window | precision "
    "| infected traced before onset | persons close / secondary / companion |"
)


def evaluation_row(e: Evaluation, elapsed: dt.timedelta | None = None) -> str:
    """A Markdown row under :data:`HEADER` (plus the time taken, if given)."""
    persons = " / ".join(f"{e.persons.get(c, 0):,}" for c in (CLOSE, SECONDARY, COMPANION))
    cells = [
        e.edition,
        f"{e.cases:,}",
        f"{e.true_pairs:,}",
        f"{e.traced_pairs:,}",
        f"{e.recall:.3f}",
        f"{e.recall_in_window:.3f}",
        f"{e.precision:.3f}",
        f"{e.traced_before_onset:.3f}",
        persons,
    ]
    if elapsed is not None:
        cells.append(f"{elapsed.total_seconds():.1f} s")
    return "| " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> None:
    """``python -m shuzhi.tracing.evaluate FEEDS LAKE KEY [EDITION ...]``: the table of docs/tracing.md."""
    import argparse
    import time

    from shuzhi.engine import connect
    from shuzhi.policy import editions
    from shuzhi.privacy.pseudonym import Pseudonymiser
    from shuzhi.tracing.policy import load_policy
    from shuzhi.tracing.trace import trace

    parser = argparse.ArgumentParser(description="Recall and precision of tracing on a simulated province.")
    parser.add_argument("feeds", type=Path, help="the simulator's output (with truth/)")
    parser.add_argument("lake", type=Path, help="the lake the feeds were ingested into")
    parser.add_argument("key", type=Path, help="the pseudonym key file used at ingestion")
    parser.add_argument("editions", nargs="*", help="edition names or folders (default: every shipped one)")
    args = parser.parse_args(argv)
    truth = Truth.read(args.feeds / "truth", Pseudonymiser.from_file(args.key).keys)
    print(HEADER + " time |\n" + "|---" * (HEADER.count("|") - 1) + "|---|")
    for edition in args.editions or [e for e in editions() if _has_contact_section(e)]:
        started = time.perf_counter()
        result = trace(connect(lake=args.lake), load_policy(edition))
        elapsed = dt.timedelta(seconds=time.perf_counter() - started)
        print(evaluation_row(evaluate(result, truth), elapsed))


def _has_contact_section(edition: str) -> bool:
    from shuzhi.policy import section_path

    return section_path(edition, "contact").exists()


if __name__ == "__main__":
    main()
