"""Labelled variants of personal and public numbers, as citizens and units really write them.

The forms follow the real archives of two government message boards (an anonymised provincial
问政 board and the Zhejiang boards of the People's Daily 领导留言板): `联系电话：0746-7223262`,
`0746—8222289`, `0735---3323506`, full-width `０７３６－７２５８５０９`, `qq号:`, `微信号：`,
`身份证号码：`, `车牌号为：`, `电话…转9708`, hotlines such as `12345市长热线` and `0731-12333`,
standards (`GB50096-2011`), document numbers (`长政函办(2017)148号`), year ranges, prices and order
numbers. The archives mask their personal values with `*` or `0000-00000000`; the numbers here
are made up in the same forms (IDs with plausible dates, Luhn-valid cards and so on).

Each variant is "mask" (`value`, as written in `text`, must not be readable on any public
surface, and the rest of the text must stay as written) or "keep" (the whole text must come out
unchanged). `note` is the author's private note (its values are masked whole, never in
fragments); `published` marks text quoting the handling unit's published contact phone
(`UNIT_PHONE`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

UNIT_PHONE = "0571-87654321"
MASK, KEEP = "mask", "keep"


@dataclass(frozen=True)
class Variant:
    """One labelled text."""

    label: str
    kind: str
    text: str
    value: str
    note: str = ""
    published: bool = False

    def __post_init__(self):
        assert self.value in self.text, (self.text, self.value)


def _m(kind: str, text: str, value: str, **extra) -> Variant:
    return Variant(MASK, kind, text, value, **extra)


def _k(kind: str, text: str, value: str | None = None, **extra) -> Variant:
    return Variant(KEEP, kind, text, value or text, **extra)


ID = [
    _m("id", "身份证号码：330106198503152310，电话已留", "330106198503152310"),
    _m("id", "本人邱某，身份证号330106198503152317，家住西湖区", "330106198503152317"),  # typo'd
    _m("id", "身份证 330106 19850315 2310 请核实", "330106 19850315 2310"),
    _m("id", "身份证号：330106-19850315-2310。", "330106-19850315-2310"),
    _m("id", "证件号 3301 0619 8503 1523 10 已提交", "3301 0619 8503 1523 10"),
    _m(
        "id", "身份证３３０１０６１９８５０３１５２３１０，", "３３０１０６１９８５０３１５２３１０"
    ),
    _m("id", "身份证号为：11010519491231002X）", "11010519491231002X"),
    _m("id", "身份证号为：11010519491231002x。", "11010519491231002x"),
    _m("id", "身份证号11010519491231002×，", "11010519491231002×"),  # × typed for X
    _m("id", "（身份证号为：440106200002291234）", "440106200002291234"),
    _m("id", "老身份证号330106850315231还在用", "330106850315231"),
    _m("id", "旧证 330106 850315 231 不能用了", "330106 850315 231"),
    _m("id", "身份证号:43032219560101887X,户籍在A市", "43032219560101887X"),
    _m("id", "我叫王某（身份证号为：430322195601018870），是一位", "430322195601018870"),
    _m("id", "ID:510104199912310016 请回电", "510104199912310016"),
    _m("id", "身份证号码330106.19850315.2310", "330106.19850315.2310"),
    _m(
        "id",
        "身份证号码：３３０１０６－１９８５０３１５－２３１０",
        "３３０１０６－１９８５０３１５－２３１０",
    ),
    _m(
        "id", "身份证号三三〇一〇六一九八五〇三一五二三一〇", "三三〇一〇六一九八五〇三一五二三一〇"
    ),
    _m("id", "身份证11010519491231\u00ad002X", "11010519491231\u00ad002X"),
]

MOBILE = [
    _m("mobile", "联系电话13812345678，谢谢", "13812345678"),
    _m("mobile", "手机：138 1234 5678", "138 1234 5678"),
    _m("mobile", "手机号138-1234-5678，", "138-1234-5678"),
    _m("mobile", "电话+8613812345678找我", "13812345678"),
    _m("mobile", "电话 +86 138 1234 5678", "138 1234 5678"),
    _m("mobile", "电话0086-13812345678", "13812345678"),
    _m("mobile", "手机(+86)13812345678", "13812345678"),
    _m("mobile", "手机号码：１３８１２３４５６７８；", "１３８１２３４５６７８"),
    _m("mobile", "手机１３８ １２３４ ５６７８", "１３８ １２３４ ５６７８"),
    _m("mobile", "手机号是15912345678.", "15912345678"),
    _m("mobile", "电话：18612345678、12345都打过", "18612345678"),
    _m("mobile", "备用 13912345678 12345 也行", "13912345678"),
    _m("mobile", "电话 138 0000 1234 2019年起打不通", "138 0000 1234"),
    _m("mobile", "2019-11-11 17712345678联系过", "17712345678"),
    _m("mobile", "电话与微信19912345678", "19912345678"),
    _m("mobile", "请打我手机138.1234.5678", "138.1234.5678"),
    _m("mobile", "手机号：138—1234—5678", "138—1234—5678"),
    _m("mobile", "电话：１３８－１２３４－５６７８", "１３８－１２３４－５６７８"),
    _m("mobile", "tel:13512345678", "13512345678"),
    _m("mobile", "小区物业经理（16612345678）不接电话", "16612345678"),
    _m("mobile", "房东电话是14712345678吗", "14712345678"),
    _m("mobile", "手机号1381234 5678", "1381234 5678"),
    _m("mobile", "我的电话:138 12345678", "138 12345678"),
    _m("mobile", "一名手机号为18912345678的工作人员", "18912345678"),
    # Written in Chinese numerals, as people write a number to slip past filters.
    _m("mobile", "联系电话：一三八一二三四五六七八", "一三八一二三四五六七八"),
    _m("mobile", "手机 一三八 一二三四 五六七八 谢谢", "一三八 一二三四 五六七八"),
    _m("mobile", "手机幺三八幺二三四五六七八", "幺三八幺二三四五六七八"),
    _m("mobile", "电话壹叁捌壹贰叁肆伍陆柒捌", "壹叁捌壹贰叁肆伍陆柒捌"),
    _m("mobile", "打我电话138一二三四5678", "138一二三四5678"),
    _m("mobile", "電話壹參捌壹貳參肆伍陸柒捌", "壹參捌壹貳參肆伍陸柒捌"),
    # Invisible characters inside (a zero-width space, a word joiner: pasted from a chat app).
    _m("mobile", "电话138\u200b1234\u200b5678", "138\u200b1234\u200b5678"),
    _m(
        "mobile", "手机1\u200c3\u200d8\u20601234\ufeff5678，", "1\u200c3\u200d8\u20601234\ufeff5678"
    ),
]

LANDLINE = [
    _m("landline", "家里座机(0571)88234567", "88234567"),
    _m("landline", "家里电话（0571）88234567", "88234567"),
    _m("landline", "电话０５７１－８８２３４５６７晚上打", "８８２３４５６７"),
    _m("landline", "座机0571-8823-4567", "8823-4567"),
    _m("landline", "座机0571 8823 4567", "8823 4567"),
    _m("landline", "我家电话057188234567", "057188234567"),
    _m("landline", "家里0571—88234567", "88234567"),
    _m("landline", "宅电0735---3323508", "3323508"),
    _m("landline", "座机 010-62345678 转 802", "62345678"),
    _m("landline", "电话020-83456789转9708", "83456789"),
    _m("landline", "我家固话 88234567", "88234567"),
    _m("landline", "电话：8823 4567（家）", "8823 4567"),
    _m("landline", "父亲电话：0746-7223268", "7223268"),
    _m("landline", "(021)64567890 李先生", "64567890"),
    _m("landline", "家里电话零五七一八八二三四五六七", "零五七一八八二三四五六七"),
]

CARD = [
    _m("card", "卡号6222021234567890128", "6222021234567890128"),
    _m("card", "银行卡 6222 0212 3456 7890 128 被冻结", "6222 0212 3456 7890 128"),
    _m("card", "工资卡6222-0212-3456-7890-128", "6222-0212-3456-7890-128"),
    _m("card", "卡号：4111 1111 1111 1111", "4111 1111 1111 1111"),
    _m("card", "账号6217 0012 3456 7893", "6217 0012 3456 7893"),
    _m(
        "card",
        "银行卡６２２２０２１２３４５６７８９０１２８",
        "６２２２０２１２３４５６７８９０１２８",
    ),
    _m("card", "打入62220212345678901 28这张卡", "62220212345678901 28"),
    _m("card", "请退到6222 021234 567890128", "6222 021234 567890128"),
    _m("card", "卡号 5555555555554444 开户行工行", "5555555555554444"),
    _m("card", "存折账号 622848 0012 3456 7890 3", "622848 0012 3456 7890 3"),
    # After an account's name, masked although it fails the Luhn check (a savings book, a
    # housing-fund account, a card number with a typo).
    _m("card", "存折账号 101001234567890，户名张某", "101001234567890"),
    _m("card", "公积金账号：123456789012", "123456789012"),
    _m("card", "银行卡号 6222021234567890123 转账", "6222021234567890123"),
]

EMAIL = [
    _m("email", "邮箱zhang.san@example.com", "zhang.san"),
    _m("email", "电子邮箱：txh123456@163.com", "txh123456"),
    _m("email", "电邮: jqw20190923@126.com", "jqw20190923"),
    _m("email", "邮箱123456789@qq.com，电话已留", "123456789"),
    _m("email", "邮箱ｌｉｓｉ＿８８＠ｆｏｘｍａｉｌ．ｃｏｍ", "ｌｉｓｉ＿８８"),
    _m("email", "发到 wang-li+ms@sina.com.cn 即可", "wang-li+ms"),
    # Spelt out so that robots do not read it.
    _m("email", "邮箱 zhangsan#163.com（#换成@）", "zhangsan"),
    _m("email", "邮箱：lisi(at)qq.com", "lisi"),
    _m("email", "mail: wang.wu at sina dot com", "wang.wu"),
    _m("email", "电子邮箱 zhaoliu【at】126.com", "zhaoliu"),
    _m("email", "邮箱zhang\u200bsan@qq.com", "zhang\u200bsan"),
]

QQ = [
    _m("qq", "qq号:123456789", "123456789"),
    _m("qq", "QQ：987654321 李", "987654321"),
    _m("qq", "请联系qq：2345678901，", "2345678901"),
    _m("qq", "扣扣 3456789012", "3456789012"),
    _m("qq", "企鹅号123456789", "123456789"),
    _m("qq", "加我QQ 87654321", "87654321"),
    _m("qq", "ＱＱ：１２３４５６７８９", "１２３４５６７８９"),
    _m("qq", "Q号:55667788", "55667788"),
    _m("qq", "QQ号码是 112233445", "112233445"),
    _m("qq", "QQ：九八七六五四三二一", "九八七六五四三二一"),
    _m("qq", "QQ：1234\u200b5678", "1234\u200b5678"),
]

WECHAT = [
    _m("wechat", "微信号：zhangsan_1985", "zhangsan_1985"),
    _m("wechat", "加我微信 wxid_abc123xyz 谢谢", "wxid_abc123xyz"),
    _m("wechat", "VX: lilei-2020", "lilei-2020"),
    _m("wechat", "vx：hangzhou88", "hangzhou88"),
    _m("wechat", "wx:abc_12345", "abc_12345"),
    _m("wechat", "微信：Xiaoming2019", "Xiaoming2019"),
    _m("wechat", "威信 yangyang520", "yangyang520"),
    _m("wechat", "V信号是 cxh19900101", "cxh19900101"),
    _m("wechat", "微信号是：ｗａｎｇｗｕ８８８", "ｗａｎｇｗｕ８８８"),
    _m("wechat", "微信13812345679", "13812345679"),
]

SOCIAL = [
    _m("social", "抖音号：zs_1990", "zs_1990"),
    _m("social", "快手号: ks88888888", "ks88888888"),
    _m("social", "微博ID 1234567890", "1234567890"),
    _m("social", "小红书号 xhs_20200101 私信我", "xhs_20200101"),
    _m("social", "钉钉号：ding12345", "ding12345"),
]

PLATE = [
    _m("plate", "车牌浙A12345的车", "浙A12345"),
    _m("plate", "车牌号为：浙AD12345", "浙AD12345"),
    _m("plate", "粤B·7K2M9停在消防通道", "粤B·7K2M9"),
    _m("plate", "车牌号苏E 8X9Y7", "苏E 8X9Y7"),
    _m("plate", "京N12345被占车位", "京N12345"),
    _m("plate", "车号浙a88888违停", "浙a88888"),
    _m("plate", "湘A1B2C3小车", "湘A1B2C3"),
    _m("plate", "车牌浙Ａ１２３４５", "浙Ａ１２３４５"),
]

PASSPORT = [
    _m("passport", "护照号E12345678", "E12345678"),
    _m("passport", "护照号码：EA1234567", "EA1234567"),
    _m("passport", "护照 G12345678 过期", "G12345678"),
    _m("passport", "港澳通行证C12345678", "C12345678"),
    _m("passport", "回乡证 H1234567801", "H1234567801"),
    _m("passport", "护照：ｅ１２３４５６７８", "ｅ１２３４５６７８"),
]

PRIVATE = [
    _m("private", "我是陈明亮，小区物业不作为", "陈明亮", note="姓名：陈明亮"),
    _m("private", "文三路128号门口路灯坏了", "文三路128号", note="地址：文三路128号"),
    _m("private", "住在文三路 128 号的居民", "文三路 128 号", note="住址：文三路128号"),
    _m("private", "我叫欧阳春晓，家住翠苑三区", "欧阳春晓", note="姓名：欧阳春晓，电话13812345670"),
    _m(
        "private",
        "翠苑三区12幢3单元楼道漏水",
        "翠苑三区12幢3单元",
        note="翠苑三区12幢3单元\n请尽快",
    ),
    _m("private", "房东王建国不退押金", "王建国", note="房东：王建国"),
    # Written in traditional characters where the note has simplified ones, or the other way.
    _m("private", "我是陳明亮，小區物業不作為", "陳明亮", note="姓名：陈明亮"),
    _m("private", "住在文三路128号的居民", "文三路128号", note="地址：文三路128號"),
    _k("private", "文三路128号路灯不亮", note="我家住在文三路128号附近"),
    _k("private", "128号楼前的路灯不亮", note="文三路 128 号"),
    _k("private", "谢谢领导关心", note="张三丰，谢谢"),
    _m("private", "张三丰反映的问题", "张三丰", note="张三丰"),
    _k("private", "3单元楼道灯坏了", note="地址：3单元"),
    _k("private", "西湖区文三路路灯坏了", note="住址：文三路 128 号 3 单元"),
]

# Public numbers: hotlines, the unit's published phone, official numbers and ordinary numbers.
KEEP_NUMBERS = [
    _k("hotline", "多次拨打12345市长热线无果"),
    _k("hotline", "我多次拨打市民投诉热线12345 、平台投诉"),
    _k("hotline", "温斯顿拨打了110电话"),
    _k("hotline", "急救打120，火警119"),
    _k("hotline", "给12369打了几次电话"),
    _k("hotline", "消费者投诉热线12315"),
    _k("hotline", "城管服务热线12319"),
    _k("hotline", "住房公积金服务热线12329"),
    _k("hotline", "拨打我局业务咨询电话0731-12333，依次选择1"),
    _k("hotline", "组织部12380举报电话"),
    _k("hotline", "12388纪检监察举报"),
    _k("hotline", "我拨打三次0571-12345热线投诉"),
    _k("hotline", "供电服务热线95598"),
    _k("hotline", "工商银行客服95588"),
    _k("hotline", "公交热线96196"),
    _k("hotline", "客服电话400-820-8820"),
    _k("hotline", "免费电话800-820-8820"),
    _k("hotline", "请拨打12345转2号键"),
    _k("hotline", "交警122"),
    _k("unit", "如有疑问请致电0571-87654321。", "0571-87654321", published=True),
    _k("unit", "联系电话：0571-87654321", "0571-87654321", published=True),
    _k("unit", "电话（0571）87654321", "87654321", published=True),
    _k("unit", "办公室电话87654321", "87654321", published=True),
    _k("unit", "可拨打0571—87654321咨询", "0571—87654321", published=True),
    _k("unit", "咨询电话：０５７１－８７６５４３２１", "８７６５４３２１", published=True),
    _k("official", "举报电话：0746——4714990"),
    _k("official", "监督联系电话：0746-7223262"),
    _k("official", "咨询电话：0745-5257022"),
    _k("official", "我局举报，举报电话：0735---3323506"),
    _k("official", "公司24小时客服热线0735—2363333联系"),
    _k("official", "城管服务热线0738-8211119"),
    _k("official", "市公安局查号台提供的0571-87282913号码"),
    _k("official", "政务管理办公室电话:0738-3238156"),
    _k("official", "A市博物馆微信公众号（微信号：cssbwg）"),
    _k("official", "电子邮箱：xfj@hangzhou.gov.cn"),
    _k("ordinary", "根据《住宅设计规范》GB50096-2011条款6.1"),
    _k("ordinary", "《A市城市总体规划（2003-2020年）》"),
    _k("ordinary", "建设两年行动计划（2018——2019年）"),
    _k("ordinary", "2019-11-11在天猫购买"),
    _k("ordinary", "本人于2019-11-07 17:57:47"),
    _k("ordinary", "《长政函办(2017)148号》文"),
    _k("ordinary", "财社（2008）269号"),
    _k("ordinary", "精装价格8000-8500元/平"),
    _k("ordinary", "每月拿着5000-6000的薪水"),
    _k("ordinary", "淘宝订单编号：1218528242482794419"),
    _k("ordinary", "订单号: 120458992922782099"),
    _k("ordinary", "订单号 2026030212345678901234"),
    _k("ordinary", "金额 123456789012 元"),
    _k("ordinary", "网友“A00049261”：您好"),
    _k("ordinary", "石渚溪街B01-01-05栋206房产"),
    _k("ordinary", "醉东江（18-1-101）"),
    _k("ordinary", "1 2 3 45 6 栋车库"),
    _k("ordinary", "坐809公交转2次地铁"),
    _k("ordinary", "该同志2013—2015年度没有优秀"),
    _k("ordinary", "预售许可证，证号为2018-0128"),
    _k("ordinary", "计1.5分"),
    _k("ordinary", "高铁G1234次列车"),
    _k("ordinary", "A市A1区A5区"),
    _k("ordinary", "编号 110105194913310021 号"),
    _k("ordinary", "卡 6222021234567890123"),
    _k("ordinary", "GB 175-2007"),
    _k("ordinary", "人口1400000000人"),
    _k("ordinary", "3.14159265358979"),
    _k("ordinary", "2018年12月4日13时"),
    _k("ordinary", "微信支付宝都能用"),
    _k("ordinary", "在微信群或QQ群内提出质疑"),
    _k("ordinary", "门牌号128号"),
    _k("ordinary", "面积1,234.56平方米"),
    _k("ordinary", "Q235钢材不合格"),
    _k("ordinary", "型号Q12345的电梯"),
    _k("ordinary", "雅中学初中1903微信c1903班级家长讨论群"),
    _k("ordinary", "商户用VX520刷卡机"),
    _k("ordinary", "卡号后四位8888"),
    _k("hotline", "拨打幺二三四五热线"),
    _k("official", "关注官方抖音号：hzfabu2019"),
    _k("ordinary", "一二三四五六七八九十，数到十"),
    _k("ordinary", "二〇一九年十二月三日"),
    _k("ordinary", "三五成群，一二三四五六七"),
    _k("ordinary", "用C#.NET写的系统"),
    _k("ordinary", "在抖音和快手上都发了视频"),
    _k("ordinary", "微博 10000 多转发"),
    _k("official", "请汇至对公账户：1202021209000123456"),
    _k("ordinary", "账号 0000-00000000 0000"),
]

CORPUS: list[Variant] = (
    ID
    + MOBILE
    + LANDLINE
    + CARD
    + EMAIL
    + QQ
    + WECHAT
    + SOCIAL
    + PLATE
    + PASSPORT
    + PRIVATE
    + KEEP_NUMBERS
)


def _significant(text: str) -> str:
    """Normalised text with separators and invisible characters removed: `１３８ １２３４`,
    `138-1234` and `138\u200b1234` all `1381234`."""
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s\-–—‐.·()（）]+", "", text)


def readable(value: str, public: str) -> bool:
    """Whether `value` can be read in `public` text, however it is spaced or written."""
    return _significant(value) in _significant(public)


def judge(variant: Variant, masked: str) -> str | None:
    """Why the masked text is wrong for this variant, or None when it is right."""
    if variant.label == KEEP:
        return None if masked == variant.text else "garbled"
    before, _, after = variant.text.partition(variant.value)
    if not (masked.startswith(before) and masked.endswith(after)):
        return "leaked" if readable(variant.value, masked) else "garbled"
    middle = masked[len(before) : len(masked) - len(after)]
    significant = len(re.sub(r"\W", "", variant.value))
    if readable(variant.value, masked) or middle.count("*") < min(3, (significant + 1) // 2):
        return "leaked"
    return None
