"""Network commands for planners: overlaps, coverage, gaps, brokers, components, path, what-if, export."""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from .. import progress
from .base import TABLE_ROWS, as_of_option, limit_option, main, note_shown, output_options, rules_option, table_limit
from .source import Source, registry_argument, source_option

#: Consortium pairs listed unless --limit says otherwise (in every format).
PAIR_ROWS = 1000


def network_options(fn: Callable[..., Any] | None = None, *, path: bool = True) -> Any:
    """[PATH], --backend (and the connection), --as-of, --rules, --format/--out and
    --limit: what every query command takes; the command receives ``source``.

    ``path=False`` for a command that parses PATH among other arguments itself."""
    if fn is None:
        return functools.partial(network_options, path=path)

    @(registry_argument if path else source_option)
    @as_of_option
    @rules_option
    @output_options
    @limit_option
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper


def _network(source: Source, rules_files: Sequence[str], as_of: dt.date | None) -> Any:
    from ..rules.rulebook import load_rulebooks

    books = load_rulebooks(rules_files)
    return source.network(books, as_of)


#: Rows encoded at a time: the text of a million rows at once held the frame's size
#: in memory three times over (the encoder's buffer, the string, its UTF-8 bytes).
JSON_CHUNK_ROWS = 50_000


def _json_chunks(frame: Any) -> Iterator[str]:
    """``frame.to_json(orient="records", force_ascii=False, indent=2)`` and a newline, in
    pieces of :data:`JSON_CHUNK_ROWS` rows each encoded by pandas: the same text."""
    if not len(frame):
        yield "[]\n"
        return
    yield "["
    for start in range(0, len(frame), JSON_CHUNK_ROWS):
        text = frame.iloc[start:start + JSON_CHUNK_ROWS].to_json(orient="records", force_ascii=False, indent=2)
        yield ("," if start else "") + text[1:-2]  # without its "[" and "\n]"
    yield "\n]\n"


def _emit(frame: Any, fmt: str, out: Path | None, limit: int | None, title: str,
          table_columns: Sequence[str] | None = None, table_frame: Any = None, total: int | None = None) -> None:
    """Print or write rows; a terminal table is cut to ``limit`` rows with a note saying so.

    JSON is written by pandas' encoder straight from the frame: at national
    scale a query returns hundreds of thousands of rows, and converting each
    to Python dicts first costs more than the query.
    """
    from ..io import atomic_path
    from ..output import emit

    limit = table_limit(limit, fmt, out)
    if table_frame is not None and fmt == "table":
        # The terminal shows ``table_frame`` (coverage's segments × scopes matrix), so the
        # note counts its rows, not the long rows the files hold.
        total = len(table_frame)
        shown = table_frame.head(limit) if limit else table_frame
    else:
        total = len(frame) if total is None else total
        shown = frame.head(limit) if limit else frame
    if fmt == "json":
        with progress.writing(len(shown), out):
            if out is not None and str(out) != "-":
                with atomic_path(out) as tmp, open(tmp, "w", encoding="utf-8") as fh:
                    for part in _json_chunks(shown):
                        fh.write(part)
            else:
                for part in _json_chunks(shown):
                    click.echo(part, nl=False)
    else:  # emit says what it writes itself
        rows = shown
        emit(rows.to_dict("records"), fmt, out=out, columns=list(rows.columns), table_columns=table_columns,
             title=title, echo=click.echo if fmt == "table" else None)
    note_shown(len(shown), total)
    if out is not None:
        click.echo(f"{title}; written to {out}", err=True)


@main.command()
@network_options
@click.option("--kind", type=click.Choice(["units", "pairs", "same-body", "near-duplicates"]), default="units",
              show_default=True, help="units in several cities/levels; consortium pairs sharing members; one body "
                                      "recorded at two levels; near-duplicate consortia on one chain.")
@click.option("--min-shared", type=click.IntRange(1), default=2, show_default=True,
              help="pairs: only pairs sharing at least this many members (the strongest 1,000 are listed "
                   "unless --limit says otherwise).")
@click.option("--threshold", type=click.FloatRange(0, 1, min_open=True), default=0.5, show_default=True,
              help="near-duplicates: the member overlap (Jaccard) from which two consortia are flagged.")
