"""Cities and provinces of mainland China, matched however a registry spells them.

Registries name a unit's city of registration and main business city in free
form: "南宁", "南宁市", "Nanning" and "nanning city" are one city. Rules compare
cities with each other and with the administrative division code inside a
unified social credit code, so every spelling is first reduced to one canonical
Chinese name (the ``name_zh`` column of ``data/cities.csv``, e.g. "南宁市").

The table holds the 333 prefecture-level divisions (GB/T 2260 codes, 2023) and
the four municipalities. It is read once, lazily, through
:mod:`importlib.resources` so that it also works from an installed wheel.

Matching never guesses: a pinyin spelling shared by two cities (Suzhou is both
苏州市 and 宿州市) gives ``None`` unless a province qualifies it
("Suzhou, Jiangsu", "江苏苏州").
"""

from __future__ import annotations

import functools
import importlib.resources
import io
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "cities_table",
    "city_code",
    "city_of_division",
    "city_prefixes",
    "normalize_cities",
    "normalize_city",
    "normalize_province",
    "province_of",
]

_DATA = "cities.csv"

#: Division prefixes a city owns besides its own code, because unified social
#: credit codes keep the division of the registering authority at issue time:
#: municipal-level authorities use xx0000, Chongqing's counties 5002xx, and
#: codes issued before a division was re-coded (地区 turned 市, 莱芜 merged
#: into 济南 in 2019, municipal counties turned districts in 2015-16) live on.
_EXTRA_PREFIXES: dict[str, tuple[str, ...]] = {
    "重庆市": ("5002", "5000"),
    "北京市": ("1100", "1102"),
    "天津市": ("1200", "1202"),
    "上海市": ("3100", "3102"),
    "济南市": ("3712",),
    "铜仁市": ("5222",),
    "毕节市": ("5224",),
    "昌都市": ("5421",),
    "山南市": ("5422",),
    "日喀则市": ("5423",),
    "那曲市": ("5424",),
    "林芝市": ("5426",),
    "海东市": ("6321",),
    "吐鲁番市": ("6521",),
    "哈密市": ("6522",),
}

#: Short Chinese names of the provinces whose name is not "short + 省/市".
_PROVINCE_SHORT_ZH = {
    "内蒙古自治区": "内蒙古",
    "广西壮族自治区": "广西",
    "西藏自治区": "西藏",
    "宁夏回族自治区": "宁夏",
    "新疆维吾尔自治区": "新疆",
}
#: Romanisations of provinces besides the ``province_en`` column.
_PROVINCE_EXTRA_EN = {
    "内蒙古自治区": ("Nei Mongol", "Neimenggu", "Nei Menggu"),
    "西藏自治区": ("Tibet",),
    "陕西省": ("Shaanxi Sheng",),
}

#: Chinese suffixes of division types; a city also matches without them.
_ZH_SUFFIXES = ("自治州", "地区", "盟", "市")
#: Latin words that name a division type rather than a place.
_ADMIN_WORDS = frozenset(
    "city shi prefecture autonomous league meng diqu zizhizhou zhou area region zizhiqu "
    "province sheng municipality of the china prc".split()
)
#: Division-type words also stripped when glued to the name.
_JOINED_SUFFIXES = ("city", "shi", "prefecture", "league", "meng", "diqu")
#: Latin words that mark a spelling as a province, not a city ("Jilin Province").
_PROVINCE_WORDS = frozenset("province sheng region zizhiqu".split())
#: Ethnic designations inside English names of autonomous divisions.
_ETHNIC_WORDS = frozenset(
    "and korean tujia miao tibetan qiang yi buyei bouyei dong hani zhuang "
    "dai jingpo bai lisu hui mongol mongolian kirghiz kyrgyz kazak kazakh uygur "
    "uyghur uighur weiwuer zhuangzu huizu".split()
)

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NON_WORD = re.compile(r"[\W_]+")
_LATIN_TOKEN = re.compile(r"[a-z0-9]+")
_APOSTROPHES = dict.fromkeys(map(ord, "'\u2018\u2019\u02bc\u00b4`"), None)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_DIV6 = re.compile(r"[0-9]{6}")


@dataclass(frozen=True)
class _Index:
    """Every lookup structure, built once from the table."""

    table: pd.DataFrame
    #: key -> canonical city, or None when the key names two cities.
    city_by_key: dict[str, str | None]
    #: (canonical province, key) -> canonical city.
    city_by_province_key: dict[tuple[str, str], str]
    #: key -> canonical province.
    province_by_key: dict[str, str]
    #: province keys, longest first, split by script.
    province_keys_zh: tuple[str, ...]
    province_keys_latin: tuple[str, ...]
    #: canonical city -> (4-digit code, canonical province).
    city_info: dict[str, tuple[str, str]]
    #: 4-digit division prefix -> canonical city.
    city_by_prefix: dict[str, str]


