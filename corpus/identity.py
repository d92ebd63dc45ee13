"""Read what a citation names of a notice besides its title: where it applies, what kind of document it
is, and from when until when it is in force.

The issuer, date and 文号 come from where the parser finds them (the notice block, the signature, the
page's 发布时间); this module reads the rest from them, the title and the text.
"""

from __future__ import annotations

import calendar
import datetime
import re

from corpus import markers
from corpus.models import Identity
from corpus.regions import NATIONAL, Region, places_in

# Organs of the State Council and the Party centre, named without a place: their notices apply nationwide. A
# local organ's name without its place (市商务局, 省卫健委) is not one of them.
_NATIONAL_ORGAN = re.compile(
    r"^(国务院|国家|中共中央|中央|全国|中华人民共和国|中国人民银行|中国银保监会|中国银行保险监督管理委员会|中国证监会|"
    r"最高人民|外交部|国防部|教育部|科技部|科学技术部|工业和信息化部|工信部|公安部|民政部|司法部|财政部|"
    r"人力资源(和)?社会保障部|人社部|自然资源部|生态环境部|住房(和)?城乡建设部|交通运输部|水利部|农业农村部|"
    r"商务部|文化和旅游部|退役军人事务部|应急管理部|审计署|海关总署|税务总局|市场监管总局|银保监会|证监会|"
    r"人民银行|发展改革委|国资委|民航局|铁路局|邮政局)"
)
# Where a 文号 opens with a province's abbreviation (京政办发, 闽政), the notice is that province's (or one of
# its cities'); 宁 (南京 or 宁夏) and 青 (青岛 or 青海) say too little.
_PROVINCE_ABBREVIATIONS = {
    "京": "北京市", "津": "天津市", "沪": "上海市", "渝": "重庆市", "冀": "河北省", "晋": "山西省", "蒙": "内蒙古自治区",
    "辽": "辽宁省", "吉": "吉林省", "黑": "黑龙江省", "苏": "江苏省", "浙": "浙江省", "皖": "安徽省", "闽": "福建省",
    "赣": "江西省", "鲁": "山东省", "豫": "河南省", "鄂": "湖北省", "湘": "湖南省", "粤": "广东省", "桂": "广西壮族自治区",
    "琼": "海南省", "川": "四川省", "黔": "贵州省", "滇": "云南省", "云": "云南省", "藏": "西藏自治区", "陕": "陕西省",
    "甘": "甘肃省", "新": "新疆维吾尔自治区",
}  # fmt: skip
_NATIONAL_NUMBER = re.compile(
    r"^(国办|国发|国函|国卫|国税|国市监|财|税总|人社部|工信|商务部|发改|银保监|银发|署|交运|农)"
)
# An organ's name, or several, at the start of a title; no name holds 关于, 印发 or 转发.
_TITLE_ORGANS = (
    r"((?:(?:(?!关于|印发|转发)[\u4e00-\u9fff()（）]){2,30}?"
    r"(?:政府|办公厅|办公室|委员会|部|局|署|厅|委|院|会|行|中心|指挥部|小组)[\s、]*)+)"
)
_TITLE_ISSUER = re.compile(rf"^(?!转发|印发){_TITLE_ORGANS}(?:关于|印发.+的通知$)")
# A title that forwards without naming who forwards: 转发北京市应急管理局关于…. Where the text is the forwarded
# document itself, that organ issued it; where it opens by addressing its recipients (各县（区）卫生健康委…：), it is
# the covering notice of a forwarder the page does not name.
_UNNAMED_FORWARD = re.compile(rf"^转发{_TITLE_ORGANS}关于")
_ADDRESSEES = re.compile(r"^[^。；：:]{2,120}?(?:局|委|厅|办|室|部门|单位|政府|中心|机构|企业|公司|学校)[：:]")
# 龙岩市人社局转发福建省人社厅…转发人社部…的通知: the text ends with the forwarded notice and its signature.
_TITLE_FORWARDER = re.compile(rf"^(?!转发|印发){_TITLE_ORGANS}转发.+的通知$")
_ORGAN_BREAK = re.compile(r"[\s、]+")
_DATELINE = re.compile(r"(新华社|中新社)\S{0,12}?电")
_NEWS = re.compile(r"(新华社|中新社|本报讯|记者|通讯员|[0-9０-９]{1,2}日电|[(（]?[\u4e00-\u9fff]{2,4}讯[)）]?)")
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("其他", re.compile(r"(公开信|一封信|倡议书|令|令[(（]第\d{1,4}号[)）])$")),
    # A headline that reports a document being issued (税务总局发布…措施) or leads with who or where it is about
    # (山东：…) is news, not that document.
    (
        "新闻",
        re.compile(
            r"^(?!.*关于)(?:.*(发布(?!会)|出台|印发|下发|公布|推出|发文)(?!.*的(通知|公告)$)|[^：:]{2,12}[：:])"
        ),
    ),
    ("解读", re.compile(r"(解读|答记者问|问答|答问|解答|热点问题|一图读懂)")),
    ("公告", re.compile(r"(公告|通告|公示)$")),
    ("通知", re.compile(r"(通知|通报)$")),
    ("意见", re.compile(r"意见$")),
    ("办法", re.compile(r"(办法|规定|细则|规则|条例|标准)$")),
    ("措施", re.compile(r"(措施|方案|计划|规划|举措|若干|指南|指引|提示)$")),
)
KINDS = ("通知", "公告", "意见", "办法", "措施", "解读", "新闻", "其他")
_DATE = r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*日"
# Said of the notice itself (本通知, 本办法…), not of a deadline it sets (申报期限延长至2月24日).
_ITSELF = r"本(?:通知|公告|通告|办法|意见|措施|规定|细则|方案|政策|决定)"
_VALID_UNTIL = re.compile(rf"(?:有效期|执行期限?|实施期限?|施行期限?)[^。；;]{{0,30}}?(?:至|到|截至|截止)\s*{_DATE}")
_VALID_FOR = re.compile(r"有效期(?:为|暂定)?\s*([0-9一二三四五六七八九十两]{1,3})\s*(个月|年)")
_VALID_FROM = re.compile(
    rf"{_ITSELF}[^。；;]{{0,20}}?自\s*(?:{_DATE}|(?:印发|发布|公布)之日)\s*起(?:施行|执行|实施|生效)"
)