def overlaps(source: Source, as_of: dt.date | None, rules_files: tuple[str, ...], fmt: str, out: Path | None,
             limit: int | None, kind: str, min_shared: int, threshold: float) -> None:
    """Where cities and levels overlap: shared units, shared members, bodies recorded twice,
    and near-duplicate consortia (a possible double-funding signal)."""
    net = _network(source, rules_files, as_of)
    if kind == "units":
        frame = net.cross_units()
        title = f"{len(frame):,} units in consortia of two or more cities or levels"
        cols = ("uscc", "name", "city", "bodies", "jurisdictions", "consortia")
    elif kind == "pairs":
        # Pairs grow with the square of busy units: a national registry has ~10^6 of them, so unless
        # told otherwise (--limit 0) only the strongest are listed, with their shared units.
        if limit is None:
            limit = TABLE_ROWS if fmt == "table" and out is None else PAIR_ROWS
        pairs = net.pair_counts(min_shared)  # counted once, as numbers: no pair is named but those listed
        total = len(pairs.a)
        frame = net.shared_pairs(min_shared, top=limit or None, pairs=pairs)
        title = f"{total:,} consortium pairs sharing at least {min_shared} member(s)"
        cols = ("consortium_a", "name_a", "consortium_b", "name_b", "shared", "jaccard")
        _emit(frame, fmt, out, limit, title, cols, total=total)
        return
    elif kind == "same-body":
        frame = net.same_body()
        title = f"{len(frame):,} consortia recorded at more than one level"
        cols = ("body_id", "name", "records", "jurisdictions", "members", "in_every_record", "in_some_records")
    else:
        frame = net.near_duplicates(threshold)
        title = f"{len(frame):,} near-duplicate consortium pairs (same chain, different jurisdictions, Jaccard ≥ {threshold})"
        cols = ("consortium_a", "name_a", "jurisdictions_a", "consortium_b", "name_b", "jurisdictions_b", "chain_a",
                "shared", "jaccard")
    _emit(frame, fmt, out, limit, title, cols)


def _cell(row: Any) -> str:
    if row["total"] == 0:
        return "—"
    parts = [f"{label}{row[role]}" for role, label in (("lead", "L"), ("core", "C"), ("close", "K"), ("general", "G"))
             if row[role]]
    return " ".join(parts)


@main.command()
@network_options
@click.option("--chain", default=None, help="Only this chain (chain_id).")
@click.option("--by", type=click.Choice(["consortium", "jurisdiction"]), default="consortium", show_default=True)
def coverage(source: Source, as_of: dt.date | None, rules_files: tuple[str, ...], fmt: str, out: Path | None,
             limit: int | None, chain: str | None, by: str) -> None:
    """Industry-chain coverage: members by tier for every segment (upstream to downstream)
    and every consortium or jurisdiction on the chain.

    The terminal table is the matrix (L lead, C core, K close, G general, — none); JSON,
    CSV and Excel give one row per segment and scope with a column per tier.
    """
    net = _network(source, rules_files, as_of)
    frame = net.coverage(chain, by)
    matrix = None
    if fmt == "table":
        matrix = _matrix(frame)
    title = f"chain coverage by {by}" + (f" — {chain}" if chain else "")
    _emit(frame, fmt, out, limit if limit is not None else (0 if fmt == "table" else None), title, table_frame=matrix)


def _matrix(frame: Any) -> Any:
    """The long coverage rows pivoted to segments × scopes with one text cell per pair."""
    import pandas as pd

    if frame.empty:
        return frame
    f = frame.assign(cell=frame.apply(_cell, axis=1),
                     segment=["  " * d + f"{s} {n}" for d, s, n in zip(frame["depth"], frame["segment_id"],
                                                                       frame["segment_name"], strict=True)])
    wide = f.pivot_table(index=["chain_id", "order", "segment", "stage"], columns="scope", values="cell",
                         aggfunc="first", sort=True).reset_index().sort_values(["chain_id", "order"])
    wide = wide.drop(columns="order").fillna("")
    wide.columns.name = None
    return pd.DataFrame(wide)


@main.command()
@network_options
@click.option("--chain", default=None, help="Only this chain (chain_id).")
@click.option("--consortium", "consortium", default=None, help="Only this consortium (implies --by consortium).")
@click.option("--by", type=click.Choice(["consortium", "jurisdiction"]), default="jurisdiction", show_default=True)
@click.option("--candidates", type=click.IntRange(0, 50), default=3, show_default=True,
              help="How many candidate units to suggest per gap.")
