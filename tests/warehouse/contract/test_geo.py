"""The city's district boundaries, simplified for the cockpit's map: every district, small
enough to serve to a phone, and neighbours still meeting along one shared border."""

from __future__ import annotations

import json
from collections import Counter

from warehouse.contract.city import load_city
from warehouse.contract.geo import district_shapes


def _edges(feature: dict) -> list[frozenset]:
    return [frozenset((tuple(a), tuple(b))) for part in feature["geometry"]["coordinates"] for ring in part
            for a, b in zip(ring, ring[1:])]


def test_every_district_has_a_simplified_shape_and_a_label_inside_the_city() -> None:
    city = load_city()
    shapes = district_shapes()
    assert shapes is not None and city.boundaries is not None and city.boundaries.source
    assert [f["id"] for f in shapes.geojson["features"]] == city.district_codes
    assert len(json.dumps(shapes.geojson, separators=(",", ":"))) < 100_000  # from 341 KB
    lon0, lat0, lon1, lat1 = shapes.bounds
    for code, (lon, lat) in shapes.labels.items():
        assert lon0 < lon < lon1 and lat0 < lat < lat1, code
    # The small central districts are named in the enlarged view.
    assert set(shapes.enlarged) <= set(shapes.enlarged_labels)


def test_shared_borders_stay_shared_after_simplifying() -> None:
    """No edge is used by more than two districts, and the borders that the source's neighbours
    share are still shared about as much: simplifying each border once keeps both sides equal."""
    raw = json.loads(load_city().boundaries.path.read_text(encoding="utf-8"))
    simplified = district_shapes().geojson
    before = Counter(e for f in raw["features"] for e in _edges(f))
    after = Counter(e for f in simplified["features"] for e in _edges(f))
    assert max(after.values()) == 2
    shared = lambda counts: sum(1 for n in counts.values() if n == 2) / len(counts)  # noqa: E731
    assert abs(shared(after) - shared(before)) < 0.1, (shared(before), shared(after))
