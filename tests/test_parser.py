"""Splitting the real notice into clause-level passages."""

from __future__ import annotations

import re

import pytest

from corpus import Notice, load_notice
from corpus.markers import parse_marker, to_int
from corpus.parser import parse_notice
from tests.conftest import DOC_ID, NOTICE


@pytest.fixture(scope="module")
def notice() -> Notice:
    return load_notice(NOTICE)


def by_key(notice: Notice, key: str):
    return next(p for p in notice.passages if p.passage_id == f"{DOC_ID}:{key}")


def main_articles(notice: Notice):
    return [p for p in notice.passages if p.article and not p.section_path[0].startswith("附件")]


def test_main_body_has_exactly_45_numbered_articles_in_order(notice: Notice) -> None:
    articles = main_articles(notice)
    assert [p.article for p in articles] == [str(n) for n in range(1, 46)]
    source_titles = re.findall(r"^(\d+)\. ([^。]+)。", NOTICE.read_text(encoding="utf-8"), flags=re.M)
    main_titles = [title for _, title in source_titles[:45]]
    assert [p.title for p in articles] == main_titles


def test_article_14_has_its_section_path_title_units_and_citation(notice: Notice) -> None:
    article = by_key(notice, "3.2.14")
    assert article.article == "14"
    assert article.title == "培育国际贸易新业态新模式"
    assert article.section_path == ("三、主要任务", "(二)打造面向东盟的国际投资贸易先导区")
    assert (
        article.citation
        == "《中国(广西)自由贸易试验区建设实施方案》（广西壮族自治区人民政府）三、主要任务(二) 第14条 培育国际贸易新业态新模式"
    )
    assert article.responsible_units[0] == "自治区商务厅"
    assert "钦州港片区管理机构" in article.responsible_units
    assert "责任单位" in article.text and "责任单位" not in article.body
    assert article.body.endswith("构建外贸孵化基地。")


def test_responsibility_note_is_not_taken_for_a_unit(notice: Notice) -> None:
    units = by_key(notice, "3.1.1").responsible_units
    assert units[-3:] == ("南宁片区管理机构", "钦州港片区管理机构", "崇左片区管理机构")
    assert not any("牵头" in unit for unit in units)


def test_offsets_cut_the_source_back_to_each_passage(notice: Notice) -> None:
    source = notice.document.text
    assert source == NOTICE.read_text(encoding="utf-8")
    for passage in notice.passages:
        assert source[passage.start : passage.end] == passage.text
    starts = [p.start for p in notice.passages]
    assert starts == sorted(starts)


def test_covering_notice_is_one_passage_with_issuer_and_date(notice: Notice) -> None:
    document = notice.document
    assert document.title == "广西壮族自治区人民政府关于印发中国(广西)自由贸易试验区建设实施方案的通知"
    assert document.citation_title == "中国(广西)自由贸易试验区建设实施方案"
    assert (document.identity.issuer, document.identity.date) == ("广西壮族自治区人民政府", "2020-01-22")
    covering = notice.passages[0]
    assert covering.passage_id == f"{DOC_ID}:notice"
    assert covering.text.startswith("各市、县人民政府")
    assert covering.text.endswith("2020年1月22日")


def test_page_chrome_is_not_a_passage(notice: Notice) -> None:
    texts = "\n".join(p.text for p in notice.passages)
    for chrome in ("当前位置", "点击:184", "回到顶部", "工作联络部", "Belt and Road"):
        assert chrome not in texts


def test_goals_layout_and_safeguards_are_passages(notice: Notice) -> None:
    assert by_key(notice, "1.p1").section_path == ("一、目标要求",)
    layout = [p for p in notice.passages if p.section_path == ("二、功能布局",)]
    assert [p.text[:6] for p in layout] == ["广西自贸试验", "南宁片区重点"]
    leads = [p for p in notice.passages if p.section_path == ("三、主要任务",)]
    assert [p.title for p in leads][:2] == ["加快构建对接国际一流标准的规则体系", "打造面向东盟的国际投资贸易先导区"]
    assert len(leads) == 7
    safeguards = [p for p in notice.passages if p.section_path == ("四、保障措施",)]
    assert [p.title for p in safeguards] == [
        "加强组织落实",
        "强化政府服务",
        "加强政策支持",
        "强化法治保障",
        "加强宣传引导",
    ]
    assert all(p.article is None for p in leads + safeguards)


