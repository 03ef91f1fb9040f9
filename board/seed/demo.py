"""Demo data: handling units for every region, accounts of every role, and realistic messages.

Messages are planned first (`plan_messages`: pure, seeded, no database writes) and then driven
through the real workflow services (`apply_plan`: submit → approve/reject → assign → accept →
reply → rate, with explicit `now=` values) so events and dates are right. A bulk writer for
large volumes can reuse the same plans.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, insert, select
from stdnum.cn import ric

from ..auth.services import hash_password
from ..extensions import db
from ..messages import services as msg
from ..models import (
    PUBLIC_STATES,
    Board,
    Domain,
    Kind,
    Message,
    Outcome,
    Region,
    RegionLevel,
    Role,
    State,
    Track,
    Unit,
    User,
)
from ..privacy import truncate_ip
from .directory import REGIONS_WITHOUT_BOARDS
from .reference import seed_reason_codes

Progress = Callable[[int], None] | None

DEMO_SOURCE = "demo"
DEMO_EMAIL_DOMAIN = "demo.minsheng.example"
DEMO_PASSWORDS = {
    Role.CITIZEN: "demo-citizen-2026",
    Role.HANDLER: "demo-handler-2026",
    Role.COORDINATOR: "demo-coordinator-2026",
    Role.MODERATOR: "demo-moderator-2026",
    Role.ADMIN: "demo-admin-2026",
}

# ---------------------------------------------------------------------------------------------
# Handling units

# suffix → name at a 省/自治区, at a city or county-level city, at a 直辖市
DEPARTMENTS: tuple[tuple[str, str, str, str], ...] = (
    ("zj", "住房和城乡建设厅", "住房和城乡建设局", "住房和城乡建设委员会"),
    ("jt", "交通运输厅", "交通运输局", "交通委员会"),
    ("jy", "教育厅", "教育局", "教育委员会"),
    ("wj", "卫生健康委员会", "卫生健康委员会", "卫生健康委员会"),
    ("rs", "人力资源和社会保障厅", "人力资源和社会保障局", "人力资源和社会保障局"),
    ("hb", "生态环境厅", "生态环境局", "生态环境局"),
    ("ga", "公安厅", "公安局", "公安局"),
    ("sj", "市场监督管理局", "市场监督管理局", "市场监督管理局"),
    ("nn", "农业农村厅", "农业农村局", "农业农村局"),
    ("wl", "文化和旅游厅", "文化广电旅游局", "文化和旅游局"),
    ("jr", "地方金融管理局", "地方金融管理局", "地方金融管理局"),
    ("zr", "自然资源厅", "自然资源和规划局", "规划和自然资源委员会"),
    ("mz", "民政厅", "民政局", "民政局"),
    ("zw", "人民政府办公厅", "人民政府办公室", "人民政府办公厅"),
)
COUNTY_DEPARTMENTS = {"zj": "住房和城乡建设局", "jy": "教育局", "ga": "公安局"}
DOMAIN_UNIT = {
    Domain.URBAN: "zj",
    Domain.TRANSPORT: "jt",
    Domain.RURAL: "nn",
    Domain.ENVIRONMENT: "hb",
    Domain.EDUCATION: "jy",
    Domain.HEALTH: "wj",
    Domain.SECURITY: "ga",
    Domain.TOURISM: "wl",
    Domain.EMPLOYMENT: "rs",
    Domain.CULTURE: "wl",
    Domain.FINANCE: "jr",
    Domain.BUSINESS: "sj",
    Domain.GOVERNMENT: "zw",
    Domain.OTHER: "mz",
}


def _is_municipality(region: Region | None) -> bool:
    """北京, 天津, 上海, 重庆: province-level cities."""
    return bool(region and region.level == RegionLevel.PROVINCE and region.name.endswith("市"))


def department_units(region: Region, parent: Region | None) -> list[tuple[str, str]]:
    """The demo departments of a region as (suffix, name): 杭州市住房和城乡建设局…"""
    if region.level == RegionLevel.COUNTY:
        units = []
        for suffix, name in COUNTY_DEPARTMENTS.items():
            if suffix == "ga" and region.name.endswith("区") and parent is not None:
                units.append((suffix, f"{parent.name}公安局{region.name}分局"))
            else:
                units.append((suffix, f"{region.name}{name}"))
        return units
    column = 3 if _is_municipality(region) else 1 if region.level == RegionLevel.PROVINCE else 2
    return [(row[0], f"{region.name}{row[column]}") for row in DEPARTMENTS]


def ensure_demo_units(progress: Progress = None) -> int:
    """Add the missing demo departments of every region (codes like 330100-zj); returns how many."""
    regions = {r.code: r for r in db.session.scalars(select(Region))}
    ids = dict(db.session.execute(select(Unit.code, Unit.id)).all())
    added = 0
    for level in (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY):
        rows = []
        for region in sorted(
            (r for r in regions.values() if r.level == level), key=lambda r: r.code
        ):
            if region.path.split("/")[0] in REGIONS_WITHOUT_BOARDS:
                continue
            parent = regions.get(region.parent_code) if region.parent_code else None
            for suffix, name in department_units(region, parent):
                code = f"{region.code}-{suffix}"
                if code in ids:
                    continue
                parent_id = ids.get(f"{region.parent_code}-{suffix}") if parent else None
                rows.append(
                    {
                        "code": code,
                        "name": name,
                        "region_code": region.code,
                        "parent_id": parent_id,
                        "is_office": False,
                    }
                )
            if progress:
                progress(1)
        if rows:
            db.session.execute(insert(Unit), rows)
            ids.update(db.session.execute(select(Unit.code, Unit.id)).all())
            added += len(rows)
    db.session.commit()
    return added


# ---------------------------------------------------------------------------------------------
# Accounts

# key, pen name, real name, phone, address
CITIZENS: tuple[tuple[str, str, str, str, str], ...] = (
    ("citizen1", "钱塘听潮", "王建国", "13757112046", "浙江省杭州市西湖区文三路 128 号"),
    ("citizen2", "西溪居民", "李秀英", "13588023517", "浙江省杭州市西湖区五常大道 166 号"),
    ("citizen3", "老杭州", "陈志强", "15869107732", "浙江省杭州市上城区望江路 57 号"),
    ("citizen4", "城西小陈", "陈晓燕", "18072915563", "浙江省杭州市余杭区五常街道荆长路 9 号"),
    ("citizen5", "甬城阿姨", "周丽华", "13906615289", "浙江省宁波市海曙区中山西路 88 号"),
    ("citizen6", "运河边的风", "赵海峰", "17767081124", "浙江省杭州市拱墅区湖墅南路 210 号"),
    ("citizen7", "瓯江夜话", "黄伟东", "13819735406", "浙江省温州市鹿城区人民路 312 号"),
    ("citizen8", "珠江新城业主", "林嘉欣", "13926081375", "广东省广州市天河区珠江东路 16 号"),
)
# Boards the demo messages go to, with weights: mostly Zhejiang, some elsewhere.
DEMO_BOARDS: tuple[tuple[str, int], ...] = (
    ("330000-secretary", 6),
    ("330000-governor", 5),
    ("330100-secretary", 14),
    ("330100-governor", 10),
    ("330106-secretary", 8),
    ("330110-secretary", 5),
    ("330102-secretary", 4),
    ("330200-secretary", 6),
    ("330200-governor", 4),
    ("330300-secretary", 4),
    ("330782-secretary", 3),
    ("110000-secretary", 3),
    ("110000-governor", 2),
    ("440000-governor", 2),
    ("440100-secretary", 3),
    ("440300-governor", 2),
    ("510100-secretary", 2),
    ("320500-governor", 2),
    ("420000-secretary", 1),
)
# Units that always get a demo handler, even before any message is assigned to them.
KEY_HANDLER_UNITS = ("330100-zj", "330106-zj", "330100-jt", "330000-jy")


def demo_email(key: str) -> str:
    """The e-mail address of a demo account."""
    return f"{key}@{DEMO_EMAIL_DOMAIN}"


@dataclass
class DemoAccounts:
    """The demo accounts, created or found."""

    citizens: list[User] = field(default_factory=list)
    moderator: User | None = None
    admin: User | None = None
    coordinators: dict[str, User] = field(default_factory=dict)  # board code → user
    handlers: dict[str, User] = field(default_factory=dict)  # unit code → user
    added: int = 0
    _hashes: dict[str, str] = field(default_factory=dict)
    created_at: datetime | None = None  # before the oldest demo message

    def account(
        self, key: str, role: Role, pen_name: str, unit: Unit | None = None, **profile
    ) -> User:
        """Find the demo account `key`, or create it with its role's demo password."""
        email = demo_email(key)
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            return user
        # One hash per role: every demo account of a role shares its printed password.
        if role not in self._hashes:
            self._hashes[role] = hash_password(DEMO_PASSWORDS[role])
        user = User(
            email=email,
            password_hash=self._hashes[role],
            pen_name=pen_name,
            role=role,
            unit=unit,
            created_at=self.created_at,
            **profile,
        )
        db.session.add(user)
        db.session.flush()
        self.added += 1
        return user

    def coordinator_for(self, board: Board) -> User:
        """The demo coordinator of a board's office (created on first use)."""
        if board.code not in self.coordinators:
            self.coordinators[board.code] = self.account(
                f"coordinator.{board.code}",
                Role.COORDINATOR,
                f"{board.title}交办员",
                unit=board.office_unit,
            )
        return self.coordinators[board.code]

    def handler_for(self, unit: Unit) -> User:
        """The demo handler of a unit (created on first use)."""
        if unit.code not in self.handlers:
            self.handlers[unit.code] = self.account(
                f"handler.{unit.code}", Role.HANDLER, f"{unit.name}承办人"[:40], unit=unit
            )
        return self.handlers[unit.code]


