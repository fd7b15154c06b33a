"""Shared fixtures: small hand-built registries written as CSV folders."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from consortia.uscc import build

CITY_DIV = {"南宁市": "450103", "柳州市": "450202", "辽阳市": "211002", "南京市": "320102", "桂林市": "450302",
            "北京市": "110108"}


def code(n: int, city: str = "南宁市", prefix: str = "91") -> str:
    """A valid unified social credit code, distinct for each ``n``, issued in ``city``."""
    return build(prefix, CITY_DIV[city], f"{n:08d}")


def write_csv(path: Path, rows: Sequence[dict[str, Any]], encoding: str = "utf-8",
              columns: Sequence[str] | None = None) -> None:
    cols = list(columns) if columns else list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in cols})


def unit(n: int, city: str = "南宁市", type_: str = "enterprise", **extra: Any) -> dict[str, Any]:
    return {"uscc": code(n, city), "name": f"单位{n}有限公司" if type_ == "enterprise" else f"机构{n}",
            "type": type_, "city": city, **extra}


@pytest.fixture
def make_registry(tmp_path: Path) -> Callable[..., Path]:
    """Write tables (lists of row dicts) as a registry folder and return its path."""
    counter = {"n": 0}

    def make(units: Sequence[dict[str, Any]], consortia: Sequence[dict[str, Any]],
             memberships: Sequence[dict[str, Any]], encoding: str = "utf-8", **others: Sequence[dict[str, Any]]) -> Path:
        counter["n"] += 1
        folder = tmp_path / f"reg{counter['n']}"
        folder.mkdir()
        write_csv(folder / "units.csv", units, encoding, columns=None if units else ["uscc", "name", "type"])
        write_csv(folder / "consortia.csv", consortia, encoding,
                  columns=None if consortia else ["consortium_id", "jurisdiction"])
        write_csv(folder / "memberships.csv", memberships, encoding,
                  columns=None if memberships else ["consortium_id", "uscc", "role"])
        for name, rows in others.items():
            write_csv(folder / f"{name}.csv", rows, encoding)
        return folder

    return make