def test_attachment_restarts_numbering_with_unique_ids_and_unambiguous_citations(notice: Notice) -> None:
    annex = [p for p in notice.passages if p.section_path and p.section_path[0].startswith("附件")]
    assert annex[0].section_path[0] == "附件:中国(广西)自由贸易试验区工作领导小组职责及组成人员名单"
    rule = by_key(notice, "annex.4.1.1")
    assert rule.article == "1"
    assert rule.section_path[1:] == ("四、工作规则及要求", "(一)领导小组会议制度")
    assert rule.citation.startswith(
        "《中国(广西)自由贸易试验区建设实施方案》（广西壮族自治区人民政府）附件 四、工作规则及要求(一) 第1条"
    )
    assert by_key(notice, "3.1.1").citation != rule.citation
    members = [p for p in annex if p.section_path[-1] == "二、组成人员"]
    assert [p.title for p in members] == ["组长", "副组长", "成员"]
    assert "万 钧" in members[-1].text
    ids = [p.passage_id for p in notice.passages]
    assert len(ids) == len(set(ids))
    citations = [p.citation for p in notice.passages]
    assert len(citations) == len(set(citations))


def test_ids_are_stable_across_parses(notice: Notice) -> None:
    again = load_notice(NOTICE)
    assert [p.passage_id for p in again.passages] == [p.passage_id for p in notice.passages]
    assert again.passages == notice.passages


@pytest.mark.parametrize(
    ("line", "label", "number"),
    [
        ("14. 培育", "14.", 14),
        ("１４．培育", "１４．", 14),
        ("(二)打造", "(二)", 2),
        ("（十二）打造", "（十二）", 12),
        ("第二十一条　为了", "第二十一条", 21),
        ("三、主要任务", "三、", 3),
        ("(3)补贴", "(3)", 3),
    ],
)
def test_markers_in_both_widths(line: str, label: str, number: int) -> None:
    marker = parse_marker(line)
    assert marker is not None
    assert (marker.label, marker.number) == (label, number)


def test_decimal_numbers_and_dates_are_not_markers() -> None:
    assert parse_marker("119.99平方公里") is None
    assert parse_marker("2020年1月22日") is None
    assert to_int("一百零五") == 105
    assert to_int("二〇二〇") == 2020


def test_a_numbered_sentence_that_is_no_title_is_a_clause_not_a_heading() -> None:
    text = (
        "关于做好复工复产工作的通知\n各区县：\n一、总体要求\n为做好工作，现通知如下。\n"
        "二、对纳税人运输重点保障物资取得的收入，免征增值税。\n保障物资的具体范围，由发展改革部门确定。\n"
        "三、本通知自印发之日起施行，有效期至2022年12月31日。\n"
    )
    passages = parse_notice("n", text, "n.txt", None)[1]
    by_id = {passage.passage_id: passage for passage in passages}
    assert (
        by_id["n:2"].text
        == "二、对纳税人运输重点保障物资取得的收入，免征增值税。\n保障物资的具体范围，由发展改革部门确定。"
    )
    assert by_id["n:3"].text == "三、本通知自印发之日起施行，有效期至2022年12月31日。"
    assert by_id["n:1.p1"].section_path == ("一、总体要求",)  # a title stays a heading


def read(text: str):
    """The document record the parser makes of an invented notice text."""
    return parse_notice("n", text, "n.txt", None)[0]


def passages_of(text: str) -> list[str]:
    """The passages' texts the parser makes of an invented notice text."""
    return [passage.text for passage in parse_notice("n", text, "n.txt", None)[1]]


