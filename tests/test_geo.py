"""Tests of consortia.geo: the city table and every way a city is spelled."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from consortia import geo

AMBIGUOUS_PINYIN = {"fuzhou", "suzhou", "taizhou", "yichun", "yulin"}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return geo.cities_table()


# --- the table ---------------------------------------------------------------


def test_row_count_and_columns(table: pd.DataFrame) -> None:
    assert list(table.columns) == [
        "code",
        "name_zh",
        "name_en",
        "aliases",
        "province_code",
        "province_zh",
        "province_en",
        "weight",
    ]
    # 333 prefecture-level divisions + 4 municipalities.
    assert len(table) == 337


def test_codes_unique_and_well_formed(table: pd.DataFrame) -> None:
    assert table["code"].is_unique
    assert table["code"].str.fullmatch(r"\d{4}00").all()
    assert table["code"].str[:4].is_unique
    assert table["province_code"].str.fullmatch(r"\d{2}0000").all()


def test_code_lies_in_its_province(table: pd.DataFrame) -> None:
    bad = table[table["code"].str[:2] != table["province_code"].str[:2]]
    assert bad.empty, bad


def test_names_unique_and_present(table: pd.DataFrame) -> None:
    assert table["name_zh"].is_unique
    assert (table["name_zh"].str.len() >= 2).all()
    assert (table["name_en"].str.len() >= 2).all()


def test_each_province_has_one_name(table: pd.DataFrame) -> None:
    per_code = table.groupby("province_code")[["province_zh", "province_en"]].nunique()
    assert (per_code == 1).all().all()
    assert table["province_zh"].nunique() == 31
    assert table["province_en"].nunique() == 31


def test_weights_positive(table: pd.DataFrame) -> None:
    assert table["weight"].dtype == np.int64
    assert (table["weight"] > 0).all()
    assert table.set_index("name_zh").loc["上海市", "weight"] > 10_000


def test_table_is_a_copy() -> None:
    first = geo.cities_table()
    first.loc[:, "name_zh"] = "x"
    assert geo.cities_table()["name_zh"].iloc[0] != "x"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("南宁市", "4501"),
        ("柳州市", "4502"),
        ("桂林市", "4503"),
        ("梧州市", "4504"),
        ("北海市", "4505"),
        ("防城港市", "4506"),
        ("钦州市", "4507"),
        ("贵港市", "4508"),
        ("玉林市", "4509"),
        ("百色市", "4510"),
        ("贺州市", "4511"),
        ("河池市", "4512"),
        ("来宾市", "4513"),
        ("崇左市", "4514"),
        ("沈阳市", "2101"),
        ("大连市", "2102"),
        ("鞍山市", "2103"),
        ("抚顺市", "2104"),
        ("本溪市", "2105"),
        ("丹东市", "2106"),
        ("锦州市", "2107"),
        ("营口市", "2108"),
        ("阜新市", "2109"),
        ("辽阳市", "2110"),
        ("盘锦市", "2111"),
        ("铁岭市", "2112"),
        ("朝阳市", "2113"),
        ("葫芦岛市", "2114"),
        ("南京市", "3201"),
        ("无锡市", "3202"),
        ("徐州市", "3203"),
        ("常州市", "3204"),
        ("苏州市", "3205"),
        ("南通市", "3206"),
        ("连云港市", "3207"),
        ("淮安市", "3208"),
        ("盐城市", "3209"),
        ("扬州市", "3210"),
        ("镇江市", "3211"),
        ("泰州市", "3212"),
        ("宿迁市", "3213"),
        ("北京市", "1101"),
        ("天津市", "1201"),
        ("上海市", "3101"),
        ("重庆市", "5001"),
        ("延边朝鲜族自治州", "2224"),
        ("兴安盟", "1522"),
        ("阿里地区", "5425"),
        ("儋州市", "4604"),
    ],
)
def test_city_codes(name: str, code: str) -> None:
    assert geo.city_code(name) == code


@pytest.mark.parametrize("prefix", ["45", "21", "32"])
def test_spot_checked_provinces_are_complete(table: pd.DataFrame, prefix: str) -> None:
    size = {"45": 14, "21": 14, "32": 13}[prefix]
    codes = sorted(table.loc[table["code"].str[:2] == prefix, "code"])
    assert codes == [f"{prefix}{i:02d}00" for i in range(1, size + 1)]


# --- normalize_city ----------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("南宁", "南宁市"),
        ("南宁市", "南宁市"),
        ("Nanning", "南宁市"),
        ("nanning city", "南宁市"),
        ("NANNING SHI", "南宁市"),
        ("NanningCity", "南宁市"),
        ("  南 宁 市 ", "南宁市"),
        ("南宁\u200b市", "南宁市"),
        ("ＮＡＮＮＩＮＧ", "南宁市"),  # full width
        ("广西南宁市", "南宁市"),
        ("广西壮族自治区南宁市", "南宁市"),
        ("广西·南宁", "南宁市"),
        ("中国广西南宁市", "南宁市"),
        ("Nanning, Guangxi Zhuang Autonomous Region", "南宁市"),
        ("江苏省苏州市", "苏州市"),
        ("柳州", "柳州市"),
        ("Liuzhou", "柳州市"),
        ("延边", "延边朝鲜族自治州"),
        ("延边州", "延边朝鲜族自治州"),
        ("延边朝鲜族", "延边朝鲜族自治州"),
        ("Yanbian Korean Autonomous Prefecture", "延边朝鲜族自治州"),
        ("兴安", "兴安盟"),
        ("Hinggan League", "兴安盟"),
        ("大兴安岭", "大兴安岭地区"),
        ("阿里", "阿里地区"),
        ("海南州", "海南藏族自治州"),
        ("Xi'an", "西安市"),
        ("Xian", "西安市"),
        ("xi\u2019an", "西安市"),
        ("Lu'an", "六安市"),
        ("Urumqi", "乌鲁木齐市"),
        ("Ürümqi", "乌鲁木齐市"),
        ("Kashgar", "喀什地区"),
        ("Lhasa", "拉萨市"),
        ("Hohhot", "呼和浩特市"),
        ("Ordos", "鄂尔多斯市"),
        ("北京", "北京市"),
        ("Beijing", "北京市"),
        ("重庆", "重庆市"),
        ("chongqing municipality", "重庆市"),
        ("吉林", "吉林市"),
        ("Jilin City", "吉林市"),
        ("Enshi", "恩施土家族苗族自治州"),
        ("Huangshi", "黄石市"),
        ("襄樊", "襄阳市"),
        ("Suzhou, Jiangsu", "苏州市"),
        ("Anhui Suzhou", "宿州市"),
        ("Shaanxi Yulin", "榆林市"),
        ("Fuzhou, Fujian", "福州市"),
        ("Taizhou Zhejiang", "台州市"),
    ],
)
def test_spellings_normalise(spelling: str, canonical: str) -> None:
    assert geo.normalize_city(spelling) == canonical


@pytest.mark.parametrize(
    "value",
    [
        None,
        float("nan"),
        np.nan,
        pd.NA,
        "",
        "   ",
        "\u200b",
        123,
        450100,
        ["南宁"],
        "市",
        "unknown city",
        "广西",  # a province, not a city
        "海南",  # the province, not 海南藏族自治州
        "Hainan",
        "吉林省",
        "Jilin Province",
        "广西苏州",  # 苏州 is not in Guangxi
        "南宁市青秀区",
        "Suzhou",  # 苏州市 or 宿州市
        "Fuzhou",
        "Taizhou",
        "Yichun",
        "Yulin",
    ],
)
def test_unknown_or_ambiguous_gives_none(value: object) -> None:
    assert geo.normalize_city(value) is None


def test_every_listed_name_round_trips(table: pd.DataFrame) -> None:
    for row in table.itertuples(index=False):
        assert geo.normalize_city(row.name_zh) == row.name_zh
        assert geo.normalize_city(f"{row.province_zh}{row.name_zh}") == row.name_zh
        assert geo.normalize_city(f"{row.name_en}, {row.province_en}") == row.name_zh
        en = geo.normalize_city(row.name_en)
        if row.name_en.lower() in AMBIGUOUS_PINYIN:
            assert en is None
        else:
            assert en == row.name_zh, row.name_en
        for alias in filter(None, row.aliases.split(";")):
            assert geo.normalize_city(alias) == row.name_zh, alias


def test_ambiguous_pinyin_are_exactly_the_known_pairs(table: pd.DataFrame) -> None:
    counts = table["name_en"].str.lower().value_counts()
    assert set(counts[counts > 1].index) == AMBIGUOUS_PINYIN


def test_suffixless_names_resolve(table: pd.DataFrame) -> None:
    for name in table["name_zh"]:
        for suffix in ("市", "地区", "盟"):
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                assert geo.normalize_city(name.removesuffix(suffix)) == name


# --- provinces ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("广西", "广西壮族自治区"),
        ("Guangxi", "广西壮族自治区"),
        ("广西壮族自治区", "广西壮族自治区"),
        ("广西省", "广西壮族自治区"),
        ("Guangxi Zhuang Autonomous Region", "广西壮族自治区"),
        ("江苏省", "江苏省"),
        ("江苏", "江苏省"),
        ("Jiangsu", "江苏省"),
        ("jiangsu province", "江苏省"),
        ("辽宁", "辽宁省"),
        ("内蒙古", "内蒙古自治区"),
        ("Inner Mongolia", "内蒙古自治区"),
        ("Nei Mongol", "内蒙古自治区"),
        ("西藏", "西藏自治区"),
        ("Tibet", "西藏自治区"),
        ("Xizang", "西藏自治区"),
        ("新疆", "新疆维吾尔自治区"),
        ("Xinjiang Uygur Autonomous Region", "新疆维吾尔自治区"),
        ("宁夏", "宁夏回族自治区"),
        ("Shanxi", "山西省"),
        ("Shaanxi", "陕西省"),
        ("北京", "北京市"),
        ("Beijing", "北京市"),
        ("海南", "海南省"),
    ],
)
def test_normalize_province(spelling: str, canonical: str) -> None:
    assert geo.normalize_province(spelling) == canonical


@pytest.mark.parametrize("value", [None, float("nan"), "", "南宁", "Nanning", 45, "火星省"])
def test_normalize_province_unknown(value: object) -> None:
    assert geo.normalize_province(value) is None


def test_every_province_name_round_trips(table: pd.DataFrame) -> None:
    provinces = table[["province_zh", "province_en"]].drop_duplicates()
    assert len(provinces) == 31
    for row in provinces.itertuples(index=False):
        assert geo.normalize_province(row.province_zh) == row.province_zh
        assert geo.normalize_province(row.province_en) == row.province_zh


@pytest.mark.parametrize(
    ("city", "province"),
    [
        ("柳州", "广西壮族自治区"),
        ("Nanning", "广西壮族自治区"),
        ("辽阳市", "辽宁省"),
        ("苏州", "江苏省"),
        ("宿州", "安徽省"),
        ("上海", "上海市"),
        ("延边", "吉林省"),
        ("nowhere", None),
        (None, None),
    ],
)
def test_province_of(city: object, province: str | None) -> None:
    assert geo.province_of(city) == province


# --- division codes ----------------------------------------------------------


def test_city_code_unknown() -> None:
    assert geo.city_code("nowhere") is None
    assert geo.city_code(None) is None


def test_city_prefixes() -> None:
    assert geo.city_prefixes("重庆")[:2] == ("5001", "5002")
    assert geo.city_prefixes("南宁") == ("4501",)
    assert geo.city_prefixes("Liaoyang") == ("2110",)
    assert geo.city_prefixes("nowhere") == ()
    assert geo.city_prefixes(None) == ()


def test_prefixes_start_with_own_code_and_map_back(table: pd.DataFrame) -> None:
    seen: set[str] = set()
    for name in table["name_zh"]:
        prefixes = geo.city_prefixes(name)
        assert prefixes[0] == geo.city_code(name)
        for prefix in prefixes:
            assert prefix not in seen
            seen.add(prefix)
            assert geo.city_of_division(prefix + "01") == name


@pytest.mark.parametrize(
    ("div6", "city"),
    [
        ("450102", "南宁市"),
        ("450100", "南宁市"),
        ("450203", "柳州市"),
        ("211002", "辽阳市"),
        ("320106", "南京市"),
        ("320571", "苏州市"),
        ("500101", "重庆市"),
        ("500230", "重庆市"),  # a Chongqing county
        ("500000", "重庆市"),  # registered with the municipality itself
        ("110000", "北京市"),
        ("110108", "北京市"),
        ("310115", "上海市"),
        ("371202", "济南市"),  # 莱芜, merged into 济南 in 2019
        ("542621", "林芝市"),  # 林芝地区 before 2015
        ("652201", "哈密市"),  # 哈密地区 before 2016
        (" 450102 ", "南宁市"),
        ("450000", None),  # province level, no city
        ("419001", None),  # 济源, county-level under the province
        ("429004", None),
        ("999999", None),
        ("45010", None),
        ("4501020", None),
        ("45O102", None),
        ("", None),
        (None, None),
        (450102, None),
    ],
)
def test_city_of_division(div6: object, city: str | None) -> None:
    assert geo.city_of_division(div6) == city  # type: ignore[arg-type]


def test_division_and_name_agree_for_every_city(table: pd.DataFrame) -> None:
    for row in table.itertuples(index=False):
        assert geo.city_of_division(row.code) == row.name_zh
        assert geo.city_code(row.name_zh) == row.code[:4]


# --- vectorised --------------------------------------------------------------


def test_normalize_cities_matches_scalar(table: pd.DataFrame) -> None:
    spellings = [
        "南宁",
        "Nanning",
        "nanning city",
        None,
        float("nan"),
        "",
        "nowhere",
        "Suzhou",
        "广西柳州市",
        *table["name_zh"],
        *table["name_en"],
    ]
    values = pd.Series(spellings * 3, index=range(100, 100 + 3 * len(spellings)), name="city")
    result = geo.normalize_cities(values)
    assert result.dtype == object
    assert result.name == "city"
    assert result.index.equals(values.index)
    expected = [geo.normalize_city(v) for v in values]
    assert result.tolist() == expected
    assert all(v is None or isinstance(v, str) for v in result)
    assert result.isna().sum() == sum(e is None for e in expected)
    assert result.iloc[3] is None


@pytest.mark.parametrize("dtype", [object, "str", "string"])
def test_normalize_cities_dtypes(dtype: object) -> None:
    values = pd.Series(["南宁", None, "Liuzhou", "nowhere"], dtype=dtype)
    result = geo.normalize_cities(values)
    assert result.dtype == object
    assert result.tolist() == ["南宁市", None, "柳州市", None]


def test_normalize_cities_empty_and_unhashable() -> None:
    assert geo.normalize_cities(pd.Series([], dtype=object)).tolist() == []
    mixed = pd.Series([["南宁"], "南宁", math.nan], dtype=object)
    assert geo.normalize_cities(mixed).tolist() == [None, "南宁市", None]
