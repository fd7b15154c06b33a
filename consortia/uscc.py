"""Unified social credit codes (统一社会信用代码, GB 32100-2015).

A code is 18 characters: registration authority (1), unit category (1),
administrative division (6), organisation code (9, itself ending in a GB 11714
check digit) and a final check character. Registries are typed by hand, so a
wrong code is common; we verify both check characters so that a typo is caught
before a unit is counted under the wrong identity.

Validation and generation are vectorised with numpy because a national
registry holds about a million codes and the checker must stay interactive.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ALPHABET",
    "FOREIGN_PREFIX",
    "build",
    "check_char",
    "is_valid",
    "make_codes",
    "validate_codes",
]

#: The 31 characters GB 32100 allows (no I, O, S, V, Z).
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: Units without a code (foreign bodies) carry an id with this prefix instead.
FOREIGN_PREFIX = "X-"

_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])

# Lookup tables indexed by the byte value of a character (-1 = not allowed).
_VALUE = np.full(256, -1, dtype=np.int64)
for _i, _c in enumerate(ALPHABET):
    _VALUE[ord(_c)] = _i
# GB 11714 values letters by their place in the Latin alphabet: A=10 … Z=35.
_ORG_VALUE = np.full(256, -1, dtype=np.int64)
for _c in "0123456789":
    _ORG_VALUE[ord(_c)] = int(_c)
for _i, _c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
    _ORG_VALUE[ord(_c)] = 10 + _i
_ALPHA_ARR = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)


def _as_bytes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return an (n, 18) uint8 matrix of the codes and a mask of those that are 18 ASCII chars."""
    n = len(codes)
    mat = np.zeros((n, 18), dtype=np.uint8)
    try:  # the common case, every cell a str: lengths at C speed, one ASCII test over the joined text
        # Anything else fails here: len() of a number, or join() of a non-str with a length.
        ok = np.fromiter(map(len, codes), dtype=np.int64, count=n) == 18
        joined = "".join(codes[ok])
        if not joined.isascii():
            raise TypeError
    except TypeError:
        ok = np.fromiter((isinstance(c, str) and len(c) == 18 and c.isascii() for c in codes), dtype=bool, count=n)
        joined = "".join(codes[ok])
    if ok.any():
        mat[ok] = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(-1, 18)
    return mat, ok


def _org_check(values: np.ndarray) -> np.ndarray:
    """GB 11714 check digit (as a byte) for (n, 8) organisation-code values."""
    c = 11 - (values @ _ORG_WEIGHTS) % 11
    out = np.where(c == 10, ord("X"), np.where(c == 11, ord("0"), c + ord("0")))
    return out.astype(np.uint8)


def validate_codes(codes: np.ndarray | list[str]) -> np.ndarray:
    """Return an array of reasons, '' where the code is valid.

    Reasons are short English phrases an officer can act on ("check character
    should be 'X'"). Foreign ids (``X-…``) are valid by definition: they have no
    code to verify.
    """
    arr = np.asarray(codes, dtype=object)
    mat, ok18 = _as_bytes(arr)
    reasons = np.full(len(arr), "", dtype=object)
    values = _VALUE[mat]
    charset_ok = ok18 & (values >= 0).all(axis=1)
    main = values[:, :17]
    expected = (31 - (np.clip(main, 0, None) @ _WEIGHTS) % 31) % 31
    check_ok = values[:, 17] == expected
    org_vals = _ORG_VALUE[mat[:, 8:16]]
    org_expected = _org_check(np.clip(org_vals, 0, None))
    org_digit_ok = mat[:, 16] == org_expected
    valid = charset_ok & org_digit_ok & check_ok
    for i in np.flatnonzero(~valid):  # only the invalid few need a reason in words
        code = arr[i]
        if isinstance(code, str) and code.startswith(FOREIGN_PREFIX):
            continue
        if not ok18[i] and not (isinstance(code, str) and len(code) == 18):
            length = len(code) if isinstance(code, str) else 0
            reasons[i] = f"should be 18 characters, has {length}"
        elif not charset_ok[i]:  # also 18 characters that are not all ASCII (e.g. full-width)
            bad = sorted({ch for ch in code if ch not in ALPHABET})
            reasons[i] = "contains characters GB 32100 does not allow: " + " ".join(bad)
        elif not org_digit_ok[i]:
            reasons[i] = f"organisation-code check digit (position 17) should be '{chr(org_expected[i])}'"
        elif not check_ok[i]:
            reasons[i] = f"check character (position 18) should be '{ALPHABET[expected[i]]}'"
    return reasons


def is_valid(code: str) -> bool:
    """True when ``code`` is a valid GB 32100 code or a foreign ``X-`` id."""
    return validate_codes([code])[0] == ""


def check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a code."""
    vals = _VALUE[np.frombuffer(first17.encode(), dtype=np.uint8)]
    if len(first17) != 17 or (vals < 0).any():
        raise ValueError(f"not 17 GB 32100 characters: {first17!r}")
    return ALPHABET[(31 - int(vals @ _WEIGHTS) % 31) % 31]


def make_codes(
    prefix2: np.ndarray, division6: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Generate valid codes: authority+category ``prefix2`` (e.g. '91' for a company,
    '12' for a public institution) and a 6-digit division code, element-wise.

    Used by the demo and benchmark generator so that fictional registries pass
    the same checks real ones must.
    """
    n = len(division6)
    head = np.array([s.encode() for s in np.char.add(prefix2.astype(str), division6.astype(str))])
    head = head.view(np.uint8).reshape(n, 8) if n else np.zeros((0, 8), np.uint8)
    # Organisation code body: 8 characters from the digits and the GB 32100
    # letters, digits far more common as in real codes.
    digits = np.frombuffer(b"0123456789", dtype=np.uint8)
    body = rng.choice(digits, size=(n, 8))
    letters = rng.random((n, 8)) < 0.12
    body[letters] = rng.choice(_ALPHA_ARR[10:], size=int(letters.sum()))
    org = np.concatenate([body, _org_check(_ORG_VALUE[body])[:, None]], axis=1)
    first17 = np.concatenate([head, org], axis=1)
    vals = _VALUE[first17]
    check = _ALPHA_ARR[(31 - (vals @ _WEIGHTS) % 31) % 31]
    full = np.concatenate([first17, check[:, None]], axis=1)
    return np.array([row.tobytes().decode() for row in full], dtype=object)


def build(prefix2: str, division6: str, body8: str) -> str:
    """A valid code from its parts: both check characters are computed.

    ``body8`` is the organisation-code body (8 characters of the GB 32100
    alphabet). Tests and hand-made examples use this instead of copying codes.
    """
    vals = _ORG_VALUE[np.frombuffer(body8.encode(), dtype=np.uint8)]
    if len(body8) != 8 or (vals < 0).any():
        raise ValueError(f"not an 8-character organisation-code body: {body8!r}")
    org = body8 + chr(_org_check(vals[None, :])[0])
    first17 = prefix2 + division6 + org
    return first17 + check_char(first17)