def test_a_question_a_colon_or_a_bracketed_label_opens_the_passage_of_what_follows() -> None:
    texts = passages_of(
        "出行问答\n问：外地户籍父母来沪帮子女带孩子，要提供什么证明？\n答：可以提供亲属关系证明。\n"
        "问：居住证没有带，电子版可以用吗？\n答：可以。\n尊敬的纳税人：\n请通过网上办理涉税事项。\n"
        "【享受主体】\n疫情防控重点保障物资生产企业。"
    )
    assert texts == [
        "问：外地户籍父母来沪帮子女带孩子，要提供什么证明？\n答：可以提供亲属关系证明。",
        "问：居住证没有带，电子版可以用吗？\n答：可以。",
        "尊敬的纳税人：\n请通过网上办理涉税事项。",
        "【享受主体】\n疫情防控重点保障物资生产企业。",
    ]


def test_an_answer_under_a_numbered_question_is_one_clause_with_it() -> None:
    text = (
        "问题解答\n一、如何进入电子税务局？\n答：访问税务局官网，点击登录。\n登录后选择我要办税。\n"
        "二、办税有困难怎么办？\n答：拨打12366。"
    )
    passages = parse_notice("n", text, "n.txt", None)[1]
    assert [(p.passage_id, p.title, p.text) for p in passages][-2:] == [
        ("n:1", "如何进入电子税务局", "一、如何进入电子税务局？\n答：访问税务局官网，点击登录。\n登录后选择我要办税。"),
        ("n:2", "办税有困难怎么办", "二、办税有困难怎么办？\n答：拨打12366。"),
    ]


def test_a_news_page_s_reading_links_and_bylines_are_not_passages() -> None:
    texts = passages_of(
        "甲市推出网上办税服务\n近日，甲市税务局推出网上办税服务。\n详细阅读 >>\n"
        "乙县开通绿色通道，方便企业办事。\n（记者 张三）\n新闻多一点>>\n相关新闻"
    )
    assert texts == ["近日，甲市税务局推出网上办税服务。", "乙县开通绿色通道，方便企业办事。"]


@pytest.mark.parametrize(
    ("text", "title"),
    [
        # A news headline keeps its subtitle after a space, and its ！, but not the report or the dateline after it.
        (
            "甲市推出网上办税服务 企业足不出户可办理 近日，甲市税务局推出网上办税服务。",
            "甲市推出网上办税服务 企业足不出户可办理",
        ),
        ("同心抗疫！乙县服务平台正式上线 今年春节，乙县推出服务平台。", "同心抗疫！乙县服务平台正式上线"),
        ("减租降息 丙省出台惠企举措 新华社丙城2月8日电（记者张三）丙省近日出台举措。", "减租降息 丙省出台惠企举措"),
        ("丁区发布复工指引 丁区发布复工指引 为做好复工工作，丁区发布指引。", "丁区发布复工指引"),
        # Column banners and labels are page chrome.
        ("【今日头条】战疫有我 戊县开通绿色通道 戊县税务局开通绿色通道，方便企业。", "战疫有我 戊县开通绿色通道"),
        ("共克时艰②丨己区推出十条举措 为支持企业，己区推出十条举措。", "己区推出十条举措"),
        (
            "当前位置：首页 > 通知公告\n发布时间：2020-02-10 来源：庚市商务局\n关于做好保供工作的通知\n各区：\n现通知如下。",
            "关于做好保供工作的通知",
        ),
        # A page truncates a long title with "...", which is not part of it.
        ("关于疫情防控期间暂停窗口...\n为减少人员聚集，暂停窗口服务。", "关于疫情防控期间暂停窗口"),
        # A letter's salutation after its title is not part of it.
        ("致全市企业的一封信 全市各企业：\n疫情当前，请做好防护。", "致全市企业的一封信"),
        # The organs that issue a title run into it on its line; a page's banner (its organ and column) is no title.
        (
            "财政部 税务总局关于支持疫情防控有关税收政策的公告 财政部 税务总局公告2020年第8号 现公告如下。",
            "财政部税务总局关于支持疫情防控有关税收政策的公告",
        ),
        ("甲市税务局 通知公告\n税收优惠政策指引 为帮助纳税人，甲市税务局梳理了政策。", "税收优惠政策指引"),
        # A payment code under a headline is page furniture, not its subtitle.
        ("乙区团委关于抗击疫情的募捐倡议书 微信扫码支付 疫情当前，青年先行。", "乙区团委关于抗击疫情的募捐倡议书"),
    ],
)
def test_a_title_is_read_without_page_chrome_or_the_text_after_it(text: str, title: str) -> None:
    assert read(text).title == title


