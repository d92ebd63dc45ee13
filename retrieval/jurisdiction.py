"""How well a notice's region suits a question: the place it names, else the portal's home region, else
the whole country. A question about 三明 is best answered by 三明's notice, then 福建's, then a national one,
and not by 北京's."""

from __future__ import annotations

import re

from corpus.regions import NATIONAL, Region, places_in, region_named
from index.tokenizer import normalize

# A question that names a national organ and no place asks about a national measure (中央空调 is air conditioning).
_NATIONAL_ORGAN = re.compile(
    r"(国务院|国家|中央(?!空调)|全国|财政部|税务总局|海关总署|人社部|人力资源(和)?社会保障部|商务部|工信部|发改委)"
)

# An organ of the central government, named: a question about its measure is not answered by local notices alone
# (a bare 国家, 中央 or 全国 is not enough: 东盟国家, 全国首创, 中央的要求 come up in any local plan).
_CENTRAL_ORGAN = re.compile(
    r"(国务院|国家[^\s的，。？、]{1,8}?(?:总局|局|委员会|委)|财政部|税务总局|海关总署|人社部|人力资源(?:和)?社会保障部|"
    r"商务部|工信部|工业和信息化部|发改委|教育部|交通运输部|农业农村部|民政部|应急管理部|生态环境部|"
    r"住房(?:和)?城乡建设部|市场监管总局|银保监会|证监会|中国人民银行|央行)(?!门)"  # 财政部门, 人社部门: any place's
)

SAME = 1.0
NEARBY = 0.75  # the notice is of a place inside the one asked about, or of the province above a city asked about
ABOVE = 0.5  # the notice is national, or the question names no place and the notice is not of the preferred one
UNKNOWN = 0.25  # the notice's region could not be read, and the question names a place
ELSEWHERE = 0.0


def _innermost(places: list[Region]) -> list[Region]:
    """The places named, less those another named place lies within: 泰州市海陵区 and 福建三明 ask about 海陵区 and
    三明, not about every notice of 泰州 or 福建."""
    return [place for place in places if not any(other != place and other.within(place) for other in places)]


class Jurisdiction:
    """The places a question asks about, and each notice's fit to them (``fit``, 0–1)."""

    def __init__(self, question: str, home: Region | None = None) -> None:
        question = normalize(question)  # 南寧 is 南宁
        named = _innermost(places_in(question))
        self.named = bool(named)
        self.national = not named and bool(_NATIONAL_ORGAN.search(question))
        self.central_organ = not named and bool(_CENTRAL_ORGAN.search(question))
        if named:
            self.asked = named
        elif self.national:
            self.asked = [NATIONAL]
        else:
            self.asked = [home or NATIONAL]
        self._fits: dict[str | None, float] = {}  # by region: a question's candidates share a few

    def fit(self, region_label: str | None) -> float:
        """1 for a notice of the place asked about, less the further it is, 0 for a notice of another place."""
        if region_label not in self._fits:
            region = region_named(region_label) if region_label else None
            self._fits[region_label] = self._fit_region(region)
        return self._fits[region_label]

    def elsewhere(self, region_label: str | None) -> bool:
        """Whether a notice is another place's than the one the question asks about: for a question that names a
        place, one that neither is it nor lies within or above it; for one that names an organ of the central
        government, a local notice. A notice whose region could not be read is nobody's."""
        if self.central_organ:
            return region_label is not None and region_label != NATIONAL.label
        return self.named and self.fit(region_label) == ELSEWHERE

    def _fit_region(self, region: Region | None) -> float:
        if region is None:
            return UNKNOWN if self.named else ABOVE
        return max(self._fit(region, asked) for asked in self.asked)

    def _fit(self, region: Region, asked: Region) -> float:
        if region == asked:
            return SAME
        if region.within(asked):  # more local than asked: 三明 for 福建; for a national question, any local notice
            return NEARBY if asked.level else ABOVE
        if asked.within(region):  # above the place asked: 福建 for 三明, or a national notice
            return NEARBY if region.level else ABOVE
        return ELSEWHERE if self.named else ABOVE
