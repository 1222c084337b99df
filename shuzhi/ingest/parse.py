"""Reading a feed file into columns of text, one row per physical line, without losing a line.

``parse(feed, data)`` returns a ``RawBatch``: the source fields as Arrow columns (text for CSV and JSON Lines,
native types for Parquet), the physical line of every row (the header is line 1; for Parquet the 1-based row
number) and the rows already rejected: a last line cut short (``truncated``) and lines that are no row of the
feed (``malformed``: wrong number of fields, broken JSON, bytes that are no text).

* CSV is parsed by pyarrow in parallel chunks split at line breaks; each chunk is checked to have one row per
  physical line (a quoted line break or an unterminated quote breaks that, and such a chunk is re-read line by
  line with the ``csv`` module). A file that is not valid UTF-8 is parsed through a Latin-1 view of its bytes
  (which keeps every byte) and its text columns are decoded per distinct value; in a GBK feed each row is read
  as UTF-8 when all its fields are valid UTF-8 (a line written in UTF-8) and as GBK otherwise.
* JSON Lines are split into lines and read with DuckDB's JSON functions, so one broken line costs one row.
* Parquet is read with pyarrow; a file that cannot be read is one quarantined row (line 0).
"""

from __future__ import annotations

import csv
import functools
import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from shuzhi.ingest import reasons as R
from shuzhi.ingest.adapters import LIST_KINDS, Csv, Feed, Kind
from shuzhi.ingest.reasons import Rejects

BOM = b"\xef\xbb\xbf"
CHUNK_BYTES = 8 << 20  # CSV bodies above this are parsed in parallel chunks
WORKERS = 2  # threads parsing the chunks of one CSV file (1 when another thread is busy validating)

RawText = Callable[[np.ndarray], list[str]]


@dataclass
class RawBatch:
    """A file's rows that are rows of the feed, with their physical lines, and the lines that are not."""

    columns: dict[str, pa.Array]
    lines: np.ndarray  # int64 physical line (1-based) of each row
    raw: RawText  # the text of rows by index, for the quarantine
    rejects: Rejects = field(default_factory=Rejects)
    tolerated: dict[str, int] = field(default_factory=dict)  # e.g. {"mixed_encoding": 3}

    def __len__(self) -> int:
        return len(self.lines)


def parse(feed: Feed, data: bytes, workers: int = WORKERS) -> RawBatch:
    """Read one file of ``feed`` (its bytes) into a ``RawBatch``; ``workers`` threads parse CSV chunks."""
    if feed.format.name == "csv":
        return parse_csv(feed, data, workers)
    if feed.format.name == "jsonl":
        return parse_jsonl(feed, data)
    return parse_parquet(feed, data)


def _empty(feed: Feed, rejects: Rejects) -> RawBatch:
    columns = {f.source: pa.nulls(0, pa.string()) for f in feed.fields}
    return RawBatch(columns, np.zeros(0, np.int64), lambda idx: [], rejects)


