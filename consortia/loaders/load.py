"""Load a registry: read, match headers, parse values, check keys and references.

Every problem is collected in one pass and raised together as one
:class:`~consortia.errors.InputError`, so an officer fixes a spreadsheet once
rather than once per error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from pathlib import Path

import numpy as np
import pandas as pd

from .. import progress
from ..errors import InputError, Problem
from ..registry import Registry, SourceInfo, empty_table, gc_paused
from ..rules.rulebook import Rulebooks, load_rulebooks
from ..schema import REQUIRED_TABLES, TABLES, Table
from .sources import RawTable, column_letter, read_sources
from .text import norm_header
from .values import expected_for, money_unit_scale, parse_cells

__all__ = ["MAX_PROBLEMS_PER_COLUMN", "load_registry"]

#: Past this many bad cells in one column the rest are counted, not listed.
MAX_PROBLEMS_PER_COLUMN = 200


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def cells(self, raw: RawTable, mask: pd.Series | np.ndarray, column: str, values: pd.Series, expected: str) -> None:
        """A problem for each cell of ``column`` under ``mask``, all saying ``expected``."""
        idx = np.flatnonzero(np.asarray(mask))
        self.capped(raw, column, idx, lambda i: Problem(raw.source, int(raw.rows.iloc[i]), column,
                                                        str(values.iloc[i]), expected))

    def capped(self, raw: RawTable, column: str, idx: np.ndarray, problem: Callable[[int], Problem]) -> None:
        """``problem(i)`` for the first :data:`MAX_PROBLEMS_PER_COLUMN` positions ``idx`` of one
        column, then one line counting the rest: an officer reads a list, not a million lines."""
        for i in idx[:MAX_PROBLEMS_PER_COLUMN]:
            self.problems.append(problem(int(i)))
        if len(idx) > MAX_PROBLEMS_PER_COLUMN:
            self.problems.append(Problem(raw.source, None, column, None,
                                         f"... and {len(idx) - MAX_PROBLEMS_PER_COLUMN} more cells like these"))


def _match_headers(raw: RawTable, table: Table, out: _Collector) -> tuple[dict[str, str], dict[str, str]]:
    """Map canonical column -> source header, and note each header's unit."""
    keys: dict[str, str] = {}
    for col in table.columns:
        for name in (col.name, *col.aliases):
            keys.setdefault(norm_header(name)[0], col.name)
    mapping: dict[str, str] = {}
    units: dict[str, str] = {}
    position: dict[str, int] = {}
    # Headers are matched as written: a header repeated exactly is renamed in the frame
    # (``revenue.1``) and must not pass for an unknown column.
    for i, (column, header) in enumerate(zip(raw.frame.columns, raw.headers, strict=True)):
        key, unit = norm_header(header)
        canonical = keys.get(key)
        if canonical is None:
            continue
        if canonical in mapping:
            first = raw.headers[position[canonical]]
            out.problems.append(Problem(
                raw.source, 1, header, None,
                f"two columns both mean '{canonical}' ('{first}' in column {column_letter(position[canonical])} "
                f"and '{header}' in column {column_letter(i)})"))
            continue
        mapping[canonical] = column
        position[canonical] = i
        units[canonical] = unit
    missing = False
    for col in table.columns:
        if col.required and col.name not in mapping:
            zh = f" or {col.aliases[0]}" if col.aliases else ""
            out.problems.append(Problem(raw.source, 1, col.name, None,
                                        f"a required column '{col.name}'{zh} is missing"))
            missing = True
    if missing:
        out.problems.append(Problem(raw.source, 1, None, None, _layout_hint(raw, keys)))
    return mapping, units


#: How many headers a layout hint quotes.
_HINT_HEADERS = 5


def _known(cells: list[str], keys: dict[str, str]) -> list[str]:
    """The canonical columns that ``cells``, taken as headers, name (in order, once each)."""
    return list(dict.fromkeys(keys[k] for k in (norm_header(c)[0] for c in cells) if k in keys))


