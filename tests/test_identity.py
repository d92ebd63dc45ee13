"""A notice's identity read from its text: where it applies, what kind of document it is, how long it holds."""

from __future__ import annotations

import datetime

import pytest

from corpus.identity import notice_kind, notice_region, read_identity, validity
from corpus.models import Identity
from corpus.parser import parse_notice
from corpus.regions import NATIONAL, places_in, region_named
from tests.conftest import NOTICE


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("在三明租国有的店面做生意，房租能减免吗？", ["福建省/三明市"]),
        ("陕西的物流车能免车船税吗", ["陕西省"]),
        ("广西钦州港片区能做汽车平行进口吗", ["广西壮族自治区", "广西壮族自治区/钦州市"]),
        ("北京市朝阳区的企业", ["北京市", "北京市/朝阳区"]),  # 朝阳区 of Beijing, not of Changchun
        ("吉林的企业", ["吉林省"]),  # the province, not 吉林市
        ("西藏和内蒙古", ["西藏自治区", "内蒙古自治区"]),
        ("恩施州", ["湖北省/恩施土家族苗族自治州"]),
        ("欢迎各位来宾", []),  # 来宾 is a city, and more often guests
        ("上海南京西路的商务楼宇", ["上海市"]),  # a street named after a city
        ("广州北京路步行街", ["广东省/广州市"]),
        ("明天天气怎么样", []),
    ],
)
def test_places_named_in_a_text_are_regions_with_their_province(text: str, labels: list[str]) -> None:
    assert [region.label for region in places_in(text)] == labels


def test_a_region_lies_within_the_regions_above_it() -> None:
    sanming = region_named("三明")
    assert sanming is not None and sanming.label == "福建省/三明市" and sanming.level == 2
    fujian = region_named("福建省")
    assert fujian is not None and sanming.within(fujian) and sanming.within(NATIONAL)
    assert not fujian.within(sanming)
    assert region_named("全国") == NATIONAL
    assert region_named("不存在的地方") is None


@pytest.mark.parametrize(
    ("title", "issuer", "number", "text", "region"),
    [
        ("关于做好复工复产工作的通知", "三明市人民政府办公室", None, "", "福建省/三明市"),
        ("关于支持湖北的通知", "财政部 税务总局", None, "", "全国"),  # a national organ, whatever place it names
        ("北京市朝阳区关于减免房租的通知", None, None, "", "北京市/朝阳区"),
        ("关于进一步做好疫情防控的通知", None, "闽政办〔2020〕8号", "", "福建省"),
        ("浙江：让大数据成为利剑", None, None, "新华社北京2月10日电 浙江省各地……", "浙江省"),  # not the dateline
        ("多部门介绍复工复产情况", None, None, "记者从发布会获悉。", None),
        # A news agency's dateline, and the places its story names, do not place the report.
        ("五部门：强化资金支持", None, None, "新华社北京2月10日电（记者张三）湖北省各地……", None),
    ],
)
def test_a_notice_applies_where_its_issuer_title_number_or_opening_says(
    title: str, issuer: str | None, number: str | None, text: str, region: str | None
) -> None:
    found = notice_region(title, issuer, number, text)
    assert (found.label if found else None) == region


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("财政部 税务总局关于支持疫情防控有关税收政策的公告", "公告"),
        ("关于印发应对疫情支持中小企业若干措施的通知", "通知"),
        ("三明市支持中小企业共渡难关的若干措施", "措施"),
        ("南宁市跨境电子商务发展促进办法", "办法"),
        ("关于延长社保缴费期限的政策解读", "解读"),
        ("浙江：全省各地“健康码”陆续上线", "新闻"),
        ("甲市应急物资通行证件办理信息公示", "公告"),
        ("致全市居民的一封信", "其他"),
        ("甲省防控工作指挥部令（第2号）", "其他"),
        ("甲局发布《疫情期间税收优惠政策指引》", "新闻"),  # reports a document, is not it
        ("甲省出台支持企业复工复产若干措施", "新闻"),
        ("甲县：十条措施助企业渡难关", "新闻"),
        ("网上办税清单及常见问题解答", "解读"),
        ("甲市新闻发布会答记者问", "解读"),
    ],
)
def test_a_notice_s_kind_is_what_its_title_calls_it(title: str, kind: str) -> None:
    assert notice_kind(title) == kind


@pytest.mark.parametrize(
    ("text", "issued", "expected"),
    [
        ("本通知自2020年2月10日起施行，有效期3个月。", None, ("2020-02-10", "2020-05-09")),
        ("执行期限为2020年2月1日至2020年6月30日。", None, (None, "2020-06-30")),
        ("本措施自发布之日起施行，有效期至6月30日。", "2020-02-14", ("2020-02-14", "2020-06-30")),  # its year of issue
        ("请各单位认真贯彻落实。", "2020-02-14", (None, None)),
    ],
)
def test_validity_is_read_where_the_notice_states_it(
    text: str, issued: str | None, expected: tuple[str | None, str | None]
) -> None:
    assert validity(text, issued) == expected


@pytest.mark.parametrize(
    ("title", "signed", "issuer", "region"),
    [
        # a notice that issues another names its issuer first
        ("江西省人民政府印发关于有效应对疫情稳定经济增长20条政策措施的通知", None, "江西省人民政府", "江西省"),
        # a notice that forwards another ends with the forwarded one's signature: its title names who forwards
        (
            "龙岩市人力资源和社会保障局转发福建省人力资源和社会保障厅办公室转发人力资源和社会保障部办公厅关于做好人事管理工作的通知",
            "人力资源社会保障部办公厅",
            "龙岩市人力资源和社会保障局",
            "福建省/龙岩市",
        ),
        # news that a document was issued names no issuer of its own
        ("农业农村部等三部门印发通知", None, None, "全国"),
    ],
)
def test_a_title_that_issues_or_forwards_a_notice_names_its_issuer(
    title: str, signed: str | None, issuer: str | None, region: str | None
) -> None:
    identity = read_identity(title, signed, None, None, "")
    assert (identity.issuer, identity.region) == (issuer, region)


def test_a_repost_that_names_no_forwarder_is_the_named_organ_s_unless_it_covers_a_forwarder_s_notice() -> None:
    title = "转发北京市应急管理局关于危化品企业复产复工的安全提示"
    itself = f"{title} 为做好疫情防控期间危化品企业复产复工工作，现提示如下：一、严格落实主体责任。"
    assert read_identity(title, None, None, None, itself).issuer == "北京市应急管理局"
    covering = f"{title} 各区应急管理局、各有关单位：现将提示转发给你们，请遵照执行。"
    assert read_identity(title, None, None, None, covering).issuer is None


def test_every_passage_carries_its_notice_s_identity() -> None:
    document, passages = parse_notice(NOTICE.stem, NOTICE.read_text(encoding="utf-8"), NOTICE.name)
    identity = document.identity
    assert (identity.issuer, identity.date, identity.region, identity.kind) == (
        "广西壮族自治区人民政府",
        "2020-01-22",
        "广西壮族自治区",
        "通知",
    )
    assert identity == read_identity(document.title, identity.issuer, identity.date, identity.number, document.text)
    assert {passage.identity for passage in passages} == {identity}


def test_a_notice_is_in_force_until_the_end_it_states() -> None:
    today = datetime.date(2026, 12, 3)
    assert Identity(valid_until="2020-06-30").in_force(today) is False
    assert Identity(valid_until="2026-12-03").in_force(today) is True
    assert Identity().in_force(today) is True  # states no end
