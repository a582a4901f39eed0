"""The city the platform serves, read from configuration (default: Hangzhou).

Another city is another JSON file with the same shape (``cities/hangzhou.json``), chosen
with the ``CITYBRAIN_CITY`` setting (a path; ``warehouse/settings.py``). A city may bring its districts'
boundaries (a GeoJSON file named in ``boundaries``, beside the city file) for the cockpit's map.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from warehouse.settings import settings

_DEFAULT = resources.files(__package__) / "cities" / "hangzhou.json"


@dataclass(frozen=True)
class District:
    code: str
    name: str
    name_en: str
    population: int
    lat: float
    lon: float
    # Place on the cockpit's tile map (row 0 at the north, column 0 at the west): one equal
    # square per district, laid out to keep neighbours next to each other.
    tile_row: int = 0
    tile_col: int = 0


@dataclass(frozen=True)
class Boundaries:
    """Where a city's district boundaries are and how to read them."""

    path: Path  # a GeoJSON FeatureCollection in WGS84 longitude/latitude
    feature_id: str  # the feature property holding the district code
    enlarge: tuple[str, ...]  # districts too small to read at the city's scale: the map enlarges them
    source: str  # provenance, shown as the map's attribution
    note: str


@dataclass(frozen=True)
class City:
    code: str
    name: str
    name_en: str
    districts: tuple[District, ...]
    boundaries: Boundaries | None = None

    @property
    def district_codes(self) -> list[str]:
        return [d.code for d in self.districts]

    def district(self, code: str) -> District | None:
        return next((d for d in self.districts if d.code == code), None)


@lru_cache(maxsize=4)
def load_city(path: str | None = None) -> City:
    """The configured city: ``path``, else the ``CITYBRAIN_CITY`` setting, else Hangzhou."""
    chosen = path or settings().city
    source = Path(chosen) if chosen else _DEFAULT
    raw = json.loads(source.read_text(encoding="utf-8"))
    districts = tuple(
        District(d["code"], d["name"], d.get("name_en", d["name"]), int(d["population"]), d.get("lat", 0.0), d.get("lon", 0.0),
                 *d.get("tile", (i // 5, i % 5)))
        for i, d in enumerate(raw["districts"])
    )
    return City(raw["code"], raw["name"], raw.get("name_en", raw["name"]), districts, _boundaries(raw.get("boundaries"), source))


def _boundaries(spec: dict | None, city_file) -> Boundaries | None:
    """The boundaries a city file names, resolved beside that file (None when it names none)."""
    if not spec:
        return None
    return Boundaries(Path(str(city_file.parent / spec["file"])), spec.get("feature_id", "adcode"),
                      tuple(spec.get("enlarge", ())), spec.get("source", ""), spec.get("note", ""))
