"""Property tests: the ID validator, and every adapter's parser fed arbitrary bytes."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shuzhi import idcard, regions
from shuzhi.ingest import adapters
from shuzhi.ingest.fields import Lookups
from shuzhi.ingest.parse import parse
from shuzhi.ingest.validate import Context, validate
from shuzhi.privacy import Pseudonymiser

from .builders import TODAY, Landing, good_feeds

PROVINCES = regions.province_prefixes()
REGION_CODES = sorted(c for c, r in regions.divisions().items() if r.level == "county")


# ---- ID numbers ------------------------------------------------------------------------------------------
@st.composite
def valid_ids(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(REGION_CODES))
    born = draw(st.dates(min_value=idcard.EARLIEST_BIRTH, max_value=TODAY))
    sequence = draw(st.integers(0, 999))
    return str(
        idcard.compose(
            np.array([int(region)]), np.array([born], dtype="datetime64[D]"), np.array([sequence])
        )[0]
    )


def _both(id_number: str) -> tuple[str | None, str | None]:
    scalar = idcard.validate(id_number, PROVINCES, TODAY)
    vector = idcard.problems(pa.array([id_number]), PROVINCES, TODAY)[0].as_py()
    return (scalar.reason if scalar else None), vector


@given(valid_ids())
def test_composed_ids_are_valid(id_number: str) -> None:
    assert _both(id_number) == (None, None)


@given(valid_ids(), st.integers(0, 17), st.characters(codec="utf-8"))
def test_any_single_character_change_fails(id_number: str, position: int, char: str) -> None:
    changed = id_number[:position] + char + id_number[position + 1 :]
    if changed == id_number:
        return
    scalar, vector = _both(changed)
    assert scalar is not None and scalar == vector


@given(st.text(max_size=30))
def test_arbitrary_text_never_raises_and_both_agree(text: str) -> None:
    scalar, vector = _both(text)
    assert scalar == vector


@given(
    st.lists(st.one_of(valid_ids(), st.text(alphabet="0123456789X", min_size=17, max_size=19)), max_size=40)
)
def test_vectorised_equals_scalar_on_batches(ids: list[str]) -> None:
    vector = idcard.problems(pa.array(ids, pa.string()), PROVINCES, TODAY).to_pylist()
    scalar = [(p.reason if (p := idcard.validate(i, PROVINCES, TODAY)) else None) for i in ids]
    assert vector == scalar


# ---- parsers: arbitrary bytes never crash ingestion --------------------------------------------------------
def _context() -> Context:
    lookups = Lookups(
        regions=pa.array(sorted(regions.divisions()), pa.string()),
        provinces=PROVINCES,
        today=TODAY,
        venues=lambda: pa.array(["V330102000001", "V330102000002"], pa.string()),
    )
    empty = lambda table, days, where: pa.schema([table.schema.field(k) for k in table.key]).empty_table()  # noqa: E731
    return Context(lookups, Pseudonymiser(b"k" * 32), empty, lambda table: [])


CONTEXT = _context()
GOOD_FILES: dict[str, bytes] = {}


def _good_file(feed: adapters.Feed, factory: pytest.TempPathFactory) -> bytes:
    if not GOOD_FILES:
        tmp = factory.mktemp("good")
        good_feeds(tmp)
        for path in tmp.rglob("*.*"):
            GOOD_FILES[path.relative_to(tmp).as_posix()] = path.read_bytes()
    name = next(n for n in GOOD_FILES if feed.matches(n))
    return GOOD_FILES[name]


def _physical_lines(feed: adapters.Feed, data: bytes) -> int:
    if feed.format.name == "csv":
        data = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        return (
            len(re.split(rb"\r\n|\n|\r", data)) - (1 if data.endswith((b"\n", b"\r")) else 0) if data else 0
        )
    return len(data.split(b"\n")) - (1 if data.endswith(b"\n") else 0) if data else 0


def _check_accounting(feed: adapters.Feed, data: bytes) -> None:
    batch = parse(feed, data)
    outcome = validate(feed, batch, CONTEXT)
    assert outcome.landed.schema == feed.table.schema
    lines = outcome.rejects.lines
    assert len(lines) == len(set(lines)), "a line is quarantined once"
    if feed.format.name == "parquet":
        return
    total = _physical_lines(feed, data)
    header = 1 if feed.format.name == "csv" and total > 0 and data.rstrip(b"\xef\xbb\xbf")[:1] != b"" else 0
    accounted = outcome.landed.num_rows + len(outcome.rejects)
    if feed.format.name == "csv" and accounted == total:  # a truncated header line is quarantined itself
        header = 0
    assert accounted == total - header
    assert all(r in adapters_reasons() for r in outcome.rejects.reasons)
    table = outcome.rejects.table(feed.name, "f", TODAY)
    assert table.num_rows == len(outcome.rejects)


def adapters_reasons() -> tuple[str, ...]:
    from shuzhi.ingest.reasons import REASONS

    return REASONS


FEED_NAMES = [f.name for f in adapters.FEEDS]
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("name", FEED_NAMES)
@PROPERTY_SETTINGS
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_never_crash(name: str, data: bytes) -> None:
    _check_accounting(adapters.BY_NAME[name], data)


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """The good file with a few bytes inserted, deleted or replaced: close enough to reach the deep checks."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        chunk = draw(
            st.binary(min_size=1, max_size=4)
            | st.sampled_from([b",", b";", b'"', b"\n", b"\r", b"{", b"\xff"])
        )
        if op == "insert":
            data[at:at] = chunk
        elif op == "delete":
            del data[at : at + len(chunk)]
        else:
            data[at : at + len(chunk)] = chunk
    return bytes(data)


@pytest.mark.parametrize("name", FEED_NAMES)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_mutated_files_never_crash(
    name: str, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    feed = adapters.BY_NAME[name]
    original = _good_file(feed, tmp_path_factory)
    _check_accounting(feed, data.draw(mutated(original)))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300), name=st.sampled_from(FEED_NAMES))
def test_arbitrary_bytes_through_a_full_ingest(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, name: str
) -> None:
    root = tmp_path_factory.mktemp("run")
    landing = Landing(root)
    good_feeds(landing.feeds_dir)
    feed = adapters.BY_NAME[name]
    target = next(
        p for p in landing.feeds_dir.rglob("*.*") if feed.matches(p.relative_to(landing.feeds_dir).as_posix())
    )
    target.write_bytes(data)
    report = landing.run(today=dt.date(2020, 2, 1))
    summary = report.feeds[name]
    assert summary.rows_read == summary.rows_landed + summary.rows_quarantined


@given(
    st.lists(st.one_of(valid_ids(), st.text(alphabet="0123456789Xx", min_size=16, max_size=19)), max_size=30)
)
def test_int_codes_name_well_formed_ids_exactly(ids: list[str]) -> None:
    codes = idcard.int_codes(pa.array(ids, pa.string()))
    for text, code in zip(ids, codes, strict=True):
        well_formed = idcard.validate(text, PROVINCES, TODAY)
        assert (code >= 0) == (well_formed is None or well_formed.reason != "id_format")
    formed = [(t, c) for t, c in zip(ids, codes, strict=True) if c >= 0]
    assert len({t for t, _ in formed}) == len({c for _, c in formed})
