"""行政区划 (GB/T 2260): province → city → county, loaded from resources/regions/<code>.json.

Each province's file is read once (cached) from `fieldapp.paths.resources_dir()`; only
Zhejiang (330000) ships today. Everything here is read-only data:

    counties()            the 90 county-level units of Zhejiang, in code order
    cities()              its 11 cities
    lookup("330106")      the Region for a six-digit code (province, city or county), or None
    find_by_name(text)    the Region a person's wording names: "西湖区", "杭州市西湖区",
                          "杭州西湖", "浙江省杭州市西湖区", "330106" (used by the Excel import)

Coordinates are approximate city centres, meant for demo data and map defaults, not for
deciding where something is; a county carries its city's centre.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fieldapp.paths import resources_dir

ZHEJIANG = "330000"

PROVINCE = "province"
CITY = "city"
COUNTY = "county"

# Longest first: "景宁畲族自治县" → "景宁", "西湖区" → "西湖".
_SUFFIXES = ("畲族自治县", "自治县", "新区", "区", "县", "市", "省")
_SPACES = re.compile(r"[\s\u3000]+")
_CODE = re.compile(r"^\d{6}$")


class RegionDataMissing(LookupError):
    """No division file for the province: a broken install, not a user's mistake."""


@dataclass(frozen=True)
class Region:
    """One division. For a county, `city_*` name its city; for a city, itself."""

    code: str
    name: str
    level: str  # PROVINCE | CITY | COUNTY
    full_name: str  # "杭州市西湖区" for a county, "杭州市" for a city, "浙江省" for the province
    city_code: str = ""
    city_name: str = ""
    province_code: str = ""
    province_name: str = ""
    lat: float | None = None  # approximate centre (a county has its city's)
    lon: float | None = None

    @property
    def short_name(self) -> str:
        """The name without its 区/县/市 suffix: "西湖", "杭州", "景宁"."""
        return short_name(self.name)


def short_name(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def _normalize(text: str) -> str:
    return _SPACES.sub("", str(text or "")).replace("（", "(").replace("）", ")")


@dataclass(frozen=True)
class _Division:
    province: Region
    cities: tuple[Region, ...]
    counties: tuple[Region, ...]
    by_code: dict[str, Region]
    exact: dict[str, Region]  # unambiguous spellings: full names, city+county combinations
    loose: dict[str, Region]  # short names alone ("西湖"), kept only when unambiguous
    prefixes: tuple[tuple[str, Region], ...]  # suffix-bearing spellings, longest first


def _data_file(province: str) -> Path:
    return resources_dir() / "regions" / f"{province}.json"


def available_provinces() -> list[str]:
    """Codes of the provinces whose division file is installed."""
    folder = resources_dir() / "regions"
    return sorted(p.stem for p in folder.glob("[0-9]" * 6 + ".json")) if folder.is_dir() else []


@cache
def _load(province: str) -> _Division:
    path = _data_file(province)
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegionDataMissing(f"no division data for province {province} ({path})") from None
    prov = Region(code=raw["code"], name=raw["name"], level=PROVINCE, full_name=raw["name"],
                  province_code=raw["code"], province_name=raw["name"],
                  lat=raw.get("lat"), lon=raw.get("lon"))
    cities: list[Region] = []
    counties: list[Region] = []
    for c in raw.get("children", []):
        city = Region(code=c["code"], name=c["name"], level=CITY, full_name=c["name"],
                      city_code=c["code"], city_name=c["name"], province_code=prov.code,
                      province_name=prov.name, lat=c.get("lat"), lon=c.get("lon"))
        cities.append(city)
        for k in c.get("children", []):
            counties.append(Region(
                code=k["code"], name=k["name"], level=COUNTY, full_name=city.name + k["name"],
                city_code=city.code, city_name=city.name, province_code=prov.code,
                province_name=prov.name, lat=k.get("lat", city.lat), lon=k.get("lon", city.lon),
            ))
    cities.sort(key=lambda r: r.code)
    counties.sort(key=lambda r: r.code)
    by_code = {r.code: r for r in (prov, *cities, *counties)}

    exact: dict[str, set[Region]] = {}
    loose: dict[str, set[Region]] = {}

    def add(index: dict[str, set[Region]], alias: str, region: Region) -> None:
        index.setdefault(alias, set()).add(region)

    add(exact, prov.name, prov)
    add(loose, prov.short_name, prov)
    for city in cities:
        add(exact, city.name, city)
        add(loose, city.short_name, city)
    for county in counties:
        city = by_code[county.city_code]
        names = {county.name, county.short_name}
        if county.name.endswith("自治县"):  # "景宁县", as people write it
            names.add(county.short_name + "县")
            add(exact, county.short_name + "县", county)
        add(exact, county.name, county)
        add(loose, county.short_name, county)
        for cn in {city.name, city.short_name}:
            for kn in names:
                add(exact, cn + kn, county)
    exact_unique = {a: next(iter(rs)) for a, rs in exact.items() if len(rs) == 1}
    loose_unique = {a: next(iter(rs)) for a, rs in loose.items() if len(rs) == 1 and a not in exact}
    prefixes = tuple(sorted(
        ((a, r) for a, r in exact_unique.items() if a.endswith(("区", "县", "市", "省"))),
        key=lambda item: -len(item[0]),
    ))
    return _Division(prov, tuple(cities), tuple(counties), by_code, exact_unique, loose_unique, prefixes)


def province(code: str = ZHEJIANG) -> Region:
    return _load(code).province


def cities(province: str = ZHEJIANG) -> list[Region]:
    """The province's cities (地级市), in code order."""
    return list(_load(province).cities)


def counties(province: str = ZHEJIANG, city: str | None = None) -> list[Region]:
    """The province's county-level units (区/县/县级市), in code order; of one city if given."""
    found = _load(province).counties
    return [r for r in found if city is None or r.city_code == city]


def lookup(code: str) -> Region | None:
    """The Region with this six-digit code, or None when it is not a known division."""
    code = str(code or "").strip()
    if not _CODE.match(code):
        return None
    prov = code[:2] + "0000"
    if prov not in available_provinces():
        return None
    return _load(prov).by_code.get(code)


def find_by_name(text: str, province: str = ZHEJIANG, *, prefix: bool = True) -> Region | None:
    """The Region that `text` names, or None when it names none (or several) of them.

    Accepts a code, a full or short name, with or without the province and city in front:
    "西湖区", "西湖", "杭州市西湖区", "杭州西湖", "浙江省杭州市西湖区", "杭州市", "杭州".
    With `prefix`, a longer text that starts with an unambiguous name ending in 区/县/市
    ("杭州市西湖区文三路 90 号") gives the most specific such name.
    """
    t = _normalize(text)
    if not t:
        return None
    if _CODE.match(t):
        found = lookup(t)
        return found if found is not None and found.province_code == province else None
    div = _load(province)
    candidates = [t]
    for head in (div.province.name, short_name(div.province.name)):
        if t.startswith(head) and len(t) > len(head):
            candidates.append(t[len(head):])
            break
    for c in candidates:
        if c in div.exact:
            return div.exact[c]
        if c in div.loose:
            return div.loose[c]
    if prefix:
        for c in reversed(candidates):
            for alias, region in div.prefixes:
                if c.startswith(alias):
                    return region
    return None