# ---- text helpers ------------------------------------------------------------------------------------------
def decode_line(raw: bytes, gbk: bool = False) -> str:
    """Text of one line: UTF-8, else GBK (when allowed), else UTF-8 with replacement characters."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if gbk:
        try:
            return raw.decode("gbk")
        except UnicodeDecodeError:
            pass
    return raw.decode("utf-8", errors="replace")


def is_utf8(data: bytes | pa.Buffer) -> bool:
    """Whether bytes are valid UTF-8, checked by Arrow without building a Python string."""
    buffer = data if isinstance(data, pa.Buffer) else pa.py_buffer(data)
    offsets = pa.array([0, buffer.size], pa.int64()).buffers()[1]
    try:
        pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, buffer]).cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _cut_truncated(data: bytes, lo: int, breaks: bytes, rejects: Rejects, gbk: bool) -> tuple[int, int]:
    """Where the text from ``lo`` ends with its last line break, and how many lines it has until there.

    A last line without a line break is quarantined ``truncated``.
    """
    cut = max(max(data.rfind(b, lo) for b in breaks) + 1, lo)
    lines = _count_lines(data, lo, cut) if b"\r" in breaks else data.count(b"\n", lo, cut)
    if cut < len(data):
        detail = "the file ends inside this line: it has no line break"
        rejects.add(lines + 1, None, R.TRUNCATED, detail, decode_line(data[cut:], gbk))
    return cut, lines


def _count_lines(data: bytes, lo: int = 0, hi: int | None = None) -> int:
    """Physical lines ended by ``\\n``, ``\\r\\n`` or a lone ``\\r`` (as pyarrow's CSV reader counts them)."""
    hi = len(data) if hi is None else hi
    lines = data.count(b"\n", lo, hi)
    returns = data.count(b"\r", lo, hi)
    return lines + returns - data.count(b"\r\n", lo, hi) if returns else lines


# ---- CSV ---------------------------------------------------------------------------------------------------
@dataclass
class _Chunk:
    columns: list[pa.Array]
    lines: np.ndarray
    invalid: list[tuple[int, str, str]]  # line, detail, text


def parse_csv(feed: Feed, data: bytes, workers: int = WORKERS) -> RawBatch:
    fmt = feed.format
    assert isinstance(fmt, Csv)
    gbk = fmt.encoding == "gbk"
    rejects = Rejects()
    lo = len(BOM) if data.startswith(BOM) else 0
    hi, n_lines = _cut_truncated(data, lo, b"\n\r", rejects, gbk)
    if n_lines == 0:
        return _empty(feed, rejects)
    header_end, body_start = _first_line(data, lo)
    names = _header(data[lo:header_end], fmt, gbk)
    absent = [f.source for f in feed.fields if f.source not in names]
    if absent:
        return _reject_all_lines(feed, data[body_start:hi], gbk, absent, names, rejects)
    utf8 = is_utf8(pa.py_buffer(data).slice(lo, hi - lo))
    if not utf8:  # parse a Latin-1 view (every byte one character) and decode the text columns after
        data, body_start, hi = data[body_start:hi].decode("latin-1").encode("utf-8"), 0, None
    end = len(data) if hi is None else hi
    chunks = _parse_chunks(data, body_start, end, fmt.delimiter, len(names), workers)
    if not chunks:
        return _empty(feed, rejects)
    columns = [pa.concat_arrays([c.columns[i] for c in chunks]) for i in range(len(names))]
    lines = np.concatenate([c.lines for c in chunks])
    for chunk in chunks:
        for line, detail, raw in chunk.invalid:
            text = raw if utf8 else decode_line(raw.encode("latin-1"), gbk)
            rejects.add(line, None, R.MALFORMED, detail, text)
    tolerated: dict[str, int] = {}
    if not utf8:
        columns, undecodable, mixed = _decode_columns(columns, gbk)
        if mixed:
            tolerated["mixed_encoding"] = mixed
        detail = "bytes that are neither UTF-8 nor GBK" if gbk else "bytes that are not UTF-8"
        columns, lines = _drop_rows(columns, lines, undecodable, fmt.delimiter, detail, rejects)
    columns, lines = _drop_rows(columns, lines, _empty_rows(columns), fmt.delimiter, "empty line", rejects)
    by_source = {f.source: columns[names.index(f.source)] for f in feed.fields}
    return RawBatch(by_source, lines, _joined(columns, fmt.delimiter), rejects, tolerated)


def _first_line(data: bytes, lo: int) -> tuple[int, int]:
    """Where the first line's text ends and the second starts (there is a line break after ``lo``)."""
    lf, cr = data.find(b"\n", lo), data.find(b"\r", lo)
    if cr >= 0 and (lf < 0 or cr < lf):
        return cr, cr + (2 if data[cr + 1 : cr + 2] == b"\n" else 1)
    return lf, lf + 1


def _header(raw: bytes, fmt: Csv, gbk: bool) -> list[str]:
    text = decode_line(raw, gbk)
    try:
        row = next(csv.reader([text], delimiter=fmt.delimiter))
    except (csv.Error, StopIteration):
        row = text.split(fmt.delimiter)
    return [name.strip() for name in row]


def _reject_all_lines(
    feed: Feed, body: bytes, gbk: bool, absent: list[str], names: list[str], rejects: Rejects
) -> RawBatch:
    """A header without the feed's fields: no line can be read, so every line is quarantined."""
    detail = f"the header lacks {', '.join(absent)} (found: {', '.join(names)[:200]})"
    for number, raw in enumerate(_split_lines(body), start=2):
        rejects.add(number, absent[0], R.MALFORMED, detail, decode_line(raw, gbk))
    return _empty(feed, rejects)


def _split_lines(body: bytes) -> list[bytes]:
    """Physical lines of a body that ends with a line break."""
    lines = re.split(rb"\r\n|\n|\r", body)
    return lines[:-1]


def _parse_chunks(data: bytes, lo: int, hi: int, delimiter: str, ncols: int, workers: int) -> list[_Chunk]:
    """Parse the body ``data[lo:hi]`` (line 2 onwards) in chunks that end at line breaks, in parallel."""
    bounds, start = [], lo
    while start < hi:
        end = data.find(b"\n", start + CHUNK_BYTES, hi)
        end = hi if end < 0 else end + 1
        bounds.append((start, end))
        start = end
    buffer = pa.py_buffer(data)
    jobs, line = [], 2
    for start, end in bounds:
        jobs.append(
            (buffer.slice(start, end - start), _count_lines(data, start, end), delimiter, ncols, line)
        )
        line += jobs[-1][1]
    if len(jobs) <= 1 or workers <= 1:
        return [_parse_chunk(*job) for job in jobs]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda job: _parse_chunk(*job), jobs))


