"""Commands that write: add a member, generate a registry, run the demo."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from .base import as_of_option, date_option_callback, main, rules_option
from .neo4j import backend_option


@main.command("add-member")
@click.argument("args", nargs=-1, required=True, metavar="[PATH] CONSORTIUM_ID USCC")
@click.option("--role", required=True, help="lead, core, close or general (牵头单位/核心层/紧密合作层/一般协作层).")
@click.option("--segments", default="", help="Chain segment ids this member covers, separated by ;")
@click.option("--joined-on", callback=date_option_callback, default=None, metavar="DATE", help="Default: the as-of date.")
@click.option("--exemption", default="", help="A recorded 一事一议 decision that waives a 原则上 rule.")
@as_of_option
@rules_option
@backend_option
def add_member(args: tuple[str, ...], role: str, segments: str, joined_on: dt.date | None, exemption: str,
               as_of: dt.date | None, rules_files: tuple[str, ...], backend: str, uri: str, user: str,
               database: str | None) -> None:
    """Add UNIT (by code) to CONSORTIUM_ID, enforcing the lead and membership-cap
    rules: in the registry at PATH (the file is rewritten atomically), or with
    --backend neo4j in the database, checked and written in one transaction
    (then give no PATH)."""
    import re

    segs = [s.strip() for s in re.split(r"[;；]", segments) if s.strip()]
    if backend == "neo4j":
        if len(args) != 2:
            raise click.UsageError("with --backend neo4j give CONSORTIUM_ID USCC (the registry is the database's)")
        from .neo4j import add_member_neo4j

        row = add_member_neo4j(uri, user, database, args[0], args[1], role, segments=segs, joined_on=joined_on,
                               exemption=exemption, as_of=as_of, rules_files=rules_files)
    else:
        if len(args) != 3:
            raise click.UsageError("give PATH CONSORTIUM_ID USCC")
        from ..graph.store import EmbeddedStore
        from ..rules.rulebook import load_rulebooks

        store = EmbeddedStore.open(Path(args[0]), load_rulebooks(rules_files), as_of)
        row = store.add_member(args[1], args[2], role, segments=segs, joined_on=joined_on, exemption=exemption)
        store.save()
    note = f" (exemption recorded: {row['exemption']})" if row["exemption"] else ""
    click.echo(f"Added {row['uscc']} to {row['consortium_id']} as {row['role']}{note}.")


@main.command()
@click.option("--consortia", "n", type=click.IntRange(1, 1_000_000), required=True, help="How many consortia.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="An empty or new folder (created if missing).")
@click.option("--force", is_flag=True, help="Replace the registry files already in --out.")
def generate(n: int, seed: int, out: Path, force: bool) -> None:
    """Write a fictional, realistic registry of N consortia (for trials and benchmarks).

    A folder that already holds registry files is refused (exit 2) unless --force is given:
    it may hold a real registry, and a generated one would replace it silently."""
    from ..generate import generate as gen
    from ..generate import refuse_replacing, registry_files, write_csv
    from ..io import check_writable

    if not force:
        refuse_replacing(out, registry_files(out))
    check_writable(folders=[out])  # before generating, which takes a minute at national scale
    tables = gen(n, seed)
    write_csv(tables, out)
    counts = ", ".join(f"{len(t):,} {name}" for name, t in tables.items())
    click.echo(f"Wrote {out}: {counts}.")


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("consortia-demo"),
              show_default=True, help="Folder for the demo registry and its reports (empty or new).")
@click.option("--force", is_flag=True, help="Replace the demo registry and reports already in --out.")
def demo(out: Path, force: bool) -> None:
    """Run the main job on a bundled, fictional demo registry (no network needed).

    A folder that already holds a registry or the demo's reports is refused (exit 2)
    unless --force is given."""
    from ..demo import run_demo

    run_demo(out, click.echo, force=force)