def ensure_demo_accounts(*, now: datetime) -> DemoAccounts:
    """Citizens, a moderator, an admin, coordinators of the demo boards, key handlers."""
    accounts = DemoAccounts(created_at=now - timedelta(days=800))
    for key, pen_name, real_name, phone, address in CITIZENS:
        accounts.citizens.append(
            accounts.account(
                key, Role.CITIZEN, pen_name, real_name=real_name, phone=phone, address=address
            )
        )
    accounts.moderator = accounts.account("moderator", Role.MODERATOR, "审核员小周")
    accounts.admin = accounts.account("admin", Role.ADMIN, "平台管理员")
    for code, _weight in DEMO_BOARDS:
        board = db.session.scalar(select(Board).where(Board.code == code))
        if board is not None:
            accounts.coordinator_for(board)
    for code in KEY_HANDLER_UNITS:
        unit = db.session.scalar(select(Unit).where(Unit.code == code))
        if unit is not None:
            accounts.handler_for(unit)
    # Handlers created by earlier runs for other units.
    prefix = "handler."
    for user in db.session.scalars(
        select(User).where(User.email.like(f"{prefix}%@{DEMO_EMAIL_DOMAIN}"))
    ):
        if user.unit is not None:
            accounts.handlers.setdefault(user.unit.code, user)
    db.session.commit()
    return accounts


def account_lines(accounts: DemoAccounts) -> list[str]:
    """What `flask seed demo` prints: every role's demo accounts and password."""
    lines = [
        f"citizen      {demo_email('citizen1')} … {demo_email(CITIZENS[-1][0])}"
        f"  password {DEMO_PASSWORDS[Role.CITIZEN]}",
        f"moderator    {accounts.moderator.email}  password {DEMO_PASSWORDS[Role.MODERATOR]}",
        f"admin        {accounts.admin.email}  password {DEMO_PASSWORDS[Role.ADMIN]}",
    ]
    for _code, user in sorted(accounts.coordinators.items()):
        lines.append(
            f"coordinator  {user.email}  password {DEMO_PASSWORDS[Role.COORDINATOR]}"
            f"  ({user.unit.name})"
        )
    key_handlers = [accounts.handlers[c] for c in KEY_HANDLER_UNITS if c in accounts.handlers]
    for user in key_handlers:
        lines.append(
            f"handler      {user.email}  password {DEMO_PASSWORDS[Role.HANDLER]}"
            f"  ({user.unit.name})"
        )
    others = len(accounts.handlers) - len(key_handlers)
    if others > 0:
        lines.append(
            f"handler      … and {others} more: {demo_email('handler.<unit code>')}"
            f"  password {DEMO_PASSWORDS[Role.HANDLER]}"
        )
    return lines


# ---------------------------------------------------------------------------------------------
# Message templates


@dataclass(frozen=True)
class Template:
    """A realistic message with slots ({xq}, {road}, {place}…) filled per message."""

    domain: Domain
    kind: Kind
    title: str
    body: str