def _parse_chunk(chunk: pa.Buffer, n_lines: int, delimiter: str, ncols: int, first_line: int) -> _Chunk:
    """One chunk with pyarrow; re-read line by line when rows and physical lines do not correspond."""
    names = [f"c{i}" for i in range(ncols)]
    invalid: list[tuple[int, str, str]] = []

    def handler(row) -> str:  # noqa: ANN001 - pyarrow's InvalidRow
        detail = f"{row.actual_columns} fields where the header has {row.expected_columns}"
        invalid.append((first_line + (row.number or 0) - 1, detail, row.text))
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(chunk),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, ignore_empty_lines=False, invalid_row_handler=handler
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        table = None
    if table is None or table.num_rows + len(invalid) != n_lines or any(i[0] < first_line for i in invalid):
        return _parse_chunk_by_line(chunk.to_pybytes(), delimiter, ncols, first_line)
    bad = np.array([i[0] for i in invalid], dtype=np.int64)
    lines = np.arange(first_line, first_line + n_lines, dtype=np.int64)
    if len(bad):
        lines = lines[~np.isin(lines, bad)]
    return _Chunk([table.column(i).combine_chunks() for i in range(ncols)], lines, invalid)


def _parse_chunk_by_line(text: bytes, delimiter: str, ncols: int, first_line: int) -> _Chunk:
    """The slow, exact path: each physical line parsed on its own by the ``csv`` module."""
    rows: list[list[str]] = []
    lines: list[int] = []
    invalid: list[tuple[int, str, str]] = []
    for number, raw in enumerate(_split_lines(text), start=first_line):
        line = raw.decode("utf-8")
        try:
            fields = next(csv.reader([line], delimiter=delimiter, strict=True), [""])
        except csv.Error as error:
            invalid.append((number, f"not a CSV row: {error}", line))
            continue
        if len(fields) != ncols and line != "":
            invalid.append((number, f"{len(fields)} fields where the header has {ncols}", line))
            continue
        rows.append(fields if line != "" else [""] * ncols)
        lines.append(number)
    columns = [pa.array([r[i] for r in rows], pa.string()) for i in range(ncols)]
    return _Chunk(columns, np.array(lines, dtype=np.int64), invalid)


