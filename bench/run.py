"""Benchmarks from one province to a whole country (issue #7).

For each size (S: 500 consortia, M: 10,000, L: 100,000; fixed seeds) this
generates a registry once (cached under ``--data-dir``), then measures, each
in its own process so that time and peak memory belong to that measurement
alone:

* the pandas floor: a Python process that imports pandas and reads every CSV
  of the registry with ``read_csv(dtype=str)`` and nothing else;
* ``consortia check`` end to end (the real command line, JSON to a file);
* loading alone (``load_registry``, in-process time);
* each network query (``overlaps``, ``coverage``, ``gaps``, ``brokers``,
  ``components``, ``path``), JSON to a file;
* the network page for a view of about 5,000 nodes (``viz network``);
* the briefing folder (``brief``: every finding, the network and overlap pages,
  the chain maps with their PNG and SVG);
* enforced ``add-member`` through the API (M only): checked additions per
  second, each one a real check (refusals count; nothing is saved).

Each is printed as wall time, CPU time, ratio to the floor's wall time and
peak resident memory (from ``os.wait4``: the child's own high-water mark; with the
processes it forks, their sampled PSS together when that is larger).
Commands that the installed ``consortia`` does not have (``--help`` fails)
are reported as not available, so the script runs on any version. Only the
standard library and the project itself are used.

Usage::

    python bench/run.py                      # S and M, 3 runs each (minimum kept)
    python bench/run.py --sizes S,M,L        # L takes minutes and a few GB
    python bench/run.py --sizes M --only check,load --repeat 5
    python bench/run.py --markdown           # the README table
    python bench/run.py --sizes S,2000,M,30000 --only check,load   # more points on the curve
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: name -> (consortia, seed). ``--sizes`` also takes a number of consortia (e.g. 30000) for the
#: points between, named N30000, with seed 1.
SIZES: dict[str, tuple[int, int]] = {"S": (500, 1), "M": (10_000, 1), "L": (100_000, 1)}
AS_OF = "2026-06-30"
#: The view drawn by the network page.
PAGE_NODES = 5_000
ADD_MEMBER_CHECKS = 50_000

FLOOR = """
import sys, time, glob, json
t0 = time.perf_counter()
import pandas as pd
t1 = time.perf_counter()
for f in sorted(glob.glob(sys.argv[1] + "/*.csv")):
    pd.read_csv(f, dtype=str, keep_default_na=False)
t2 = time.perf_counter()
print(json.dumps({"note": f"import pandas {t1 - t0:.2f} s, read_csv {t2 - t1:.2f} s"}))
"""

LOAD = """
import sys, time, json
from consortia.loaders import load_registry
from consortia.rules.rulebook import load_rulebooks
books = load_rulebooks()
t = time.perf_counter()
reg = load_registry(sys.argv[1], books)
s = time.perf_counter() - t
print(json.dumps({"seconds": s, "note": f"in-process load {s:.2f} s"}))
"""

ADD_MEMBER = """
import sys, time, json, random
from consortia.errors import InputError, Refusal
from consortia.graph.store import EmbeddedStore
store = EmbeddedStore.open(sys.argv[1], as_of=sys.argv[3])
reg = store.registry
rng = random.Random(7)
live = reg.consortia.loc[reg.consortia["status"].isin(["active", "rectifying"]), "consortium_id"].tolist()
units = reg.units["uscc"].tolist()
roles = ["general", "close", "core", "lead", "一般协作层"]
n = int(sys.argv[2])
asks = [(rng.choice(live), rng.choice(units), rng.choice(roles)) for _ in range(n)]
done = {"accepted": 0, "refused": 0, "invalid": 0}
t = time.perf_counter()
for cid, uscc, role in asks:
    try:
        store.add_member(cid, uscc, role)
        done["accepted"] += 1
    except Refusal:
        done["refused"] += 1
    except InputError:
        done["invalid"] += 1
s = time.perf_counter() - t
print(json.dumps({"seconds": s, "rate": n / s,
                  "note": f"{n / s:,.0f} checks/s ({done['accepted']:,} accepted, {done['refused']:,} refused, "
                          f"{done['invalid']:,} invalid)"}))
