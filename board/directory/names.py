"""English names of regions, boards and units, generated from the Chinese directory data.

Region names are romanised with pypinyin (杭州市 → Hangzhou, 淳安县 → Chun'an County); board
titles and office names are built from the region's English name and the post (杭州市委书记 →
Party Secretary of Hangzhou); department units from the region and a translated department name.
Only a handful of divisions whose English name is not their pinyin are named by code.
"""

from __future__ import annotations

import re
from functools import lru_cache
from types import SimpleNamespace

from flask import has_request_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from pypinyin import Style, lazy_pinyin

# Province-level divisions known abroad by a name that is not the plain pinyin of their stem.
CONVENTIONAL_NAMES = {
    "150000": "Inner Mongolia",
    "450000": "Guangxi",
    "540000": "Xizang",
    "610000": "Shaanxi",  # pinyin alone would collide with 山西 Shanxi
    "640000": "Ningxia",
    "650000": "Xinjiang",
    "710000": "Taiwan",
    "810000": "Hong Kong",
    "820000": "Macao",
}

# Chinese suffix of a division's name → English suffix (longest first; "" drops it).
SUFFIXES = (
    ("特别行政区", " SAR"),
    ("自治区", " Autonomous Region"),
    ("自治州", " Autonomous Prefecture"),
    ("自治县", " Autonomous County"),
    ("自治旗", " Autonomous Banner"),
    ("新区", " New Area"),
    ("林区", " Forestry District"),
    ("地区", " Prefecture"),
    ("省", ""),
    ("市", ""),
    ("区", " District"),
    ("县", " County"),
    ("旗", " Banner"),
    ("盟", " League"),
)
# 恩施土家族苗族自治州: the peoples named before 自治 are dropped from the stem (those of the
# autonomous divisions of GB/T 2260).
PEOPLES = re.compile(
    "(?:(?:"
    + "|".join(
        sorted(
            "土家 苗 畲 壮 回 维吾尔 藏 蒙古 彝 布依 侗 白 哈尼 傣 景颇 傈僳 朝鲜 羌 哈萨克 柯尔克孜 黎 瑶 "
            "仫佬 毛南 仡佬 水 纳西 拉祜 佤 普米 怒 独龙 鄂温克 鄂伦春 达斡尔 满 锡伯 撒拉 土 东乡 保安 "
            "裕固 塔吉克 各".split(),
            key=len,
            reverse=True,
        )
    )
    + ")族)+$"
)

# The departments a unit's name ends with (the region's name comes before them).
DEPARTMENTS = {
    "住房和城乡建设厅": _l("住房和城乡建设厅"),
    "住房和城乡建设局": _l("住房和城乡建设局"),
    "住房和城乡建设委员会": _l("住房和城乡建设委员会"),
    "交通运输厅": _l("交通运输厅"),
    "交通运输局": _l("交通运输局"),
    "交通委员会": _l("交通委员会"),
    "教育厅": _l("教育厅"),
    "教育局": _l("教育局"),
    "教育委员会": _l("教育委员会"),
    "卫生健康委员会": _l("卫生健康委员会"),
    "人力资源和社会保障厅": _l("人力资源和社会保障厅"),
    "人力资源和社会保障局": _l("人力资源和社会保障局"),
    "生态环境厅": _l("生态环境厅"),
    "生态环境局": _l("生态环境局"),
    "公安厅": _l("公安厅"),
    "公安局": _l("公安局"),
    "市场监督管理局": _l("市场监督管理局"),
    "农业农村厅": _l("农业农村厅"),
    "农业农村局": _l("农业农村局"),
    "文化和旅游厅": _l("文化和旅游厅"),
    "文化广电旅游局": _l("文化广电旅游局"),
    "文化和旅游局": _l("文化和旅游局"),
    "地方金融管理局": _l("地方金融管理局"),
    "自然资源厅": _l("自然资源厅"),
    "自然资源和规划局": _l("自然资源和规划局"),
    "规划和自然资源委员会": _l("规划和自然资源委员会"),
    "民政厅": _l("民政厅"),
    "民政局": _l("民政局"),
    "人民政府办公厅": _l("人民政府办公厅"),
    "人民政府办公室": _l("人民政府办公室"),
}
OFFICE_SUFFIX = "留言办理办公室"


def in_english() -> bool:
    """Whether the current request speaks English."""
    return has_request_context() and str(get_locale() or "").startswith("en")


@lru_cache(maxsize=8192)
def romanise(text: str) -> str:
    """Hanyu Pinyin of `text` as one capitalised word, with the apostrophe before a, o, e."""
    syllables = lazy_pinyin(text, style=Style.NORMAL, v_to_u=True)
    word = syllables[0] if syllables else ""
    for syllable in syllables[1:]:
        word += ("'" if syllable[:1] in ("a", "o", "e") else "") + syllable
    return word[:1].upper() + word[1:]


@lru_cache(maxsize=8192)
def region_name_en(code: str, name: str) -> str:
    """杭州市 → Hangzhou, 西湖区 → Xihu District, 景宁畲族自治县 → Jingning Autonomous County."""
    if code in CONVENTIONAL_NAMES:
        stem = CONVENTIONAL_NAMES[code]
        return stem + (" SAR" if name.endswith("特别行政区") else "")
    for suffix, english in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            if suffix.startswith("自治"):
                stem = PEOPLES.sub("", stem) or stem
            return romanise(stem) + english
    return romanise(name)


def governor_post_en(name: str, level: str) -> str:
    """The English name of a region's government head, after its Chinese name and level."""
    if name.endswith("自治区"):
        return "Chairman"
    if name.endswith("地区"):
        return "Commissioner"
    if name.endswith("盟"):
        return "Head"
    if level == "province" and name.endswith("省") or name.endswith("自治州"):
        return "Governor"
    if name.endswith("市"):
        return "Mayor"
    return "Head"


def board_title_en(post: str, region_code: str, region_name: str, region_level: str) -> str:
    """杭州市委书记 → Party Secretary of Hangzhou; 浙江省长 → Governor of Zhejiang."""
    place = region_name_en(region_code, region_name)
    if post == "secretary":
        return f"Party Secretary of {place}"
    return f"{governor_post_en(region_name, region_level)} of {place}"


def unit_name_en(
    name: str,
    region_code: str,
    region_name: str,
    region_level: str,
    parent: tuple[str, str] | None = None,
) -> str | None:
    """An office or department unit's English name; None for a name built otherwise."""
    from ..seed.directory import board_titles  # the titles the offices were named after

    place = region_name_en(region_code, region_name)
    if name.endswith(OFFICE_SUFFIX):
        title = name[: -len(OFFICE_SUFFIX)]
        region = SimpleNamespace(code=region_code, name=region_name, level=region_level)
        for post, chinese in board_titles(region):
            if chinese == title:
                return (
                    f"Office of the {board_title_en(post, region_code, region_name, region_level)}"
                )
        return None
    if name.startswith(region_name) and name[len(region_name) :] in DEPARTMENTS:
        return f"{place} {DEPARTMENTS[name[len(region_name) :]]}"
    branch = re.fullmatch(r"(.+?)公安局(.+)分局", name)
    if branch and branch.group(2) == region_name and parent:
        city = region_name_en(*parent)
        return f"{place} Branch, {city} {DEPARTMENTS['公安局']}"
    return None
