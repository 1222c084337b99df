"""The stock a supplies office declares: ``item,holder,quantity`` rows (CSV), checked with clear errors.

``holder`` is the GB/T 2260 code of the city whose warehouse holds the stock; ``item`` one of the policy's
items; ``quantity`` a whole number ≥ 0. A bad row fails naming its line, field and reason: a plan is not
made from a stock list that may be wrong.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping

from shuzhi.regions import divisions

COLUMNS = ("item", "holder", "quantity")


class StockError(ValueError):
    """A stock list that cannot be planned from; the message names the line and field."""


def read_stock(text: str, items: set[str]) -> dict[str, dict[str, int]]:
    """``{item: {holder: quantity}}`` from CSV text; :class:`StockError` on the first bad row."""
    rows = csv.DictReader(io.StringIO(text))
    if rows.fieldnames is None or tuple(f.strip() for f in rows.fieldnames) != COLUMNS:
        raise StockError(f"line 1: the header must be {','.join(COLUMNS)}, not {rows.fieldnames}")
    return stock_from_rows(rows, items, where="line", first=2)


def stock_from_rows(
    rows: Iterable[Mapping[str, object]], items: set[str], where: str = "row", first: int = 1
) -> dict[str, dict[str, int]]:
    """``{item: {holder: quantity}}`` from rows with ``item``, ``holder`` and ``quantity``; a bad row is a
    :class:`StockError` naming it (``<where> <number>``, counted from ``first``), its field and the reason."""
    stock: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for number, row in enumerate(rows, start=first):
        item, holder, quantity = (str(row.get(c) if row.get(c) is not None else "").strip() for c in COLUMNS)
        at = f"{where} {number}"
        if item not in items:
            raise StockError(f"{at}: field 'item': {item!r} is not one of {', '.join(sorted(items))}")
        if divisions().get(holder) is None or not holder.endswith("00") or holder.endswith("0000"):
            raise StockError(f"{at}: field 'holder': {holder!r} is not a city's GB/T 2260 code")
        if not quantity.isdigit():
            raise StockError(f"{at}: field 'quantity': {quantity!r} is not a whole number ≥ 0")
        stock[item][holder] += int(quantity)
    return {item: dict(held) for item, held in stock.items()}