"""


@dataclass(frozen=True)
class Measure:
    """One measurement. ``cli`` is the consortia subcommand (None: a Python snippet);
    ``args`` are positional arguments; ``options`` are dropped one by one when the
    command's ``--help`` does not list them. Placeholders: {reg} the registry,
    {tmp} a scratch folder, {a}/{b} two connected units, {page} the page's
    ``-c`` selection, {as_of}."""

    name: str
    cli: tuple[str, ...] | None = None
    args: tuple[str, ...] = ()
    options: tuple[tuple[str, str | None], ...] = ()
    snippet: str | None = None
    ok_exit: tuple[int, ...] = (0,)
    sizes: tuple[str, ...] | None = None  # None: every size


def _json_out(name: str) -> tuple[tuple[str, str | None], ...]:
    return (("--as-of", "{as_of}"), ("--format", "json"), ("--out", "{tmp}/" + name + ".json"))


#: Everything measured, in the order printed.
MEASURES: tuple[Measure, ...] = (
    Measure("pandas floor", snippet=FLOOR, args=("{reg}",)),
    Measure("check", cli=("check",), args=("{reg}",), options=_json_out("findings"), ok_exit=(0, 1)),
    Measure("load", snippet=LOAD, args=("{reg}",)),
    Measure("overlaps", cli=("overlaps",), args=("{reg}",), options=_json_out("overlaps")),
    Measure("coverage", cli=("coverage",), args=("{reg}",), options=_json_out("coverage")),
    Measure("gaps", cli=("gaps",), args=("{reg}",), options=_json_out("gaps")),
    Measure("brokers", cli=("brokers",), args=("{reg}",), options=_json_out("brokers")),
    Measure("components", cli=("components",), args=("{reg}",), options=_json_out("components")),
    Measure("path", cli=("path",), args=("{reg}", "{a}", "{b}"), options=_json_out("path")),
    Measure(f"network page ({PAGE_NODES:,} nodes)", cli=("viz", "network"), args=("{reg}", "{page}"),
            options=(("--out", "{tmp}/network.html"), ("--max-nodes", str(PAGE_NODES)), ("--members", None),
                     ("--as-of", "{as_of}"))),
    Measure("briefing folder", cli=("brief",), args=("{reg}",),
            options=(("--out", "{tmp}/brief"), ("--as-of", "{as_of}"))),
    Measure(f"add-member ×{ADD_MEMBER_CHECKS:,}", snippet=ADD_MEMBER, args=("{reg}", str(ADD_MEMBER_CHECKS), "{as_of}"),
            sizes=("M",)),
)


@dataclass
class Result:
    name: str
    wall: float | None = None
    cpu: float | None = None
    peak_mb: float | None = None
    note: str = ""
    status: str = "ok"  # ok, not available, failed, skipped
    extra: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------- running


def cli_command() -> list[str]:
    """The installed ``consortia`` command next to this Python, as a user runs it."""
    script = Path(sys.executable).with_name("consortia")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from consortia.cli.entry import run; run()"]


def _tree(pid: int) -> list[int]:
    """``pid`` and every process it started that still runs (Linux's /proc)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children", encoding="ascii") as fh:
                todo.extend(int(c) for c in fh.read().split())
        except OSError:
            pass
    return out


def _pss_mb(pids: Sequence[int]) -> float:
    """Proportional set size of ``pids`` together: pages they share are counted once."""
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup", encoding="ascii") as fh:
                total += next((int(line.split()[1]) for line in fh if line.startswith("Pss:")), 0)
        except (OSError, ValueError):
            pass
    return total / 1024


#: How often the memory of a command and the processes it forks is sampled.
SAMPLE_SECONDS = 0.25


def run(argv: Sequence[str], *, cwd: Path | None = None) -> tuple[int, float, float, float, str, str]:
    """Run ``argv``; return (exit code, wall s, CPU s, peak MB, stdout, stderr).

    ``os.wait4`` gives the resources of this child alone (``RUSAGE_CHILDREN`` would
    give the largest child so far), including the CPU time of any process it forked
    and waited for, but only the largest of their peaks. So that a command that
    forks (``check`` runs half its rules in a copy of itself) is not reported at
    the size of its largest process, the memory of the whole process tree is also
    sampled (PSS, shared pages counted once) every :data:`SAMPLE_SECONDS`, where
    /proc allows; the peak is the larger of the two."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdout=out, stderr=err, cwd=cwd)
        tree_peak = [0.0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(SAMPLE_SECONDS):
                pids = _tree(proc.pid)
                if len(pids) > 1:  # one process alone: wait4's peak is exact
                    tree_peak[0] = max(tree_peak[0], _pss_mb(pids))

        sampler = threading.Thread(target=sample, daemon=True)
        if sys.platform.startswith("linux"):
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        done.set()
        if sampler.is_alive():
            sampler.join()
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        peak = usage.ru_maxrss / 1024  # kilobytes on Linux
        if sys.platform == "darwin":
            peak /= 1024  # bytes on macOS
        return (proc.returncode, wall, usage.ru_utime + usage.ru_stime, max(peak, tree_peak[0]),
                out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))


_HELP: dict[tuple[str, ...], str | None] = {}


def help_text(cli: tuple[str, ...]) -> str | None:
    """The command's ``--help``, or None when the installed consortia lacks it."""
    if cli not in _HELP:
        code, _, _, _, out, _ = run([*cli_command(), *cli, "--help"])
        _HELP[cli] = out if code == 0 else None
    return _HELP[cli]


def build_argv(m: Measure, values: dict[str, str], help_: str | None) -> list[str]:
    def fill(s: str) -> list[str]:
        if s == "{page}":
            return [x for cid in values["page"].split(",") if cid for x in ("-c", cid)]
        return [s.format(**values)]

    args = [x for a in m.args for x in fill(a)]
    if m.snippet is not None:
        return [sys.executable, "-c", m.snippet, *args]
    opts: list[str] = []
    for flag, value in m.options:
        if help_ is not None and flag not in help_:
            continue  # this version of the command has no such option
        opts.append(flag)
        if value is not None:
            opts.extend(fill(value))
    return [*cli_command(), *(m.cli or ()), *args, *opts]


def measure(m: Measure, values: dict[str, str], repeat: int) -> Result:
    help_ = None
    if m.cli is not None:
        help_ = help_text(m.cli)
        if help_ is None:
            return Result(m.name, status="not available")
    argv = build_argv(m, values, help_)
    runs: list[Result] = []
    for _ in range(repeat):
        code, wall, cpu, peak, out, err = run(argv)
        if code not in m.ok_exit:
            tail = (err.strip().splitlines() or ["(no output)"])[-1][:160]
            return Result(m.name, wall, cpu, peak, f"exit {code}: {tail}", status="failed")
        info: dict[str, object] = {}
        for line in reversed(out.strip().splitlines()):
            try:
                info = json.loads(line)
                break
            except ValueError:
                continue
        r = Result(m.name, wall, cpu, peak, str(info.get("note", "")) if isinstance(info, dict) else "")
        for key in ("seconds", "rate"):
            if isinstance(info, dict) and isinstance(info.get(key), (int, float)):
                r.extra[key] = float(info[key])  # type: ignore[arg-type]
        runs.append(r)
    # The fastest run; for a rate, the run with the highest rate (its own timing, not the process's).
    best = max(runs, key=lambda r: r.extra["rate"]) if all("rate" in r.extra for r in runs) else \
        min(runs, key=lambda r: r.wall or 0.0)
    best.peak_mb = max(r.peak_mb or 0.0 for r in runs)  # memory: the worst run
    if len(runs) > 1:
        best.note = (best.note + f" (best of {len(runs)}; worst {max(r.wall or 0.0 for r in runs):.2f} s)").strip()
    return best


# ---------------------------------------------------------------- the registries


def size_of(size: str) -> tuple[int, int]:
    """(consortia, seed) of a size name: S, M, L or N<consortia>."""
    return SIZES[size] if size in SIZES else (int(size[1:]), 1)


def ensure_registry(data_dir: Path, size: str) -> Path:
    """The registry of ``size``, generated once by ``consortia generate`` and reused."""
    n, seed = size_of(size)
    folder = data_dir / f"{size}-{n}-seed{seed}"
    marker = folder / ".complete"
    if marker.exists():
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    print(f"generating {size} ({n:,} consortia, seed {seed}) in {folder} …", flush=True)
    code, wall, _, peak, out, err = run([*cli_command(), "generate", "--consortia", str(n), "--seed", str(seed),
                                         "--out", str(folder)])
    if code != 0:
        raise SystemExit(f"consortia generate failed: {err.strip()[-500:]}")
    marker.write_text(json.dumps({"seconds": wall, "peak_mb": peak, "output": out.strip()}), encoding="utf-8")
    return folder


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def registry_facts(folder: Path) -> dict[str, str]:
    """Counts, two units joined through a shared member (for ``path``) and the consortia of
    a view of about PAGE_NODES nodes (for the network page); cached next to the registry.

    Worked out in a child process: Linux gives a program the memory high-water mark of
    the process that started it, so three million rows read here made every later
    measurement report at least their 1.8 GB."""
    cache = folder / ".facts.json"
    if not cache.exists():
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--facts", str(folder)], check=True)
    return json.loads(cache.read_text(encoding="utf-8"))


def _write_facts(folder: Path) -> None:
    """The body of :func:`registry_facts`, in the child."""
    cache = folder / ".facts.json"
    # In force on AS_OF, as consortia.state counts (the generator writes ISO dates, which compare as text).
    live = {r["consortium_id"] for r in _rows(folder / "consortia.csv")
            if r.get("status", "") in ("active", "rectifying", "") and r.get("recognized_on", "") <= AS_OF}
    members = [r for r in _rows(folder / "memberships.csv")
               if r["consortium_id"] in live and r.get("joined_on", "") <= AS_OF
               and (not r.get("left_on") or r["left_on"] > AS_OF)]
    by_cons: dict[str, list[str]] = {}
    by_unit: dict[str, list[str]] = {}
    for r in members:
        by_cons.setdefault(r["consortium_id"], []).append(r["uscc"])
        by_unit.setdefault(r["uscc"], []).append(r["consortium_id"])
    a = b = ""
    for broker, cons in sorted(by_unit.items()):  # a unit in two consortia links a member of each
        if len(set(cons)) >= 2:
            x, y = sorted(set(cons))[:2]
            a = next((u for u in by_cons[x] if u != broker and y not in by_unit[u]), "")
            b = next((u for u in by_cons[y] if u != broker and x not in by_unit[u]), "")
            if a and b:
                break
    page: list[str] = []
    seen: set[str] = set()
    for cid, units in sorted(by_cons.items()):
        if len(seen) + len(page) >= PAGE_NODES:
            break
        page.append(cid)
        seen.update(units)
    with open(folder / "units.csv", encoding="utf-8-sig") as fh:
        n_units = sum(1 for _ in fh) - 1
    with open(folder / "consortia.csv", encoding="utf-8-sig") as fh:
        n_cons = sum(1 for _ in fh) - 1
    with open(folder / "memberships.csv", encoding="utf-8-sig") as fh:
        n_mem = sum(1 for _ in fh) - 1
    facts = {"a": a, "b": b, "page": ",".join(page), "page_nodes": str(len(seen) + len(page)),
             "units": str(n_units), "consortia": str(n_cons), "memberships": str(n_mem)}
    cache.write_text(json.dumps(facts), encoding="utf-8")


# ---------------------------------------------------------------- reporting


def machine() -> str:
    mem = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            kb = int(next(line for line in fh if line.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = []
    for mod in ("pandas", "numpy", "networkx"):
        try:
            versions.append(f"{mod} {__import__(mod).__version__}")
        except ImportError:
            pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = f"; load average at start {os.getloadavg()[0]:.1f}"
    return (f"{cpu}, {os.cpu_count()} cores{mem}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, {', '.join(versions)}{load}")


def _cell(r: Result, floor: float | None) -> str:
    if r.status != "ok":
        return r.status if r.status != "failed" else f"failed ({r.note})"
    if "rate" in r.extra:
        return f"{r.extra['rate']:,.0f}/s"
    ratio = f"{r.wall / floor:.1f}×" if floor and r.name != "pandas floor" else "1.0×"
    return f"{r.wall:.2f} s ({ratio}, {r.peak_mb:,.0f} MB)"


def report(results: dict[str, list[Result]], facts: dict[str, dict[str, str]], markdown: bool) -> str:
    sizes = list(results)
    floors = {s: next((r.wall for r in results[s] if r.name == "pandas floor" and r.status == "ok"), None)
              for s in sizes}
    lines = []
    if markdown:
        head = [f"{s}: {int(facts[s]['consortia']):,} consortia, {int(facts[s]['units']):,} units, "
                f"{int(facts[s]['memberships']):,} memberships" for s in sizes]
        lines.append("| measurement | " + " | ".join(head) + " |")
        lines.append("|---|" + "---|" * len(sizes))
        names = list(dict.fromkeys(r.name for s in sizes for r in results[s]))
        for name in names:
            cells = []
            for s in sizes:
                r = next((x for x in results[s] if x.name == name), None)
                cells.append("–" if r is None else _cell(r, floors[s]))
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append("Time is wall-clock for the whole process (the best of the runs), the ratio is to the "
                     "pandas floor of the same size, memory is the process's peak RSS (with a forked "
                     "copy, as check makes, both processes' sampled PSS together when that is larger).")
        lines.append(f"Machine: {machine()}.")
        return "\n".join(lines)
    for s in sizes:
        f = facts[s]
        lines.append(f"\n== {s}: {int(f['consortia']):,} consortia, {int(f['units']):,} units, "
                     f"{int(f['memberships']):,} memberships (page view: {int(f['page_nodes']):,} nodes)")
        lines.append(f"{'measurement':34s} {'wall s':>8s} {'cpu s':>8s} {'x floor':>8s} {'peak MB':>9s}  note")
        for r in results[s]:
            if r.status != "ok":
                lines.append(f"{r.name:34s} {r.status}{(': ' + r.note) if r.note else ''}")
                continue
            ratio = r.wall / floors[s] if floors[s] else float("nan")
            lines.append(f"{r.name:34s} {r.wall:8.2f} {r.cpu:8.2f} {ratio:8.1f} {r.peak_mb:9,.0f}  {r.note}")
        mem = int(f["memberships"])
        check = next((r for r in results[s] if r.name == "check" and r.status == "ok"), None)
        if check is not None and mem:
            lines.append(f"check per 100,000 memberships: {check.wall / mem * 1e5:.2f} s wall, "
                         f"{check.cpu / mem * 1e5:.2f} s CPU")
    lines.append(f"\nMachine: {machine()}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="S,M",
                        help="Comma-separated sizes among S, M, L, or numbers of consortia (default S,M).")
    parser.add_argument("--data-dir", type=Path, default=Path("bench-data"),
                        help="Where generated registries are cached (default ./bench-data).")
    parser.add_argument("--repeat", type=int, default=None,
                        help="Runs per measurement, the fastest kept (default 3; 1 for L).")
    parser.add_argument("--only", default="", help="Comma-separated measurement names (prefixes) to run.")
    parser.add_argument("--markdown", action="store_true", help="Print the README table.")
    parser.add_argument("--facts", type=Path, default=None, help=argparse.SUPPRESS)  # registry_facts' child
    args = parser.parse_args(argv)
    if args.facts is not None:
        _write_facts(args.facts)
        return 0
    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    sizes = [f"N{int(s)}" if s.isdigit() else s for s in sizes]
    unknown = [s for s in sizes if s not in SIZES and not (s.startswith("N") and s[1:].isdigit() and int(s[1:]) > 0)]
    if unknown:
        parser.error(f"unknown size(s) {', '.join(unknown)}; choose among {', '.join(SIZES)} or a number of consortia")
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    args.data_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, list[Result]] = {}
    facts: dict[str, dict[str, str]] = {}
    for size in sizes:
        folder = ensure_registry(args.data_dir, size)
        facts[size] = registry_facts(folder)
        repeat = args.repeat or (1 if size_of(size)[0] >= 100_000 else 3)
        results[size] = []
        with tempfile.TemporaryDirectory(prefix=f"bench-{size}-") as tmp:
            values = {**facts[size], "reg": str(folder), "tmp": tmp, "as_of": AS_OF}
            for m in MEASURES:
                if m.sizes is not None and size not in m.sizes:
                    continue
                if wanted and m.name != "pandas floor" and not any(m.name.startswith(w) for w in wanted):
                    continue
                r = measure(m, values, repeat)
                results[size].append(r)
                shown = (f"{r.wall:.2f} s wall, {r.cpu:.2f} s CPU, {r.peak_mb:,.0f} MB"
                         if r.status == "ok" else r.status)
                print(f"[{size}] {m.name}: {shown} {r.note}", file=sys.stderr, flush=True)
    print(report(results, facts, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