def gaps(source: Source, as_of: dt.date | None, rules_files: tuple[str, ...], fmt: str, out: Path | None,
         limit: int | None, chain: str | None, consortium: str | None, by: str, candidates: int) -> None:
    """Supply-chain gaps: segments with no member, segments held only by the general tier, and
    breaks in the flow (a covered segment whose supplier is uncovered), each with candidate
    units that cover the segment elsewhere and have room under the cap."""
    net = _network(source, rules_files, as_of)
    frame = net.gaps(chain, consortium, by, candidates)
    table = None
    if fmt == "table":
        table = frame.assign(
            scope=frame["consortium_id"].where(frame["consortium_id"] != "", frame["jurisdiction"]),
            candidates=[", ".join(f"{c['name']} ({c['tier']}, {c['city']})" for c in cs) for cs in frame["candidates"]],
        )[["chain_id", "segment_id", "segment_name", "scope", "kind", "supplier_segment_id", "candidates"]]
    counts = frame["kind"].value_counts().to_dict() if len(frame) else {}
    title = f"{len(frame):,} gaps ({', '.join(f'{v} {k}' for k, v in sorted(counts.items())) or 'none'})"
    _emit(frame, fmt, out, limit, title, table_frame=table)


@main.command()
@network_options
@click.option("--top", type=click.IntRange(1), default=50, show_default=True, help="How many units to rank.")
@click.option("--sample", type=click.IntRange(1), default=None,
              help="Estimate betweenness from this many source vertices (default: exact on small networks, "
                   "sampled on large ones).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the sample.")
def brokers(source: Source, as_of: dt.date | None, rules_files: tuple[str, ...], fmt: str, out: Path | None,
            limit: int | None, top: int, sample: int | None, seed: int) -> None:
    """Units that hold the network together: betweenness in the unit–consortium network, units
    bridging jurisdictions, and cut vertices. Says when betweenness was estimated from a sample."""
    net = _network(source, rules_files, as_of)
    frame = net.brokers(top, sample, seed)
    method = frame["method"].iloc[0] if len(frame) else "exact"
    click.echo(f"betweenness: {method}", err=True)
    _emit(frame, fmt, out, limit, f"top {len(frame)} brokers (betweenness {method.split(':')[0]})",
          ("rank", "uscc", "name", "city", "betweenness", "bodies", "jurisdictions", "cut_vertex", "component"))


@main.command()
@network_options
def components(source: Source, as_of: dt.date | None, rules_files: tuple[str, ...], fmt: str, out: Path | None,
               limit: int | None) -> None:
    """Connected components of the collaboration network, largest first."""
    net = _network(source, rules_files, as_of)
    frame = net.components()
    _emit(frame, fmt, out, limit, f"{len(frame):,} connected components")


@main.command()
@network_options(path=False)
@click.argument("codes", nargs=-1, required=True, metavar="[PATH] UNIT_A UNIT_B")
def path(source: Source, as_of: dt.date | None, rules_files: tuple[str, ...], fmt: str, out: Path | None,
         limit: int | None, codes: tuple[str, ...]) -> None:
    """The shortest collaboration path from UNIT_A to UNIT_B (credit codes), with the consortia
    along it. Exit 1 when the two are not connected on the as-of date. With --backend neo4j
    give no PATH."""
    import dataclasses

    if len(codes) == 3:
        source = dataclasses.replace(source, path=Path(codes[0]))
    elif len(codes) != 2:
        raise click.UsageError("give PATH UNIT_A UNIT_B (or UNIT_A UNIT_B with --backend neo4j)")
    unit_a, unit_b = codes[-2:]
    net = _network(source, rules_files, as_of)
    frame = net.path(unit_a, unit_b)
    a, b = unit_a.strip().upper(), unit_b.strip().upper()
    if frame.empty and a != b:
        from ..queries.paths import connected

        day = net.as_of.date().isoformat()
        idle = [u for u in (a, b) if not connected(net, u)]
        why = f" ({', '.join(idle)} has no membership in force then)" if idle else " (they are in different components)"
        click.echo(f"No collaboration path between {a} and {b} on {day}{why}.", err=True)
        sys.exit(1)
    _emit(frame, fmt, out, limit, f"{len(frame)} hop(s) from {a} to {b}",
          ("hop", "from_name", "from_role", "consortium_id", "records", "consortium_name", "to_name", "to_role"))


@main.group()
def whatif() -> None:
    """What a membership change would do to the audit, writing nothing."""


