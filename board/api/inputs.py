"""What the API accepts: JSON bodies checked against field specs, and typed query arguments."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..errors import BoardError, ValidationFailed
from ..messages.services import BODY_MAX, NOTE_MAX, TITLE_MAX
from ..models import Domain, Kind, RegionLevel, State, Track
from ..stats.listing import NARROWING

MAX_PER_PAGE = 200
MAX_PAGE = 10_000_000  # keeps OFFSET inside a 64-bit integer
# The sorts and page size board.search.query understands (a test keeps these equal to its own).
SEARCH_SORTS = ("relevance", "newest", "oldest", "cosigns", "slowest")
SEARCH_MAX_PER_PAGE = 100
SEARCH_PAGE_SIZE = 20
_JSON_TYPES = {"string": str, "integer": int, "boolean": bool}


class BadJson(BoardError, code="bad_json", default=_l("请求体不是有效的 JSON 对象。")):
    """The request body is not a JSON object."""


def _schema(base: dict[str, Any], *, enum: tuple[str, ...] | None, **limits: Any) -> dict:
    """A JSON Schema: `base`, the `enum` when there is one, then each of `limits` that is set."""
    schema = dict(base)
    if enum:
        schema["enum"] = list(enum)
    schema.update((key, value) for key, value in limits.items() if value is not None)
    return schema


@dataclass(frozen=True)
class Field:
    """One member of a JSON request body: its type, whether it is required, what it means."""

    name: str
    type: str  # string | integer | boolean
    description: str
    required: bool = False
    default: Any = None
    enum: tuple[str, ...] | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    missing: Any = None  # what a required field left out is answered (a lazy text naming it)

    def schema(self) -> dict:
        """The field as a JSON Schema (for the OpenAPI document)."""
        return _schema(
            {"type": self.type, "description": self.description},
            enum=self.enum,
            maxLength=self.max_length,
            minimum=self.minimum,
            maximum=self.maximum,
            default=self.default,
        )


def json_object() -> dict:
    """The request body as a dict; an empty body counts as `{}`, anything else not JSON is 400."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise BadJson() from error
    if not isinstance(data, dict):
        raise BadJson(_("请求体必须是一个 JSON 对象。"))
    return data


def storable(text: str) -> bool:
    """False for text no database column can hold: NUL characters or lone UTF-16 surrogates."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check(field: Field, value: Any) -> str | None:
    """The complaint about one present value, or None if it fits the field."""
    expected = _JSON_TYPES[field.type]
    # bool is an int in Python, but not in JSON.
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        names = {"string": _("字符串"), "integer": _("整数"), "boolean": _("布尔值")}
        return _("应为%(type)s。", type=names[field.type])
    if isinstance(value, str) and not storable(value):
        return _("含有无效字符。")
    if field.enum and value not in field.enum:
        return _("取值应为：%(values)s。", values=", ".join(field.enum))
    if field.max_length is not None and len(value) > field.max_length:
        return _("不能超过 %(n)d 个字。", n=field.max_length)
    if field.minimum is not None and value < field.minimum:
        return _("不能小于 %(n)d。", n=field.minimum)
    if field.maximum is not None and value > field.maximum:
        return _("不能大于 %(n)d。", n=field.maximum)
    return None


def validate(data: dict, fields: tuple[Field, ...]) -> dict:
    """The body's known fields, typed and defaulted; missing or mistyped ones raise 422."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for field in fields:
        value = data.get(field.name)
        if value is None:
            if field.required:
                errors[field.name] = [str(field.missing or _("必须填写。"))]
            clean[field.name] = field.default
            continue
        problem = _check(field, value)
        if problem:
            errors[field.name] = [problem]
        clean[field.name] = value
    if errors:
        raise ValidationFailed(fields=errors)
    return clean


# ---------------------------------------------------------------------------------------------
# Query arguments


