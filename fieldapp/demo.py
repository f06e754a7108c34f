"""A realistic demo data set for a data dir: `fieldapp demo`, screenshots, the startup benchmark.

`make_demo(store, tasks=300)` fills an open store with 督查任务 spread over every category and
every county of Zhejiang — Chinese titles, responsible / lead / cooperating units, addresses,
deadlines (some past, so overdue; about one in ten open-ended), targets and assignees. On the
first ~300 tasks it then acts like inspectors would, through the real services: visits with
coordinates, findings with photos (generated JPEG scenes with real EXIF time and GPS), and
every finding state — 待整改, 整改中, 待核查, 已销号 (a passing check with an 整改后 photo) and
退回 (a 未整改 check, back to 整改中). Everything goes through the store's transactions, so the
change log records it all and `fieldapp verify` passes.

The same seed gives the same data (ids and times of writing aside). Dates are relative to
today, so the set stays "alive": some deadlines are always past, some ahead. Large sets
(`--tasks 100000`) are written in batches of `BATCH` tasks per transaction. A data dir that
already holds tasks is refused unless `force=True`, which adds more with fresh codes.
Cancelling (`cancel.set()`) stops between transactions: what was committed stays.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random
import struct
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter
from PIL.TiffImagePlugin import IFDRational
from sqlalchemy import func, select

from fieldapp import regions
from fieldapp.domain import CATEGORIES, CheckResult, DeadlineKind, FindingStatus, PhotoKind, Severity, TaskStatus
from fieldapp.errors import FieldAppError
from fieldapp.models import Task
from fieldapp.regions import Region
from fieldapp.services import Progress, check_cancel
from fieldapp.services import findings as finding_service
from fieldapp.services import tasks as task_service
from fieldapp.services import visits as visit_service
from fieldapp.store import Store

BATCH = 2000  # tasks per transaction beyond the detailed ones
DETAILED = 300  # the first tasks get visits, findings, photos and checks
VISIT_SHARE = 0.4
SCENES = 30  # distinct photo scenes, each drawn as "problem" and "fixed"
PHOTO_SIZE = (640, 480)


class DemoRefused(FieldAppError):
    zh = ("数据目录中已有 {count} 个督查任务，未生成演示数据（避免与真实数据混在一起）。"
          "演示数据只能载入空的数据目录（命令行可用 --data-dir 指定新目录）。")
    en = ("The data folder already holds {count} tasks, so no demo data was added (it would mix "
          "with real data). Demo data goes only into an empty data folder (on the command line, "
          "choose one with --data-dir).")


# --------------------------------------------------------------------------------------------
# Vocabulary of the demo: units, people, places, and per-category templates
# --------------------------------------------------------------------------------------------

UNITS: dict[str, str] = {
    "gov": "{county}人民政府",
    "fgj": "{county}发展和改革局",
    "jxj": "{county}经济和信息化局",
    "kjj": "{county}科学技术局",
    "jyj": "{county}教育局",
    "mzj": "{county}民政局",
    "czj": "{county}财政局",
    "rsj": "{county}人力资源和社会保障局",
    "zrj": "{city}自然资源和规划局{short}分局",
    "sthj": "{city}生态环境局{short}分局",
    "zjj": "{county}住房和城乡建设局",
    "jtj": "{county}交通运输局",
    "city_jtj": "{city}交通运输局",
    "city_zjj": "{city}住房和城乡建设局",
    "slj": "{county}水利局",
    "nyj": "{county}农业农村局",
    "swj": "{county}商务局",
    "wjj": "{county}卫生健康局",
    "yjj": "{county}应急管理局",
    "scj": "{county}市场监督管理局",
    "zfj": "{county}综合行政执法局",
    "xfj": "{county}信访局",
    "sjj": "{county}审计局",
    "zwb": "{county}政务服务管理办公室",
    "zsb": "{county}治水办",
    "ybj": "{county}医疗保障局",
    "gaj": "{county}公安局",
}

COOPERATING = ("czj", "fgj", "zrj", "zfj", "scj", "yjj", "city_jtj", "city_zjj", "sthj", "gov")

INSPECTORS = (
    "陈晓峰", "王丽娟", "张海涛", "李明轩", "吴俊杰", "徐静", "周敏", "沈佳怡", "金伟",
    "杨志强", "朱立新", "俞芳", "钱国栋", "方雪梅", "胡燕", "郑丹", "林晓燕", "何文斌",
)

STREETS = (
    "人民路", "解放路", "中山路", "建设路", "文化路", "新华路", "环城北路", "环城南路", "滨江路",
    "江南大道", "迎宾大道", "园区路", "学府路", "东升路", "工业大道", "湖滨路", "沿江路", "兴业路",
)
VILLAGES = ("东山村", "后塘村", "前溪村", "新联村", "大园村", "里湖村", "下洋村", "岭脚村", "塘头村", "湖头村")
COMMUNITIES = ("和平", "朝晖", "新村", "翠苑", "望江", "东苑", "春江", "金桥", "锦绣", "青年")

RIVERS: dict[str, tuple[str, ...]] = {
    "330100": ("钱塘江", "京杭运河", "东苕溪", "富春江", "新安江", "西溪河"),
    "330200": ("甬江", "姚江", "奉化江", "东钱湖"),
    "330300": ("瓯江", "飞云江", "鳌江", "温瑞塘河", "楠溪江"),
    "330400": ("南湖", "京杭运河", "长水塘", "海盐塘"),
    "330500": ("东苕溪", "西苕溪", "頔塘", "长兴港"),
    "330600": ("曹娥江", "浦阳江", "鉴湖", "浙东运河"),
    "330700": ("婺江", "武义江", "东阳江", "义乌江"),
    "330800": ("衢江", "乌溪江", "江山港", "常山港"),
    "330900": ("定海城区内河", "东港浦", "临城河"),
    "331000": ("椒江", "灵江", "永宁江", "始丰溪"),
    "331100": ("瓯江", "好溪", "松阴溪", "龙泉溪"),
}

ISSUES = (
    "小区违法建筑", "工业园区扬尘", "群众反映供水不稳定", "农民工工资拖欠", "学校周边交通拥堵",
    "渣土车抛洒滴漏", "老旧小区消防通道堵塞", "餐饮油烟扰民", "农村生活污水设施运维不到位",
    "菜市场周边占道经营", "夜间施工噪声扰民", "安置房交付延期",
)

FACILITIES = ("社区食堂", "托育园", "居家养老服务中心", "公共充电站", "口袋公园", "城市书房")


@dataclass(frozen=True)
class Template:
    title: str
    targets: str
    units: tuple[str, ...]  # keys of UNITS; the first is the usual lead
    n: tuple[int, int] = (1, 1)
    address: str = "street"  # street | community | village | river | none


TEMPLATES: dict[str, tuple[Template, ...]] = {
    "政府工作报告": (
        Template("推进{county}城镇老旧小区改造 {n} 个",
                 "年底前完成 {n} 个小区改造主体工程，惠及居民约 {m} 户；同步实施雨污分流、管线序化和适老化改造。",
                 ("zjj", "city_zjj", "gov"), (5, 40), "community"),
        Template("{county}建成未来社区 {n} 个",
                 "完成 {n} 个未来社区创建验收，落实九大场景建设，居民满意度达到 90% 以上。",
                 ("zjj", "mzj", "fgj"), (2, 8), "community"),
        Template("完成{county}农村公路提档升级 {n} 公里",
                 "完成农村公路提档升级 {n} 公里、危桥改造 {k} 座，路况优良率达到 85% 以上。",
                 ("jtj", "city_jtj"), (20, 150), "village"),
        Template("新建改建{county}城市绿道 {n} 公里",
                 "新建改建绿道 {n} 公里，串联公园、滨水空间和社区，年底前全线贯通。",
                 ("zjj", "zrj"), (5, 60), "street"),
        Template("新增{county}高新技术企业 {n} 家",
                 "全年新认定高新技术企业 {n} 家、科技型中小企业 {m} 家，研发投入强度提高 0.1 个百分点。",
                 ("kjj", "jxj"), (20, 200), "none"),
        Template("完成{county}“千万工程”和美乡村示范村建设 {n} 个",
                 "建成和美乡村示范村 {n} 个，农村生活垃圾分类处理行政村全覆盖。",
                 ("nyj", "zjj"), (3, 20), "village"),
        Template("推进{county}“大综合一体化”行政执法改革",
                 "综合执法事项占比达到 60% 以上，“一支队伍管执法”覆盖全部乡镇（街道）。",
                 ("zfj", "gov"), (1, 1), "none"),
        Template("{county}城市有机更新项目开工 {n} 个",
                 "完成征迁、规划审批，{n} 个项目年内全部开工，完成投资 {m} 万元。",
                 ("zjj", "zrj", "fgj"), (3, 15), "street"),
    ),
    "民生实事": (
        Template("{county}新建改建公办幼儿园 {n} 所",
                 "新建改建公办幼儿园 {n} 所，新增学位 {m} 个，秋季学期前投入使用。",
                 ("jyj", "zjj"), (2, 10), "street"),
        Template("{county}新增婴幼儿托位 {n} 个",
                 "新增普惠性托位 {n} 个，每千人口拥有 3 岁以下婴幼儿托位数达到 5 个。",
                 ("wjj", "jyj"), (200, 1500), "community"),
        Template("{county}建设城乡社区嵌入式养老服务设施 {n} 处",
                 "建成 {n} 处嵌入式养老服务设施，配置助餐、助浴、康复等服务功能。",
                 ("mzj", "wjj"), (5, 30), "community"),
        Template("{county}老年助餐服务点扩面 {n} 个",
                 "新增老年助餐服务点 {n} 个，城乡社区助餐服务覆盖率达到 85%。",
                 ("mzj",), (10, 80), "community"),
        Template("{county}既有住宅加装电梯 {n} 台",
                 "全年完成既有住宅加装电梯 {n} 台，其中投入运行 {k} 台。",
                 ("zjj", "scj"), (30, 300), "community"),
        Template("{county}新增公共停车泊位 {n} 个",
                 "新增公共停车泊位 {n} 个，其中新能源汽车充电泊位不少于 {k} 个。",
                 ("zfj", "gaj", "zjj"), (500, 5000), "street"),
        Template("{county}改造提升农贸市场 {n} 家",
                 "完成 {n} 家农贸市场改造提升，达到“放心农贸市场”标准。",
                 ("scj", "swj"), (2, 12), "street"),
        Template("{county}新建{facility} {n} 个",
                 "年内建成并投入使用{facility} {n} 个，群众满意率 90% 以上。",
                 ("mzj", "zjj", "gov"), (3, 25), "community"),
    ),
    "领导批示": (
        Template("关于{county}{issue}问题的批示件办理",
                 "按照批示要求，{days} 日内查清情况、拿出整改方案，按期反馈办理结果并做好群众回访。",
                 ("gov", "xfj", "zfj"), (1, 1), "street"),
        Template("落实省领导对{county}{issue}问题的批示精神",
                 "制定专项整改方案，明确责任单位和时间节点，每月报送进展情况。",
                 ("gov", "xfj"), (1, 1), "street"),
        Template("{city}主要领导批示：{county}{issue}问题整改",
                 "立即组织现场核查，举一反三开展排查，形成长效管理机制。",
                 ("gov", "zfj", "zjj"), (1, 1), "street"),
    ),
    "重点督查督办": (
        Template("{county}安全生产治本攻坚三年行动推进情况",
                 "完成重点行业领域隐患排查整治，重大事故隐患动态清零。",
                 ("yjj", "gov"), (1, 1), "none"),
        Template("{county}城镇燃气安全专项整治",
                 "完成餐饮场所燃气报警装置安装 {n} 家，老化管道更新改造 {k} 公里。",
                 ("zjj", "scj", "yjj"), (200, 2000), "street"),
        Template("{county}“两违”整治攻坚 拆除违法建筑 {n} 万平方米",
                 "全年拆除违法建筑 {n} 万平方米，新增违建“零增长”。",
                 ("zfj", "zrj"), (5, 60), "village"),
        Template("{county}自建房安全专项整治",
                 "完成经营性自建房安全排查 {n} 幢，C、D 级危房全部落实管控措施。",
                 ("zjj", "yjj"), (300, 5000), "village"),
        Template("{county}防汛防台隐患排查整改",
                 "汛前完成山塘水库、地质灾害点等隐患排查 {n} 处，整改到位率 100%。",
                 ("slj", "yjj", "zrj"), (50, 400), "river"),
        Template("{county}信访积案化解攻坚",
                 "化解信访积案 {n} 件，化解率达到 90% 以上。",
                 ("xfj", "gov"), (10, 80), "none"),
    ),
    "重大政策": (
        Template("{county}“8+4”经济政策体系落地兑现情况",
                 "政策资金年内兑现率达到 95% 以上，惠及企业 {n} 家。",
                 ("fgj", "czj", "jxj"), (300, 3000), "none"),
        Template("{county}稳岗返还和就业补贴政策落实",
                 "稳岗返还“免申即享”，惠及企业 {n} 家，发放资金 {m} 万元。",
                 ("rsj", "czj"), (500, 5000), "none"),
        Template("{county}大规模设备更新和消费品以旧换新政策落实",
                 "推动 {n} 家规上工业企业实施设备更新，以旧换新补贴审核兑付不超过 15 个工作日。",
                 ("jxj", "swj", "fgj"), (50, 400), "none"),
        Template("{county}营商环境优化提升“一号改革工程”推进",
                 "企业开办全流程 1 个工作日办结，涉企事项“一件事”集成办理 {n} 项。",
                 ("zwb", "scj", "fgj"), (10, 40), "none"),
        Template("{county}医保惠民政策落实",
                 "完成 {n} 家定点医药机构医保结算规范检查，异地就医直接结算率 90% 以上。",
                 ("ybj", "wjj"), (50, 300), "none"),
    ),
    "生态环保": (
        Template("{river}{county}段水质提升",
                 "断面水质稳定达到 Ⅲ 类及以上，完成入河排污口整治 {n} 个。",
                 ("sthj", "zsb", "slj"), (5, 40), "river"),
        Template("{county}{river}沿线入河排污口排查整治",
                 "完成 {n} 个入河排污口溯源整治，建立“一口一档”。",
                 ("sthj", "zsb", "zjj"), (10, 80), "river"),
        Template("{county}中央生态环境保护督察反馈问题整改",
                 "按整改方案完成 {n} 项反馈问题整改，逐项验收销号。",
                 ("sthj", "gov"), (3, 20), "none"),
        Template("{county}城镇污水“零直排区”建设 {n} 个",
                 "建成“零直排区”{n} 个，完成雨污混接改造 {k} 处。",
                 ("zjj", "zsb", "sthj"), (3, 20), "street"),
        Template("{county}工业企业 VOCs 治理 {n} 家",
                 "完成 {n} 家重点企业挥发性有机物治理设施升级，臭氧浓度同比下降。",
                 ("sthj", "jxj"), (20, 150), "street"),
        Template("{county}建筑工地扬尘治理",
                 "在建工地“六个百分百”落实率达到 100%，渣土运输车辆全部密闭。",
                 ("zjj", "zfj", "sthj"), (1, 1), "street"),
        Template("{county}废弃矿山生态修复 {n} 处",
                 "完成废弃矿山生态修复 {n} 处，修复面积 {m} 亩。",
                 ("zrj", "sthj"), (2, 12), "village"),
    ),
    "其他": (
        Template("{county}基层减负“七多”问题整治",
                 "精简文件会议 30% 以上，清理规范政务 APP 和工作群 {n} 个。",
                 ("gov",), (10, 60), "none"),
        Template("{county}12345 热线群众诉求办理质效提升",
                 "工单按期办结率 98% 以上，群众满意率 90% 以上。",
                 ("zwb", "gov"), (1, 1), "none"),
        Template("{county}人大代表建议和政协提案办理",
                 "承办建议提案 {n} 件，按期答复率 100%，代表委员满意率 95% 以上。",
                 ("gov", "fgj"), (20, 150), "none"),
        Template("{county}审计发现问题整改",
                 "完成审计查出问题整改 {n} 项，健全相关制度 {k} 项。",
                 ("sjj", "czj"), (5, 40), "none"),
    ),
}

CATEGORY_WEIGHTS: dict[str, int] = {
    "政府工作报告": 20, "民生实事": 18, "领导批示": 12, "重点督查督办": 15, "重大政策": 12,
    "生态环保": 15, "其他": 8,
}
_CATEGORY_CHOICE = {c: CATEGORY_WEIGHTS.get(c, 5) for c in CATEGORIES}

FINDING_TEXTS: dict[str, tuple[str, ...]] = {
    "政府工作报告": (
        "项目实际进度滞后于计划，{n} 个子项目尚未开工",
        "部分小区雨污分流管网开挖后未及时回填，存在安全隐患",
        "施工现场临边防护缺失，安全警示标志不全",
        "已完工项目未组织竣工验收，台账资料不完整",
        "资金拨付进度慢，已拨付资金占比不足 {pct}%",
    ),
    "民生实事": (
        "已建成的{facility}尚未投入使用",
        "加装电梯项目居民协调未完成，{n} 台电梯停滞",
        "养老服务设施适老化配套不全，缺少扶手和无障碍通道",
        "新建停车泊位标线不清，部分泊位被长期占用",
        "农贸市场排水沟堵塞，地面积水，卫生状况差",
        "托育机构消防设施配置不足，疏散通道堆放杂物",
    ),
    "领导批示": (
        "批示件办理超期，未按时反馈办理结果",
        "群众反映的{issue}问题未彻底解决，现场仍有反复",
        "整改方案未细化责任人和时间节点",
        "办理结果未向群众反馈，回访满意度低",
    ),
    "重点督查督办": (
        "餐饮场所燃气管道穿越密闭空间，未安装泄漏报警装置",
        "经营性自建房擅自改变用途，未开展安全鉴定",
        "防汛物资储备不足，仓库台账与实物不符",
        "违法建筑拆除后建筑垃圾未及时清运",
        "企业隐患排查流于形式，{n} 处隐患未整改",
    ),
    "重大政策": (
        "惠企资金兑付不及时，{n} 家企业尚未收到补助",
        "政策宣传解读不到位，抽查企业知晓率偏低",
        "申报材料要求繁杂，与“最多跑一次”要求不符",
        "设备更新补贴审核周期过长，超过承诺时限",
    ),
    "生态环保": (
        "河道沿线发现 {n} 处雨污混接排口，有污水直排入河",
        "河面漂浮垃圾和水草未及时打捞清理",
        "建筑工地裸土未覆盖，车辆冲洗设施未正常使用",
        "企业 VOCs 治理设施未正常运行，无运行台账",
        "河岸违规堆放建筑垃圾和生活垃圾",
        "餐饮油烟净化设施长期未清洗",
    ),
    "其他": (
        "台账资料重复报送，基层填报负担较重",
        "12345 热线工单办理超期 {n} 件",
        "审计发现问题整改未按期销号",
        "政务服务窗口办事指南未及时更新",
    ),
}

REQUIREMENTS = (
    "立即整改，{due}前完成并报送整改情况",
    "举一反三，开展全面排查，{days} 日内完成整改",
    "制定整改方案，明确责任人和完成时限，按期销号",
    "限期清理到位，建立长效管护机制",
    "按期完成整改，报送整改前后对比照片和相关佐证材料",
)

VISIT_SUMMARIES = (
    "现场查看项目推进情况，听取{unit}情况汇报，查阅相关台账资料。",
    "实地察看现场，随机走访群众 {n} 人，核对进度数据。",
    "会同{unit}现场踏勘，对照年度目标逐项核实完成情况。",
    "“四不两直”暗访，重点检查现场管理和安全措施落实情况。",
)

CHECK_NOTES: dict[CheckResult, tuple[str, ...]] = {
    CheckResult.RECTIFIED: ("现场复核，问题已整改到位，同意销号。", "整改措施落实，现场已恢复，佐证资料齐全，同意销号。"),
    CheckResult.BASICALLY_RECTIFIED: ("主体问题已整改，个别细节需持续巩固，同意销号。",),
    CheckResult.NOT_RECTIFIED: ("现场复核发现问题仍然存在，退回继续整改。", "整改不彻底，未达到整改要求，退回重新整改。"),
}

# How a finding's story ends. The first ones run in this order so that every state occurs
# even in a small set; after that they are drawn by weight.
OUTCOMES_FIRST = ("closed", "returned", "pending", "rectifying", "open", "returned_closed", "returned_pending")
OUTCOME_WEIGHTS = {
    "open": 20, "rectifying": 18, "pending": 15, "closed": 30, "returned": 8,
    "returned_closed": 5, "returned_pending": 4,
}
SEVERITY_WEIGHTS = {Severity.GENERAL: 60, Severity.SERIOUS: 30, Severity.SEVERE: 10}

SCENE_KINDS = ("street", "river", "construction", "residential", "village", "market")
CATEGORY_SCENES: dict[str, tuple[str, ...]] = {
    "政府工作报告": ("construction", "residential", "street"),
    "民生实事": ("residential", "market", "street"),
    "领导批示": ("street", "residential", "village"),
    "重点督查督办": ("construction", "street", "village"),
    "重大政策": ("market", "street", "construction"),
    "生态环保": ("river", "village"),
    "其他": ("street", "market", "residential"),
}


# --------------------------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------------------------

def _weighted(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _deadline(rng: random.Random, i: int, today: dt.date) -> tuple[str, dt.date | None, str]:
    """(kind, date, text). Every 10th task open-ended, a few as written, the rest dated from
    about 17 months back to 7 months ahead, mostly ahead (month ends, as plans are written)."""
    slot = i % 20
    if slot in (7, 17):
        return DeadlineKind.OPEN_ENDED, None, rng.choice(("长期坚持", "持续推进"))
    if i % 50 == 12:
        return DeadlineKind.UNREAD, None, rng.choice(("汛期前", "春节前", "按省定节点推进", "下半年"))
    if slot == 3:  # always some overdue ones
        months = rng.randint(-17, -1)
    else:
        months = rng.choices(range(-17, 8), weights=[1] * 17 + [8] * 8)[0]
    index = today.year * 12 + today.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    r = rng.random()
    if r < 0.6:
        day = _month_end(year, month)
        text = f"{year}年底前" if month == 12 else f"{year}年{month}月底前"
    elif r < 0.75:
        day = dt.date(year, month, 15)
        text = f"{year}年{month}月15日前"
    else:
        day = dt.date(year, month, rng.randint(1, 28))
        text = f"{year}年{month}月{day.day}日前"
    return DeadlineKind.DATE, day, text


def _county_vars(county: Region) -> dict[str, str]:
    return {"county": county.name, "city": county.city_name, "short": county.short_name,
            "city_short": regions.short_name(county.city_name)}


def _unit(key: str, cv: dict[str, str]) -> str:
    return UNITS[key].format(**cv)


def _address(rng: random.Random, kind: str, county: Region, river: str) -> str:
    base = county.full_name
    if kind == "none":
        return ""
    if kind == "community":
        return f"{base}{rng.choice(STREETS)}{rng.randint(1, 400)}号{rng.choice(COMMUNITIES)}小区"
    if kind == "village":
        return f"{base}{rng.choice(VILLAGES)}"
    if kind == "river":
        return f"{base}{river}沿线"
    return f"{base}{rng.choice(STREETS)}{rng.randint(1, 600)}号"


def _task_fields(rng: random.Random, i: int, code: str, counties: list[Region], today: dt.date) -> dict[str, Any]:
    # The first tasks take each category in turn, so even a small set shows them all.
    category = CATEGORIES[i] if i < len(CATEGORIES) else _weighted(rng, _CATEGORY_CHOICE)
    tpl: Template = rng.choice(TEMPLATES.get(category, TEMPLATES["其他"]))
    county = rng.choice(counties)
    cv = _county_vars(county)
    n = rng.randint(*tpl.n)
    river = rng.choice(RIVERS.get(county.city_code, ("城区内河",)))
    values = dict(cv, n=n, m=n * rng.randint(20, 300), k=max(1, n // rng.randint(2, 5)),
                  river=river, issue=rng.choice(ISSUES), facility=rng.choice(FACILITIES),
                  days=rng.choice((15, 30, 60)))
    responsible = [_unit(k, cv) for k in tpl.units[: rng.randint(1, len(tpl.units))]]
    lead = _unit("gov", cv) if category in ("领导批示", "重点督查督办") and rng.random() < 0.4 else responsible[0]
    pool = [_unit(k, cv) for k in COOPERATING]
    cooperating = [u for u in rng.sample(pool, rng.randint(0, 3)) if u not in responsible and u != lead]
    kind, deadline, deadline_text = _deadline(rng, i, today)
    team = rng.sample(INSPECTORS, rng.choice((1, 2, 2, 3)))
    return {
        "code": code, "title": tpl.title.format(**values), "category": category,
        "responsible_units": responsible, "lead_unit": lead, "cooperating_units": cooperating,
        "region_code": county.code, "region_name": county.full_name,
        "address": _address(rng, tpl.address, county, river),
        "deadline": deadline, "deadline_kind": kind, "deadline_text": deadline_text,
        "targets": tpl.targets.format(**values), "assignees": team,
    }


# --------------------------------------------------------------------------------------------
# Photos: drawn scenes with real EXIF
# --------------------------------------------------------------------------------------------

def _sky(draw: ImageDraw.ImageDraw, rng: random.Random, horizon: int, w: int) -> None:
    top, bottom = rng.choice((
        ((70, 130, 210), (180, 210, 240)),   # clear
        ((140, 150, 160), (205, 210, 215)),  # overcast
        ((95, 150, 200), (225, 220, 200)),   # hazy
        ((60, 90, 150), (240, 190, 140)),    # late afternoon
    ))
    for y in range(horizon):
        t = y / max(1, horizon - 1)
        draw.line([(0, y), (w, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))


def _jitter(rng: random.Random, color: tuple[int, int, int], amount: int = 18) -> tuple[int, int, int]:
    return tuple(max(0, min(255, c + rng.randint(-amount, amount))) for c in color)  # type: ignore[return-value]


def _building(draw: ImageDraw.ImageDraw, rng: random.Random, x: int, base: int, w: int, h: int) -> None:
    wall = _jitter(rng, rng.choice(((200, 195, 185), (170, 170, 175), (215, 205, 180), (150, 160, 170))), 15)
    draw.rectangle([x, base - h, x + w, base], fill=wall, outline=_jitter(rng, (90, 90, 90), 10))
    glass = _jitter(rng, (90, 120, 150), 20)
    for wy in range(base - h + 8, base - 12, 16):
        for wx in range(x + 6, x + w - 10, 14):
            draw.rectangle([wx, wy, wx + 7, wy + 9], fill=glass)


def _tree(draw: ImageDraw.ImageDraw, rng: random.Random, x: int, base: int, s: int) -> None:
    draw.rectangle([x - s // 10, base - s, x + s // 10, base], fill=(100, 70, 40))
    green = _jitter(rng, (50, 120, 55), 25)
    draw.ellipse([x - s // 2, base - s * 2, x + s // 2, base - s // 2], fill=green)


def _house(draw: ImageDraw.ImageDraw, rng: random.Random, x: int, base: int, w: int) -> None:
    h = int(w * 0.7)
    draw.rectangle([x, base - h, x + w, base], fill=_jitter(rng, (235, 230, 220), 12))
    roof = _jitter(rng, rng.choice(((70, 70, 80), (150, 70, 50), (60, 80, 110))), 12)
    draw.polygon([(x - 6, base - h), (x + w // 2, base - h - w // 3), (x + w + 6, base - h)], fill=roof)
    draw.rectangle([x + w // 2 - 6, base - 22, x + w // 2 + 6, base], fill=(110, 80, 60))


def _draw_base(kind: str, rng: random.Random, size: tuple[int, int]) -> Image.Image:
    w, h = size
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    horizon = rng.randint(h // 3, h // 2)
    _sky(draw, rng, horizon, w)
    grounds = {"river": (95, 140, 80), "village": (105, 150, 75), "construction": (150, 130, 100)}
    ground = grounds.get(kind, (130, 130, 125))
    draw.rectangle([0, horizon, w, h], fill=_jitter(rng, ground, 15))
    if kind in ("street", "residential", "market", "construction"):
        x = rng.randint(-40, 0)
        while x < w:
            bw = rng.randint(60, 130)
            _building(draw, rng, x, horizon + 10, bw, rng.randint(60, horizon + 40))
            x += bw + rng.randint(5, 30)
    if kind == "street":
        vx = w // 2 + rng.randint(-80, 80)
        draw.polygon([(vx - 8, horizon + 10), (vx + 8, horizon + 10), (w, h), (0, h)],
                     fill=_jitter(rng, (75, 75, 80), 8))
        for k in range(6):
            t0, t1 = k / 6, (k + 0.5) / 6
            y0, y1 = horizon + 10 + (h - horizon) * t0 ** 1.5, horizon + 10 + (h - horizon) * t1 ** 1.5
            draw.line([(vx, y0), (vx, y1)], fill=(235, 235, 220), width=max(1, int(2 + 6 * t1)))
        for _ in range(rng.randint(2, 5)):
            x = rng.choice((rng.randint(10, 120), rng.randint(w - 120, w - 10)))
            _tree(draw, rng, x, h - rng.randint(10, 80), rng.randint(40, 80))
    elif kind == "river":
        pts_top = [(x, horizon + 40 + int(20 * math.sin(x / 70 + rng.random()))) for x in range(0, w + 40, 40)]
        pts_bot = [(x, h - 90 + int(25 * math.sin(x / 90 + rng.random()))) for x in range(w + 40, -40, -40)]
        draw.polygon(pts_top + pts_bot, fill=_jitter(rng, (70, 120, 150), 20))
        for _ in range(rng.randint(4, 9)):
            _tree(draw, rng, rng.randint(0, w), horizon + rng.randint(20, 40), rng.randint(25, 50))
        draw.line([(0, h - 60), (w, h - 70)], fill=(170, 165, 150), width=6)  # embankment path
    elif kind == "construction":
        cx = rng.randint(80, w - 80)
        draw.line([(cx, horizon + 30), (cx, 30)], fill=(230, 180, 30), width=6)
        draw.line([(cx - 60, 40), (cx + 200, 40)], fill=(230, 180, 30), width=5)
        draw.line([(cx + 150, 40), (cx + 150, 120)], fill=(60, 60, 60), width=2)
        fx = rng.randint(40, w - 260)
        for gx in range(fx, fx + 220, 44):
            draw.line([(gx, horizon + 40), (gx, horizon - 120)], fill=(160, 160, 160), width=4)
        for gy in range(horizon - 120, horizon + 41, 32):
            draw.line([(fx, gy), (fx + 176, gy)], fill=(160, 160, 160), width=4)
        draw.rectangle([0, h - 120, w, h - 80], fill=(40, 110, 170))  # hoarding
        for sx in range(0, w, 60):
            draw.rectangle([sx, h - 120, sx + 30, h - 114], fill=(235, 235, 235))
    elif kind == "residential":
        draw.rectangle([0, h - 110, w, h], fill=_jitter(rng, (150, 150, 145), 10))
        for _ in range(rng.randint(3, 6)):
            _tree(draw, rng, rng.randint(0, w), h - rng.randint(60, 110), rng.randint(35, 60))
        for _ in range(rng.randint(2, 5)):  # parked cars
            x = rng.randint(0, w - 80)
            paint = rng.choice(((200, 30, 30), (230, 230, 230), (40, 40, 45), (60, 90, 160)))
            draw.rounded_rectangle([x, h - 60, x + 70, h - 30], radius=8, fill=_jitter(rng, paint, 10))
    elif kind == "village":
        for _ in range(rng.randint(3, 6)):
            _house(draw, rng, rng.randint(0, w - 90), horizon + rng.randint(20, 60), rng.randint(60, 100))
        for y in range(horizon + 90, h, 14):
            draw.line([(0, y), (w, y + rng.randint(-6, 6))], fill=_jitter(rng, (70, 130, 60), 12), width=5)
    elif kind == "market":
        for _ in range(rng.randint(4, 7)):
            x = rng.randint(0, w - 110)
            y = h - rng.randint(100, 200)
            awning = _jitter(rng, rng.choice(((210, 60, 50), (40, 120, 200), (240, 170, 40), (60, 160, 90))), 10)
            draw.rectangle([x, y, x + 100, y + 60], fill=(200, 190, 170))
            for sx in range(x, x + 100, 20):
                draw.rectangle([sx, y - 20, sx + 10, y], fill=awning)
                draw.rectangle([sx + 10, y - 20, sx + 20, y], fill=(245, 245, 240))
    return img


def _draw_problem(img: Image.Image, kind: str, rng: random.Random) -> None:
    """What an inspector photographs: rubbish, muddy water, uncovered soil, a blocked path."""
    draw = ImageDraw.Draw(img)
    w, h = img.size
    if kind == "river":
        for _ in range(rng.randint(3, 6)):  # scum and floating rubbish on the water
            x, y = rng.randint(0, w - 120), rng.randint(h // 2, h - 120)
            draw.ellipse([x, y, x + rng.randint(60, 160), y + rng.randint(15, 35)],
                         fill=_jitter(rng, (110, 105, 60), 15))
        for _ in range(rng.randint(8, 16)):
            x, y = rng.randint(0, w - 10), rng.randint(h // 2, h - 100)
            draw.rectangle([x, y, x + rng.randint(4, 12), y + rng.randint(3, 8)],
                           fill=_jitter(rng, (220, 220, 210), 35))
        draw.rectangle([0, h - 96, rng.randint(40, 160), h - 80], fill=(60, 60, 55))  # outfall pipe
    if kind == "construction":
        pts = [(rng.randint(0, w), rng.randint(h - 80, h)) for _ in range(7)]
        draw.polygon(sorted(pts), fill=(140, 100, 60))  # bare soil
    for _ in range(rng.randint(2, 4)):  # heaps of rubbish / rubble
        x, y = rng.randint(0, w - 120), rng.randint(h - 150, h - 40)
        sw, sh = rng.randint(60, 140), rng.randint(25, 60)
        heap = rng.choice(((110, 95, 80), (90, 90, 90), (130, 120, 100)))
        draw.pieslice([x, y, x + sw, y + sh * 2], 180, 360, fill=_jitter(rng, heap, 12))
        for _ in range(rng.randint(4, 9)):
            bx, by = rng.randint(x, x + sw - 10), rng.randint(y, y + sh)
            draw.rectangle([bx, by, bx + rng.randint(6, 16), by + rng.randint(5, 12)],
                           fill=_jitter(rng, rng.choice(((20, 20, 20), (200, 40, 40), (40, 80, 200), (230, 230, 230))),
                                        20))
    if rng.random() < 0.5:  # standing water
        x, y = rng.randint(0, w - 160), rng.randint(h - 70, h - 20)
        draw.ellipse([x, y, x + rng.randint(80, 180), y + rng.randint(12, 24)], fill=(80, 85, 90))


def _draw_fixed(img: Image.Image, kind: str, rng: random.Random) -> None:
    """After rectification: the same place, cleaned, covered or planted."""
    draw = ImageDraw.Draw(img)
    w, h = img.size
    if kind == "construction":
        draw.rectangle([0, h - 75, w, h], fill=(40, 120, 60))  # dust net over the soil
        for x in range(0, w, 12):
            draw.line([(x, h - 75), (x + 20, h)], fill=(30, 95, 45), width=1)
    else:
        for _ in range(rng.randint(2, 5)):  # new planting
            x, y = rng.randint(0, w - 60), rng.randint(h - 60, h - 20)
            draw.ellipse([x, y, x + rng.randint(30, 60), y + rng.randint(15, 25)],
                         fill=_jitter(rng, (60, 140, 60), 20))


def _finish(img: Image.Image, rng: random.Random) -> bytes:
    # Sensor-like grain from the seeded generator (Image.effect_noise is not reproducible).
    noise = Image.frombytes("L", img.size, rng.randbytes(img.size[0] * img.size[1])).convert("RGB")
    img = Image.blend(img, noise, rng.uniform(0.04, 0.07)).filter(ImageFilter.GaussianBlur(0.6))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=82)
    return buf.getvalue()


def _rational_dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    value = abs(value)
    deg = int(value)
    minutes = int((value - deg) * 60)
    seconds = round(((value - deg) * 60 - minutes) * 60 * 100)
    return IFDRational(deg, 1), IFDRational(minutes, 1), IFDRational(seconds, 100)


def exif_block(taken: dt.datetime, lat: float, lon: float) -> bytes:
    """An EXIF APP1 payload with DateTimeOriginal and GPS, as a phone camera writes it."""
    exif = Image.Exif()
    stamp = taken.strftime("%Y:%m:%d %H:%M:%S")
    exif[0x010F] = "FieldApp"  # Make
    exif[0x0110] = "Demo Camera"  # Model
    exif[0x0112] = 1  # Orientation
    exif[0x0131] = "fieldapp demo"  # Software
    exif[0x0132] = stamp  # DateTime
    exif.get_ifd(0x8769)[36867] = stamp  # DateTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[0] = b"\x02\x02\x00\x00"
    gps[1] = "N" if lat >= 0 else "S"
    gps[2] = _rational_dms(lat)
    gps[3] = "E" if lon >= 0 else "W"
    gps[4] = _rational_dms(lon)
    return exif.tobytes()


def _with_exif(jpeg: bytes, exif: bytes) -> bytes:
    """Splice an APP1 EXIF segment in right after SOI, without re-encoding the image."""
    assert jpeg[:2] == b"\xff\xd8"
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif + jpeg[2:]


class PhotoFactory:
    """SCENES drawn scenes (each as "problem" and "fixed"), encoded once; every photo taken
    from them gets its own EXIF time and GPS, so each file is distinct evidence."""

    def __init__(self, seed: int, folder: Path) -> None:
        self.seed = seed
        self.folder = folder
        self._encoded: dict[tuple[int, bool], bytes] = {}
        self._names: set[str] = set()
        self.kinds = [SCENE_KINDS[k % len(SCENE_KINDS)] for k in range(SCENES)]

    def _jpeg(self, scene: int, fixed: bool) -> bytes:
        key = (scene, fixed)
        if key not in self._encoded:
            kind = self.kinds[scene]
            img = _draw_base(kind, random.Random(self.seed * 1000 + scene), PHOTO_SIZE)
            if fixed:
                _draw_fixed(img, kind, random.Random(self.seed * 1000 + scene + 500))
            else:
                _draw_problem(img, kind, random.Random(self.seed * 1000 + scene + 700))
            self._encoded[key] = _finish(img, random.Random(self.seed * 1000 + scene + 900 + fixed))
        return self._encoded[key]

    def scene_for(self, rng: random.Random, category: str) -> int:
        kinds = CATEGORY_SCENES.get(category, SCENE_KINDS)
        choices = [k for k, kind in enumerate(self.kinds) if kind in kinds]
        return rng.choice(choices)

    def take(self, scene: int, fixed: bool, taken: dt.datetime, lat: float, lon: float) -> Path:
        data = _with_exif(self._jpeg(scene, fixed), exif_block(taken, lat, lon))
        name = f"IMG_{taken:%Y%m%d_%H%M%S}.jpg"
        k = 1
        while name in self._names:
            k += 1
            name = f"IMG_{taken:%Y%m%d_%H%M%S}_{k}.jpg"
        self._names.add(name)
        path = self.folder / name
        path.write_bytes(data)
        return path


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------

@dataclass
class _Tally:
    tasks: int = 0
    visits: int = 0
    findings: int = 0
    checks: int = 0
    photos: int = 0
    overdue: int = 0
    open_ended: int = 0
    completed: int = 0
    finding_status: dict[str, int] = field(default_factory=dict)
    check_results: dict[str, int] = field(default_factory=dict)
    completed_ids: set[str] = field(default_factory=set)


def _next_number(store: Store, prefix: str) -> int:
    with store.session() as s:
        codes = s.scalars(select(Task.code).where(Task.code.like(prefix + "%"))).all()
    numbers = [int(c[len(prefix):]) for c in codes if c and c[len(prefix):].isdigit()]
    return max(numbers, default=0) + 1


def make_demo(
    store: Store, tasks: int = 300, seed: int = 2026, progress: Progress | None = None,
    cancel: threading.Event | None = None, *, force: bool = False,
) -> dict[str, Any]:
    """Fill `store` with `tasks` demo tasks (the first ~DETAILED with visits, findings, photos
    and checks). Returns counts of what was written. Demo records are authored by the demo's own
    inspectors (tasks by "演示数据"), not by whoever loads the demo."""
    saved = store.author
    store.sign_in("演示数据")
    try:
        return _make_demo(store, tasks, seed, progress, cancel, force=force)
    finally:
        store.sign_in(saved)


def _make_demo(
    store: Store, tasks: int = 300, seed: int = 2026, progress: Progress | None = None,
    cancel: threading.Event | None = None, *, force: bool = False,
) -> dict[str, Any]:
    """The work of `make_demo`, under the authors it sets."""
    if tasks < 0:
        raise ValueError("tasks must be >= 0")
    started = time.monotonic()
    with store.session() as s:
        existing = s.scalar(select(func.count()).select_from(Task)) or 0
    if existing and not force:
        raise DemoRefused(f"{existing} tasks", count=existing)

    rng = random.Random(seed)
    today = dt.date.today()
    counties = regions.counties()
    prefix = f"DC-{today.year}-"
    first = _next_number(store, prefix) if existing else 1
    detailed = min(tasks, DETAILED)
    n_visits = min(detailed, max(round(detailed * VISIT_SHARE), min(detailed, 8)))
    total = tasks + n_visits
    tally = _Tally()
    done = 0

    def tick(n: int = 1) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)

    def note_task(fields: dict[str, Any]) -> None:
        tally.tasks += 1
        if fields["deadline_kind"] == DeadlineKind.OPEN_ENDED:
            tally.open_ended += 1

    # The detailed tasks one by one, through the service, as a person would create them.
    detail_tasks: list[tuple[str, dict[str, Any]]] = []
    for i in range(detailed):
        check_cancel(cancel)
        fields = _task_fields(rng, i, f"{prefix}{first + i:06d}", counties, today)
        (task_id,) = task_service.create_task(store, **fields).tasks
        detail_tasks.append((task_id, fields))
        note_task(fields)
        tick()

    # The bulk: BATCH tasks per transaction, straight into the session (the change log
    # still records every one at flush).
    i = detailed
    while i < tasks:
        check_cancel(cancel)
        upto = min(tasks, i + BATCH)
        batch = []
        for j in range(i, upto):
            fields = _task_fields(rng, j, f"{prefix}{first + j:06d}", counties, today)
            batch.append(Task(status=TaskStatus.ASSIGNED, **fields))
            note_task(fields)
            if fields["deadline"] is not None and fields["deadline"] < today:
                tally.overdue += 1
        with store.transaction() as s:
            s.add_all(batch)
        tick(upto - i)
        i = upto

    # Inspectors at work on some of the detailed tasks.
    visited = sorted(rng.sample(range(detailed), n_visits))
    with tempfile.TemporaryDirectory(prefix="fieldapp-demo-") as tmp:
        photos = PhotoFactory(seed, Path(tmp))
        outcome_no = 0
        for idx in visited:
            check_cancel(cancel)
            task_id, fields = detail_tasks[idx]
            outcomes: list[str] = []
            for _ in range(rng.choices((0, 1, 2, 3), weights=(15, 40, 35, 10))[0]):
                outcomes.append(OUTCOMES_FIRST[outcome_no] if outcome_no < len(OUTCOMES_FIRST)
                                else _weighted(rng, OUTCOME_WEIGHTS))
                outcome_no += 1
            _work_on_task(store, rng, photos, task_id, fields, outcomes, tally, today, cancel)
            tick()

    for task_id, fields in detail_tasks:
        if fields["deadline"] is not None and fields["deadline"] < today and task_id not in tally.completed_ids:
            tally.overdue += 1
    summary = {
        "tasks": tally.tasks, "visits": tally.visits, "findings": tally.findings,
        "checks": tally.checks, "photos": tally.photos,
        "findings_by_status": dict(sorted(tally.finding_status.items())),
        "checks_by_result": dict(sorted(tally.check_results.items())),
        "tasks_overdue": tally.overdue, "tasks_open_ended": tally.open_ended,
        "tasks_completed": tally.completed, "seconds": round(time.monotonic() - started, 2),
    }
    return summary


def _near(rng: random.Random, region: Region, spread: float = 0.06) -> tuple[float, float]:
    lat = (region.lat or 30.27) + rng.gauss(0, spread)
    lon = (region.lon or 120.15) + rng.gauss(0, spread)
    return round(lat, 6), round(lon, 6)


def _at_work_hours(rng: random.Random, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(rng.randint(8, 16), rng.randint(0, 59), rng.randint(0, 59)))


def _work_on_task(
    store: Store, rng: random.Random, photos: PhotoFactory, task_id: str, fields: dict[str, Any],
    outcomes: list[str], tally: _Tally, today: dt.date, cancel: threading.Event | None,
) -> None:
    """One visit to the task's site, its findings with photos, and each finding's story."""
    now = dt.datetime.now().replace(microsecond=0)
    region = regions.lookup(fields["region_code"])
    assert region is not None
    inspector = fields["assignees"][0]
    store.sign_in(inspector)  # what follows is this inspector's work (make_demo restores it)
    visited_at = _at_work_hours(rng, today - dt.timedelta(days=rng.randint(10, 240)))
    lat, lon = _near(rng, region)
    unit = fields["responsible_units"][0]
    summary = rng.choice(VISIT_SUMMARIES).format(unit=unit, n=rng.randint(3, 12))
    summary += f"发现问题 {len(outcomes)} 个。" if outcomes else "未发现明显问题，按计划推进。"
    (visit_id,) = visit_service.record_visit(
        store, task_id, visited_at=visited_at, place=fields["address"] or region.full_name,
        summary=summary, latitude=lat, longitude=lon, inspector=inspector,
    ).visits
    tally.visits += 1

    open_left = 0
    for outcome in outcomes:
        check_cancel(cancel)
        category = fields["category"]
        days = rng.choice((15, 30, 45, 60, 90))
        due = visited_at.date() + dt.timedelta(days=days)
        text = rng.choice(FINDING_TEXTS.get(category, FINDING_TEXTS["其他"])).format(
            n=rng.randint(2, 9), pct=rng.choice((30, 40, 50, 60)), facility=rng.choice(FACILITIES),
            issue=rng.choice(ISSUES))
        requirement = rng.choice(REQUIREMENTS).format(due=f"{due.year}年{due.month}月{due.day}日", days=days)
        (finding_id,) = finding_service.record_finding(
            store, task_id, description=text, category=category,
            severity=_weighted(rng, SEVERITY_WEIGHTS), responsible_unit=rng.choice(fields["responsible_units"]),
            requirement=requirement, due_date=due, visit_id=visit_id,
        ).findings
        tally.findings += 1

        scene = photos.scene_for(rng, category)
        shots = []
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            taken = visited_at + dt.timedelta(minutes=rng.randint(1, 50), seconds=rng.randint(0, 59))
            plat, plon = lat + rng.gauss(0, 0.0004), lon + rng.gauss(0, 0.0004)
            shots.append(photos.take(scene, False, taken, plat, plon))
        kind = PhotoKind.SITE if rng.random() < 0.6 else PhotoKind.BEFORE
        tally.photos += len(finding_service.add_photos(store, finding_id, shots, kind, cancel=cancel).photos)

        # The finding's story after the visit, in time order up to now.
        clock = visited_at

        def later(lo: int, hi: int) -> dt.datetime:
            """A working-hours time some days after the last event, never after now."""
            nonlocal clock
            room = (today - clock.date()).days - 1  # whole days left before today
            days = rng.randint(min(lo, max(room, 0)), min(hi, max(room, 0)))
            at = _at_work_hours(rng, clock.date() + dt.timedelta(days=days))
            if at <= clock:
                at = clock + dt.timedelta(minutes=rng.randint(20, 90))
            clock = min(at, now - dt.timedelta(minutes=1))
            return clock

        def check(result: CheckResult) -> None:
            at = later(3, 25)
            shot = photos.take(scene, result.passes, at, lat + rng.gauss(0, 0.0004), lon + rng.gauss(0, 0.0004))  # noqa: B023 - check() runs in the iteration that defines it
            evidence = [(shot, PhotoKind.AFTER)] if result.passes or rng.random() < 0.5 else []
            changes = finding_service.record_check(
                store, finding_id, result=result, note=rng.choice(CHECK_NOTES[result]),  # noqa: B023
                photos=evidence, checked_at=at, inspector=rng.choice(fields["assignees"]), cancel=cancel,
            )
            tally.checks += 1
            tally.photos += len(changes.photos)
            tally.check_results[result.value] = tally.check_results.get(result.value, 0) + 1

        status = FindingStatus.OPEN
        if outcome != "open":
            finding_service.start_rectification(store, finding_id)
            status = FindingStatus.RECTIFYING
        if outcome not in ("open", "rectifying"):
            finding_service.submit_for_check(store, finding_id)
            status = FindingStatus.PENDING_CHECK
        if outcome == "closed":
            check(rng.choice((CheckResult.RECTIFIED, CheckResult.RECTIFIED, CheckResult.BASICALLY_RECTIFIED)))
            status = FindingStatus.CLOSED
        elif outcome.startswith("returned"):
            check(CheckResult.NOT_RECTIFIED)
            status = FindingStatus.RECTIFYING
            if outcome in ("returned_closed", "returned_pending"):
                finding_service.submit_for_check(store, finding_id)
                status = FindingStatus.PENDING_CHECK
            if outcome == "returned_closed":
                check(CheckResult.RECTIFIED)
                status = FindingStatus.CLOSED
        tally.finding_status[status.value] = tally.finding_status.get(status.value, 0) + 1
        open_left += status != FindingStatus.CLOSED

    # 办结 when every finding is closed (and sometimes after a clean visit).
    if open_left == 0 and rng.random() < (0.7 if outcomes else 0.3):
        task_service.complete_task(store, task_id)
        tally.completed += 1
        tally.completed_ids.add(task_id)