def _whatif_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    @click.argument("path", type=click.Path(path_type=Path))
    @click.argument("consortium_id")
    @click.argument("uscc")
    @as_of_option
    @rules_option
    @click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper


def _run_whatif(path: Path, rules_files: Sequence[str], as_of: dt.date | None, fmt: str, change: Any) -> None:
    import json

    from ..loaders import load_registry
    from ..output import to_jsonable
    from ..queries.whatif import whatif as run
    from ..rules.rulebook import load_rulebooks

    books = load_rulebooks(rules_files)
    result = run(load_registry(path, books), books, as_of, change)
    if fmt == "json":
        doc = {"change": to_jsonable(vars(change)),
               "refused": [{"rule": r.rule, "jurisdiction": r.jurisdiction, "message": str(r)} for r in result.refusals],
               "appeared": [f.to_dict() for f in result.appeared],
               "disappeared": [f.to_dict() for f in result.disappeared]}
        click.echo(json.dumps(to_jsonable(doc), ensure_ascii=False, indent=2))
        return
    for r in result.refusals:
        click.echo(f"add-member would refuse this: {r}")
    for sign, label, items in (("+", "would appear", result.appeared), ("-", "would disappear", result.disappeared)):
        click.echo(f"{len(items)} finding(s) {label}:")
        for f in items:
            where = " ".join(x for x in (f.jurisdiction, f.consortium_id, f.uscc) if x)
            click.echo(f"  {sign} {f.rule} [{f.severity}{', waived' if f.waived else ''}] {where}: {f.message}")
    click.echo("Nothing was written.")


@whatif.command("add-member")
@_whatif_options
@click.option("--role", required=True, help="lead, core, close or general.")
@click.option("--segments", default="", help="Chain segment ids, separated by ;")
@click.option("--exemption", default="", help="A 一事一议 decision that would be recorded.")
def whatif_add(path: Path, consortium_id: str, uscc: str, as_of: dt.date | None, rules_files: tuple[str, ...],
               fmt: str, role: str, segments: str, exemption: str) -> None:
    """If UNIT joined CONSORTIUM_ID: would add-member refuse, and which findings would change."""
    import re

    from ..queries.whatif import Change

    segs = tuple(s.strip() for s in re.split(r"[;；]", segments) if s.strip())
    _run_whatif(path, rules_files, as_of, fmt, Change("add-member", consortium_id, uscc, role, segs, exemption))


@whatif.command("remove-member")
@_whatif_options
def whatif_remove(path: Path, consortium_id: str, uscc: str, as_of: dt.date | None, rules_files: tuple[str, ...],
                  fmt: str) -> None:
    """If UNIT left CONSORTIUM_ID on the as-of date: which findings would change."""
    from ..queries.whatif import Change

    _run_whatif(path, rules_files, as_of, fmt, Change("remove-member", consortium_id, uscc))


@whatif.command("move-tier")
@_whatif_options
@click.option("--role", required=True, help="The new tier: lead, core, close or general.")
def whatif_move(path: Path, consortium_id: str, uscc: str, as_of: dt.date | None, rules_files: tuple[str, ...],
                fmt: str, role: str) -> None:
    """If UNIT moved to another tier in CONSORTIUM_ID: which findings would change."""
    from ..queries.whatif import Change

    _run_whatif(path, rules_files, as_of, fmt, Change("move-tier", consortium_id, uscc, role))


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["graphml", "gexf"]), required=True,
              help="GraphML (Cytoscape, igraph, yEd) or GEXF (Gephi).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@as_of_option
@rules_option
def export(path: Path, fmt: str, out: Path, as_of: dt.date | None, rules_files: tuple[str, ...]) -> None:
    """Export the registry graph (units, consortia, jurisdictions, chains, segments and their
    links, member edges marked active or not) for Gephi or another network tool."""
    from ..graph.export import export_graph
    from ..io import check_writable
    from ..loaders import load_registry
    from ..rules.rulebook import load_rulebooks

    check_writable(out)  # before minutes of reading a national registry
    books = load_rulebooks(rules_files)
    # The graph holds units, consortia, memberships and chains: the other tables need not be read.
    done = export_graph(load_registry(path, books, tables=("chains",)), out, fmt, as_of)
    click.echo(f"Wrote {out}: {done.nodes:,} nodes, {done.edges:,} edges ({fmt}).")
