"""The fast paths of the report writers give exactly what the generic code gave.

``emit(..., "json")`` writes its indented JSON with orjson rather than the
standard library's pure-Python indenting encoder, and :meth:`Finding.to_dict`
copies ``details`` without :func:`dataclasses.asdict`; both must give what the
generic code gives, whatever the rows hold: the same values, and the same text
wherever no float is written (orjson spells ``1e+16`` as ``1e16``).
"""

from __future__ import annotations

import gc
import json
import math
from collections import OrderedDict, namedtuple
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consortia.findings import Finding
from consortia.output import _json_bytes, emit, to_jsonable
from consortia.registry import gc_paused


def reference(rows: list[dict]) -> str:
    return json.dumps([to_jsonable(dict(r)) for r in rows], ensure_ascii=False, indent=2) + "\n"


def _text(rows: list[dict]) -> str:
    return _json_bytes(rows).decode("utf-8")


def _has_float(value: object) -> bool:
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_float(v) for v in value)
    return isinstance(value, float)


def assert_same_json(rows: list[dict]) -> None:
    got, want = _text(rows), reference(rows)
    assert json.loads(got) == json.loads(want)
    if not _has_float(rows):
        assert got == want


ODD = [
    {"a": np.int64(3), "b": np.float64("nan"), "c": pd.Timestamp("2024-01-02"), "d": pd.NaT, "e": (1, 2.5, None),
     "f": {1: "x", None: [], "k": {}}, "g": math.inf, "h": -math.inf, "i": 1e-300, "j": '"q\\ \n 中文 \u2028',
     "k": np.bool_(True), "l": {3, 4}, "m": [[], [{}], ["a", "b"], ("x",)], "n": 0.1 + 0.2, "o": True, "p": 10**30,
     "q": OrderedDict(z=1), "r": ["x", None, "y"], "s": ("only", "text")},
    {},
    {"message": "单位 (91450100MA5K) takes part in 4 distinct consortia", "details": {"bodies": ["GX-1", "NN-2"]}},
]


#: What orjson writes itself (no integer beyond 64 bits, text keys only).
PLAIN = [{k: v for k, v in ODD[0].items() if k not in ("f", "p")}, *ODD[1:]]


@pytest.mark.parametrize("rows", [ODD, PLAIN, [], [{}], [{"x": []}]])
def test_json_is_json_dumps(rows: list[dict]) -> None:
    assert_same_json(rows)


def test_json_odd_values() -> None:
    """Dates as their day, NaN, infinities and NaT as null (JSON has no number for them),
    sets and tuples as lists, numpy scalars as numbers: the same whichever encoder wrote them."""
    for rows in (ODD, PLAIN):
        got = json.loads(_text(rows))[0]
        assert got["a"] == 3 and got["b"] is None and got["c"] == "2024-01-02" and got["d"] is None
        assert got["g"] is None and got["h"] is None and got["k"] is True and sorted(got["l"]) == [3, 4]
        assert got["e"] == [1, 2.5, None] and got["j"] == '"q\\ \n 中文 \u2028'
    assert json.loads(_text(ODD))[0]["p"] == 10**30


def test_json_refuses_what_is_not_data() -> None:
    with pytest.raises(TypeError):
        _text([{"x": object()}])


def test_emit_json_file(tmp_path) -> None:
    out = tmp_path / "rows.json"
    for rows in (ODD, PLAIN):
        emit(rows, "json", out=out)
        got = out.read_text(encoding="utf-8")
        assert got.endswith("}\n]\n") and json.loads(got) == json.loads(reference(rows))


leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=8))
value = st.recursive(leaf, lambda kids: st.one_of(st.lists(kids, max_size=4), st.tuples(kids, kids),
                                                  st.dictionaries(st.text(max_size=4), kids, max_size=4)),
                     max_leaves=20)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dictionaries(st.text(max_size=6), value, max_size=5), max_size=4))
def test_json_fuzzed(rows: list[dict]) -> None:
    assert_same_json(rows)


NT = namedtuple("NT", "a b")


def test_to_dict_is_asdict() -> None:
    details = {"a": [1, (2, 3), {"x": np.int64(4)}], "b": pd.Timestamp("2024-01-01"), "c": OrderedDict(z=1),
               "n": NT(1, [2]), "s": {1, 2}, "ids": ["GX-1", "NN-2"], "flags": [True, False]}
    f = Finding("R", "error", False, "nanning", "NN-2", None, "m", "c", "x row 2", details)
    got, want = f.to_dict(), asdict(f)
    assert got == want and list(got) == list(want)
    assert type(got["details"]["c"]) is OrderedDict and type(got["details"]["n"]) is NT
    # A copy: changing it leaves the finding alone.
    got["details"]["ids"].append("X")
    got["details"]["a"][2]["x"] = 0
    assert f.details["ids"] == ["GX-1", "NN-2"] and f.details["a"][2]["x"] == 4
    # Without the copy (rows only written out): the same row, writing the same JSON.
    shared = f.to_dict(copy=False)
    assert shared == asdict(f) and shared["details"] is f.details
    assert _text([shared]) == _text([asdict(f)])


def test_gc_paused_restores_the_collector() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()
