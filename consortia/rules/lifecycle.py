"""Rules over time: agreements, chief experts, terms, evaluations, rectification, reports, sanctions, legal status, bans.

Everything time-based is read as of ``ctx.as_of``: terms run from
``recognized_on``, evaluation cycles from the last evaluation (or
recognition), rectification periods from the rectify grade, report deadlines
from each rulebook's ``due_month``/``due_day``/``year_offset``, and agreements,
sanctions, revocations, submissions and evaluations dated after the as-of date
have not happened yet. Only consortium records in force on the as-of date are checked,
except REVOKE_GRADE (a record graded revoke whose status still is not revoked
or terminated) and LEAD_BAN (which reads revoked records to ban their leads).

A record directly recognised from another (``recognized_from``) is the same
body: it sees the evaluations of the records it was recognised from
(Nanning 第十三条: 以自治区科技厅考核结果为准) and may rely on their agreement
and chief expert.

Which moment is a breach, per rule (the boundary days the tests pin down):

* TERM_ENDED and EVALUATION_DUE: from the anniversary itself (the term has
  run, three full years have passed);
* ANNUAL_REPORT_MISSING: from the day after the due date (due on or before);
* RECTIFICATION_OVERDUE: from the day after the first anniversary of the
  grade (more than one year has passed);
* CREDIT_SANCTION: while ``credit_blacklist_until`` is on or after the as-of date
  (失信惩戒期至 names the sanction's last day, as 有效期至 names a text's);
* LEAD_BAN: a consortium recognised on or after the revocation and before its
  third anniversary.

:func:`deadlines` lists the same obligations before they fall due.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from ..findings import Finding
from ..registry import Registry
from ..schema import DATE_DTYPE
from ..state import active_memberships, as_timestamp
from .engine import Context, finding, register, unchecked
from .labels import consortium_label as _cons_label
from .labels import iso as _iso
from .labels import listing, unit_label
from .rulebook import Rule, Rulebook, Rulebooks, load_rulebooks

__all__ = ["deadlines"]


def _unit_label(uscc: str, name: object) -> str:
    return unit_label(name, uscc)

Scoped = list[tuple[Rulebook, Rule]]

#: Consortium statuses that end a record (REVOKE_GRADE asks for one of these).
ENDED_STATUSES = ("revoked", "terminated")
#: Grades that close an earlier rectify grade when given later.
BETTER_GRADES = ("excellent", "good", "pass")
#: Legal statuses under which a unit is no longer an (independent) legal person.
TERMINATED_LEGAL = ("deregistered", "revoked")
#: The canonical consortium columns the rules read.
CONSORTIUM_COLUMNS = ("consortium_id", "name", "jurisdiction", "recognized_on", "agreement_signed_on", "chief_expert",
                      "status", "revoked_on", "revoked_reason", "recognized_from", "exemption")
#: How many units a message names before it says "and N more".
NAMES_SHOWN = 5


# ---------------------------------------------------------------- helpers




def _text(s: pd.Series) -> pd.Series:
    return s.fillna("").astype(str).str.strip()


def _present(s: pd.Series, as_of: pd.Timestamp | None = None) -> pd.Series:
    """Non-empty cells of a text or date column; with ``as_of``, dates on or before it only
    (an agreement signed after the as-of date had not been signed on it)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.notna() if as_of is None else s.notna() & (s <= as_of)
    return _text(s) != ""


def _lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """``values`` (unique index) looked up for each of ``keys``, keeping the dtype (NaT for
    dates not found; ``Series.map`` loses it when nothing matches)."""
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index)


def _plus_years(s: pd.Series, years: int) -> pd.Series:
    """The anniversary ``years`` on (29 February falls back to the 28th)."""
    return s + pd.DateOffset(years=years)




def _scope(ctx: Context, book: Rulebook) -> pd.DataFrame:
    """Consortium records of ``book``'s jurisdiction in force on the as-of date
    (computed once per jurisdiction and run; callers derive, never modify)."""
    key = f"lifecycle:scope:{book.jurisdiction}"
    if key not in ctx.cache:
        cons = ctx.in_force()
        ctx.cache[key] = _slim(cons[(cons["jurisdiction"] == book.jurisdiction).to_numpy()])
    return ctx.cache[key]


def _slim(cons: pd.DataFrame) -> pd.DataFrame:
    """The consortium columns the rules read, ``_row`` as ``src_row`` (itertuples drops leading underscores)."""
    return cons[[*CONSORTIUM_COLUMNS, "body_id", "_row"]].rename(columns={"_row": "src_row"})


