"""Commands that write: add a member, generate a registry, run the demo."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from .base import as_of_option, date_option_callback, main, rules_option


@main.command("add-member")
@click.argument("path", type=click.Path(path_type=Path))
@click.argument("consortium_id")
@click.argument("uscc")
@click.option("--role", required=True, help="lead, core, close or general (牵头单位/核心层/紧密合作层/一般协作层).")
@click.option("--segments", default="", help="Chain segment ids this member covers, separated by ;")
@click.option("--joined-on", callback=date_option_callback, default=None, metavar="DATE", help="Default: the as-of date.")
@click.option("--exemption", default="", help="A recorded 一事一议 decision that waives a 原则上 rule.")
@as_of_option
@rules_option
def add_member(path: Path, consortium_id: str, uscc: str, role: str, segments: str, joined_on: dt.date | None,
               exemption: str, as_of: dt.date | None, rules_files: tuple[str, ...]) -> None:
    """Add UNIT (by code) to CONSORTIUM_ID in the registry at PATH, enforcing the
    lead and membership-cap rules; the file is rewritten atomically."""
    import re

    from ..graph.store import EmbeddedStore
    from ..rules.rulebook import load_rulebooks

    store = EmbeddedStore.open(path, load_rulebooks(rules_files), as_of)
    segs = [s.strip() for s in re.split(r"[;；]", segments) if s.strip()]
    row = store.add_member(consortium_id, uscc, role, segments=segs, joined_on=joined_on, exemption=exemption)
    store.save()
    note = f" (exemption recorded: {row['exemption']})" if row["exemption"] else ""
    click.echo(f"Added {row['uscc']} to {row['consortium_id']} as {row['role']}{note}.")


@main.command()
@click.option("--consortia", "n", type=click.IntRange(1, 1_000_000), required=True, help="How many consortia.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def generate(n: int, seed: int, out: Path) -> None:
    """Write a fictional, realistic registry of N consortia (for trials and benchmarks)."""
    from ..generate import generate as gen
    from ..generate import write_csv

    tables = gen(n, seed)
    write_csv(tables, out)
    counts = ", ".join(f"{len(t):,} {name}" for name, t in tables.items())
    click.echo(f"Wrote {out}: {counts}.")


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("consortia-demo"),
              show_default=True, help="Folder for the demo registry and its reports.")
def demo(out: Path) -> None:
    """Run the main job on a bundled, fictional demo registry (no network needed)."""
    from ..demo import run_demo

    run_demo(out, click.echo)