def _layout_hint(raw: RawTable, keys: dict[str, str]) -> str:
    """What header row was read, and the likeliest reason it lacks the required columns.

    A required column missing is most often a file laid out otherwise than expected rather
    than a column left out: cells separated by ';' or tabs (Excel's "Unicode Text" is UTF-16
    and tab-separated), or a title above the header. Said once per table, beside the missing
    columns, so the officer sees what the loader saw."""
    headers = list(raw.headers)
    while headers and headers[-1] == "":  # a sheet's row runs as wide as its widest row
        headers.pop()
    shown = ", ".join(repr(h) for h in headers[:_HINT_HEADERS]) + (", …" if len(headers) > _HINT_HEADERS else "")
    text = f"the header row read has {len(headers)} column{'s' if len(headers) != 1 else ''}: {shown}"
    sep = raw.extra.get("sep")  # a CSV's separator; a sheet has none
    line = str(sep or ",").join(headers)  # the header line, near enough, as the file holds it
    had = set(_known(headers, keys))
    for cand in (",", ";", "\t", "|"):
        if cand != sep and cand in line:
            gained = [c for c in _known(line.split(cand), keys) if c not in had]
            if gained:
                name = {"\t": "tabs", ",": "commas"}.get(cand, f"'{cand}'")
                if raw.sheet is not None:
                    return (f"{text}; its cells look like text separated by {name} (splitting them gives "
                            f"{', '.join(gained)}): split them into columns (Data › Text to Columns)")
                unicode_text = " (Excel's “Unicode Text” is tab-separated)" if cand == "\t" else ""
                advice = ("delete its first line sep=" + str(sep) if cand == "," else
                          "save it as “CSV UTF-8 (comma delimited)”, or add a first line "
                          + ("sep= followed by a tab" if cand == "\t" else f"sep={cand}"))
                return (f"{text}; the file looks separated by {name}{unicode_text}, not "
                        f"{'commas' if sep == ',' else repr(sep)} (splitting on it gives {', '.join(gained)}): {advice}")
    frame = raw.frame
    for i in range(min(5, len(frame))):
        cells = [str(v) for v in frame.iloc[i].tolist()]
        found = [c for c in _known(cells, keys) if c not in had]
        if len(found) >= 2:
            return (f"{text}; row {int(raw.rows.iloc[i])} looks like the header row (it holds {', '.join(found)}): "
                    "delete the rows above it, so that the header is row 1")
    return text


#: A cell that holds no value: spaces and invisible characters only (a BOM, zero-width spaces).
_BLANK = re.compile(r"[\s\ufeff\u200b-\u200d\u2060\u00ad]*")


def _is_empty(parsed: np.ndarray, kind: str) -> np.ndarray:
    """Cells whose parsed value is empty: "", None, NaN or NaT."""
    if parsed.dtype.kind in "fM":
        return np.isnan(parsed) if parsed.dtype.kind == "f" else np.isnat(parsed)
    if kind in ("code", "str", "jurisdiction") or kind.startswith("enum:"):
        return parsed == ""  # these parsers give text, "" when empty
    return pd.isna(parsed) | (parsed == "")


def _money_unit_ok(raw: RawTable, header: str, unit: str, out: _Collector) -> bool:
    """Whether a money header's unit is one :func:`money_unit_scale` knows; if not, a problem
    on the header cell, showing the unit as the header writes it."""
    try:
        money_unit_scale(unit)
    except ValueError as exc:
        m = re.search(r"[(（]([^()（）]*)[)）]\s*$", header)
        out.problems.append(Problem(raw.source, 1, header, m.group(1) if m else unit, str(exc)))
        return False
    return True