T = Template
D, K = Domain, Kind
BOARD_TEMPLATES: tuple[Template, ...] = (
    # 城建
    T(
        D.URBAN,
        K.COMPLAINT,
        "{xq}物业费上涨未经业主大会表决",
        "我是{area}{xq}的业主。今年{m}月起，小区物业公司在未召开业主大会、未公示成本测算的情况下，"
        "将物业费从每平方米{fee1}元上调到{fee2}元，还在群里通知不交费就不给办理门禁卡。业主多次到"
        "物业服务中心询问，对方只说是公司决定。请主管部门核查此次调价是否合规，督促物业公开收支账目。",
    ),
    T(
        D.URBAN,
        K.COMPLAINT,
        "{road}路灯不亮已有一个多月",
        "{area}{road}从{xq}门口到公交站这一段，十几盏路灯已经一个多月不亮了。晚上这里行人和电动车"
        "很多，上周还有老人摔倒。打过几次电话反映，答复说会安排维修，但至今没有动静。请尽快修复。",
    ),
    T(
        D.URBAN,
        K.HELP,
        "{xq}电梯频繁故障，老人上下楼困难",
        "{xq}{n}号楼的电梯近三个月坏了不下十次，最长一次停了五天。楼里住着不少七八十岁的老人，"
        "只能爬楼或者待在家里。物业说电梯老化需要大修，维修资金要业主表决，一直拖着。恳请帮助协调解决。",
    ),
    T(
        D.URBAN,
        K.INQUIRY,
        "老旧小区加装电梯补贴如何申请？",
        "我们{area}{xq}是上世纪九十年代建成的六层老小区，多数业主同意加装电梯。想咨询：加装电梯"
        "的政府补贴标准是多少？需要几成业主签字同意？审批要走哪些部门，大概需要多长时间？",
    ),
    T(
        D.URBAN,
        K.SUGGESTION,
        "建议在{road}沿线增设口袋公园",
        "{road}沿线居民区密集，但附近没有可以休息和活动的场地，老人孩子只能在人行道上散步。沿线有"
        "几块闲置空地长期围挡，建议改造成口袋公园，增设座椅、健身器材和儿童游乐设施。",
    ),
    T(
        D.URBAN,
        K.HELP,
        "{xq}逾期交付，开发商拒不赔偿",
        "我们是{area}{xq}的购房者，合同约定{year}年底交房，现在已经逾期{m}个月，开发商既不说明"
        "原因也不按合同支付违约金。几百户业主还在一边还房贷一边租房，请住建部门督促开发商尽快交付。",
    ),
    T(
        D.URBAN,
        K.COMPLAINT,
        "{xq}地下车库长期渗水无人维修",
        "{xq}地下车库顶板渗水已经两年多，下雨天地面积水没过脚踝，墙面发霉、电线裸露，存在安全隐患。"
        "物业说是开发商的质量问题，开发商说过了保修期，互相推诿。请有关部门督促解决。",
    ),
    T(
        D.URBAN,
        K.THANKS,
        "感谢{place}住建局帮忙解决小区停水问题",
        "前段时间我们{xq}因为供水管网老化连续停水三天，留言后{place}住建局当天就联系了自来水公司，"
        "连夜抢修恢复供水，还安排了送水车。工作人员认真负责，特此致谢！",
    ),
    # 交通
    T(
        D.TRANSPORT,
        K.SUGGESTION,
        "建议{bus}路公交延长末班车时间",
        "{bus}路公交末班车晚上九点就收班了，沿线很多上班族加班到九点多只能打车回家。建议把末班车"
        "延长到晚上十点半，或者在高峰后加开几班夜间班次。",
    ),
    T(
        D.TRANSPORT,
        K.COMPLAINT,
        "{bus}路公交车经常甩站、不按时发车",
        "最近一个月，{bus}路公交在{road}站经常不停靠直接开走，早高峰等二十多分钟才来一辆。"
        "{date}早上七点半，连续两辆车都没有停站。请公交公司加强管理。",
    ),
    T(
        D.TRANSPORT,
        K.INQUIRY,
        "{road}施工围挡什么时候能拆除？",
        "{area}{road}因为地下管线施工围挡已经大半年，双向四车道变成两车道，每天早晚堵得水泄不通。"
        "请问这个工程计划什么时候完工？围挡能否分段提前拆除？",
    ),
    T(
        D.TRANSPORT,
        K.SUGGESTION,
        "建议{road}与{road2}交叉口增设左转信号灯",
        "{road}与{road2}交叉口车流量很大，目前左转没有单独的信号灯，左转车辆和对向直行车辆经常抢行，"
        "上个月就发生了两起事故。建议增设左转专用信号灯，并施划待转区。",
    ),
    T(
        D.TRANSPORT,
        K.COMPLAINT,
        "{road}共享单车乱停放堵塞人行道",
        "{road}地铁站出口的共享单车堆得满满当当，人行道和盲道都被占了，推婴儿车、坐轮椅根本过不去。"
        "希望督促运营企业及时清运，规范停放区域。",
    ),
    # 教育
    T(
        D.EDUCATION,
        K.INQUIRY,
        "{xq}今年学区划片到底归哪所小学？",
        "我家住在{area}{xq}，孩子今年秋季上小学。往年小区划在{school}，今年听说要调整，但教育局"
        "网站上还没有公布划片方案。请问今年的学区划片什么时候公布？我们小区归哪所学校？",
    ),
    T(
        D.EDUCATION,
        K.COMPLAINT,
        "{school}课后服务收费不透明",
        "{school}本学期课后服务每人收费{fee3}元，学校没有公布收费依据和服务内容，实际上就是让孩子在"
        "教室写作业。家长询问时老师说不参加就要自己四点前接走。请教育部门核查是否合规。",
    ),
    T(
        D.EDUCATION,
        K.HELP,
        "随迁子女入学积分不够怎么办？",
        "我们一家在{city}工作生活六年了，社保一直连续缴纳，租房居住。今年孩子上小学，积分差了几分"
        "没排上附近学校，被安排到十几公里外。请问还有什么途径可以解决？",
    ),
    T(
        D.EDUCATION,
        K.SUGGESTION,
        "建议{school}门口上下学时段设置临时停车位",
        "{school}门口是{road}，每天放学接孩子的车辆把路堵得死死的，孩子过马路很危险。建议在上下学"
        "时段设置临时停车位，并安排交警或志愿者疏导交通。",
    ),
    T(
        D.EDUCATION,
        K.THANKS,
        "感谢{school}老师对孩子的耐心帮助",
        "孩子上学期因为生病落下不少课，班主任和任课老师利用课后时间免费给他补课，还经常和我们沟通"
        "孩子的情况。现在孩子成绩赶上来了，也更自信了。向{school}的老师们表示衷心感谢！",
    ),
    # 就业
    T(
        D.EMPLOYMENT,
        K.HELP,
        "{company}拖欠{n}名工人工资{m}个月",
        "我们是{company}在{area}项目上的工人，共{n}人，从今年起已经{m}个月没发工资，合计拖欠"
        "{amount}元。老板一直说等甲方付款，现在电话也不接了。快过年了，大家都等着钱回家，恳请帮忙讨薪。",
    ),
    T(
        D.EMPLOYMENT,
        K.INQUIRY,
        "灵活就业人员社保断缴后如何补缴？",
        "我之前在{city}一家公司上班，离职后以灵活就业身份缴社保，中间因为失业断缴了{m}个月。"
        "请问现在还能补缴吗？断缴期间会不会影响医保报销和购房资格？",
    ),
    T(
        D.EMPLOYMENT,
        K.HELP,
        "应届毕业生生活补贴迟迟没有发放",
        "我是去年毕业来{city}工作的本科生，按政策可以申请新引进人才生活补贴，{m}月份就提交了材料，"
        "审核状态一直显示“审核中”，打电话咨询也说不清楚。请问什么时候能发放？",
    ),
    T(
        D.EMPLOYMENT,
        K.COMPLAINT,
        "{company}不签劳动合同、不交社保",
        "我在{company}工作快一年了，公司一直不和员工签劳动合同，也不缴纳社保，说是试用期。"
        "员工提出来就被威胁辞退。请劳动监察部门调查处理。",
    ),
    # 环保
    T(
        D.ENVIRONMENT,
        K.COMPLAINT,
        "{place}{shop}夜间噪音扰民",
        "{area}{road}上的{shop}每天晚上营业到凌晨两三点，音响声、划拳声很大，楼上居民根本睡不着。"
        "多次拨打电话反映，来人劝一下就好两天，之后照旧。请相关部门依法处理噪音扰民问题。",
    ),
    T(
        D.ENVIRONMENT,
        K.COMPLAINT,
        "{road}附近工地夜间违规施工",
        "{road}旁边的工地最近一个月几乎每晚都施工到十二点以后，打桩机、渣土车的声音非常大。"
        "请问他们有没有办理夜间施工许可？请生态环境部门核查。",
    ),
    T(
        D.ENVIRONMENT,
        K.COMPLAINT,
        "{xq}旁边餐饮店油烟直排",
        "{xq}{n}号楼底商的几家餐饮店没有安装油烟净化设施，油烟直接排到居民楼，窗户都不敢开，"
        "夏天尤其严重。请督促商家整改。",
    ),
    T(
        D.ENVIRONMENT,
        K.SUGGESTION,
        "建议{place}增设垃圾分类定时定点投放点",
        "{xq}目前只有一个垃圾分类投放点，离部分楼栋较远，很多居民图方便随手乱扔。建议增设投放点，"
        "配备洗手池和督导员，并延长开放时间。",
    ),
    # 治安
    T(
        D.SECURITY,
        K.COMPLAINT,
        "{xq}楼道电动车违规充电存在安全隐患",
        "{xq}{n}号楼有住户把电动车推进楼道甚至家里充电，飞线充电的情况也很普遍。之前别的小区发生过"
        "电动车起火的事故，大家都很担心。请督促物业和社区加强管理，增设集中充电桩。",
    ),
    T(
        D.SECURITY,
        K.HELP,
        "网购被诈骗{amount}元，报案后没有进展",
        "{date}我在网上购物时被冒充客服的人诱导转账，共被骗{amount}元。当天就到派出所报了案，"
        "至今两个多月没有任何消息。请问案件进展如何，钱还能追回来吗？",
    ),
    T(
        D.SECURITY,
        K.SUGGESTION,
        "建议在{road}夜间增加巡逻",
        "{road}晚上行人少、路灯暗，最近附近有几起电动车电瓶被盗的事情，女生下夜班走这段路很害怕。"
        "建议派出所在夜间增加巡逻，加装监控探头。",
    ),
    T(
        D.SECURITY,
        K.INQUIRY,
        "外地户籍子女落户{city}需要哪些材料？",
        "我已经在{city}落户，孩子户口还在老家。请问未成年子女投靠父母落户需要准备哪些材料？"
        "能否网上办理？办理时限是多久？",
    ),
    # 医疗
    T(
        D.HEALTH,
        K.COMPLAINT,
        "{hospital}专家号一号难求",
        "最近想给家里老人挂{hospital}的专家号，每天放号几秒钟就没了，医院门口却有人加价出售号源。"
        "请卫健部门核查号源管理，打击号贩子。",
    ),
    T(
        D.HEALTH,
        K.INQUIRY,
        "异地就医备案后报销比例是多少？",
        "我的医保在{city}，父母长期在外地随我哥哥生活。请问办理异地长期居住备案后，在外地住院报销"
        "比例和本地一样吗？门诊慢特病能不能直接结算？",
    ),
    T(
        D.HEALTH,
        K.SUGGESTION,
        "建议{place}社区卫生服务中心延长周末门诊时间",
        "{place}社区卫生服务中心周末只开半天，上班族只有周末有空带孩子打疫苗、给老人配药。建议周末"
        "全天开放，或者开设预约夜门诊。",
    ),
    T(
        D.HEALTH,
        K.THANKS,
        "感谢{hospital}急诊科医护人员",
        "{date}深夜，我父亲突发心梗被送到{hospital}急诊，医护人员争分夺秒抢救，从入院到手术只用了"
        "不到一个小时。父亲现在恢复得很好。衷心感谢所有医护人员！",
    ),
    # 企业（市场监管）
    T(
        D.BUSINESS,
        K.COMPLAINT,
        "{shop}预付卡闭店跑路，消费者退费无门",
        "{area}{road}上的{shop}上个月突然关门，很多会员卡里还有几千元余额，老板联系不上。"
        "涉及会员一百多人。请市场监管部门介入，帮助消费者退费。",
    ),
    T(
        D.BUSINESS,
        K.COMPLAINT,
        "网购平台商家虚假宣传拒不退款",
        "我在某电商平台购买的空气净化器，页面宣称除甲醛率99%，实际检测根本达不到。申请退款商家"
        "拒绝，平台也不处理。商家注册地在{area}，请市场监管部门查处。",
    ),
    T(
        D.BUSINESS,
        K.HELP,
        "小微企业办理食品经营许可证遇到困难",
        "我在{area}开了一家小面馆，申请食品经营许可证时被告知场地需要整改，但整改标准说得不清楚，"
        "来回跑了四趟还没办下来。能否提供一次性告知清单？",
    ),
    # 三农
    T(
        D.RURAL,
        K.HELP,
        "{village}村土地流转费用长期未支付",
        "我们是{place}{village}村的村民，{year}年村里把{n}亩承包地流转给一家农业公司，合同约定每年"
        "支付流转费，但公司已经两年没付了，村委会也说没办法。请帮助村民讨回流转费。",
    ),
    T(
        D.RURAL,
        K.SUGGESTION,
        "建议加强{place}农村道路养护",
        "{place}{village}村通往镇上的水泥路坑坑洼洼，下雨天积水严重，校车和农用车通行都很危险。"
        "建议纳入农村公路养护计划，尽快修补。",
    ),
    T(
        D.RURAL,
        K.INQUIRY,
        "农村宅基地房屋翻建审批流程咨询",
        "我家是{place}{village}村的，老房子是八十年代建的土木结构，现在想原址翻建。请问需要向哪个"
        "部门申请？要准备哪些材料？层数和面积有什么限制？",
    ),
    # 旅游
    T(
        D.TOURISM,
        K.COMPLAINT,
        "{place}景区节假日停车收费过高",
        "国庆期间到{place}景区游玩，景区周边停车场一小时收费二十元，比平时贵了一倍多，也没有公示"
        "收费标准。请相关部门核查是否存在乱收费。",
    ),
    T(
        D.TOURISM,
        K.SUGGESTION,
        "建议{city}主要景区增设无障碍通道",
        "带坐轮椅的父亲去{city}几个主要景区游玩，发现很多地方只有台阶没有坡道，无障碍卫生间也很少。"
        "建议完善景区无障碍设施，方便老年人和残疾人游览。",
    ),
    # 文娱
    T(
        D.CULTURE,
        K.SUGGESTION,
        "建议{place}图书馆延长夜间开放时间",
        "{place}图书馆晚上八点就闭馆，很多上班族和学生下班放学后想去看书学习时间不够。"
        "建议工作日延长到晚上十点，周末增加自习座位。",
    ),
    T(
        D.CULTURE,
        K.COMPLAINT,
        "{place}文化馆公益培训报名太难",
        "{place}文化馆的公益培训课程很受欢迎，但每次网上报名一开放就满员，很多老人不会用手机根本"
        "抢不到。建议保留一部分现场报名名额，或者改为抽签。",
    ),
    # 金融
    T(
        D.FINANCE,
        K.COMPLAINT,
        "网络借贷平台暴力催收骚扰家人",
        "我在某网络借贷平台借款逾期，对方催收人员每天打几十个电话，还给我的通讯录联系人发侮辱性短信，"
        "严重影响家人工作生活。请金融监管部门查处暴力催收行为。",
    ),
    T(
        D.FINANCE,
        K.INQUIRY,
        "公积金提取用于支付房租的条件是什么？",
        "我在{city}租房住，单位正常缴纳住房公积金。请问提取公积金支付房租需要满足什么条件？"
        "每年最多能提取多少？可以在手机上办理吗？",
    ),
    # 政务
    T(
        D.GOVERNMENT,
        K.COMPLAINT,
        "{place}政务服务中心办事排队时间过长",
        "{date}上午到{place}政务服务中心办理不动产登记，取号后排了三个多小时，窗口只开了两个。"
        "建议增加窗口、推行预约办理，减少群众等候时间。",
    ),
    T(
        D.GOVERNMENT,
        K.SUGGESTION,
        "建议不动产登记与水电气过户一网通办",
        "买了二手房，办完不动产登记后还要分别跑自来水、电力、燃气公司办过户，每家都要重复提交材料。"
        "建议在{city}推行不动产登记和水电气过户联动办理。",
    ),
    T(
        D.GOVERNMENT,
        K.INQUIRY,
        "新生儿出生“一件事”办理需要哪些材料？",
        "孩子下个月出生，听说{city}可以一次办理出生医学证明、户口登记、医保参保等事项。请问在哪里办理？"
        "需要准备哪些材料？",
    ),
    # 其他（民政）
    T(
        D.OTHER,
        K.HELP,
        "{place}独居老人申请居家养老服务补贴",
        "我母亲八十二岁独居在{place}，行动不便，听说可以申请居家养老服务补贴和上门助餐服务。"
        "我们向社区咨询过，说需要评估，但一直没有安排。请问该怎么申请？",
    ),
    T(
        D.OTHER,
        K.INQUIRY,
        "残疾人两项补贴申请条件咨询",
        "我哥哥是二级肢体残疾，户籍在{place}。请问残疾人生活补贴和重度残疾人护理补贴的申请条件是什么？"
        "能否同时领取？",
    ),
)
PETITION_TEMPLATES: tuple[Template, ...] = (
    T(
        D.URBAN,
        K.CLAIM,
        "请求解决房屋征收补偿问题",
        "本人{real_name}，住{area}{village}村。{year}年因{road}拓宽工程，我家房屋被列入征收范围。"
        "征收部门给出的补偿标准明显低于周边同类地块，评估报告也没有送达本人。多次到街道反映未果，"
        "请求依法重新评估并给予合理补偿。",
    ),
    T(
        D.EMPLOYMENT,
        K.CLAIM,
        "请求落实工伤认定后的待遇",
        "本人{real_name}，原在{company}务工，{year}年在工地受伤，已被认定为工伤、鉴定为九级伤残。"
        "但公司至今未支付一次性伤残补助金和停工留薪期工资。请求有关部门依法督促落实工伤待遇。",
    ),
    T(
        D.URBAN,
        K.CLAIM,
        "请求解决拖欠多年的工程款问题",
        "本人{real_name}，{year}年承接了{area}某安置房项目的部分装修工程，工程早已验收交付，"
        "但建设单位拖欠工程款{amount}元至今未付，导致我无法支付工人工资。请求协调解决。",
    ),
    T(
        D.URBAN,
        K.OPINION,
        "对{xq}老旧小区改造方案的意见",
        "本人{real_name}，系{xq}居民。社区公示的老旧小区改造方案中，把小区仅有的绿地改成停车位，"
        "多数居民并不同意，方案也没有征求过业主意见。建议重新征求居民意见后再实施。",
    ),
    T(
        D.TRANSPORT,
        K.OPINION,
        "关于{road}拓宽工程的意见建议",
        "本人{real_name}，住在{road}沿线。道路拓宽后人行道太窄，非机动车道被取消，建议优化断面设计，"
        "保留非机动车道，并在学校路段增设过街设施。",
    ),
    T(
        D.RURAL,
        K.REPORT,
        "检举{village}村干部违规处置集体资产",
        "本人{real_name}，{place}{village}村村民。村委会在未召开村民代表大会的情况下，将村集体的"
        "厂房低价租给与村干部有亲属关系的人，租金明显低于市场价。请求有关部门调查处理。",
    ),
)
KIND_WEIGHTS = {
    Kind.COMPLAINT: 40,
    Kind.HELP: 22,
    Kind.INQUIRY: 20,
    Kind.SUGGESTION: 14,
    Kind.THANKS: 4,
    Kind.CLAIM: 50,
    Kind.OPINION: 35,
    Kind.REPORT: 15,
}

