"""Briefing visuals: ``viz network``, ``viz chain``, ``viz overlaps`` and ``brief``.

Every page is one self-contained HTML file that asks the network for nothing;
images are PNG and SVG sized for a 16:9 slide. Each command checks that its
outputs can be written before it reads the registry (:func:`~consortia.io.check_writable`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from ..io import check_writable
from .base import as_of_option, main, rules_option
from .source import Source, registry_argument


def _load(source: Source, rules_files: tuple[str, ...]):  # type: ignore[no-untyped-def]
    """The registry (every table: the pages mark findings of the cap and lead rules) and the rulebooks."""
    from ..rules.rulebook import load_rulebooks

    books = load_rulebooks(rules_files)
    return source.registry(books), books


@main.group()
def viz() -> None:
    """Briefing visuals: an offline network page, chain coverage maps, the overlap view."""


@viz.command()
@registry_argument
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The HTML file to write.")
@click.option("--consortium", "-c", "consortia", multiple=True, help="Only this consortium (repeatable).")
@click.option("--jurisdiction", "-j", "jurisdictions", multiple=True,
              help="Only consortia recognised by this jurisdiction (repeatable; guangxi, 南宁, …).")
@click.option("--city", default=None, help="Only the city's consortia: recognised by its own text, or led by a unit "
              "registered there.")
@click.option("--chain", default=None, help="Only consortia on this chain.")
@click.option("--unit", default=None, metavar="USCC", help="Only this unit's neighbourhood: its consortia and their members.")
@click.option("--depth", type=click.IntRange(1, 5), default=1, show_default=True,
              help="With --unit: how many consortium hops to widen the neighbourhood.")
@click.option("--max-nodes", type=click.IntRange(1, 1_000_000), default=5000, show_default=True,
              help="Above this many nodes, draw the aggregated view (jurisdictions and consortia), "
                   "itself cut to this many nodes: the consortia sharing the most members first.")
@click.option("--aggregate/--members", "aggregate", default=None,
              help="Force the aggregated view, or the unit-by-unit view (default: by --max-nodes).")
@click.option("--physics", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True,
              help="vis-network physics (auto: on up to 300 nodes; positions are always precomputed).")
@click.option("--no-findings", is_flag=True,
              help="Do not mark the cap and lead findings (skips their checks on very large registries).")
@as_of_option
@rules_option
def network(source: Source, out: Path, consortia: tuple[str, ...], jurisdictions: tuple[str, ...], city: str | None,
            chain: str | None, unit: str | None, depth: int, max_nodes: int, aggregate: bool | None, physics: str,
            no_findings: bool, as_of: dt.date | None, rules_files: tuple[str, ...]) -> None:
    """Write the registry at PATH as an interactive network page (one offline HTML file)."""
    from ..rules.engine import run_checks
    from ..viz.network import MARKED_RULES, Selection, build_view
    from ..viz.network_page import write_network_page

    check_writable(out)
    registry, books = _load(source, rules_files)
    findings = [] if no_findings else run_checks(registry, books, as_of, rules=MARKED_RULES)
    sel = Selection(consortia, jurisdictions, city, chain, unit, depth)
    view = build_view(registry, books, as_of, sel, findings, max_nodes=max_nodes, aggregate=aggregate, physics=physics)
    write_network_page(view, out)
    s = view.stats
    kind = "aggregated" if s["mode"] == "aggregate" else "units and consortia"
    click.echo(f"Wrote {out}: {s['nodes']} nodes, {s['edges']} edges ({kind}; "
               f"{s['consortia']} consortia, {s['units']} units, {s['memberships']} memberships as of {s['as_of']}).")
    if s.get("bodies_shown", 0) < s.get("bodies_total", 0):
        click.echo(f"Drawn: the {s['bodies_shown']:,} of {s['bodies_total']:,} consortium bodies that share the most "
                   f"members (--max-nodes {max_nodes}); narrow with --jurisdiction, --city or --chain to see the rest.",
                   err=True)


@viz.command()
@registry_argument
@click.option("--chain", default=None, help="Only this chain (default: every chain with a consortium in force).")
@click.option("--by", type=click.Choice(["jurisdiction", "consortium"]), default="jurisdiction", show_default=True,
              help="Columns: one per jurisdiction, or one per consortium record.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for chain-<ID>.html/.png/.svg.")
@click.option("--format", "formats", type=click.Choice(["html", "png", "svg"]), multiple=True,
              help="Which outputs (repeatable; default all three).")
@as_of_option
@rules_option
def chain(source: Source, chain: str | None, by: str, out: Path, formats: tuple[str, ...], as_of: dt.date | None,
          rules_files: tuple[str, ...]) -> None:
    """Chain coverage maps: segments upstream to downstream against jurisdictions or consortia,
    members by tier in each cell, gaps marked; as HTML and slide-sized PNG and SVG."""
    from ..rules.rulebook import load_rulebooks
    from ..viz.chain import write_chain_outputs

    # Coverage and gaps are all a chain map needs: the database answers them on its server.
    check_writable(folders=[out])
    books = load_rulebooks(rules_files)
    written = write_chain_outputs(source.network(books, as_of), out, chain, by, formats or ("html", "png", "svg"))
    click.echo(f"Wrote {len(written)} files to {out}: " + ", ".join(p.name for p in written))


@viz.command()
@registry_argument
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The HTML file; the heatmap is written next to it as .png and .svg.")
@click.option("--no-images", is_flag=True, help="Only the HTML page.")
@click.option("--max-nodes", type=click.IntRange(1, 1_000_000), default=5000, show_default=True,
              help="At most this many nodes in the drawing: the consortia sharing the most members across cities first.")
@as_of_option
@rules_option
def overlaps(source: Source, out: Path, no_images: bool, max_nodes: int, as_of: dt.date | None,
             rules_files: tuple[str, ...]) -> None:
    """The cross-city view: consortia sharing members across cities and levels, the
    jurisdiction-by-jurisdiction matrix of shared units, and bodies recorded twice."""
    from ..queries.network import EmbeddedNetwork
    from ..rules.engine import run_checks
    from ..viz.network import MARKED_RULES
    from ..viz.overlaps import write_overlaps

    check_writable(out, *(() if no_images else (out.with_suffix(".png"), out.with_suffix(".svg"))))
    registry, books = _load(source, rules_files)
    written = write_overlaps(EmbeddedNetwork(registry, books, as_of), out,
                             run_checks(registry, books, as_of, rules=MARKED_RULES),
                             images=() if no_images else ("png", "svg"), max_nodes=max_nodes)
    click.echo("Wrote " + ", ".join(str(p) for p in written))


@main.command()
@registry_argument
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="The briefing folder.")
@click.option("--by", type=click.Choice(["jurisdiction", "consortium"]), default="jurisdiction", show_default=True,
              help="Columns of the chain maps.")
@click.option("--max-nodes", type=click.IntRange(1, 1_000_000), default=5000, show_default=True,
              help="Above this many nodes the network page is aggregated; no drawing has more.")
@as_of_option
@rules_option
def brief(source: Source, out: Path, by: str, max_nodes: int, as_of: dt.date | None, rules_files: tuple[str, ...]) -> None:
    """Write a briefing folder: an index linking the network page, the chain maps,
    the overlap view and the findings table (all offline)."""
    from ..viz.brief import write_brief

    check_writable(folders=[out])
    registry, books = _load(source, rules_files)
    result = write_brief(registry, books, as_of, out, by=by, max_nodes=max_nodes)
    click.echo(f"Wrote {len(result.files)} files; open {result.index}")
    for note in result.notes:
        click.echo(f"Note: {note}", err=True)