def _parse_table(raw: RawTable, table: Table, books: Rulebooks, out: _Collector) -> tuple[pd.DataFrame, dict[str, str]]:
    shown: dict[str | None, int] = {}
    for p in raw.cell_problems:  # at most as many per column as for any other bad cells
        shown[p.column] = shown.get(p.column, 0) + 1
        if shown[p.column] <= MAX_PROBLEMS_PER_COLUMN:
            out.problems.append(p)
    for column, count in shown.items():
        if count > MAX_PROBLEMS_PER_COLUMN:
            out.problems.append(Problem(raw.source, None, column, None,
                                        f"... and {count - MAX_PROBLEMS_PER_COLUMN} more cells like these"))
    mapping, units = _match_headers(raw, table, out)
    n = len(raw.frame)
    data: dict[str, np.ndarray] = {}
    known = ", ".join(books)
    empty = np.full(n, "", dtype=object)
    for col in table.columns:
        if col.kind == "money" and col.name in mapping and not _money_unit_ok(raw, mapping[col.name],
                                                                              units[col.name], out):
            data[col.name] = np.full(n, np.nan)  # its cells are not judged: every one would be read wrong
            continue
        cells = raw.frame[mapping[col.name]].to_numpy(dtype=object) if col.name in mapping else empty
        parsed, bad = parse_cells(cells, col.kind, unit=units.get(col.name, ""), resolve=books.resolve)
        reported = raw.unreadable_rows.get(mapping.get(col.name, ""))
        judged = None if reported is None else ~np.isin(raw.rows.to_numpy(), reported)
        if judged is not None:
            bad &= judged  # an Excel error cell reads as empty; it is reported once, as an error
        if bad.any():
            out.cells(raw, bad, mapping.get(col.name, col.name), pd.Series(cells), expected_for(col.kind, known))
        if col.required and col.name in mapping:
            # Invisible characters (a BOM, zero-width spaces) do not make a value. Only cells
            # that parsed to nothing can be blank, so only those are matched.
            candidates = np.flatnonzero(_is_empty(parsed, col.kind) & ~bad)
            missing = np.zeros(n, dtype=bool)
            missing[candidates] = [_BLANK.fullmatch(cells[i]) is not None for i in candidates]
            if judged is not None:
                missing &= judged
            if missing.any():
                out.cells(raw, missing, mapping[col.name], pd.Series(cells), "a value is required here")
        data[col.name] = parsed
    frame = pd.DataFrame(data, index=pd.RangeIndex(n))
    used = set(mapping.values())
    for header, written in zip(raw.frame.columns, raw.headers, strict=True):
        # An unknown column is kept under its frame name (a repeated unknown header as ``x.1``);
        # one with no header at all is not kept.
        if header not in used and written != "" and header not in frame:
            frame[header] = pd.Series([v.strip() for v in raw.frame[header].to_numpy(dtype=object)], dtype=str)
    frame["_row"] = raw.rows.to_numpy(dtype=np.int64)
    return frame, mapping


class _Lookups:
    """Where each reference cell points: its position in the table it names (-1 when
    it names nothing there). One hash table per named table, built once and shared by
    the reference checks and the duplicate checks, so a million unit codes are hashed
    once, not once per check."""

    def __init__(self, reg: dict[str, pd.DataFrame]) -> None:
        self.reg = reg
        self._index: dict[tuple[str, str], pd.Index] = {}
        self._pos: dict[tuple[str, str, str, str], np.ndarray] = {}

    def index_of(self, target: str, target_column: str) -> pd.Index:
        """The distinct values of ``target_column``, in order of first appearance."""
        tkey = (target, target_column)
        if tkey not in self._index:
            self._index[tkey] = pd.Index(self.reg[target][target_column].unique())
        return self._index[tkey]

    def positions(self, table: str, column: str, target: str, target_column: str) -> np.ndarray:
        key = (table, column, target, target_column)
        if key not in self._pos:
            self._pos[key] = self.index_of(target, target_column).get_indexer(self.reg[table][column])
        return self._pos[key]


#: Key columns that reference another table: (table, column) -> (named table, its column).
_KEY_REFERENCES = {
    ("memberships", "consortium_id"): ("consortia", "consortium_id"),
    ("memberships", "uscc"): ("units", "uscc"),
    ("project_members", "uscc"): ("units", "uscc"),
}