# Replies to complaints and requests for help, by domain; other kinds get KIND_REPLIES.
REPLIES: dict[Domain, tuple[str, ...]] = {
    D.URBAN: (
        "网友您好！您反映的“{title}”问题已收悉。经{unit}会同属地街道现场核实，情况基本属实。"
        "目前已约谈相关物业服务企业和建设单位，责令其在 15 个工作日内完成整改，并向业主公示整改情况。"
        "我们将持续跟踪督办。感谢您对城市建设管理工作的关心和支持！",
        "您好！关于您反映的“{title}”，{unit}高度重视，已安排专人实地查看。相关维修已列入本月计划，"
        "预计两周内完成。如仍有问题，可拨打 12345 政务服务热线反映。",
    ),
    D.TRANSPORT: (
        "网友您好！您反映的“{title}”已收悉。经{unit}调查，已要求公交运营企业加强驾驶员管理和线路"
        "调度，对甩站行为按服务质量考核办法予以处罚。感谢您的监督！",
        "您好！{unit}已会同交警部门和城管部门对相关路段进行现场检查，督促运营企业加强车辆清运，"
        "并将在路口增设规范停放区。",
    ),
    D.EDUCATION: (
        "网友您好！{unit}已责成学校公开课后服务收费依据和服务内容，坚持家长自愿原则，"
        "不得变相强制参加。感谢您的监督！",
        "您好！您反映的情况已收悉。{unit}已协调属地学校统筹学位，将根据积分排序和学位余量"
        "为孩子妥善安排就近入学，具体情况招生工作人员将电话与您联系。",
    ),
    D.EMPLOYMENT: (
        "网友您好！收到您的留言后，{unit}劳动保障监察机构立即约谈了涉事企业负责人。经协调，企业已"
        "承诺在本月底前分两批支付拖欠的工资。我们将跟踪落实，如未按期支付将依法立案查处。",
        "您好！{unit}已对涉事企业开展劳动保障监察，责令其依法与劳动者签订书面劳动合同、"
        "补缴社会保险费。企业已于近日整改到位。",
    ),
    D.ENVIRONMENT: (
        "网友您好！{unit}接到留言后会同综合执法部门进行了夜间突击检查，现场确认存在噪声超标情况，"
        "已依法责令整改并立案调查。后续将加强巡查。",
        "您好！经{unit}核查，涉事商户未按要求安装油烟净化设施，已责令限期整改，整改完成后将组织复查。",
    ),
    D.SECURITY: (
        "网友您好！您反映的情况已转辖区派出所处理。{unit}已会同社区和物业开展电动车违规充电专项整治，"
        "并督促增设集中充电设施。",
        "您好！您报案的案件已由{unit}立案侦查，目前侦查工作正在进行中，有进展将第一时间告知您。"
        "请注意防范电信网络诈骗。",
    ),
    D.HEALTH: (
        "网友您好！{unit}已责成医院优化号源管理，实行实名制预约，并联合公安机关打击号贩子。"
        "感谢您的监督！",
        "您好！{unit}已约谈涉事医疗机构，要求其优化服务流程、公开收费项目，并加强医务人员管理。",
    ),
    D.BUSINESS: (
        "网友您好！{unit}已对涉事商家立案调查，并引导消费者依法登记维权。已登记的会员预付款将依法"
        "追偿，请您保留好相关凭证。",
        "您好！经{unit}核实，已将食品经营许可办理的材料清单和整改标准一次性告知，您可预约上门指导。",
    ),
}
GENERIC_REPLIES = (
    "网友您好！您反映的“{title}”问题已收悉。{unit}经认真研究，已安排专人跟进处理，并将处理情况"
    "通过电话与您沟通。感谢您对我们工作的理解和支持！",
    "您好！关于您留言反映的问题，{unit}高度重视，经调查核实后已督促相关责任单位整改落实，"
    "后续将持续跟踪。如有疑问，可拨打 12345 政务服务热线。",
)
KIND_REPLIES: dict[Kind, tuple[str, ...]] = {
    Kind.INQUIRY: (
        "网友您好！关于您咨询的“{title}”，{unit}答复如下：相关政策和办理流程已在本单位网站"
        "“办事指南”栏目公布，可在线预约办理，也可携带身份证件到政务服务中心窗口办理。"
        "如有疑问，请拨打 12345 政务服务热线。感谢您的关注！",
        "您好！您咨询的问题已收悉。{unit}经研究答复如下：符合条件的可通过当地政务服务平台"
        "在线申请，一般在 10 个工作日内办结，具体材料以办事指南为准。",
    ),
    Kind.SUGGESTION: (
        "感谢您提出的宝贵建议！{unit}已将您的建议转交相关业务处室研究，"
        "将在下一步规划和年度计划中统筹考虑。欢迎继续为我们的工作建言献策。",
        "网友您好！您的建议很有价值。{unit}经实地调研，已将相关内容纳入近期整改计划，"
        "预计年内实施。感谢您的关心和支持！",
    ),
    Kind.THANKS: (
        "感谢您对我们工作的肯定和鼓励！为群众办实事是我们的职责，{unit}将再接再厉，"
        "继续提升服务质量。",
    ),
    Kind.OPINION: (
        "您好！您的意见已收悉。{unit}已组织相关部门认真研究，并在方案修改中予以吸纳，"
        "修改后的方案将再次公示征求意见。",
    ),
}
# A petition's reply follows its outcome, as the 信访 handling opinions on the real boards do:
# what was found, the decision, what follows from it. Never a board reply's repair promise.
PETITION_REPLIES: dict[Outcome, tuple[str, ...]] = {
    Outcome.SUPPORTED: (
        "您好！您反映的“{title}”一事，{unit}已调查核实。经查，您反映的情况基本属实，"
        "您的请求符合相关规定，予以支持。我单位已责成责任单位在 30 日内落实，并将落实情况书面告知您。",
        "您好！关于“{title}”，{unit}经调阅档案、听取双方意见，认定您的诉求有事实和政策依据，予以支持。"
        "有关款项将于下月底前足额支付到位。",
    ),
    Outcome.EXPLAINED: (
        "您好！关于您反映的“{title}”，{unit}经调查核实，现解释说明如下：相关事项已按现行政策办理，"
        "办理依据和标准已在政府网站公开。您如需查阅本人相关材料，可携带身份证件到{unit}窗口申请。",
        "您好！{unit}已收到您反映的“{title}”并调查核实。该事项涉及的补偿标准由省级文件统一规定，"
        "本单位无权调整；已将您的意见反映至上级主管部门，在政策调整前暂按现行标准执行。特此说明。",
    ),
    Outcome.NOT_SUPPORTED: (
        "您好！您反映的“{title}”一事，{unit}已调查核实。经查，相关事项已于此前依法处理完毕，"
        "您提出的请求缺乏事实和政策依据，不予支持。",
        "您好！关于“{title}”，{unit}经调取原始档案并实地核查，未发现您反映的违规情形，"
        "您的请求不符合相关规定，不予支持。",
    ),
}
PETITION_CLOSING = "如对本处理意见不服，可以自收到本意见之日起 30 日内向上一级行政机关请求复查。"
RATING_PROFILES = (
    (60, (5, 5, 5), ("问题解决了，非常满意！", "处理很及时，点赞！", "")),
    (14, (4, 5, 4), ("基本解决，态度很好。", "")),
    (10, (3, 4, 3), ("答复了但问题还没彻底解决。", "")),
    (16, (1, 2, 2), ("答非所问，问题根本没有解决。", "敷衍了事，不满意。")),
)

