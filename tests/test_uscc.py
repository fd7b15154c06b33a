"""Unified social credit codes (GB 32100-2015): validation, check characters, generation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consortia.uscc import ALPHABET, build, check_char, is_valid, make_codes, validate_codes

# Published codes of real companies (the last three: Huawei, Tencent, Alibaba China).
REAL = ["91350100M000100Y43", "91110108551385082Q", "914403001922038216", "9144030071526726XG",
        "91330100716105852F"]
VALID = "91110108551385082Q"

codes17 = st.text(alphabet=ALPHABET, min_size=17, max_size=17)
bodies = st.text(alphabet=ALPHABET, min_size=8, max_size=8)
prefixes = st.text(alphabet=ALPHABET, min_size=2, max_size=2)
divisions = st.text(alphabet="0123456789", min_size=6, max_size=6)


@pytest.mark.parametrize("code", REAL)
def test_known_real_codes_are_valid(code):
    assert is_valid(code)
    assert validate_codes([code])[0] == ""
    assert check_char(code[:17]) == code[17]


def test_validate_codes_is_element_wise():
    got = validate_codes([VALID, "123", "X-DE-0001", VALID[:17] + "0", VALID])
    assert list(got == "") == [True, False, True, False, True]
    assert validate_codes([]).shape == (0,)


@pytest.mark.parametrize(("code", "length"), [("", 0), ("9111010855138508", 16), ("9111010855138508Q", 17),
                                              (VALID + "0", 19), (VALID * 2, 36)])
def test_wrong_length(code, length):
    assert validate_codes([code])[0] == f"should be 18 characters, has {length}"
    assert not is_valid(code)


@pytest.mark.parametrize("letter", list("IOSVZ"))
@pytest.mark.parametrize("position", [0, 9, 17])
def test_forbidden_letters(letter, position):
    code = VALID[:position] + letter + VALID[position + 1:]
    assert validate_codes([code])[0] == f"contains characters GB 32100 does not allow: {letter}"


@pytest.mark.parametrize("code", ["91110108551385082q", "９１１１０１０８５５１３８５０８２Ｑ", "91110108 51385082Q",
                                  "9111010855138508-Q"])
def test_lower_case_full_width_and_punctuation_are_not_allowed(code):
    assert validate_codes([code])[0].startswith("contains characters GB 32100 does not allow:")


def test_wrong_organisation_code_check_digit():
    # Position 17 is the GB 11714 check digit of the organisation code (positions 9-16).
    code = VALID[:16] + "3" + VALID[17:]
    assert validate_codes([code])[0] == "organisation-code check digit (position 17) should be '2'"
    # A changed body character is caught by the organisation-code check first.
    code = VALID[:8] + "6" + VALID[9:]
    assert validate_codes([code])[0].startswith("organisation-code check digit (position 17) should be")


def test_wrong_final_check_character():
    code = VALID[:17] + "R"
    assert validate_codes([code])[0] == "check character (position 18) should be 'Q'"
    # Outside the organisation code only the final check catches a typo.
    code = "92" + VALID[2:]
    assert validate_codes([code])[0].startswith("check character (position 18) should be")


def test_foreign_ids_are_accepted():
    assert is_valid("X-DE-HRB-12345")
    assert is_valid("X-")
    assert validate_codes(["X-0001", "X-US-EIN-12-3456789"]).tolist() == ["", ""]
    # Only the exact prefix counts.
    assert not is_valid("x-0001")
    assert not is_valid("Y-0001")


def test_check_char_and_build_refuse_bad_input():
    with pytest.raises(ValueError, match="17 GB 32100"):
        check_char(VALID[:16])
    with pytest.raises(ValueError, match="17 GB 32100"):
        check_char("I" + VALID[1:17])
    with pytest.raises(ValueError, match="8-character"):
        build("91", "110108", "5513850")
    with pytest.raises(ValueError, match="8-character"):
        build("91", "110108", "5513850-")
    with pytest.raises(ValueError):
        build("91", "110108", "5513850I")  # I is a GB 11714 letter, but not a GB 32100 one


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_single_substitution_is_detected(data):
    first17 = data.draw(codes17)
    code = first17 + check_char(first17)
    if not is_valid(code):  # the organisation-code digit of a random body is usually wrong: fix it
        code = build(code[:2], code[2:8], code[8:16])
    assert is_valid(code)
    pos = data.draw(st.integers(0, 17))
    new = data.draw(st.sampled_from([c for c in ALPHABET if c != code[pos]]))
    changed = code[:pos] + new + code[pos + 1:]
    assert validate_codes([changed])[0] != ""
    assert not is_valid(changed)


@settings(max_examples=200, deadline=None)
@given(prefix=prefixes, division=divisions, body=bodies)
def test_build_round_trips(prefix, division, body):
    code = build(prefix, division, body)
    assert len(code) == 18
    assert code[:2] == prefix and code[2:8] == division and code[8:16] == body
    assert validate_codes([code])[0] == ""
    assert check_char(code[:17]) == code[17]


@settings(max_examples=100, deadline=None)
@given(pairs=st.lists(st.tuples(st.sampled_from(["91", "92", "93", "11", "12", "13", "51", "52", "59", "Y1"]),
                                divisions), max_size=60),
       seed=st.integers(0, 2**32 - 1))
def test_make_codes_are_always_valid(pairs, seed):
    prefix = np.array([p for p, _ in pairs], dtype=str)
    division = np.array([d for _, d in pairs], dtype=str)
    codes = make_codes(prefix, division, np.random.default_rng(seed))
    assert len(codes) == len(pairs)
    assert (validate_codes(codes) == "").all()
    for c, (p, d) in zip(codes, pairs, strict=True):
        assert c[:2] == p and c[2:8] == d
        assert build(c[:2], c[2:8], c[8:16]) == c


def test_make_codes_are_mostly_distinct():
    rng = np.random.default_rng(7)
    codes = make_codes(np.array(["91"] * 5000), np.array(["450103"] * 5000), rng)
    assert len(set(codes)) > 4990
    assert (validate_codes(codes) == "").all()