def _duplicates(frame: pd.DataFrame, raw: RawTable, key: tuple[str, ...], out: _Collector, what: str,
                codes: dict[str, np.ndarray] | None = None) -> None:
    # Typed columns compare as their text would (dates are whole days; missing equals missing),
    # so duplicates are found on the columns themselves and only their keys are spelled out.
    # ``codes`` replaces text columns by their positions in the table they name (equal text,
    # equal position), when every cell names something: integers hash far faster than text.
    cols = {c: codes[c] if codes and c in codes and (codes[c] >= 0).all() else frame[c] for c in key}
    dup = pd.DataFrame(cols).duplicated(keep="first")
    if not dup.any():
        return
    k = frame[list(key)].astype(str).fillna("")  # pandas 3 keeps NaT/NaN as missing through astype(str)
    first_row = frame.loc[~dup].assign(_k=k[~dup].agg("\x1f".join, axis=1)).set_index("_k")["_row"]
    keys = k[dup].agg("\x1f".join, axis=1)
    for i, kk in zip(np.flatnonzero(dup.to_numpy())[:MAX_PROBLEMS_PER_COLUMN], keys.iloc[:MAX_PROBLEMS_PER_COLUMN], strict=False):
        out.problems.append(Problem(raw.source, int(frame["_row"].iloc[i]), key[-1] if len(key) == 1 else "+".join(key),
                                    kk.replace("\x1f", " / "),
                                    f"a unique {what}; the same key is already on row {int(first_row[kk])}"))