XQ = (
    "金色家园",
    "翠苑一区",
    "枫华府第",
    "紫金港花园",
    "南都银杏苑",
    "阳光城市花园",
    "和睦新村",
    "丁桥蓝郡",
    "桂花城",
    "水岸名邸",
    "锦绣天地",
    "望江新园",
    "湖畔花苑",
    "东方郡",
)
ROADS = (
    "文一西路",
    "天目山路",
    "古墩路",
    "莫干山路",
    "秋涛路",
    "中山北路",
    "解放东路",
    "建设三路",
    "江南大道",
    "人民路",
    "学院路",
    "东方路",
    "滨河路",
    "长庆街",
)
COMPANIES = (
    "鑫达建筑劳务有限公司",
    "华创装饰工程有限公司",
    "顺远物流有限公司",
    "恒信电子科技有限公司",
    "宏远机械制造有限公司",
    "佳和餐饮管理有限公司",
)
SHOPS = ("烧烤店", "KTV", "酒吧", "健身房", "美容院", "游泳馆", "少儿培训机构")
VILLAGES = ("东山", "西塘", "南湖", "桃源", "青山", "石桥", "上庄", "新联")
SCHOOLS = ("实验小学", "第二中学", "育才小学", "外国语学校", "中心幼儿园")
HOSPITALS = ("第一人民医院", "中医院", "妇幼保健院", "人民医院")
REJECT_REASONS = (
    "unclear",
    "multiple_matters",
    "wrong_board",
    "duplicate",
    "others_privacy",
    "advertising",
)
HIDE_REASONS = ("hide:privacy_leak", "hide:unlawful", "hide:author_request")
IP_PREFIXES = ("115.236", "60.191", "183.129", "112.10", "39.174", "223.104", "36.27", "122.224")