def _column_absent(reg: Registry, table: str, column: str) -> bool:
    """True when the source had ``table`` but no column for ``column`` (not merely empty cells)."""
    info = reg.sources.get(table)
    return info is not None and bool(info.headers) and column not in info.headers


def _units_column_absent(ctx: Context, scoped: Scoped, column: str) -> list[Finding] | None:
    """When the units table has no ``column`` at all: one not-checkable finding per
    jurisdiction (the rule stops there); None when the column is present."""
    if not _column_absent(ctx.registry, "units", column):
        return None
    return [f for book, rule in scoped
            for f in _not_checkable(ctx, book, rule, _scope(ctx, book), [f"the units column {column}"])]


def _not_checkable(ctx: Context, book: Rulebook, rule: Rule, cons: pd.DataFrame, missing: list[str]) -> list[Finding]:
    """One info finding for the whole jurisdiction when a table or column is absent
    (none when the jurisdiction has nothing to check)."""
    if cons.empty:
        return []
    n = len(cons)
    what = f"the {n} {book.name_en} consortium record{'s' if n != 1 else ''} in force"
    return [unchecked(ctx, book, rule, what, missing)]


def _undated(ctx: Context, book: Rulebook, rule: Rule, rows: pd.DataFrame, note: str = "") -> list[Finding]:
    """Not-checkable findings for consortium records without ``recognized_on``: one each, or
    one for the jurisdiction when the source has no such column at all."""
    if _column_absent(ctx.registry, "consortia", "recognized_on"):
        return _not_checkable(ctx, book, rule, rows, ["the consortia column recognized_on"])
    return [unchecked(ctx, book, rule, f"consortium {_cons_label(r.consortium_id, r.name)}{note}", ["recognized_on"],
                      consortium_id=r.consortium_id, row=int(r.src_row)) for r in rows.itertuples(index=False)]


def _absent_tables(ctx: Context, *tables: str) -> list[str]:
    return [f"the {t} table" for t in tables if not ctx.registry.has(t)]


def _checkable(ctx: Context, scoped: Scoped, out: list[Finding], *tables: str,
               select: Callable[[Context, Rulebook], pd.DataFrame] | None = None,
               ) -> Iterator[tuple[Rulebook, Rule, pd.DataFrame]]:
    """Each (rulebook, rule, records) whose needed ``tables`` the registry has; for
    the others, the one not-checkable finding per jurisdiction goes to ``out``."""
    for book, rule in scoped:
        cons = (select or _scope)(ctx, book)
        missing = _absent_tables(ctx, *tables)
        if missing:
            out.extend(_not_checkable(ctx, book, rule, cons, missing))
            continue
        yield book, rule, cons


