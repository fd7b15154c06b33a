"""The conventions of an existing CSV file, read from its bytes, so that lines appended to it follow them.

``add-member`` appends to the registry's own memberships file, and the file is
the officer's, written by Excel, WPS, a database export or a script: its
encoding and byte order mark, its line endings (CRLF, LF, or a lone CR as old
Mac tools and some exports write), its separator and which of its columns are
quoted are all kept, so that the file reads as one file afterwards (and a diff
of it shows only the new lines).

Quoting is judged per column from the data rows: a column whose filled cells
are all quoted gets its new cells quoted (text quoted and numbers bare, as
``QUOTE_NONNUMERIC`` writers do), and empty cells are written quoted (``""``)
when the column's empty cells are. Only the last :data:`SAMPLE` characters of
rows are looked at, cut at a row boundary: they are what the file's writer
does now, and a national memberships file is too large to tokenise in Python
for one added row. A file with no data rows follows its header: every field
quoted when the header's are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["SAMPLE", "CsvStyle", "read_style", "split_bom"]

#: How many characters at the end of a file's rows are looked at to judge its quoting.
SAMPLE = 1 << 16

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def split_bom(raw: bytes, encoding: str) -> tuple[bytes, str]:
    """The byte order mark ``raw`` starts with (or ``b""``) and the codec for the bytes after it.

    The loader names UTF-16 only as ``utf-16``, whose encoder writes the machine's byte
    order: the order is taken from the file's own mark, so a big-endian file stays one."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            return bom, codec
    return b"", "utf-8" if encoding == "utf-8-sig" else encoding


def line_ending(text: str) -> str:
    """The line ending of the first line: CRLF, LF or a lone CR (LF for a file of one line)."""
    cr, lf = text.find("\r"), text.find("\n")
    if cr == -1 and lf == -1:
        return "\n"
    if cr == -1 or (lf != -1 and lf < cr):
        return "\n"
    return "\r\n" if text.startswith("\n", cr + 1) else "\r"


@dataclass
class CsvStyle:
    """How a file writes its lines: separator, line ending, and which columns it quotes."""

    delimiter: str
    newline: str
    #: Per column: True/False when its filled cells are all quoted / not all quoted; None when none was seen.
    quote_filled: list[bool | None] = field(default_factory=list)
    quote_empty: list[bool | None] = field(default_factory=list)
    #: What a column with nothing to judge by does: quote when every judged column (or the header) does.
    quote_default: bool = False
    #: Whether every field of the header line is quoted (a new header cell is written as they are).
    header_quoted: bool = False

    def quoted(self, column: int, value: str) -> bool:
        """Whether ``value`` is written quoted in ``column``."""
        if self.delimiter in value or '"' in value or "\r" in value or "\n" in value:
            return True  # the minimum any CSV reader needs
        rules = self.quote_empty if value == "" else self.quote_filled
        rule = rules[column] if column < len(rules) else None
        if rule is None and value == "":  # no empty cell seen: do as its filled cells do
            rule = self.quote_filled[column] if column < len(self.quote_filled) else None
        return self.quote_default if rule is None else rule

    def cell(self, column: int, value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if self.quoted(column, value) else value

    def line(self, values: list[str], start: int = 0) -> str:
        """One line (without its ending) of ``values``, the first of them in column ``start``."""
        return self.delimiter.join(self.cell(start + i, v) for i, v in enumerate(values))


def _records(text: str, delimiter: str) -> list[list[tuple[bool, bool]]] | None:
    """(quoted, empty) for each field of each row of ``text``, or None when it is not plain
    RFC 4180 (a quote inside a bare field, text after a closing quote): then it is not judged."""
    field_re = re.compile(r'"((?:[^"]|"")*)"|([^"\r\n' + re.escape(delimiter) + r"]*)")
    out: list[list[tuple[bool, bool]]] = []
    rec: list[tuple[bool, bool]] = []
    pos, n = 0, len(text)
    while pos < n:
        m = field_re.match(text, pos)
        if m is None:  # cannot happen: the second branch matches the empty string
            return None
        quoted = m.group(1) is not None
        rec.append((quoted, (m.group(1) if quoted else m.group(2)) == ""))
        pos = m.end()
        if pos >= n:
            break
        c = text[pos]
        if c == delimiter:
            pos += 1
            if pos >= n:
                rec.append((False, True))
            continue
        if c not in "\r\n":
            return None
        pos += 2 if text.startswith("\r\n", pos) else 1
        out.append(rec)
        rec = []
    if rec:
        out.append(rec)
    return out


def _sample(rows: str) -> str:
    """The last :data:`SAMPLE` characters of ``rows``, starting at a row boundary: a line end
    with an even number of quotes before it (so not inside a quoted cell)."""
    if len(rows) <= SAMPLE:
        return rows
    pos = len(rows) - SAMPLE
    quotes = rows.count('"', 0, pos)
    while True:
        ends = [i for i in (rows.find("\n", pos), rows.find("\r", pos)) if i != -1]
        if not ends:
            return ""
        end = min(ends)
        quotes += rows.count('"', pos, end)
        pos = end + (2 if rows.startswith("\r\n", end) else 1)
        if quotes % 2 == 0:
            return rows[pos:]


def read_style(head: str, header_fields: list[str], rows: str, delimiter: str, newline: str) -> CsvStyle:
    """The style of a file whose header line is ``head`` (split into ``header_fields``) and whose
    data rows, after the header's line ending, are ``rows``."""
    width = len(header_fields)
    header_quoted = bool(header_fields) and head == delimiter.join(f'"{h}"' for h in header_fields)
    style = CsvStyle(delimiter, newline, [None] * width, [None] * width, header_quoted=header_quoted)
    records = _records(_sample(rows), delimiter) or []
    for rec in records:
        if len(rec) != width:  # a blank line, or a row the loader reports: not judged
            continue
        for i, (quoted, empty) in enumerate(rec):
            rules = style.quote_empty if empty else style.quote_filled
            rules[i] = quoted if rules[i] is None else rules[i] and quoted
    judged = [r for r in style.quote_filled if r is not None]
    style.quote_default = all(judged) if judged else header_quoted
    return style