@dataclass(frozen=True)
class Param:
    """One query argument: its type (string, integer, boolean or date) and meaning."""

    name: str
    type: str
    description: str
    enum: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None

    def schema(self) -> dict:
        """The argument as a JSON Schema (for the OpenAPI document)."""
        if self.type == "date":
            return {"type": "string", "format": "date"}
        return _schema(
            {"type": self.type}, enum=self.enum, minimum=self.minimum, maximum=self.maximum
        )

    def read(self) -> Any:
        """The argument from the query string, typed; None when absent; 422 when malformed."""
        raw = request.args.get(self.name, "").strip()
        if not raw:
            return None
        if not storable(raw):
            raise ValidationFailed(fields={self.name: [_("含有无效字符。")]})
        if self.type == "integer":
            return self._integer(raw)
        if self.type == "boolean":
            if raw.lower() in ("true", "1", "yes"):
                return True
            if raw.lower() in ("false", "0", "no"):
                return False
            raise ValidationFailed(fields={self.name: [_("应为 true 或 false。")]})
        if self.type == "date":
            try:
                return date.fromisoformat(raw)
            except ValueError as error:
                raise ValidationFailed(
                    fields={self.name: [_("日期格式应为 YYYY-MM-DD。")]}
                ) from error
        if self.enum and raw not in self.enum:
            raise ValidationFailed(
                fields={self.name: [_("取值应为：%(values)s。", values=", ".join(self.enum))]}
            )
        return raw

    def _integer(self, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            value = None
        low = self.minimum if self.minimum is not None else -(2**63)
        high = self.maximum if self.maximum is not None else 2**63 - 1
        if value is None or not low <= value <= high:
            if self.maximum is not None:
                bounds = _("%(lo)d 到 %(hi)d 之间的整数", lo=low, hi=high)
            else:
                bounds = _("不小于 %(lo)d 的整数", lo=low)
            raise ValidationFailed(fields={self.name: [_("应为%(bounds)s。", bounds=bounds)]})
        return value


def read_args(params: tuple[Param, ...]) -> dict[str, Any]:
    """Every argument of `params`, read together so one 422 names all the malformed ones."""
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for param in params:
        try:
            values[param.name] = param.read()
        except ValidationFailed as error:
            errors.update(error.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    return values


PAGE = Param("page", "integer", "页码，从 1 开始", minimum=1, maximum=MAX_PAGE)
PER_PAGE = Param(
    "per_page",
    "integer",
    f"每页条数（默认 50，最多 {MAX_PER_PAGE}）",
    minimum=1,
    maximum=MAX_PER_PAGE,
)


def page_args(values: dict[str, Any]) -> tuple[int, int]:
    """`page` and `per_page` from read arguments, with the configured default page size."""
    default = min(int(current_app.config.get("API_PAGE_SIZE", 50)), MAX_PER_PAGE)
    return values.get("page") or 1, values.get("per_page") or default


# ---------------------------------------------------------------------------------------------
# What each endpoint reads


def _codes(enum) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


REGION = Param("region", "string", "GB/T 2260 区划代码，包含其下级区划")
DIRECTORY_PARAMS = (REGION, PAGE, PER_PAGE)
REGION_PARAMS = (
    REGION,
    Param("level", "string", "区划级别", enum=_codes(RegionLevel)),
    Param(
        "current",
        "boolean",
        "true：只列现行区划（不含已并入其他区划的旧代码）；不给或 false：全部列出",
    ),
    PAGE,
    PER_PAGE,
)
MESSAGE_FILTERS = (
    Param("board", "string", "留言板代码（如 330100-secretary）"),
    REGION,
    Param("unit", "string", "办理单位代码"),
    Param("track", "string", "渠道", enum=_codes(Track)),
    Param("kind", "string", "类别", enum=_codes(Kind)),
    Param("domain", "string", "领域", enum=_codes(Domain)),
    Param("state", "string", "状态", enum=_codes(State)),
)
CURSOR = Param(
    "cursor",
    "string",
    "翻页游标：上一页返回的 `next_cursor`；给出时忽略 `page`（大量数据请用游标，不用页码）",
)
TOPIC = Param(
    "topic",
    "string",
    "一级主题分类：编号或名称（如 城乡建设），包含其下各级分类；不是一级分类时返回 422",
)
MESSAGE_PARAMS = (*MESSAGE_FILTERS, TOPIC, PAGE, PER_PAGE, CURSOR)
SEARCH_PARAMS = (
    Param("q", "string", "检索词（中文分词）；为空时按筛选条件列出"),
    *(p for p in MESSAGE_FILTERS if p.name != "track"),
    Param("replied", "boolean", "只要已回复（true）或未回复（false）的留言"),
    Param("topic", TOPIC.type, TOPIC.description + "；分面 topic 给出编号与名称"),
    Param("date_from", "date", "发布日期起（含），YYYY-MM-DD"),
    Param("date_to", "date", "发布日期止（含），YYYY-MM-DD"),
    Param(
        "sort",
        "string",
        "排序：relevance 相关度（有检索词时默认）、newest 最新（无检索词时默认）、oldest 最早、"
        "cosigns 附议最多、slowest 答复最慢",
        enum=SEARCH_SORTS,
    ),
    PAGE,
    Param(
        "per_page",
        "integer",
        f"每页条数（默认 {SEARCH_PAGE_SIZE}，最多 {SEARCH_MAX_PER_PAGE}）",
        minimum=1,
        maximum=SEARCH_MAX_PER_PAGE,
    ),
)

# The filters search_messages understands, all passed on as read.
SEARCH_FILTERS = (*NARROWING, "date_from", "date_to")

SUBMIT_FIELDS = (
    Field("board", "string", "留言板代码（如 330100-secretary）", required=True),
    Field("region", "string", "问题发生地的区划代码，须在留言板辖区内", required=True),
    Field("track", "string", "渠道：board 留言，petition 信访", required=True, enum=_codes(Track)),
    Field("kind", "string", "类别，须属于所选渠道", required=True, enum=_codes(Kind)),
    Field("domain", "string", "领域", required=True, enum=_codes(Domain)),
    Field("title", "string", "标题", required=True, max_length=TITLE_MAX),
    Field("body", "string", "正文（至少 10 字）", required=True, max_length=BODY_MAX),
    Field("private_note", "string", "备注：只有办理方可见", max_length=NOTE_MAX, default=""),
    Field(
        "wants_public",
        "boolean",
        "是否愿意公开：不给时留言渠道公开、信访渠道不公开（检举控告从不公开）",
    ),
    Field("real_name", "string", "真实姓名（信访渠道必填，默认取账户资料）", max_length=64),
    Field(
        "phone",
        "string",
        "联系电话（信访渠道必填，默认取账户资料）：手机号码或带区号的固定电话",
        max_length=32,
    ),
    Field("address", "string", "住址（信访渠道必填，默认取账户资料）", max_length=200),
    Field(
        "topic",
        "string",
        "主题分类（选填）：从一级分类起的路径，如 城乡建设/住房保障与房地产/物业服务；"
        "须是启用中的分类，记为留言人选择",
        max_length=160,
    ),
)

CALC_PARAMS = (
    Param("start", "date", "起算日期（当日不计入），YYYY-MM-DD"),
    Param("policy", "string", "期限名称，如 board_reply_long、petition_handling"),
)

STATS_GROUPS = ("region", "board", "unit")
STATS_SORTS = ("on_time", "reply_rate", "speed")
STATS_PARAMS = (
    Param(
        "group_by",
        "string",
        "按地区、留言板或办理单位分组排行；不给时返回一个范围的全部数据（含逐月序列）",
        enum=STATS_GROUPS,
    ),
    *(p for p in MESSAGE_FILTERS if p.name != "state"),
    Param("date_from", "date", "发布日期起（北京时间，含），YYYY-MM-DD"),
    Param("date_to", "date", "发布日期止（北京时间，含），YYYY-MM-DD"),
    Param(
        "level",
        "string",
        "分组的区划级别（group_by=region 时默认 city；board、unit 时只要该级别的留言板或单位）",
        enum=_codes(RegionLevel),
    ),
    Param("post", "string", "只要该职务的留言板（group_by=board）", enum=("secretary", "governor")),
    Param(
        "sort",
        "string",
        "排序：on_time 按期答复率 95% Wilson 区间下限（默认）、reply_rate 答复率区间下限、"
        "speed 答复用时中位数",
        enum=STATS_SORTS,
    ),
    Param(
        "min_cases",
        "integer",
        "参与排行的最少公开留言数（默认为站点设置 RANKING_MIN_CASES，20）",
        minimum=1,
        maximum=1_000_000,
    ),
)