def _lineage(consortia: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    """(consortium_id, source_id): each record in ``ids`` with itself and every record
    it was recognised from, directly or through others (``depth`` 0 is itself)."""
    ids = ids.to_numpy(dtype=object)
    frm = _text(consortia["recognized_from"])
    linked = frm != ""
    parent = pd.Series(frm[linked].to_numpy(), index=consortia["consortium_id"][linked].to_numpy())
    cur = pd.DataFrame({"consortium_id": ids, "source_id": ids, "depth": 0})
    parts = [cur]
    for depth in range(1, len(parent) + 1):  # the loader rejects cycles; the bound is a guard
        nxt = cur["source_id"].map(parent)
        keep = nxt.notna().to_numpy()
        if not keep.any():
            break
        cur = pd.DataFrame({"consortium_id": cur["consortium_id"].to_numpy()[keep],
                            "source_id": nxt.to_numpy()[keep], "depth": depth})
        parts.append(cur)
    return pd.concat(parts, ignore_index=True)


def _lineage_of(ctx: Context, ids: pd.Series) -> pd.DataFrame:
    """:func:`_lineage` of ``ids`` (records of the registry, in its order), cut from the
    lineage of every record, which is computed once per run."""
    if "lifecycle:lineage" not in ctx.cache:
        allc = ctx.registry.consortia
        ctx.cache["lifecycle:lineage"] = _lineage(allc, allc["consortium_id"])
    full = ctx.cache["lifecycle:lineage"]
    return full[full["consortium_id"].isin(ids).to_numpy()].reset_index(drop=True)


def _evaluations(ctx: Context, ids: pd.Series) -> pd.DataFrame:
    """Evaluations on or before the as-of date that each record sees: its own and those of
    the records it was recognised from (``source_id`` says whose)."""
    ev = ctx.registry.table("evaluations")
    ev = ev[ev["evaluated_on"].notna() & (ev["evaluated_on"] <= ctx.as_of)]
    ev = ev[["consortium_id", "evaluated_on", "grade", "rectification_passed_on", "_row"]].rename(columns={"_row": "src_row"})
    lin = _lineage_of(ctx, ids)
    return lin.merge(ev.rename(columns={"consortium_id": "source_id"}), on="source_id", how="inner")


def _inherited(ctx: Context, cons: pd.DataFrame, column: str) -> pd.Series:
    """Whether each record, or one it was recognised from, has ``column`` filled in."""
    allc = ctx.registry.consortia
    lin = _lineage_of(ctx, cons["consortium_id"])
    has = pd.Series(_present(allc[column], ctx.as_of).to_numpy(), index=allc["consortium_id"].to_numpy())
    got = lin["source_id"].map(has).fillna(False).astype(bool).groupby(lin["consortium_id"]).any()
    return cons["consortium_id"].map(got).fillna(False).astype(bool)


def _whose(source_id: str, consortium_id: str) -> str:
    """Names the record an evaluation belongs to when it is not the checked record itself."""
    return "" if source_id == consortium_id else f" (an evaluation of {source_id}, the record it was recognised from)"


def _names(ctx: Context) -> pd.Series:
    return ctx.registry.units.set_index("uscc")["name"]


# ---------------------------------------------------------------- formation


def _must_have(ctx: Context, scoped: Scoped, column: str, what: str, where: str) -> list[Finding]:
    out: list[Finding] = []
    for book, rule in scoped:
        cons = _scope(ctx, book)
        if _column_absent(ctx.registry, "consortia", column):
            out.extend(_not_checkable(ctx, book, rule, cons, [f"the consortia column {column}"]))
            continue
        bad = cons[~_inherited(ctx, cons, column)]
        for r, value in zip(bad.itertuples(index=False), bad[column].tolist(), strict=True):
            later = isinstance(value, pd.Timestamp) and not pd.isna(value)  # dated after the as-of date
            missing = (f"{column} is {_iso(value)}, after the as-of date {_iso(ctx.as_of)}" if later
                       else f"{column} is empty")
            details = {"recognized_on": _iso(r.recognized_on), "as_of": _iso(ctx.as_of)}
            if later:
                details[column] = _iso(value)
            out.append(finding(
                ctx, book, rule,
                f"Consortium {_cons_label(r.consortium_id, r.name)}, recognised on "
                f"{_iso(r.recognized_on) or 'an unrecorded date'}, has no {what} ({missing}); "
                f"the {book.name_en} text requires one {where}.",
                consortium_id=r.consortium_id, row=int(r.src_row), exemption=r.exemption,
                details=details,
            ))
    return out


@register("AGREEMENT")
def agreement(ctx: Context, scoped: Scoped) -> list[Finding]:
    return _must_have(ctx, scoped, "agreement_signed_on", "signed formation agreement (组建协议)", "for formation")


@register("CHIEF_EXPERT")
def chief_expert(ctx: Context, scoped: Scoped) -> list[Finding]:
    return _must_have(ctx, scoped, "chief_expert", "chief expert (首席专家)", "to be appointed")


# ---------------------------------------------------------------- terms


def _term_ends(cons: pd.DataFrame, rule: Rule) -> pd.Series:
    return _plus_years(cons["recognized_on"], int(rule.params.get("years", 3)))


@register("TERM_ENDED")
def term_ended(ctx: Context, scoped: Scoped) -> list[Finding]:
    out: list[Finding] = []
    for book, rule in scoped:
        cons = _scope(ctx, book)
        years = int(rule.params.get("years", 3))
        out.extend(_undated(ctx, book, rule, cons[cons["recognized_on"].isna()]))
        ends = _term_ends(cons, rule)
        bad = cons.assign(end_on=ends)[ends.notna() & (ends <= ctx.as_of)]
        for r in bad.itertuples(index=False):
            status = r.status or "not recorded"
            out.append(finding(
                ctx, book, rule,
                f"Consortium {_cons_label(r.consortium_id, r.name)} was recognised on {_iso(r.recognized_on)}; its "
                f"{years}-year term under the {book.name_en} text ended on {_iso(r.end_on)}, yet as of {_iso(ctx.as_of)} "
                f"its status is still {status} (it should read terminated, or be renewed).",
                consortium_id=r.consortium_id, row=int(r.src_row), exemption=r.exemption,
                details={"recognized_on": _iso(r.recognized_on), "term_ended_on": _iso(r.end_on), "years": years,
                         "status": r.status, "as_of": _iso(ctx.as_of)},
            ))
    return out


# ---------------------------------------------------------------- evaluations


def _evaluation_schedule(ctx: Context, cons: pd.DataFrame, rule: Rule) -> pd.DataFrame:
    """Per record: the last evaluation it sees and when the next one is due."""
    every = int(rule.params.get("every_years", 3))
    first = int(rule.params.get("first_after_years", every))
    ev = _evaluations(ctx, cons["consortium_id"])
    last = ev.sort_values(["evaluated_on", "depth"], ascending=[True, False]).drop_duplicates("consortium_id", keep="last")
    last = last.set_index("consortium_id")
    out = cons[["consortium_id", "name", "recognized_on", "exemption", "src_row"]].copy()
    out["last_on"] = _lookup(out["consortium_id"], last["evaluated_on"])
    out["last_source"] = out["consortium_id"].map(last["source_id"])
    has = out["last_on"].notna()
    out["due_on"] = _plus_years(out["last_on"], every).where(has, _plus_years(out["recognized_on"], first))
    out["first"] = ~has
    return out


@register("EVALUATION_DUE")
def evaluation_due(ctx: Context, scoped: Scoped) -> list[Finding]:
    out: list[Finding] = []
    for book, rule, cons in _checkable(ctx, scoped, out, "evaluations"):
        every = int(rule.params.get("every_years", 3))
        first = int(rule.params.get("first_after_years", every))
        s = _evaluation_schedule(ctx, cons, rule)
        out.extend(_undated(ctx, book, rule, s[s["due_on"].isna()], " (no evaluation recorded)"))
        bad = s[s["due_on"].notna() & (s["due_on"] <= ctx.as_of)]
        for r in bad.itertuples(index=False):
            label = _cons_label(r.consortium_id, r.name)
            if r.first:
                why = (f"was recognised on {_iso(r.recognized_on)} and has no evaluation recorded; its first evaluation "
                       f"became due once {first} years had passed, on {_iso(r.due_on)}")
            else:
                whose = _whose(r.last_source, r.consortium_id)
                why = (f"was last evaluated on {_iso(r.last_on)}{whose}; the next evaluation became due {every} years later, "
                       f"on {_iso(r.due_on)}, and none is recorded")
            out.append(finding(
                ctx, book, rule, f"Consortium {label} {why} (as of {_iso(ctx.as_of)}).",
                consortium_id=r.consortium_id, row=int(r.src_row), exemption=r.exemption,
                details={"recognized_on": _iso(r.recognized_on), "last_evaluated_on": _iso(r.last_on),
                         "due_on": _iso(r.due_on), "as_of": _iso(ctx.as_of)},
            ))
    return out


def _open_rectifications(ctx: Context, cons: pd.DataFrame, rule: Rule) -> pd.DataFrame:
    """Rectify grades each record sees that are neither accepted nor closed by a later,
    better grade as of the as-of date, with the end of their period (``ends_on``)."""
    period = int(rule.params.get("period_years", 1))
    ev = _evaluations(ctx, cons["consortium_id"])
    better = ev[ev["grade"].isin(BETTER_GRADES)].groupby("consortium_id")["evaluated_on"].max()
    rect = ev[ev["grade"] == "rectify"].copy()
    passed = rect["rectification_passed_on"].notna() & (rect["rectification_passed_on"] <= ctx.as_of)
    closed = _lookup(rect["consortium_id"], better) > rect["evaluated_on"]
    rect = rect[~passed & ~closed.fillna(False).astype(bool)]
    rect["ends_on"] = _plus_years(rect["evaluated_on"], period)
    info = cons.set_index("consortium_id")[["name", "exemption"]]
    return rect.join(info, on="consortium_id")


@register("RECTIFICATION_OVERDUE")
def rectification_overdue(ctx: Context, scoped: Scoped) -> list[Finding]:
    out: list[Finding] = []
    for book, rule, cons in _checkable(ctx, scoped, out, "evaluations"):
        period = int(rule.params.get("period_years", 1))
        rect = _open_rectifications(ctx, cons, rule)
        for r in rect[rect["ends_on"] < ctx.as_of].itertuples(index=False):
            whose = _whose(r.source_id, r.consortium_id)
            out.append(finding(
                ctx, book, rule,
                f"Consortium {_cons_label(r.consortium_id, r.name)} was graded rectify on {_iso(r.evaluated_on)}{whose}; "
                f"the {period}-year rectification period ended on {_iso(r.ends_on)} and no passed acceptance "
                f"(rectification_passed_on) is recorded as of {_iso(ctx.as_of)}.",
                consortium_id=r.consortium_id, table="evaluations", row=int(r.src_row), exemption=r.exemption,
                details={"evaluated_on": _iso(r.evaluated_on), "period_ended_on": _iso(r.ends_on),
                         "evaluation_of": r.source_id, "as_of": _iso(ctx.as_of)},
            ))
    return out


@register("REVOKE_GRADE")
def revoke_grade(ctx: Context, scoped: Scoped) -> list[Finding]:
    out: list[Finding] = []
    allc = ctx.registry.consortia
    def unended(_ctx: Context, book: Rulebook) -> pd.DataFrame:
        return _slim(allc[(allc["jurisdiction"] == book.jurisdiction) & ~allc["status"].isin(ENDED_STATUSES)])

    for book, rule, cons in _checkable(ctx, scoped, out, "evaluations", select=unended):
        ev = _evaluations(ctx, cons["consortium_id"])
        ev = ev[ev["grade"] == "revoke"].sort_values(["evaluated_on", "depth"]).drop_duplicates("consortium_id")
        if ev.empty:
            continue
        hit = ev.join(cons.set_index("consortium_id")[["name", "exemption", "status"]], on="consortium_id")
        for r in hit.itertuples(index=False):
            whose = _whose(r.source_id, r.consortium_id)
            out.append(finding(
                ctx, book, rule,
                f"Consortium {_cons_label(r.consortium_id, r.name)} was graded revoke (撤销) on {_iso(r.evaluated_on)}{whose}, "
                f"which cancels its recognition, yet as of {_iso(ctx.as_of)} its status is {r.status or 'not recorded'}, "
                f"not revoked.",
                consortium_id=r.consortium_id, table="evaluations", row=int(r.src_row), exemption=r.exemption,
                details={"evaluated_on": _iso(r.evaluated_on), "evaluation_of": r.source_id, "status": r.status,
                         "as_of": _iso(ctx.as_of)},
            ))
    return out


# ---------------------------------------------------------------- annual reports


def _due_dates(years: np.ndarray, rule: Rule) -> np.ndarray:
    month, day = int(rule.params.get("due_month", 12)), int(rule.params.get("due_day", 31))
    offset = int(rule.params.get("year_offset", 0))
    uniq = np.unique(years)
    dates = np.array([np.datetime64(dt.date(int(y) + offset, month, day), "us") for y in uniq], dtype=DATE_DTYPE)
    return dates[np.searchsorted(uniq, years)] if len(years) else np.array([], dtype=DATE_DTYPE)


def _report_years(ctx: Context, cons: pd.DataFrame, rule: Rule, until: pd.Timestamp) -> pd.DataFrame:
    """Every (record, year reported on) owed by ``until``: years from the year of
    recognition whose due date is on or before ``until``, with the report's row
    and ``state``: missing (no row, or submitted after the as-of date), unknown
    (a row without submitted_on), late, or on_time."""
    month, day = int(rule.params.get("due_month", 12)), int(rule.params.get("due_day", 31))
    offset = int(rule.params.get("year_offset", 0))
    last_year = until.year - offset - (0 if (month, day) <= (until.month, until.day) else 1)
    rec = cons["recognized_on"]
    first_year = rec.dt.year.fillna(last_year + 1).astype(int).to_numpy()
    n = np.clip(last_year - first_year + 1, 0, None)
    idx = np.repeat(np.arange(len(cons)), n)
    years = np.repeat(first_year, n) + (np.arange(len(idx)) - np.repeat(np.cumsum(n) - n, n))
    owed = pd.DataFrame({
        "consortium_id": cons["consortium_id"].to_numpy()[idx],
        "name": cons["name"].to_numpy()[idx],
        "recognized_on": rec.to_numpy()[idx],
        "exemption": cons["exemption"].to_numpy()[idx],
        "year": years.astype(int),
        "due_on": _due_dates(years, rule),
    })
    reps = ctx.registry.table("annual_reports")
    reps = reps[reps["year"].notna()][["consortium_id", "year", "submitted_on", "_row"]].rename(columns={"_row": "src_row"})
    reps = reps.assign(year=reps["year"].astype(int))
    owed = owed.merge(reps, on=["consortium_id", "year"], how="left", indicator=True)
    sub = owed["submitted_on"]
    row = owed["_merge"] == "both"
    state = np.select(
        [~row | (sub > ctx.as_of), sub.isna(), sub > owed["due_on"]],
        ["missing", "unknown", "late"], default="on_time")
    return owed.drop(columns="_merge").assign(state=state)


@register("ANNUAL_REPORT_MISSING")
def annual_report_missing(ctx: Context, scoped: Scoped) -> list[Finding]:
    out: list[Finding] = []
    for book, rule, cons in _checkable(ctx, scoped, out, "annual_reports"):
        out.extend(_undated(ctx, book, rule, cons[cons["recognized_on"].isna()]))
        owed = _report_years(ctx, cons, rule, ctx.as_of - pd.Timedelta(days=1))
        unknown = owed[owed["state"] == "unknown"]
        for cid, g in unknown.groupby("consortium_id", sort=True):
            years = ", ".join(str(y) for y in g["year"])
            out.append(unchecked(ctx, book, rule, f"consortium {_cons_label(cid, g['name'].iloc[0])}'s annual reports on {years}",
                                 ["annual_reports.submitted_on"], consortium_id=cid, table="annual_reports",
                                 row=int(g["src_row"].iloc[0])))
        for r in owed[owed["state"].isin(["missing", "late"])].itertuples(index=False):
            label = _cons_label(r.consortium_id, r.name)
            if r.state == "missing":
                msg = (f"Consortium {label} has no annual report on {r.year} submitted as of {_iso(ctx.as_of)}; "
                       f"it was due by {_iso(r.due_on)}.")
                row, table = None, "consortia"
            else:
                msg = (f"Consortium {label} submitted its annual report on {r.year} on {_iso(r.submitted_on)}, late: "
                       f"it was due by {_iso(r.due_on)}.")
                row, table = int(r.src_row), "annual_reports"
            out.append(finding(
                ctx, book, rule, msg, consortium_id=r.consortium_id, table=table, row=row, exemption=r.exemption,
                details={"year": int(r.year), "due_on": _iso(r.due_on), "submitted_on": _iso(r.submitted_on)
                         if r.state == "late" else None, "late": r.state == "late", "as_of": _iso(ctx.as_of)},
            ))
    return out


# ---------------------------------------------------------------- members' standing


def _members_with(ctx: Context, column: str, units_mask: pd.Series) -> pd.DataFrame:
    """Active memberships (every jurisdiction) of the units selected by ``units_mask``, with
    the unit's name, ``column`` and row, and the consortium's name and exemption. Units are
    selected first, so that three million memberships are filtered once, never merged."""
    units = ctx.registry.units[units_mask][["uscc", "name", column, "_row"]]
    units = units.rename(columns={"name": "unit_name", "_row": "unit_row"})
    m = ctx.members
    m = m[m["uscc"].isin(units["uscc"])][["consortium_id", "uscc", "role", "jurisdiction"]]
    cons = ctx.registry.consortia[["consortium_id", "name", "exemption"]]
    return m.merge(units, on="uscc", how="left").merge(cons, on="consortium_id", how="left")


@register("CREDIT_SANCTION")
def credit_sanction(ctx: Context, scoped: Scoped) -> list[Finding]:
    absent = _units_column_absent(ctx, scoped, "credit_blacklist_until")
    if absent is not None:
        return absent
    out: list[Finding] = []
    until = ctx.registry.units["credit_blacklist_until"]
    # 惩戒期至 X: X is the sanction's last day, so on X the unit is 仍在惩戒期内.
    sanctioned = _members_with(ctx, "credit_blacklist_until", until.notna() & (until >= ctx.as_of))
    for book, rule in scoped:
        bad = sanctioned[sanctioned["jurisdiction"] == book.jurisdiction]
        for r in bad.sort_values(["consortium_id", "uscc"]).itertuples(index=False):
            out.append(finding(
                ctx, book, rule,
                f"Consortium {_cons_label(r.consortium_id, r.name)}: member {unit_label(r.unit_name, r.uscc)} "
                f"({r.role}) is under a dishonesty sanction until {_iso(r.credit_blacklist_until)}, still in force on "
                f"{_iso(ctx.as_of)}.",
                consortium_id=r.consortium_id, uscc=r.uscc, table="units",
                row=None if pd.isna(r.unit_row) else int(r.unit_row), exemption=r.exemption,
                details={"sanction_until": _iso(r.credit_blacklist_until), "role": r.role, "as_of": _iso(ctx.as_of)},
            ))
    return out


@register("LEGAL_STATUS")
def legal_status(ctx: Context, scoped: Scoped) -> list[Finding]:
    absent = _units_column_absent(ctx, scoped, "legal_status")
    if absent is not None:
        return absent
    out: list[Finding] = []
    known = ctx.registry.units["legal_status"].fillna("")
    sel = _members_with(ctx, "legal_status", (known == "") | known.isin(TERMINATED_LEGAL))
    sel = sel.assign(legal_status=sel["legal_status"].fillna(""))
    words = {"deregistered": "deregistered (注销)", "revoked": "revoked (吊销)"}
    for book, rule in scoped:
        m = sel[sel["jurisdiction"] == book.jurisdiction]
        for cid, g in m[m["legal_status"] == ""].sort_values("uscc").groupby("consortium_id", sort=True):
            who = [unit_label(n, u) for u, n in zip(g["uscc"], g["unit_name"], strict=True)]
            out.append(unchecked(ctx, book, rule, f"consortium {_cons_label(cid, g['name'].iloc[0])}: {listing(who)}",
                                 ["units.legal_status"], consortium_id=cid))
        bad = m[m["legal_status"].isin(TERMINATED_LEGAL)]
        for r in bad.sort_values(["consortium_id", "uscc"]).itertuples(index=False):
            out.append(finding(
                ctx, book, rule,
                f"Consortium {_cons_label(r.consortium_id, r.name)}: member {unit_label(r.unit_name, r.uscc)} ({r.role}) "
                f"is {words[r.legal_status]} and no longer a legal person, yet is still an active member as of "
                f"{_iso(ctx.as_of)}.",
                consortium_id=r.consortium_id, uscc=r.uscc, table="units",
                row=None if pd.isna(r.unit_row) else int(r.unit_row), exemption=r.exemption,
                details={"legal_status": r.legal_status, "role": r.role, "as_of": _iso(ctx.as_of)},
            ))
    return out


# ---------------------------------------------------------------- bans


@register("LEAD_BAN")
def lead_ban(ctx: Context, scoped: Scoped) -> list[Finding]:
    out: list[Finding] = []
    allc = ctx.registry.consortia
    ms = ctx.registry.memberships
    names = _names(ctx)
    for book, rule in scoped:
        years = int(rule.params.get("years", 3))
        gone = allc[(allc["jurisdiction"] == book.jurisdiction) & (allc["status"] == "revoked")]
        gone = gone[gone["revoked_on"].isna() | (gone["revoked_on"] <= ctx.as_of)]
        if gone.empty:
            continue
        led = ms[(ms["role"] == "lead") & ms["consortium_id"].isin(gone["consortium_id"])][
            ["consortium_id", "uscc", "joined_on", "left_on"]]
        led = led.merge(gone[["consortium_id", "body_id", "revoked_on", "revoked_reason", "name"]], on="consortium_id")
        d = led["revoked_on"]
        at_revocation = d.isna() | ((led["joined_on"].isna() | (led["joined_on"] <= d))
                                    & (led["left_on"].isna() | (led["left_on"] >= d)))
        led = led[at_revocation].rename(columns={"consortium_id": "revoked_id", "body_id": "revoked_body",
                                                 "name": "revoked_name"})
        now = ctx.members[(ctx.members["jurisdiction"] == book.jurisdiction) & (ctx.members["role"] == "lead")]
        now = now[["consortium_id", "uscc", "body_id", "recognized_on"]].drop_duplicates(["consortium_id", "uscc"])
        pair = now.merge(led.drop(columns=["joined_on", "left_on"]), on="uscc")
        pair = pair[(pair["consortium_id"] != pair["revoked_id"]) & (pair["body_id"] != pair["revoked_body"])]
        if pair.empty:
            continue
        info = allc.set_index("consortium_id")[["name", "exemption", "_row"]].rename(columns={"_row": "src_row"})
        pair = pair.join(info, on="consortium_id")
        pair["ban_ends_on"] = _plus_years(pair["revoked_on"], years)
        for r in pair[pair["revoked_on"].isna() | pair["recognized_on"].isna()].itertuples(index=False):
            missing = (["revoked_on of " + r.revoked_id] if pd.isna(r.revoked_on) else []) + (
                ["recognized_on"] if pd.isna(r.recognized_on) else [])
            out.append(unchecked(
                ctx, book, rule,
                f"consortium {_cons_label(r.consortium_id, r.name)} led by {_unit_label(r.uscc, names.get(r.uscc))}, "
                f"which led the revoked consortium {r.revoked_id}", missing,
                consortium_id=r.consortium_id, uscc=r.uscc, row=int(r.src_row)))
        hit = pair[(pair["recognized_on"] >= pair["revoked_on"]) & (pair["recognized_on"] < pair["ban_ends_on"])]
        for r in hit.sort_values(["consortium_id", "uscc", "revoked_on"]).itertuples(index=False):
            reason = f" (reason recorded: {r.revoked_reason})" if str(r.revoked_reason or "").strip() else ""
            out.append(finding(
                ctx, book, rule,
                f"{_unit_label(r.uscc, names.get(r.uscc))} leads consortium {_cons_label(r.consortium_id, r.name)}, "
                f"recognised on {_iso(r.recognized_on)}, but it led consortium {_cons_label(r.revoked_id, r.revoked_name)}, "
                f"revoked on {_iso(r.revoked_on)}{reason}, and may not lead another {book.name_en} consortium "
                f"formed before {_iso(r.ban_ends_on)} ({years} years).",
                consortium_id=r.consortium_id, uscc=r.uscc, row=int(r.src_row), exemption=r.exemption,
                details={"recognized_on": _iso(r.recognized_on), "revoked_consortium": r.revoked_id,
                         "revoked_on": _iso(r.revoked_on), "ban_ends_on": _iso(r.ban_ends_on),
                         "revoked_reason": r.revoked_reason or ""},
            ))
    return out


# ---------------------------------------------------------------- deadlines


def deadlines(registry: Registry, books: Rulebooks | None, as_of: dt.date | str | pd.Timestamp | None,
              within_days: int) -> list[dict[str, Any]]:
    """Obligations of consortium records in force that fall due within ``within_days``
    of ``as_of`` and are not yet breached: annual reports not yet submitted, the next
    evaluation, the acceptance of an open rectification, the end of a fixed term.

    Each is ``{consortium_id, jurisdiction, obligation, due_on (ISO), days_left,
    citation}``, soonest first. An obligation due on the as-of date itself is listed
    (days_left 0) when it is not yet a breach that day (reports, rectification); an
    evaluation or a term falling due that day is already a finding of ``check``.
    Evaluations and rectifications need the evaluations table and are skipped
    without it; report due dates are known without the annual_reports table, and
    then every report is taken as not yet submitted.
    """
    if within_days < 0:
        raise ValueError("within_days must be zero or more")
    books = books or load_rulebooks()
    ts = as_timestamp(as_of)
    horizon = ts + pd.Timedelta(days=within_days)
    ctx = Context(registry, books, ts, active_memberships(registry, ts))
    rows: list[pd.DataFrame] = []

    def add(frame: pd.DataFrame, book: Rulebook, rule: Rule, obligation: pd.Series | str) -> None:
        if frame.empty:
            return
        rows.append(pd.DataFrame({
            "consortium_id": frame["consortium_id"].to_numpy(),
            "jurisdiction": book.jurisdiction,
            "obligation": obligation if isinstance(obligation, str) else obligation.to_numpy(),
            "due_on": frame["due_on"].to_numpy(),
            "citation": rule.citation,
        }))

    for book in books.values():
        cons = _scope(ctx, book)
        if cons.empty:
            continue
        rule = book.rule("ANNUAL_REPORT_MISSING")
        if rule is not None:
            owed = _report_years(ctx, cons, rule, horizon)
            owed = owed[(owed["due_on"] >= ts) & (owed["state"] == "missing")]
            add(owed, book, rule, "annual report on " + owed["year"].astype(str))
        has_evals = registry.has("evaluations")
        rule = book.rule("EVALUATION_DUE")
        if rule is not None and has_evals:
            s = _evaluation_schedule(ctx, cons, rule)
            s = s[(s["due_on"] > ts) & (s["due_on"] <= horizon)]
            add(s, book, rule, s["first"].map({True: "first evaluation", False: "next evaluation"}))
        rule = book.rule("RECTIFICATION_OVERDUE")
        if rule is not None and has_evals:
            rect = _open_rectifications(ctx, cons, rule)
            rect = rect[(rect["ends_on"] >= ts) & (rect["ends_on"] <= horizon)].rename(columns={"ends_on": "due_on"})
            graded = rect["evaluated_on"].dt.strftime("%Y-%m-%d")
            add(rect, book, rule, "rectification acceptance (graded rectify on " + graded + ")")
        rule = book.rule("TERM_ENDED")
        if rule is not None:
            t = cons.assign(due_on=_term_ends(cons, rule))
            t = t[(t["due_on"] > ts) & (t["due_on"] <= horizon)]
            add(t, book, rule, f"end of the {int(rule.params.get('years', 3))}-year term")
    if not rows:
        return []
    df = pd.concat(rows, ignore_index=True)
    df["days_left"] = (df["due_on"] - ts).dt.days.astype(int)
    df = df.sort_values(["due_on", "jurisdiction", "consortium_id", "obligation"], kind="stable")
    df["due_on"] = df["due_on"].dt.strftime("%Y-%m-%d")
    cols = ["consortium_id", "jurisdiction", "obligation", "due_on", "days_left", "citation"]
    return [dict(zip(cols, vals, strict=True)) for vals in df[cols].itertuples(index=False, name=None)]
