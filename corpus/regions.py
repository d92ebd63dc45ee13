"""China's administrative regions, and the places a text names: 三明 → 福建省/三明市, within 福建省, within 全国.

The table of divisions (3,500 provinces, cities and counties with their codes) is the one the ``cpca``
package ships. Its own API needs ``pkg_resources``, which new setuptools no longer has, so its table is
read directly.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib.metadata import distribution

NATIONAL_CODE = "000000"
_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
# Everyday names of cities that are far more often ordinary words in a notice (来宾: guests, 安康: well-being).
_COMMON_WORDS = {
    "来宾", "安康", "长治", "中山", "黄山", "白山", "吉安", "永安", "开封", "太平", "新乡", "丰都", "合作", "东方",
}  # fmt: skip
# A place's name before 路, 街 or 大道 names a street, which many cities have (上海's 南京西路, 广州's 北京路).
_NOT_A_STREET = r"(?![东西南北中]?(?:路|街(?!道)|大街|大道))"


@dataclass(frozen=True)
class Region:
    """One region: the whole country, a province, a city (prefecture) or a county (district)."""

    code: str  # the six-digit administrative code, 350400; 000000 for the whole country
    path: tuple[str, ...]  # its names from the province down: ("福建省", "三明市"); () for the whole country

    @property
    def name(self) -> str:
        return self.path[-1] if self.path else "全国"

    @property
    def label(self) -> str:
        """How results and filters name it: 福建省/三明市, or 全国."""
        return "/".join(self.path) or "全国"

    @property
    def level(self) -> int:
        """0 for the whole country, 1 a province, 2 a city, 3 a county."""
        return len(self.path)

    def within(self, other: Region) -> bool:
        """True when this region is ``other`` or lies inside it (三明市 within 福建省, anything within 全国)."""
        return self.path[: other.level] == other.path


NATIONAL = Region(NATIONAL_CODE, ())


@dataclass(frozen=True)
class _Gazetteer:
    regions: dict[str, Region]  # by label
    names: dict[str, tuple[Region, ...]]  # every name a region goes by → the regions of that name
    pattern: re.Pattern[str]


@cache
def _gazetteer() -> _Gazetteer:
    rows = _read_table("adcodes.csv")
    by_code: dict[str, Region] = {}
    for code in sorted(rows):  # provinces before their cities before their counties
        province, city = code[:2] + "0000", code[:4] + "00"
        parent = by_code.get(city) if code != city else None
        if parent is None and code != province:
            parent = by_code.get(province)
        by_code[code] = Region(code, (*(parent.path if parent else ()), rows[code]))
    names: dict[str, list[Region]] = {}
    nations = sorted({nation.removesuffix("族") for nation in _read_table("56_nations.csv").values()}, key=len)
    # A province's or city's everyday name is its name without the kind of division: 广西壮族自治区 → 广西.
    suffix = re.compile(rf"(省|市|特别行政区|地区|盟|(?:(?:{'|'.join(nations[::-1])})族?)*自治[区州])$")
    for region in by_code.values():
        for name in _names_of(region, suffix):
            names.setdefault(name, []).append(region)
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return _Gazetteer(
        {region.label: region for region in by_code.values()} | {"全国": NATIONAL},
        {name: tuple(found) for name, found in names.items()},
        re.compile(rf"(?:{alternatives}){_NOT_A_STREET}"),
    )


def _read_table(name: str) -> dict[str, str]:
    """One of cpca's tables: for ``adcodes.csv``, each real division's six-digit code → its name; for
    ``56_nations.csv`` (one name a line, no header), each line → itself."""
    package = distribution("cpca")
    table = next(path for path in package.files or () if path.name == name)
    with open(package.locate_file(table), encoding="utf-8", newline="") as stream:
        if name != "adcodes.csv":
            return {line.strip(): line.strip() for line in stream if line.strip()}
        return {row["adcode"][:6]: row["name"] for row in csv.DictReader(stream) if row["name"] not in _PLACEHOLDERS}


def _names_of(region: Region, suffix: re.Pattern[str]) -> set[str]:
    """Its full name, and for a province or city, or a county-level city, its everyday name."""
    full = region.name
    if region.level == 3 and (len(full) <= 2 or not full.endswith("市")):
        return {full} if len(full) > 2 else set()  # 城区, 郊区 name nothing in particular
    short = suffix.sub("", full)
    if len(short) < 2:  # 西藏自治区 is not 西 of the 藏
        short = full.removesuffix("自治区")
    return {full} | ({short} if len(short) >= 2 and short not in _COMMON_WORDS else set())


def region_named(label: str) -> Region | None:
    """The region a label or name stands for: 福建省/三明市, 三明市, 三明, 全国; None if unknown or ambiguous."""
    label = label.strip().strip("/")
    gazetteer = _gazetteer()
    if label in gazetteer.regions:
        return gazetteer.regions[label]
    found = gazetteer.names.get(label.rsplit("/", 1)[-1], ())
    return _highest(found)


def places_in(text: str) -> list[Region]:
    """The regions ``text`` names, in order of first mention, each once. A name several regions share
    (朝阳区) counts where another place named in the text decides it, or one of them is of a higher level."""
    gazetteer = _gazetteer()
    mentions = [gazetteer.names[match.group()] for match in gazetteer.pattern.finditer(text)]
    sure = [found[0] for found in mentions if len(found) == 1]
    places: list[Region] = []
    for found in mentions:
        region = found[0] if len(found) == 1 else _decide(found, sure)
        if region is not None and region not in places:
            places.append(region)
    return places


def _decide(candidates: tuple[Region, ...], context: list[Region]) -> Region | None:
    inside = [region for region in candidates if any(region.within(place) and region != place for place in context)]
    return inside[0] if len(inside) == 1 else _highest(candidates)


def _highest(candidates: tuple[Region, ...]) -> Region | None:
    """The one region of the highest level among ``candidates`` (吉林省 over 吉林市), None if that is a tie."""
    if not candidates:
        return None
    top = min(region.level for region in candidates)
    highest = [region for region in candidates if region.level == top]
    return highest[0] if len(highest) == 1 else None