# Target states and their weights; every state appears once before weights apply.
STATE_WEIGHTS = {
    State.SUBMITTED: 6,
    State.REJECTED: 5,
    State.WITHDRAWN: 3,
    State.RECEIVED: 8,
    State.ASSIGNED: 8,
    State.IN_PROGRESS: 12,
    State.REPLIED: 18,
    State.CLOSED: 40,
    State.NOT_ACCEPTED: 2,
    State.REOPENED: 2,
    State.REVIEW_REQUESTED: 2,
    State.REVIEWED: 1,
    State.REREVIEW_REQUESTED: 1,
    State.REREVIEWED: 1,
}
# States only a petition (信访事项) reaches, and the one only a board message reaches.
PETITION_STATES = frozenset(
    {
        State.NOT_ACCEPTED,
        State.REVIEW_REQUESTED,
        State.REVIEWED,
        State.REREVIEW_REQUESTED,
        State.REREVIEWED,
    }
)
BOARD_STATES = frozenset({State.REOPENED})
# States whose message carries a signed-off reply.
ANSWERED = frozenset(
    {
        State.REPLIED,
        State.CLOSED,
        State.REOPENED,
        State.REVIEW_REQUESTED,
        State.REVIEWED,
        State.REREVIEW_REQUESTED,
        State.REREVIEWED,
    }
)
REVIEW_STEPS = (State.REVIEW_REQUESTED, State.REVIEWED, State.REREVIEW_REQUESTED, State.REREVIEWED)
REVIEW_REQUESTS = (
    "答复没有回应我反映的核心问题，请求上一级机关复查。",
    "处理意见认定事实有误，现依法申请复查。",
)
REREVIEW_REQUESTS = ("复查意见仍未解决我的诉求，请求复核。", "对复查意见不服，依法申请复核。")
REVIEW_DECISIONS = (
    "经复查，原处理意见认定事实清楚、依据充分，予以维持。",
    "经复查，原处理意见对部分事实认定不清，责成原办理单位重新处理。",
)
REREVIEW_DECISIONS = ("经复核，维持复查意见。本意见为复核意见，信访事项终结。",)
INTERIM_TEXT = "您反映的问题已转交相关科室现场核查，核查结果将及时答复，请耐心等待。"
EXTENSION_REASON = "涉及多个部门协调，需进一步调查核实，申请延期答复。"
# How long before `now` the message's last step happened, in days (min, max), per target state.
LAST_STEP_AGO = {
    State.SUBMITTED: (0.04, 2.5),
    State.REJECTED: (1, 700),
    State.WITHDRAWN: (1, 700),
    State.RECEIVED: (0.1, 5),
    State.ASSIGNED: (0.1, 4),
    State.IN_PROGRESS: (0.5, 20),
    State.REPLIED: (0.05, 25),
    State.CLOSED: (1, 700),
    State.NOT_ACCEPTED: (1, 300),
    State.REOPENED: (0.5, 15),
    State.REVIEW_REQUESTED: (0.5, 25),
    State.REVIEWED: (0.5, 25),
    State.REREVIEW_REQUESTED: (0.5, 25),
    State.REREVIEWED: (1, 500),
}


# ---------------------------------------------------------------------------------------------
# Planning


@dataclass(frozen=True)
class Place:
    """Where a problem occurred: a region and the codes from the board's region down to it."""

    region_code: str
    name: str  # 西湖区
    city: str  # 杭州市 (the region itself when it has no city above it)
    area: str  # 杭州市西湖区
    chain: tuple[str, ...]


@dataclass
class Scope:
    """A demo board, the places its messages are about and the units it can assign to."""

    board_code: str
    weight: int
    places: list[Place]
    domains: frozenset[Domain]
    unit_codes: frozenset[str]

    def units_for(self, place: Place, domain: Domain) -> list[str]:
        """Unit codes on the way from the board's region down to the place, for a domain."""
        suffix = DOMAIN_UNIT[domain]
        return [f"{c}-{suffix}" for c in place.chain if f"{c}-{suffix}" in self.unit_codes]


@dataclass
class PlannedMessage:
    """One demo message: its content, the state to bring it to, and when each step happens."""

    board_code: str
    region_code: str
    author: int  # index into the demo citizens
    track: Track
    kind: Kind
    domain: Domain
    title: str
    body: str
    private_note: str
    wants_public: bool
    state: State
    times: dict[str, datetime]
    ip: str | None = None
    unit_code: str | None = None
    reply: str = ""
    outcome: Outcome | None = None
    rating: tuple[int, int, int, str] | None = None
    reject_reason: str | None = None
    withdraw_from: State | None = None
    hide_reason: str | None = None
    cosigners: list[int] = field(default_factory=list)
    # While handling: "signoff" (a reply waits for the coordinator), "extension" or "return"
    # (a request waits), "interim" (an interim reply was published) — or nothing.
    pending: str | None = None
    review_request: str = ""
    review_decision: str = ""
    review_outcome: Outcome | None = None
    rereview_request: str = ""
    rereview_decision: str = ""


def demo_scopes() -> list[Scope]:
    """The demo boards present in the directory, with their places and units."""
    regions = {r.code: r for r in db.session.scalars(select(Region))}
    children: dict[str, list[Region]] = {}
    for region in regions.values():
        if region.parent_code:
            children.setdefault(region.parent_code, []).append(region)
    unit_codes = frozenset(db.session.scalars(select(Unit.code).where(Unit.is_office.is_(False))))
    scopes = []
    for code, weight in DEMO_BOARDS:
        board = db.session.scalar(select(Board).where(Board.code == code))
        if board is None:
            continue
        root = board.region
        leaves: list[Region] = []
        stack = [root]
        while stack:
            region = stack.pop()
            below = children.get(region.code, [])
            if below:
                stack.extend(below)
            else:
                leaves.append(region)
        places = []
        for leaf in sorted(leaves, key=lambda r: r.code):
            codes = leaf.path.split("/")
            chain = tuple(codes[codes.index(root.code) :])
            parent = regions.get(leaf.parent_code) if leaf.parent_code else None
            has_city = parent is not None and (
                parent.level == RegionLevel.CITY or _is_municipality(parent)
            )
            city = parent.name if has_city else leaf.name
            area = f"{parent.name}{leaf.name}" if has_city else leaf.name
            places.append(Place(leaf.code, leaf.name, city, area, chain))
        domains = frozenset(d for d, s in DOMAIN_UNIT.items() if f"{root.code}-{s}" in unit_codes)
        if places and domains:
            scopes.append(Scope(code, weight, places, domains, unit_codes))
    return scopes


def _id_number(rng: random.Random, region_code: str) -> str:
    """A resident ID number that python-stdnum accepts, born in the region when it knows it."""
    for code in (region_code, region_code, "330106"):
        born = datetime(1985, 1, 1) + timedelta(days=rng.randint(0, 20 * 365))
        first = f"{code}{born:%Y%m%d}{rng.randint(10, 999):03d}"
        number = first + ric.calc_check_digit(first + "0")  # the function skips the last digit
        try:
            if ric.is_valid(number):
                return number
        except KeyError:  # stdnum's birth-place table lacks a few recent codes
            continue
    return number


def _phone(rng: random.Random) -> str:
    """A mobile number of the usual shape."""
    return f"1{rng.choice('3456789')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"


def _slots(rng: random.Random, place: Place, citizen: tuple, now: datetime) -> dict[str, object]:
    """Values for a template's slots, drawn once per message."""
    road, road2 = rng.sample(ROADS, 2)
    fee1 = rng.choice((1.8, 2.2, 2.5, 2.8, 3.2))
    when = now - timedelta(days=rng.randint(3, 60))
    return {
        "place": place.name,
        "city": place.city,
        "area": place.area,
        "xq": rng.choice(XQ),
        "road": road,
        "road2": road2,
        "company": f"{place.city.removesuffix('市')}{rng.choice(COMPANIES)}",
        "shop": rng.choice(SHOPS),
        "village": rng.choice(VILLAGES),
        "school": f"{place.name}{rng.choice(SCHOOLS)}",
        "hospital": f"{place.city}{rng.choice(HOSPITALS)}",
        "bus": rng.randint(2, 399),
        "n": rng.randint(6, 60),
        "m": rng.randint(2, 8),
        "year": now.year - rng.randint(1, 4),
        "fee1": fee1,
        "fee2": round(fee1 + rng.choice((0.5, 0.8, 1.2)), 1),
        "fee3": rng.choice((600, 800, 1200, 1500)),
        "amount": rng.choice((3800, 12600, 26800, 56000, 138000)),
        "date": f"{when.month}月{when.day}日",
        "real_name": citizen[2],
    }


def _personal_data(rng: random.Random, place: Place, citizen: tuple, domain: Domain) -> str:
    """A sentence with an ID number, phone number or plate, for the masking to find (a plate
    only where vehicles are the matter)."""
    sentences = [
        f"我的联系电话是{citizen[3]}，希望有关部门能和我联系。",
        f"本人身份证号码{_id_number(rng, place.region_code)}，情况属实，可以核实。",
        f"如需了解情况请拨打{_phone(rng)}。",
    ]
    if domain in (Domain.TRANSPORT, Domain.SECURITY):
        sentences.append(
            f"涉事车辆车牌号为浙A{rng.choice('BCDFGHK')}{rng.randint(1000, 9999)}，请依法处理。"
        )
    return rng.choice(sentences)