def read_identity(
    title: str, issuer: str | None, date: str | None, number: str | None, text: str, source_url: str | None = None
) -> Identity:
    """The notice's identity: the parser's issuer (else the organ its title opens with), date and 文号, and what
    this module reads from them and the text; ``source_url`` as the corpus gives it."""
    forwarder = _TITLE_FORWARDER.match(title)
    issuer = (
        forwarder.group(1).strip() if forwarder else _as_titled(issuer, title_issuer(title) or _reposted(title, text))
    )
    valid_from, valid_until = validity(text, date)
    region = notice_region(title, issuer, number, text)
    return Identity(
        issuer=issuer,
        date=date,
        number=number,
        region=region.label if region else None,
        kind=notice_kind(title),
        valid_from=valid_from,
        valid_until=valid_until,
        source_url=source_url,
    )


def title_issuer(title: str) -> str | None:
    """The organ(s) a ``<organ>关于…`` or ``<organ>印发…的通知`` title opens with: 北京市人力资源和社会保障局, 财政部 税务总局."""
    match = _TITLE_ISSUER.match(title)
    return match.group(1).strip() if match else None


def _reposted(title: str, text: str) -> str | None:
    """The organ a ``转发<organ>关于…`` title names, where the text after the title is that organ's document and not
    a covering notice addressed to its recipients."""
    if not (match := _UNNAMED_FORWARD.match(title)):
        return None
    opening = text.split(title, 1)[-1].lstrip()
    return None if _ADDRESSEES.match(opening) else match.group(1).strip()