def _clean(name: object) -> str | None:
    """NFKC-normalise a string, drop invisible characters and surrounding space."""
    if not isinstance(name, str):
        return None
    text = unicodedata.normalize("NFKC", name).translate(_INVISIBLE).strip()
    return text or None


def _is_zh(text: str) -> bool:
    return _CJK.search(text) is not None


def _zh_key(text: str) -> str:
    """Chinese text without spaces or punctuation ("广西·南宁" -> "广西南宁")."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", text).translate(_INVISIBLE))


def _latin_tokens(text: str) -> list[str]:
    """Lower-case ASCII words; accents and apostrophes dropped ("Xi'an" -> ["xian"])."""
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _LATIN_TOKEN.findall(text.lower())


def _latin_variants(text: str) -> list[str]:
    """Joined keys of a Latin spelling: as written, then without division or ethnic words."""
    tokens = _latin_tokens(text)
    joined = "".join(tokens)
    variants = [joined]
    for drop in (_ADMIN_WORDS, _ADMIN_WORDS | _ETHNIC_WORDS):
        kept = [t for t in tokens if t not in drop]
        if kept:
            variants.append("".join(kept))
    # Written without a space: "NanningCity", "Nanningshi".
    for suffix in _JOINED_SUFFIXES:
        if joined.endswith(suffix) and len(joined) > len(suffix) + 1:
            variants.append(joined[: -len(suffix)])
            break
    return [v for i, v in enumerate(variants) if v and v not in variants[:i]]


def _split_aliases(aliases: str) -> list[str]:
    return [a.strip() for a in aliases.split(";") if a.strip()]


def _city_keys(name_zh: str, name_en: str, aliases: str) -> set[str]:
    """Every key a city answers to: zh with and without suffix, pinyin, aliases."""
    keys = {_zh_key(name_zh)}
    for suffix in _ZH_SUFFIXES:
        if name_zh.endswith(suffix) and len(name_zh) - len(suffix) >= 2:
            keys.add(_zh_key(name_zh[: -len(suffix)]))
            break
    for spelling in [name_en, *_split_aliases(aliases)]:
        if _is_zh(spelling):
            keys.add(_zh_key(spelling))
        else:
            keys.add("".join(_latin_tokens(spelling)))
    keys.discard("")
    return keys


def _province_keys(name_zh: str, name_en: str) -> set[str]:
    """Every key a province answers to: full and short zh, romanisations."""
    short = _PROVINCE_SHORT_ZH.get(name_zh, name_zh.removesuffix("省").removesuffix("市"))
    keys = {_zh_key(name_zh), _zh_key(short)}
    for spelling in (name_en, *_PROVINCE_EXTRA_EN.get(name_zh, ())):
        keys.add("".join(_latin_tokens(spelling)))
    return keys


def _read_table() -> pd.DataFrame:
    resource = importlib.resources.files("consortia") / "data" / _DATA
    text = resource.read_text(encoding="utf-8")
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    table["weight"] = table["weight"].astype("int64")
    return table


@functools.cache
def _index() -> _Index:
    """Load the table and build the lookups; cached, as the data never changes."""
    table = _read_table()
    city_by_key: dict[str, str | None] = {}
    city_by_province_key: dict[tuple[str, str], str] = {}
    province_by_key: dict[str, str] = {}
    city_info: dict[str, tuple[str, str]] = {}
    city_by_prefix: dict[str, str] = {}
    for row in table.itertuples(index=False):
        name, province = str(row.name_zh), str(row.province_zh)
        for key in _province_keys(province, str(row.province_en)):
            province_by_key[key] = province
        for key in _city_keys(name, str(row.name_en), str(row.aliases)):
            if city_by_key.get(key, name) != name:
                city_by_key[key] = None  # shared by two cities: ambiguous
            else:
                city_by_key[key] = name
            city_by_province_key[(province, key)] = name
        code4 = str(row.code)[:4]
        city_info[name] = (code4, province)
        for prefix in (code4, *_EXTRA_PREFIXES.get(name, ())):
            city_by_prefix[prefix] = name
    by_length = sorted(province_by_key, key=len, reverse=True)
    return _Index(
        table=table,
        city_by_key=city_by_key,
        city_by_province_key=city_by_province_key,
        province_by_key=province_by_key,
        province_keys_zh=tuple(k for k in by_length if _is_zh(k)),
        province_keys_latin=tuple(k for k in by_length if not _is_zh(k)),
        city_info=city_info,
        city_by_prefix=city_by_prefix,
    )


def _qualified(index: _Index, key: str, province_keys: tuple[str, ...], suffix: bool) -> str | None:
    """Resolve "<province><city>" (or, for Latin, "<city><province>") to a city."""
    for pkey in province_keys:
        rest = ""
        if key.startswith(pkey):
            rest = key[len(pkey) :]
        elif suffix and key.endswith(pkey):
            rest = key[: -len(pkey)]
        if rest:
            city = index.city_by_province_key.get((index.province_by_key[pkey], rest))
            if city is not None:
                return city
    return None


def normalize_city(name: object) -> str | None:
    """Canonical Chinese name ("南宁市") of any spelling of a city; None if unknown.

    Accepts zh with or without 市/地区/盟/自治州, short names of autonomous
    prefectures (延边), pinyin or English in any case with or without "City",
    and a leading province ("广西南宁市", "Suzhou, Jiangsu"). Never raises.
    """
    text = _clean(name)
    if text is None:
        return None
    index = _index()
    if _is_zh(text):
        key = _zh_key(text)
        if len(key) > 4:  # "中国广西南宁市"
            key = key.removeprefix("中华人民共和国").removeprefix("中国")
        if key in index.city_by_key:
            return index.city_by_key[key]
        return _qualified(index, key, index.province_keys_zh, suffix=False)
    if _PROVINCE_WORDS.intersection(_latin_tokens(text)) and normalize_province(text):
        return None
    variants = _latin_variants(text)
    for key in variants:
        if index.city_by_key.get(key) is not None:
            return index.city_by_key[key]
    for key in variants:
        city = _qualified(index, key, index.province_keys_latin, suffix=True)
        if city is not None:
            return city
    return None


def normalize_province(name: object) -> str | None:
    """Canonical name ("广西壮族自治区") of any spelling of a province; None if unknown."""
    text = _clean(name)
    if text is None:
        return None
    index = _index()
    if _is_zh(text):
        key = _zh_key(text)
        # "广西省" is a common slip for 广西壮族自治区.
        for candidate in (key, key.removesuffix("省"), key.removesuffix("市")):
            if candidate in index.province_by_key:
                return index.province_by_key[candidate]
        return None
    for key in _latin_variants(text):
        if key in index.province_by_key:
            return index.province_by_key[key]
    return None


def city_code(name: object) -> str | None:
    """The 4-digit division prefix ("4501") of a city name; None if unknown."""
    city = normalize_city(name)
    return None if city is None else _index().city_info[city][0]


def city_prefixes(name: object) -> tuple[str, ...]:
    """Every 4-digit division prefix that belongs to a city, its own code first.

    Chongqing owns 5001 and 5002 (its counties); municipalities also own their
    municipal-level xx00, and re-coded divisions keep their old prefix (see
    ``_EXTRA_PREFIXES``). Empty when the city is unknown.
    """
    city = normalize_city(name)
    if city is None:
        return ()
    return (_index().city_info[city][0], *_EXTRA_PREFIXES.get(city, ()))


def province_of(name: object) -> str | None:
    """Canonical province of a city name ("柳州" -> "广西壮族自治区"); None if unknown."""
    city = normalize_city(name)
    return None if city is None else _index().city_info[city][1]


def city_of_division(div6: str) -> str | None:
    """Canonical city of a 6-digit division code, matched on its first 4 digits.

    None for anything but six digits, for province-level codes (450000) and for
    county-level cities directly under a province (419001 济源, 4290xx, 4690xx).
    """
    if not isinstance(div6, str) or not _DIV6.fullmatch(div6.strip()):
        return None
    return _index().city_by_prefix.get(div6.strip()[:4])


def normalize_cities(values: pd.Series) -> pd.Series:
    """Vectorised :func:`normalize_city`: object dtype, None where unknown.

    Registries have a million rows but a few hundred distinct spellings, so
    each distinct value is normalised once.
    """
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # unhashable cells: fall back to one call per cell
        mapped = [normalize_city(v) for v in values]
        return pd.Series(mapped, index=values.index, name=values.name, dtype=object)
    canon = np.array([normalize_city(u) for u in uniques] + [None], dtype=object)
    return pd.Series(canon[codes], index=values.index, name=values.name, dtype=object)


def cities_table() -> pd.DataFrame:
    """A copy of the city table; every column str except ``weight`` (int)."""
    return _index().table.copy()