def _weighted(rng: random.Random, items: list, weights: list) -> object:
    """One item drawn by weight."""
    return rng.choices(items, weights=weights, k=1)[0]


def _timeline(
    rng: random.Random, state: State, withdraw_from: State | None, now: datetime
) -> dict[str, datetime]:
    """When each step happens: offsets forward from submission, anchored before `now`."""
    hours = timedelta(hours=1)
    steps: list[tuple[str, timedelta]] = [("submit", timedelta(0))]
    if state == State.WITHDRAWN and withdraw_from == State.SUBMITTED:
        steps.append(("withdraw", hours * rng.uniform(1, 20)))
    elif state != State.SUBMITTED:
        steps.append(("screen", hours * rng.uniform(1, 30)))
    if state == State.WITHDRAWN and withdraw_from == State.RECEIVED:
        steps.append(("withdraw", hours * rng.uniform(1, 48)))
    if state in ANSWERED | {State.ASSIGNED, State.IN_PROGRESS, State.NOT_ACCEPTED}:
        steps.append(("assign", hours * rng.uniform(2, 72)))
    if state == State.NOT_ACCEPTED:
        steps.append(("not_accept", hours * rng.uniform(24, 300)))
    if state in ANSWERED | {State.IN_PROGRESS}:
        steps.append(("accept", hours * rng.uniform(1, 48)))
    if state == State.IN_PROGRESS:
        steps.append(("pending", hours * rng.uniform(4, 96)))
    if state in ANSWERED:
        steps.append(("reply", timedelta(days=rng.triangular(1, 30, 8))))
        steps.append(("sign_off", hours * rng.uniform(2, 72)))
    if state in (State.CLOSED, State.REOPENED):
        steps.append(("rate", hours * rng.uniform(2, 360)))
    if state == State.REOPENED:
        steps.append(("reopen", hours * rng.uniform(4, 72)))
    if state in REVIEW_STEPS:
        steps.append(("request_review", timedelta(days=rng.uniform(1, 25))))
    if state in REVIEW_STEPS[1:]:
        steps.append(("decide_review", timedelta(days=rng.uniform(5, 28))))
    if state in REVIEW_STEPS[2:]:
        steps.append(("request_rereview", timedelta(days=rng.uniform(1, 25))))
    if state == State.REREVIEWED:
        steps.append(("decide_rereview", timedelta(days=rng.uniform(5, 28))))
    total = sum((d for _, d in steps), timedelta(0))
    low, high = LAST_STEP_AGO[state]
    lag = timedelta(days=rng.uniform(low, high))
    moment = now - lag - total
    times = {}
    for name, delta in steps:
        moment += delta
        times[name] = moment
    # Optional later steps, always before `now`.
    times["hide"] = moment + lag * rng.uniform(0.2, 0.6)
    published = times.get("screen", moment)
    times["cosign"] = published + (now - published) * rng.uniform(0.05, 0.5)
    return times