def test_a_heading_repeated_by_the_page_is_read_once_with_its_organs() -> None:
    text = "辛市商务局 辛市财政局关于做好保供工作的通知 辛市商务局 辛市财政局关于做好保供工作的通知 各区：现通知如下。"
    document = read(text)
    assert document.title == "辛市商务局辛市财政局关于做好保供工作的通知"
    assert document.identity.issuer == "辛市商务局辛市财政局"


def test_the_document_s_own_heading_under_the_page_heading_gives_its_organs() -> None:
    text = "关于延长申报期限的公告\n壬省税务局 关于延长申报期限的公告\n现将有关事项公告如下。"
    assert read(text).title == "壬省税务局关于延长申报期限的公告"
    text = "（第3号）\n关于延长申报期限的公告\n（第3号） 关于延长申报期限的公告\n现将有关事项公告如下。"
    assert read(text).title == "关于延长申报期限的公告"  # a number is no organ


def test_a_document_heading_after_a_news_headline_is_the_title_and_its_bracketed_date_the_date() -> None:
    text = (
        "癸省出台二十条意见 中共癸省委 癸省人民政府 关于支持企业复工 稳定经济的若干意见 （2020年2月9日） "
        "为支持企业复工，提出如下意见。\n一、总体要求\n坚持统筹推进。"
    )
    document = read(text)
    assert document.title == "中共癸省委癸省人民政府关于支持企业复工稳定经济的若干意见"
    assert document.identity.issuer == "中共癸省委癸省人民政府"
    assert document.identity.date == "2020-02-09"


def test_a_title_in_brackets_above_the_heading_is_the_title() -> None:
    text = "（关于捐赠物资办理通关手续的公告）\n丑省税务局公告\n为确保捐赠物资快速通关，现公告如下：\n一、全力保障通关"
    assert read(text).title == "关于捐赠物资办理通关手续的公告"
    assert not any("丑省税务局公告" in passage for passage in passages_of(text))  # the organ's masthead is no clause
    assert read("（第3号）\n关于延长申报期限的公告\n现将有关事项公告如下。").title == "关于延长申报期限的公告"


def test_a_heading_whose_last_of_many_organs_runs_into_it_keeps_them_all() -> None:
    text = (
        "子市财政局 子市发展和改革委员会 子市经济和信息化局 子市审计局关于强化重点企业资金支持的紧急通知 "
        "子财金融〔2020〕5号 各区财政局：为保障供应，现通知如下。\n一、加快拨付\n尽快拨付资金。"
    )
    document = read(text)
    assert (
        document.title == "子市财政局子市发展和改革委员会子市经济和信息化局子市审计局关于强化重点企业资金支持的紧急通知"
    )
    assert document.identity.issuer == "子市财政局子市发展和改革委员会子市经济和信息化局子市审计局"
    assert document.identity.kind == "通知"