def _decode_columns(columns: list[pa.Array], gbk: bool) -> tuple[list[pa.Array], np.ndarray, int]:
    """Columns parsed from a Latin-1 view back to text: per row UTF-8 if possible, else GBK (GBK feeds only).

    Returns the columns, the rows that cannot be decoded and the number of rows read as UTF-8 in a GBK file.
    """
    n = len(columns[0]) if columns else 0
    utf8_row = np.ones(n, dtype=bool)
    decoded: list[tuple[int, pa.Array, pa.Array, pa.Array]] = []  # column, indices, as utf-8, as gbk
    for i, column in enumerate(columns):
        if _is_ascii(column):
            continue
        encoded = pc.dictionary_encode(column)
        as_utf8, as_gbk = _decode_unique(encoded.dictionary, gbk)
        indices = encoded.indices
        utf8_row &= ~pc.is_null(as_utf8.take(indices)).to_numpy(zero_copy_only=False)
        decoded.append((i, indices, as_utf8, as_gbk))
    undecodable = np.zeros(n, dtype=bool)
    out = list(columns)
    pick_gbk = pa.array(~utf8_row) if gbk else pa.array(np.zeros(n, dtype=bool))
    for i, indices, as_utf8, as_gbk in decoded:
        values = pc.if_else(pick_gbk, as_gbk.take(indices), as_utf8.take(indices))
        undecodable |= pc.is_null(values).to_numpy(zero_copy_only=False)
        out[i] = pc.fill_null(values, "")
    mixed = int((utf8_row & _any_non_ascii(decoded, n)).sum()) if gbk else 0
    return out, undecodable, mixed


def _any_non_ascii(decoded: list[tuple[int, pa.Array, pa.Array, pa.Array]], n: int) -> np.ndarray:
    rows = np.zeros(n, dtype=bool)
    for _, indices, as_utf8, _gbk in decoded:
        ascii_unique = pa.array([v is not None and v.isascii() for v in as_utf8.to_pylist()], pa.bool_())
        rows |= ~ascii_unique.take(indices).to_numpy(zero_copy_only=False)
    return rows


def _is_ascii(column: pa.Array) -> bool:
    if len(column) == 0:
        return True
    column = column.cast(pa.large_string())
    offsets = np.frombuffer(column.buffers()[1], np.int64)[column.offset : column.offset + len(column) + 1]
    if offsets[-1] == offsets[0]:
        return True
    data = np.frombuffer(column.buffers()[2], np.uint8)[offsets[0] : offsets[-1]]
    return bool(data.max() < 0x80)


def _decode_unique(values: pa.Array, gbk: bool) -> tuple[pa.Array, pa.Array]:
    """Distinct Latin-1-viewed values decoded as UTF-8 and as GBK (None where they are not)."""
    as_utf8: list[str | None] = []
    as_gbk: list[str | None] = []
    for value in values.to_pylist():
        raw = value.encode("latin-1")
        as_utf8.append(_try(raw, "utf-8"))
        as_gbk.append(_try(raw, "gbk") if gbk else None)
    return pa.array(as_utf8, pa.string()), pa.array(as_gbk, pa.string())


def _try(raw: bytes, encoding: str) -> str | None:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        return None


def _empty_rows(columns: list[pa.Array]) -> np.ndarray:
    n = len(columns[0]) if columns else 0
    empty = np.ones(n, dtype=bool)
    for column in columns:
        empty &= pc.equal(pc.binary_length(column), 0).to_numpy(zero_copy_only=False)
    return empty


def _drop_rows(
    columns: list[pa.Array],
    lines: np.ndarray,
    drop: np.ndarray,
    delimiter: str,
    detail: str,
    rejects: Rejects,
) -> tuple[list[pa.Array], np.ndarray]:
    """Reject rows (``malformed`` with ``detail``) and remove them from the columns."""
    if not drop.any():
        return columns, lines
    idx = np.flatnonzero(drop)
    for number, raw in zip(lines[idx], _joined(columns, delimiter)(idx), strict=True):
        rejects.add(int(number), None, R.MALFORMED, detail, raw)
    keep = pa.array(~drop)
    return [c.filter(keep) for c in columns], lines[~drop]


