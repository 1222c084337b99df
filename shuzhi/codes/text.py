"""Text templates of the policy turned into Ibis string expressions, filled per row.

A template such as ``"密切接触者（与病例{label} {date}）"`` becomes a concatenation of its literal
parts and the columns named by its placeholders; a resident reads it in Chinese and English, joined by
:data:`BETWEEN_LANGUAGES`.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

from shuzhi.codes.policy import Text

BETWEEN_LANGUAGES = " / "
Fill = ir.Value | str | int | float


def render(template: str, values: Mapping[str, Fill]) -> ir.StringValue:
    """``template`` with each ``{name}`` replaced by ``values[name]`` (a column or a constant; null as '').

    One concatenation of all parts (``CONCAT_WS`` with an empty separator, which skips nulls on every engine).
    """
    parts: list[ir.StringValue] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        if literal:
            parts.append(ibis.literal(literal))
        if name is not None:
            parts.append(_as_text(values[name]))
    return join_present("", parts) if parts else ibis.literal("")


def bilingual(
    text: Text, zh: Mapping[str, Fill] | None = None, en: Mapping[str, Fill] | None = None
) -> ir.StringValue:
    """``text`` in Chinese (filled from ``zh``) and in English (filled from ``en``, else from ``zh``)."""
    zh = zh or {}
    return render(text.zh, zh) + BETWEEN_LANGUAGES + render(text.en, zh if en is None else en)


def join_present(separator: str, parts: list[ir.StringValue]) -> ir.StringValue:
    """The non-null ``parts`` joined by ``separator``."""
    return ibis.literal(separator).join(parts)


def _as_text(value: Fill) -> ir.StringValue:
    return value.cast("string") if isinstance(value, ir.Value) else ibis.literal(str(value))