@pytest.mark.parametrize(
    ("ending", "issuer", "date"),
    [
        ("感谢您的支持！\n甲市市场监督管理局", "甲市市场监督管理局", None),
        ("感谢您的支持！\n请大家相互转告", None, None),  # a sentence on the last line is no organ
        ("感谢您的支持！\n2020年2月3日\n附件1\n专家名单\n张三 主任医师\n李四 主任医师", None, "2020-02-03"),
        ("感谢您的支持！\n甲市防控工作领导小组办公室 2020年2月6 日 （此件公开发布）", None, "2020-02-06"),
        # organs stacked one a line, and a name broken over two lines, sign together
        ("感谢您的支持！\n甲市财政局\n甲市卫生健康委员会\n2020年2月6日", "甲市财政局 甲市卫生健康委员会", "2020-02-06"),
        (
            "感谢您的支持！\n共青团甲市委经济技术开发区\n工作委员会\n2020年2月22日",
            "共青团甲市委经济技术开发区工作委员会",
            "2020-02-22",
        ),
        ("特此通知\n甲市财政局\n2020年2月6日", "甲市财政局", "2020-02-06"),  # a closing formula is no organ
        ("联系电话：12345\n甲市财政局\n2020年2月6日", "甲市财政局", "2020-02-06"),
        # what a page puts before the organ on its line, a name broken by a space, letters spaced out
        ("感谢您的支持！\n联系人：张三，电话12345 甲市商务局办公室\n2020年2月6日", "甲市商务局办公室", "2020-02-06"),
        (
            "感谢您的支持！\n甲省应对新冠 肺炎疫情应急指挥部\n2020年2月6日",
            "甲省应对新冠肺炎疫情应急指挥部",
            "2020-02-06",
        ),
        ("感谢您的支持！\n财 政 部\n2020年2月6日", "财政部", "2020-02-06"),
    ],
)
def test_a_signature_at_the_end_gives_issuer_and_date(ending: str, issuer: str | None, date: str | None) -> None:
    document = read(f"关于做好防控工作的通知\n各单位：\n请做好防控工作。\n{ending}")
    assert (document.identity.issuer, document.identity.date) == (issuer, date)


def test_a_signature_naming_the_title_s_organs_in_another_order_gives_the_title_s_order() -> None:
    document = read("甲省财政厅 甲省税务局关于支持防控的公告\n现公告如下。\n甲省税务局 甲省财政厅\n2020年2月6日")
    assert document.identity.issuer == "甲省财政厅 甲省税务局"


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("关于调整外资政策的通知\n甲商外资[2020]1号\n各区：", "甲商外资〔2020〕1号"),
        ("关于调整外资政策的通知\n甲商外资【2020】2号\n各区：", "甲商外资〔2020〕2号"),
        ("关于支持防控的公告\n甲部 乙总局公告2020年第3号 现公告如下。", "甲部 乙总局公告2020年第3号"),
        ("关于支持防控的公告\n现依据《办法》（甲部公告2015年第9号）公告如下。", None),  # cited, not its own
    ],
)
def test_the_notice_s_own_number_is_read_whatever_its_brackets(text: str, number: str | None) -> None:
    assert read(text).identity.number == number


def test_an_order_is_numbered_and_issued_by_the_organ_its_title_names() -> None:
    document = read("甲省防控工作领导小组指挥部令（第1号）\n各市：\n现发布如下命令。")
    assert document.identity.number == "第1号"
    assert document.identity.issuer == "甲省防控工作领导小组指挥部"
    assert document.identity.kind == "其他"


def test_a_number_a_report_mentions_is_not_its_own() -> None:
    text = "多项税收延缓减免\n记者了解到，税务总局还发布了〔2020〕6号公告，延长申报期限。"
    assert read(text).identity.number is None
    assert read("甲政办发〔2020〕6号\n" + text).identity.number == "甲政办发〔2020〕6号"


def test_numbers_a_guide_lists_are_not_its_own() -> None:
    text = (
        "甲市税务局关于公布办税指南的通知\n各纳税人：为支持疫情防控，现将政策公布如下。\n"
        "1.符合财政部 税务总局 海关总署公告2019年第39号的纳税人可申请退税。\n"
        "2财税〔2019〕24号 辅导生产销售罕见病药品的企业。"  # a table's row number run into the cited number
    )
    assert read(text).identity.number is None


def test_a_notice_opening_with_its_number_alone_is_titled_by_the_line_below() -> None:
    document = read("甲政办发〔2020〕6号\n多项税收延缓减免\n记者了解到，申报期限延长。")
    assert document.title == "多项税收延缓减免"
    assert document.identity.number == "甲政办发〔2020〕6号"


def test_a_document_number_before_the_title_is_not_part_of_it() -> None:
    text = "甲政函〔2020〕7号 甲市人民政府关于做好复工工作的通知\n各区：\n现通知如下。"
    document = read(text)
    assert document.title == "甲市人民政府关于做好复工工作的通知"
    assert document.identity.issuer == "甲市人民政府"