def _joined(columns: list[pa.Array], delimiter: str) -> RawText:
    """Raw text of rows: their fields joined by the delimiter."""

    def raw(idx: np.ndarray) -> list[str]:
        take = pa.array(idx, pa.int64())
        values = [c.take(take).to_pylist() for c in columns]
        return [delimiter.join(v or "" for v in row) for row in zip(*values, strict=True)]

    return raw


# ---- JSON Lines --------------------------------------------------------------------------------------------
_JSON_TYPES = {
    "string": ("VARCHAR",),
    "int": ("BIGINT", "UBIGINT"),
    "number": ("BIGINT", "UBIGINT", "DOUBLE"),
    "list": ("ARRAY",),
}


def _json_type(kind: Kind) -> str:
    if kind in LIST_KINDS:
        return "list"
    if kind is Kind.INT:
        return "int"
    return "number" if kind is Kind.FLOAT else "string"


def parse_jsonl(feed: Feed, data: bytes) -> RawBatch:
    rejects = Rejects()
    hi, n_lines = _cut_truncated(data, 0, b"\n", rejects, False)
    if n_lines == 0:
        return _empty(feed, rejects)
    text = _line_texts(data[:hi], n_lines, rejects)
    lines = np.arange(1, n_lines + 1, dtype=np.int64)
    already = np.isin(lines, np.array(rejects.lines, dtype=np.int64))
    table = _json_extract(feed, text)
    bad, details = _json_problems(feed, table)
    for i in np.flatnonzero(bad & ~already):
        detail = "empty line" if text[int(i)].as_py() == "" else details[i][1]
        rejects.add(int(lines[i]), details[i][0], R.MALFORMED, detail, text[int(i)].as_py())
    good = ~bad & ~already
    keep = pa.array(good)
    columns = {f.source: table.column(f.source).combine_chunks().filter(keep) for f in feed.fields}
    kept = text.filter(keep)
    return RawBatch(
        columns, lines[good], lambda idx: kept.take(pa.array(idx, pa.int64())).to_pylist(), rejects
    )


def _line_texts(data: bytes, n_lines: int, rejects: Rejects) -> pa.Array:
    """One string per line, split by Arrow; lines that are not UTF-8 are rejected here and left empty."""
    whole = pa.Array.from_buffers(
        pa.large_binary(), 1, [None, pa.array([0, len(data)], pa.int64()).buffers()[1], pa.py_buffer(data)]
    )
    binary = pc.split_pattern(whole, b"\n").values.slice(0, n_lines)
    try:
        return binary.cast(pa.large_string())
    except pa.ArrowInvalid:
        pass
    texts = []
    for number, raw in enumerate(binary.to_pylist(), start=1):
        text = _try(raw, "utf-8")
        if text is None:
            rejects.add(number, None, R.MALFORMED, "bytes that are not UTF-8", decode_line(raw))
        texts.append(text or "")
    return pa.array(texts, pa.large_string())