def _references(reg: dict[str, pd.DataFrame], raws: dict[str, RawTable], maps: dict[str, dict[str, str]],
                out: _Collector, lookups: _Lookups) -> None:
    def check(table: str, column: str, target: tuple[str, str], what: str) -> None:
        if table not in reg:
            return
        vals = reg[table][column]
        bad = (vals.to_numpy(dtype=object) != "") & (lookups.positions(table, column, *target) < 0)
        if bad.any():
            out.cells(raws[table], bad, maps[table].get(column, column), vals, what)

    units, cons = ("units", "uscc"), ("consortia", "consortium_id")
    check("memberships", "consortium_id", cons, "a consortium_id listed in the consortia table")
    check("memberships", "uscc", units, "a unit code listed in the units table")
    check("consortia", "recognized_from", cons, "the consortium_id of another consortium in the registry")
    for t in ("evaluations", "annual_reports", "projects"):
        check(t, "consortium_id", cons, "a consortium_id listed in the consortia table")
    check("projects", "lead_uscc", units, "a unit code listed in the units table")
    if "projects" in reg:
        check("project_members", "project_id", ("projects", "project_id"), "a project_id listed in the projects table")
    elif "project_members" in reg:
        out.problems.append(Problem(raws["project_members"].source, None, None, None,
                                    "project_members needs the projects table"))
    check("project_members", "uscc", units, "a unit code listed in the units table")
    if "chains" in reg:
        chains = reg["chains"]
        check("consortia", "chain_id", ("chains", "chain_id"), "a chain_id listed in the chains table")
        seg_key = set(zip(chains["chain_id"], chains["segment_id"], strict=True))
        par = chains[chains["parent"] != ""]
        bad = ~pd.Series([(c, p) in seg_key for c, p in zip(par["chain_id"], par["parent"], strict=True)],
                         index=par.index, dtype=bool)
        if bad.any():
            out.cells(raws["chains"], bad.reindex(chains.index, fill_value=False), maps["chains"].get("parent", "parent"),
                      chains["parent"], "a segment_id of the same chain")
        feeds_bad = pd.Series([any((c, f) not in seg_key for f in fs)
                               for c, fs in zip(chains["chain_id"], chains["feeds"], strict=True)],
                              index=chains.index, dtype=bool)
        if feeds_bad.any():
            out.cells(raws["chains"], feeds_bad, maps["chains"].get("feeds", "feeds"),
                      chains["feeds"].map(";".join), "segment_ids of the same chain, separated by ;")
        m = reg["memberships"]
        chain_of = reg["consortia"].drop_duplicates("consortium_id").set_index("consortium_id")["chain_id"]
        seg_ids = set(chains["segment_id"])
        has = m["segments"].to_numpy(dtype=object).astype(bool)  # non-empty tuples
        if has.any():
            sub = m[has]
            cons_chain = sub["consortium_id"].map(chain_of).astype(object).fillna("")
            # Each distinct (chain, segments) pair is judged once: a million memberships hold a few thousand.
            ch_codes, ch_uniques = pd.factorize(cons_chain.to_numpy(dtype=object))
            seg_codes, seg_uniques = pd.factorize(sub["segments"].to_numpy(dtype=object))
            width = max(len(seg_uniques), 1)
            codes, uniq_pair = pd.factorize(ch_codes.astype(np.int64) * width + seg_codes)
            judged = np.array([any(((ch, s) not in seg_key) if ch else (s not in seg_ids) for s in segs)
                               for ch, segs in zip(ch_uniques[uniq_pair // width], seg_uniques[uniq_pair % width],
                                                   strict=True)], dtype=bool)
            bad_seg = pd.Series(judged[codes] if len(codes) else np.array([], dtype=bool), index=sub.index, dtype=bool)
            if bad_seg.any():
                out.cells(raws["memberships"], bad_seg.reindex(m.index, fill_value=False),
                          maps["memberships"].get("segments", "segments"), m["segments"].map(";".join),
                          "segment_ids of the consortium's chain (see the chains table)")


def _membership_dates(memberships: pd.DataFrame, raw: RawTable, maps: dict[str, str], out: _Collector) -> None:
    """A membership must not end before it starts.

    It counts from ``joined_on`` until the day before ``left_on``, so ``left_on`` earlier than
    ``joined_on`` is a contradiction (most likely two dates swapped or mistyped). The same day
    for both is not: it is a membership that counts on no day, as when a unit is added and
    withdrawn on one day, and is accepted."""
    joined = memberships["joined_on"].to_numpy()
    left = memberships["left_on"].to_numpy()
    bad = np.flatnonzero(left < joined)  # NaT compares false: an open or undated membership is never wrong
    if not len(bad):
        return
    column = maps.get("left_on", "left_on")
    cells = raw.frame[column].to_numpy(dtype=object)
    out.capped(raw, column, bad, lambda i: Problem(
        raw.source, int(raw.rows.iloc[i]), column, str(cells[i]),
        f"a date on or after joined_on ({pd.Timestamp(joined[i]).date().isoformat()}): a membership counts "
        "from joined_on until the day before left_on"))


def _bodies(consortia: pd.DataFrame, raw: RawTable, maps: dict[str, str], out: _Collector) -> pd.Series:
    """Follow ``recognized_from`` to its root; report self-references and cycles."""
    ids = consortia["consortium_id"].tolist()
    parent = dict(zip(ids, consortia["recognized_from"].tolist(), strict=True))
    body: dict[str, str] = {}
    for i, cid in enumerate(ids):
        seen = [cid]
        cur = cid
        while parent.get(cur, "") and parent[cur] in parent:
            cur = parent[cur]
            if cur in seen:
                out.problems.append(Problem(raw.source, int(consortia["_row"].iloc[i]),
                                            maps.get("recognized_from", "recognized_from"), parent[cid],
                                            "recognized_from must not lead back to the same consortium (a cycle: "
                                            + " → ".join([*seen, cur]) + ")"))
                cur = cid
                break
            seen.append(cur)
        body[cid] = cur
    return consortia["consortium_id"].map(body)


def _source_label(path: str | Path) -> str:
    """The name a registry's own problems are reported under: its folder or workbook name.

    ``Path(".").name`` is empty, so a registry given as the current folder (or ``..``)
    is named by the folder it resolves to; the root folder, which has no name, by the
    path as given."""
    p = Path(path)
    return p.name if p.name not in ("", ".", "..") else (p.resolve().name or str(path))


def _segment_cycles(chains: pd.DataFrame, raw: RawTable, maps: dict[str, str], out: _Collector) -> None:
    """Follow each segment's ``parent`` up its chain; report self-parents and cycles.

    Segments nest as a tree: coverage counts a member of a nested segment for the
    segments above it and lists children after their parent, which has no answer when
    a segment is its own ancestor. Worded as :func:`_bodies` words a ``recognized_from``
    cycle. The chains table holds one row per segment (hundreds), so a plain walk is cheap."""
    keys = list(zip(chains["chain_id"].tolist(), chains["segment_id"].tolist(), strict=True))
    parent: dict[tuple[str, str], str] = {}
    for key, p in zip(keys, chains["parent"].tolist(), strict=True):
        parent.setdefault(key, p)  # a repeated segment is a duplicate-key problem already; its first row counts
    column = maps.get("parent", "parent")
    for i, (chain, seg) in enumerate(keys):
        seen, cur = [seg], seg
        while (up := parent.get((chain, cur), "")) and (chain, up) in parent:
            cur = up
            if cur in seen:
                # Only the segments on the cycle are reported: one that merely hangs below a
                # cycle is fixed with it.
                if cur == seg:
                    out.problems.append(Problem(raw.source, int(chains["_row"].iloc[i]), column,
                                                chains["parent"].iloc[i],
                                                "parent must not lead back to the same segment (a cycle: "
                                                + " → ".join([*seen, cur]) + ")"))
                break
            seen.append(cur)


def load_registry(path: str | Path, rulebooks: Rulebooks | None = None, *,
                  tables: Collection[str] | None = None) -> Registry:
    """Load and validate a registry folder or workbook.

    Raises :class:`~consortia.errors.InputError` with every problem found.
    A unit code that appears twice in the units table is not an input error
    (registries merged from several cities repeat units): the first row is
    used and the others are kept for the ``DUPLICATE_UNIT`` finding.

    ``tables`` reads only those tables besides the required ones (the others
    are left empty, as if their files were absent): the network queries never
    look at projects, evaluations or reports, and need not read or validate them.
    """
    with gc_paused(), progress.wiped_after():
        return _load(path, rulebooks, tables)


def _load(path: str | Path, rulebooks: Rulebooks | None = None, only: Collection[str] | None = None) -> Registry:
    """The body of :func:`load_registry`."""
    books = rulebooks or load_rulebooks()
    raws = read_sources(path, None if only is None else {*REQUIRED_TABLES, *only})
    out = _Collector()
    label = _source_label(path)
    for name in REQUIRED_TABLES:
        if name not in raws:
            aliases = "/".join(TABLES[name].aliases[:1])
            out.problems.append(Problem(label, None, None, None,
                                        f"the required table '{name}' ({aliases}) is missing: "
                                        f"expected a file {name}.csv or a sheet named {name}"))
    tables: dict[str, pd.DataFrame] = {}
    maps: dict[str, dict[str, str]] = {}
    for name, raw in raws.items():
        progress.step(f"checking the values of {raw.source} ({len(raw.frame):,} rows)")
        tables[name], maps[name] = _parse_table(raw, TABLES[name], books, out)
    if not all(name in tables and maps[name] for name in REQUIRED_TABLES):
        raise InputError(out.problems)
    units = tables["units"]
    dup = units["uscc"].duplicated(keep="first")
    duplicate_units = units[dup].reset_index(drop=True)
    tables["units"] = units[~dup].reset_index(drop=True)
    lookups = _Lookups(tables)
    progress.step("checking keys and references between the tables")
    for name, what in (("consortia", "consortium_id"), ("memberships", "membership (consortium, unit, joined_on)"),
                       ("chains", "segment per chain"), ("evaluations", "evaluation per consortium and date"),
                       ("annual_reports", "report per consortium and year"), ("projects", "project_id"),
                       ("project_members", "member per project")):
        if name in tables:
            codes = {col: lookups.positions(name, col, *target)
                     for (t, col), target in _KEY_REFERENCES.items() if t == name and target[0] in tables}
            _duplicates(tables[name], raws[name], TABLES[name].key, out, what, codes)
    _references(tables, raws, maps, out, lookups)
    if "chains" in tables:
        _segment_cycles(tables["chains"], raws["chains"], maps["chains"], out)
    _membership_dates(tables["memberships"], raws["memberships"], maps["memberships"], out)
    body_id = _bodies(tables["consortia"], raws["consortia"], maps["consortia"], out)
    if out.problems:
        raise InputError(out.problems)
    tables["consortia"]["body_id"] = body_id
    for name in TABLES:
        if name not in tables:
            tables[name] = empty_table(name)
    sources = {
        name: SourceInfo(raw.source, raw.path, raw.sheet, raw.encoding, maps[name]) for name, raw in raws.items()
    }
    registry = Registry(tables, sources, Path(path), duplicate_units)
    for (table, column), (target, key) in _KEY_REFERENCES.items():
        if table in tables and len(lookups.index_of(target, key)) == len(tables[target]):  # keys unique: rows
            registry.keep_link(table, column, target, lookups.positions(table, column, target, key))
    return registry