def _as_titled(signed: str | None, titled: str | None) -> str | None:
    """The signature's organs in the order the title names them, where the title names the same ones (财政部 税务总局
    … signed 税务总局 财政部); else the signature's, else the title's."""
    if not (signed and titled):
        return signed or titled
    organs, named = _ORGAN_BREAK.split(signed), _ORGAN_BREAK.sub("", titled)
    if len(organs) > 1 and len("".join(organs)) == len(named) and all(organ in named for organ in organs):
        return " ".join(sorted(organs, key=named.index))
    return signed


def notice_region(title: str, issuer: str | None, number: str | None, text: str) -> Region | None:
    """Where the notice applies, from (first that says) its issuer, the start of its title, its 文号, or the
    opening of its text; None where none of them names a place or a national organ."""
    if issuer:
        if region := _deepest(places_in(issuer)):
            return region
        if _NATIONAL_ORGAN.search(issuer):
            return NATIONAL
    opening = re.split(r"关于", title, maxsplit=1)[0] if "关于" in title else title[:12]
    if region := _deepest(places_in(opening)):
        return region
    if _NATIONAL_ORGAN.search(opening):
        return NATIONAL
    if number:
        if number[0] in _PROVINCE_ABBREVIATIONS:
            return places_in(_PROVINCE_ABBREVIATIONS[number[0]])[0]
        if _NATIONAL_NUMBER.search(number):
            return NATIONAL
    # A news agency's dateline (新华社北京2月1日电) names where the report was written, and the places its story
    # goes on to name are not where it applies: such a report is placed by its title alone.
    head = "" if _DATELINE.search(text, 0, 200) else _NEWS.sub("", text[:200])
    return _deepest(places_in(title) or places_in(head))


def _deepest(places: list[Region]) -> Region | None:
    """The first place named, or the place inside it named after it: (北京市, 北京市/朝阳区) → 朝阳区."""
    if not places:
        return None
    deepest = places[0]
    for place in places[1:]:
        if place.within(deepest):
            deepest = place
    return deepest


def notice_kind(title: str) -> str:
    """通知, 公告, 意见, 办法, 措施, 解读 or 其他 (a letter, an order) by what the title ends with; else 新闻, a
    headline (浙江：全省各地“健康码”陆续上线) or one that reports a document being issued, since a document names
    its kind in its title."""
    name = re.sub(r"[\s《》“”\"]", "", title)
    for kind, pattern in _KINDS:
        if pattern.search(name):
            return kind
    return "新闻"


def validity(text: str, issued: str | None) -> tuple[str | None, str | None]:
    """When the notice says it takes effect and when it ends (有效期至…, 执行期限…至…, 有效期3个月), as
    YYYY-MM-DD; a date without its year is of the year of issue."""
    year = int(issued[:4]) if issued else None
    valid_from = None
    if started := _VALID_FROM.search(text):
        valid_from = _iso(year, *started.groups()[:3]) if started.group(2) else issued
    valid_until = None
    if ended := _VALID_UNTIL.search(text):
        valid_until = _iso(year, *ended.groups())
    elif (lasting := _VALID_FOR.search(text)) and (valid_from or issued):
        valid_until = _add_months(valid_from or issued, markers.to_int(lasting.group(1)), lasting.group(2))
    return valid_from, valid_until


def _iso(default_year: int | None, year: str | None, month: str, day: str) -> str | None:
    full_year = int(year) if year else default_year
    if full_year is None or not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return None
    return f"{full_year:04d}-{int(month):02d}-{int(day):02d}"


def _add_months(start: str | None, count: int, unit: str) -> str | None:
    """The day before ``count`` months (or years) after ``start``: 有效期3个月 from 2020-02-10 → 2020-05-09."""
    if start is None:
        return None
    begin = datetime.date.fromisoformat(start)
    month_index = begin.month - 1 + count * (12 if unit == "年" else 1)
    year, month = begin.year + month_index // 12, month_index % 12 + 1
    day = min(begin.day, calendar.monthrange(year, month)[1])
    return (datetime.date(year, month, day) - datetime.timedelta(days=1)).isoformat()