@functools.cache
def _duckdb() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB per process; each use takes its own cursor."""
    return duckdb.connect()


def _json_extract(feed: Feed, text: pa.Array) -> pa.Table:
    """Per line: valid JSON?, its type, keys that are no field, each field's value (as text) and JSON type.

    Each JSON function parses the line again, so the fields are read with the multi-path forms (one parse for
    all values, one for all types); list fields take one more parse each for their elements.
    """
    con = _duckdb().cursor()
    con.register("json_lines", pa.table({"text": text}))
    paths = ["$." + json.dumps(f.source) for f in feed.fields]
    fields = []
    for i, f in enumerate(feed.fields):
        fields.append(f'types[{i + 1}] AS "_t{i}"')
        if f.kind in LIST_KINDS:
            path = paths[i]
            is_list = f"types[{i + 1}] = 'ARRAY'"
            fields.append(
                f"CASE WHEN {is_list} THEN json_extract_string(o, '{path}[*]') END AS \"{f.source}\""
            )
            fields.append(f"CASE WHEN {is_list} THEN json_type(o, '{path}[*]') END AS \"_et{i}\"")
        else:
            fields.append(f'vals[{i + 1}] AS "{f.source}"')
    sql = f"""
        WITH v AS (SELECT json_valid(text) AS ok, text FROM json_lines),
             j AS (SELECT ok, CASE WHEN ok THEN text ELSE '{{}}' END AS j FROM v),
             w AS (SELECT ok, json_type(j) AS t, CASE WHEN json_type(j) = 'OBJECT' THEN j ELSE '{{}}' END AS o
                   FROM j),
             x AS (SELECT ok, t, o, json_extract_string(o, $paths) AS vals, json_type(o, $paths) AS types,
                          list_filter(json_keys(o), lambda k: NOT list_contains($allowed, k)) AS extra
                   FROM w)
        SELECT ok, t, extra, {", ".join(fields)} FROM x"""
    try:
        return con.sql(
            sql, params={"allowed": [f.source for f in feed.fields], "paths": paths}
        ).to_arrow_table()
    finally:
        con.close()


def _json_problems(feed: Feed, table: pa.Table) -> tuple[np.ndarray, list[tuple[str | None, str]]]:
    """Rows that are no record of the feed, with (field, detail) of the first problem of each."""
    n = table.num_rows
    details: list[tuple[str | None, str]] = [(None, "")] * n
    bad = np.zeros(n, dtype=bool)

    def flag(mask: np.ndarray, explain: Callable[[int], tuple[str | None, str]]) -> None:
        new = mask & ~bad
        for i in np.flatnonzero(new):
            details[i] = explain(int(i))
        bad[new] = True

    ok = table.column("ok").to_numpy(zero_copy_only=False)
    flag(~ok, lambda i: (None, "not valid JSON"))
    flag(_np_str_ne(table.column("t"), "OBJECT"), lambda i: (None, "not a JSON object"))
    extra = table.column("extra")
    has_extra = pc.fill_null(pc.greater(pc.list_value_length(extra), 0), False).to_numpy(zero_copy_only=False)
    flag(has_extra, lambda i: (extra[i].as_py()[0], f"unexpected field(s) {extra[i].as_py()}"))
    for n_field, f in enumerate(feed.fields):
        expected = _json_type(f.kind)
        types = table.column(f"_t{n_field}")
        wrong = _type_not_in(types, _JSON_TYPES[expected])
        flag(
            wrong,
            lambda i, f=f, t=types, e=expected: (f.source, f"{f.source} is a JSON {t[i].as_py()}, not {e}"),
        )
        if f.kind in LIST_KINDS:
            element_types = table.column(f"_et{n_field}")
            wrong = _elements_not_strings(element_types)
            flag(wrong, lambda i, f=f: (f.source, f"{f.source} holds something other than strings"))
    return bad, details


def _np_str_ne(column: pa.ChunkedArray, value: str) -> np.ndarray:
    return np.asarray(
        pc.fill_null(pc.not_equal(column, value), True).to_numpy(zero_copy_only=False), dtype=bool
    )


def _type_not_in(types: pa.ChunkedArray, allowed: tuple[str, ...]) -> np.ndarray:
    """JSON types other than the allowed ones; absent fields and JSON null pass (checked as missing later)."""
    fine = pc.or_kleene(pc.is_in(types, value_set=pa.array([*allowed, "NULL"])), pc.is_null(types))
    return ~np.asarray(pc.fill_null(fine, True).to_numpy(zero_copy_only=False), dtype=bool)


def _elements_not_strings(element_types: pa.ChunkedArray) -> np.ndarray:
    flat = pc.list_flatten(element_types)
    parents = pc.list_parent_indices(element_types).to_numpy(zero_copy_only=False)
    wrong = ~np.asarray(
        pc.fill_null(pc.equal(flat, "VARCHAR"), False).to_numpy(zero_copy_only=False), dtype=bool
    )
    rows = np.zeros(len(element_types), dtype=bool)
    rows[parents[wrong]] = True
    return rows


# ---- Parquet ----------------------------------------------------------------------------------------------
_PARQUET_TYPES: dict[str, Callable[[pa.DataType], bool]] = {
    "string": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
    "int": pa.types.is_integer,
    "number": lambda t: pa.types.is_integer(t) or pa.types.is_floating(t),
}


def _parquet_type(kind: Kind) -> str:
    if kind in (Kind.INT, Kind.EPOCH_MS):
        return "int"
    if kind is Kind.FLOAT:
        return "number"
    return "string"


def parse_parquet(feed: Feed, data: bytes) -> RawBatch:
    rejects = Rejects()
    try:
        table = pq.read_table(pa.BufferReader(data))
        table, not_text = _valid_text(table)
    except Exception as error:  # noqa: BLE001 - any unreadable file is quarantined, not raised
        rejects.add(0, None, R.MALFORMED, f"not a readable Parquet file: {error}"[:500], "")
        return _empty(feed, rejects)
    n = table.num_rows
    lines = np.arange(1, n + 1, dtype=np.int64)

    def raw(idx: np.ndarray) -> list[str]:
        rows = table.take(pa.array(idx, pa.int64())).to_pylist()
        return [json.dumps(r, ensure_ascii=False, default=str) for r in rows]

    problem = _parquet_schema_problem(feed, table.schema)
    if problem is not None:
        name, detail = problem
        rejects.extend(lines, [name] * n, [R.MALFORMED] * n, [detail] * n, raw(np.arange(n)))
        return _empty(feed, rejects)
    if not_text.any():
        idx = np.flatnonzero(not_text)
        k = len(idx)
        rejects.extend(lines[idx], [None] * k, [R.MALFORMED] * k, ["bytes that are not UTF-8"] * k, raw(idx))
        keep = pa.array(~not_text)
        table, lines = table.filter(keep), lines[~not_text]
    columns = {f.source: table.column(f.source).combine_chunks() for f in feed.fields}
    for f in feed.fields:
        if f.kind is Kind.REGION and pa.types.is_integer(columns[f.source].type):
            columns[f.source] = columns[f.source].cast(pa.string())
    return RawBatch(columns, lines, raw, rejects)


def _valid_text(table: pa.Table) -> tuple[pa.Table, np.ndarray]:
    """Parquet does not check that strings are UTF-8: rows with a string that is not are flagged, blanked."""
    bad = np.zeros(table.num_rows, dtype=bool)
    for i, name in enumerate(table.column_names):
        column = table.column(i)
        if pa.types.is_dictionary(column.type):  # dictionary-encoded columns are read as their values
            column = column.cast(column.type.value_type)
            table = table.set_column(i, name, column)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        try:
            column.cast(pa.large_binary()).cast(pa.large_string())
            continue
        except pa.ArrowInvalid:
            pass
        values = column.cast(pa.large_binary()).to_pylist()
        wrong = np.array([v is not None and _try(v, "utf-8") is None for v in values], dtype=bool)
        bad |= wrong
        fixed = [None if v is None else v.decode("utf-8", errors="replace") for v in values]
        table = table.set_column(i, name, pa.array(fixed, column.type))
    return table, bad


def _parquet_schema_problem(feed: Feed, schema: pa.Schema) -> tuple[str, str] | None:
    for f in feed.fields:
        if f.source not in schema.names:
            return f.source, f"the file has no column {f.source}"
        actual = schema.field(f.source).type
        expected = _parquet_type(f.kind)
        fits = _PARQUET_TYPES[expected](actual) or (f.kind is Kind.REGION and pa.types.is_integer(actual))
        if not fits:
            return f.source, f"column {f.source} is {actual}, not {expected}"
    return None