def plan_messages(
    count: int, scopes: list[Scope], *, now: datetime, rng: random.Random
) -> list[PlannedMessage]:
    """Plan `count` demo messages over the scopes; every state is covered once count ≥ 8."""
    if not scopes:
        return []
    states = list(STATE_WEIGHTS)
    cover = rng.sample(states, len(states))
    plans = []
    seen_bodies: set[str] = set()
    for i in range(count):
        state = cover[i] if i < len(cover) else _weighted(rng, states, list(STATE_WEIGHTS.values()))
        scope = _weighted(rng, scopes, [s.weight for s in scopes])
        place = rng.choice(scope.places)
        track = Track.PETITION if rng.random() < 0.12 else Track.BOARD
        if state in PETITION_STATES:
            track = Track.PETITION
        elif state in BOARD_STATES:
            track = Track.BOARD
        pool = PETITION_TEMPLATES if track == Track.PETITION else BOARD_TEMPLATES
        pool = [t for t in pool if t.domain in scope.domains and scope.units_for(place, t.domain)]
        if not pool:
            if state in PETITION_STATES:
                state = State.REPLIED  # no petition fits this place: an answered board message
            track = Track.BOARD
            pool = [
                t
                for t in BOARD_TEMPLATES
                if t.domain in scope.domains and scope.units_for(place, t.domain)
            ]
        # No two demo messages share a body: draw again (then another template) on a repeat.
        for attempt in range(12):
            if attempt % 4 == 0:
                template = _weighted(rng, pool, [KIND_WEIGHTS[t.kind] for t in pool])
            author = rng.randrange(len(CITIZENS))
            citizen = CITIZENS[author]
            slots = _slots(rng, place, citizen, now)
            title = template.title.format(**slots)[:40]
            body = template.body.format(**slots)
            if track == Track.BOARD and rng.random() < 0.18:
                body += _personal_data(rng, place, citizen, template.domain)
            if body not in seen_bodies:
                break
        seen_bodies.add(body)
        private_note = ""
        if rng.random() < 0.3:
            private_note = f"联系人：{citizen[2]}，电话{citizen[3]}，住址{citizen[4]}。"
        withdraw_from = None
        if state == State.WITHDRAWN:
            withdraw_from = rng.choice((State.SUBMITTED, State.RECEIVED))
        units = scope.units_for(place, template.domain)
        # County-level units take most of the work, as on the real boards.
        unit_code = units[-1] if rng.random() < 0.6 else rng.choice(units)
        plan = PlannedMessage(
            board_code=scope.board_code,
            region_code=place.region_code,
            author=author,
            track=track,
            kind=template.kind,
            domain=template.domain,
            title=title,
            body=body,
            private_note=private_note,
            wants_public=rng.random() >= 0.1,
            state=state,
            times=_timeline(rng, state, withdraw_from, now),
            ip=truncate_ip(
                f"{rng.choice(IP_PREFIXES)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            ),
            unit_code=unit_code,
            withdraw_from=withdraw_from,
        )
        if state == State.REJECTED:
            plan.reject_reason = rng.choice(REJECT_REASONS)
        if state in ANSWERED:
            replies = KIND_REPLIES.get(template.kind) or REPLIES.get(
                template.domain, GENERIC_REPLIES
            )
            reply = rng.choice(replies).format(title=title, unit="{unit}")
            if track == Track.PETITION:
                plan.outcome = rng.choice(list(Outcome))
                opinion = rng.choice(PETITION_REPLIES[plan.outcome])
                reply = opinion.format(title=title, unit="{unit}") + PETITION_CLOSING
            plan.reply = reply
        if state == State.CLOSED and track == Track.PETITION:
            # A petition closes when its review window lapses (flask deadlines tick).
            plan.times["close"] = plan.times["sign_off"] + timedelta(days=45)
            late = plan.times["close"] - (now - timedelta(hours=1))
            if late > timedelta(0):  # everything earlier, so the window lapsed before `now`
                plan.times = {step: moment - late for step, moment in plan.times.items()}
        elif state in (State.CLOSED, State.REOPENED):
            profiles = list(RATING_PROFILES)
            if state == State.REOPENED:  # only a dissatisfied author's message is re-handled
                profiles = [p for p in profiles if sum(p[1]) <= 7]
            profile = _weighted(rng, profiles, [p[0] for p in profiles])
            resolution, attitude, speed = profile[1]
            plan.rating = (resolution, attitude, speed, rng.choice(profile[2]))
        if state == State.IN_PROGRESS:
            plan.pending = _weighted(
                rng, [None, "signoff", "extension", "interim"], [55, 20, 10, 15]
            )
        elif state == State.ASSIGNED and rng.random() < 0.15:
            plan.pending = "return"
        if state in REVIEW_STEPS:
            plan.review_request = rng.choice(REVIEW_REQUESTS)
            plan.review_decision = rng.choice(REVIEW_DECISIONS)
            plan.review_outcome = rng.choice(list(Outcome))
            plan.rereview_request = rng.choice(REREVIEW_REQUESTS)
            plan.rereview_decision = rng.choice(REREVIEW_DECISIONS)
        publishable = plan.wants_public and plan.kind != Kind.REPORT
        if publishable and state in ANSWERED and rng.random() < 0.04:
            plan.hide_reason = rng.choice(HIDE_REASONS)
        if publishable and state in PUBLIC_STATES and rng.random() < 0.25:
            others = [n for n in range(len(CITIZENS)) if n != author]
            plan.cosigners = rng.sample(others, rng.randint(1, 3))
        plans.append(plan)
    _ensure_variety(plans, rng)
    return plans


def _ensure_variety(plans: list[PlannedMessage], rng: random.Random) -> None:
    """Make sure a demo shows at least one hidden and one private published message."""
    answered = [
        p for p in plans if p.state in ANSWERED and p.wants_public and p.kind != Kind.REPORT
    ]
    if answered and not any(p.hide_reason for p in plans):
        answered[0].hide_reason = rng.choice(HIDE_REASONS)
    published = [p for p in plans if p.state in PUBLIC_STATES and not p.hide_reason]
    if len(published) > 1 and all(p.wants_public and p.kind != Kind.REPORT for p in published):
        published[-1].wants_public = False
        published[-1].cosigners = []


# ---------------------------------------------------------------------------------------------
# Writing through the services


def apply_plan(
    plans: Iterable[PlannedMessage], accounts: DemoAccounts, progress: Progress = None
) -> int:
    """Bring each planned message to its state through the real services; returns how many."""
    plans = list(plans)
    # Only the boards in use: every commit expires what the session holds.
    codes = {p.board_code for p in plans}
    boards = {b.code: b for b in db.session.scalars(select(Board).where(Board.code.in_(codes)))}
    count = 0
    for plan in plans:
        _apply_one(plan, accounts, boards)
        count += 1
        if progress:
            progress(1)
    return count


def _apply_one(plan: PlannedMessage, accounts: DemoAccounts, boards: dict[str, Board]) -> Message:
    """Drive one message through submit → … → rate with the planned times."""
    author = accounts.citizens[plan.author]
    board = boards[plan.board_code]
    times = plan.times
    m = msg.submit_message(
        author,
        board=board,
        region=db.session.get(Region, plan.region_code),
        track=plan.track,
        kind=plan.kind,
        domain=plan.domain,
        title=plan.title,
        body=plan.body,
        private_note=plan.private_note,
        wants_public=plan.wants_public,
        now=times["submit"],
        ip=plan.ip,
        source=DEMO_SOURCE,
    )
    if plan.state == State.SUBMITTED:
        return m
    if plan.withdraw_from == State.SUBMITTED:
        return msg.withdraw_message(m, author, now=times["withdraw"])
    if plan.state == State.REJECTED:
        return msg.reject_message(
            m, accounts.moderator, reason=plan.reject_reason, now=times["screen"]
        )
    msg.approve_message(m, accounts.moderator, now=times["screen"])
    if plan.withdraw_from == State.RECEIVED:
        return msg.withdraw_message(m, author, now=times["withdraw"])
    for n in plan.cosigners:
        msg.cosign_message(m, accounts.citizens[n], now=times["cosign"])
    if plan.state != State.RECEIVED:
        _handle(m, plan, accounts, board)
    if plan.hide_reason and m.is_public:
        msg.hide_message(m, accounts.moderator, reason=plan.hide_reason, now=times["hide"])
    return m


def _handle(m: Message, plan: PlannedMessage, accounts: DemoAccounts, board: Board) -> None:
    """assign → accept → reply → sign-off → rate / follow the review path, as planned."""
    times, author = plan.times, accounts.citizens[plan.author]
    coordinator = accounts.coordinator_for(board)
    unit = db.session.scalar(select(Unit).where(Unit.code == plan.unit_code))
    msg.assign_message(m, unit, coordinator, now=times["assign"])
    handler = accounts.handler_for(unit)
    if plan.state == State.ASSIGNED:
        if plan.pending == "return":
            note = "该事项涉及的路段不在本单位管辖范围内。"
            at = times["assign"] + timedelta(hours=2)
            msg.request_return(m, handler, reason="return:not_our_duty", note=note, now=at)
        return
    if plan.state == State.NOT_ACCEPTED:
        reason = "not_accept:court_or_arbitration"
        msg.not_accept_message(m, handler, reason=reason, now=times["not_accept"])
        return
    msg.accept_message(m, handler, now=times["accept"])
    if plan.state == State.IN_PROGRESS:
        body = plan.reply.replace("{unit}", unit.name) or INTERIM_TEXT
        if plan.pending == "extension":
            msg.request_extension(m, handler, reason=EXTENSION_REASON, now=times["pending"])
        elif plan.pending == "interim":
            msg.interim_reply(m, handler, body=INTERIM_TEXT, now=times["pending"])
        elif plan.pending == "signoff":
            outcome = plan.outcome or (Outcome.EXPLAINED if plan.track == Track.PETITION else None)
            msg.reply_message(m, handler, body=body, outcome=outcome, now=times["pending"])
        return
    body = plan.reply.replace("{unit}", unit.name)
    msg.reply_message(m, handler, body=body, outcome=plan.outcome, now=times["reply"])
    msg.sign_off_reply(m, coordinator, now=times["sign_off"])
    if plan.rating is not None:
        resolution, attitude, speed, comment = plan.rating
        msg.rate_message(
            m,
            author,
            resolution=resolution,
            attitude=attitude,
            speed=speed,
            comment=comment,
            now=times["rate"],
        )
    if plan.state == State.REOPENED:
        note = "留言人对答复不满意，责成重新办理并当面沟通。"
        msg.reopen_message(m, coordinator, note=note, now=times["reopen"])
    if plan.state == State.CLOSED and "close" in times:
        msg.close_lapsed_messages(times["close"])
    if plan.state not in REVIEW_STEPS:
        return
    msg.request_review(m, author, body=plan.review_request, now=times["request_review"])
    if plan.state == State.REVIEW_REQUESTED:
        return
    outcome = plan.review_outcome or Outcome.EXPLAINED
    reviewer = accounts.coordinator_for(_board_of_office(m.review_unit_id))
    body = plan.review_decision
    msg.decide_review(m, reviewer, body=body, outcome=outcome, now=times["decide_review"])
    if plan.state == State.REVIEWED:
        return
    msg.request_rereview(m, author, body=plan.rereview_request, now=times["request_rereview"])
    if plan.state == State.REREVIEW_REQUESTED:
        return
    reviewer = accounts.coordinator_for(_board_of_office(m.review_unit_id))
    body = plan.rereview_decision
    msg.decide_rereview(m, reviewer, body=body, outcome=outcome, now=times["decide_rereview"])


def _board_of_office(unit_id: int | None) -> Board:
    """The board whose coordinator office is this unit."""
    return db.session.scalar(select(Board).where(Board.office_unit_id == unit_id))


# ---------------------------------------------------------------------------------------------
# The whole seed


@dataclass
class DemoReport:
    """What a demo seed run added and found."""

    units_added: int = 0
    accounts_added: int = 0
    messages_added: int = 0
    messages_before: int = 0
    states: Counter = field(default_factory=Counter)
    accounts: DemoAccounts | None = None


def demo_message_count() -> int:
    """How many demo messages exist."""
    return db.session.scalar(
        select(func.count()).select_from(Message).where(Message.source == DEMO_SOURCE)
    )


def messages_to_add(wanted: int, *, force: bool) -> int:
    """`wanted` more with --force; otherwise only what is missing up to `wanted`."""
    return wanted if force else max(0, wanted - demo_message_count())


def add_demo_messages(
    count: int,
    accounts: DemoAccounts,
    *,
    now: datetime,
    seed: int = 2026,
    progress: Progress = None,
) -> int:
    """Plan and write `count` demo messages; the search index is left to the outbox."""
    if count <= 0:
        return 0
    scopes = demo_scopes()
    if not scopes:
        raise LookupError("no demo board found: load the regions first (flask seed regions)")
    rng = random.Random(f"{seed}:{demo_message_count()}")
    plans = plan_messages(count, scopes, now=now, rng=rng)
    inline = current_app.config.get("SEARCH_APPLY_INLINE", True)
    # Each service commit would index inline; leave the rows for `flask search sync` instead.
    current_app.config["SEARCH_APPLY_INLINE"] = False
    try:
        return apply_plan(plans, accounts, progress)
    finally:
        current_app.config["SEARCH_APPLY_INLINE"] = inline


def seed_demo(
    messages: int = 300, *, force: bool = False, now: datetime, seed: int = 2026
) -> DemoReport:
    """Units, accounts and messages for a demo; a second run adds only what is missing."""
    seed_reason_codes()
    report = DemoReport(messages_before=demo_message_count())
    report.units_added = ensure_demo_units()
    accounts = ensure_demo_accounts(now=now)
    report.messages_added = add_demo_messages(
        messages_to_add(messages, force=force), accounts, now=now, seed=seed
    )
    report.accounts_added = accounts.added
    report.accounts = accounts
    report.states = Counter(
        dict(
            db.session.execute(
                select(Message.state, func.count())
                .where(Message.source == DEMO_SOURCE)
                .group_by(Message.state)
            ).all()
        )
    )
    return report
