"""District boundaries for maps: read from the city's GeoJSON, simplified once, kept in memory.

The source polygons carry a vertex every few tens of metres (341 KB for Hangzhou), far more
than a screen shows. They are simplified so that neighbours still meet: every ring is cut at
the vertices where borders meet (junctions), each border piece is simplified on its own
(Douglas-Peucker, its ends kept), and a border two districts share comes out identical in
both, so no gap or overlap opens between them. Coordinates are then rounded to 4 decimals
(about 10 m).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from warehouse.contract.city import Boundaries, load_city

Point = tuple[float, float]
Ring = list[Point]

# Douglas-Peucker tolerance in degrees (about 100 m): finer than a pixel of the enlarged view.
TOLERANCE = 0.001


@dataclass(frozen=True)
class DistrictShapes:
    """A city's simplified district boundaries, what each is labelled at, and the views' extents."""

    geojson: dict  # FeatureCollection, each feature's ``id`` the district code
    labels: dict[str, Point]  # district code -> (lon, lat) well inside it
    bounds: tuple[float, float, float, float]  # lon_min, lat_min, lon_max, lat_max of the whole city
    enlarged: tuple[str, ...]  # the districts the map enlarges
    enlarged_bounds: tuple[float, float, float, float] | None
    enlarged_labels: dict[str, Point]  # district code -> (lon, lat) inside its part of the enlarged view
    source: str


@lru_cache(maxsize=2)
def district_shapes(tolerance: float = TOLERANCE) -> DistrictShapes | None:
    """The configured city's district shapes, simplified (None when the city has no boundaries)."""
    city = load_city()
    if city.boundaries is None:
        return None
    return _build(city.boundaries, set(city.district_codes), tolerance)


def _build(spec: Boundaries, codes: set[str], tolerance: float) -> DistrictShapes:
    raw = json.loads(spec.path.read_text(encoding="utf-8"))
    polygons: dict[str, list[list[Ring]]] = {}
    for feature in raw["features"]:
        code = str(feature["properties"][spec.feature_id])
        if code not in codes:
            continue
        geometry = feature["geometry"]
        parts = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        polygons[code] = [[[(float(x), float(y)) for x, y in ring] for ring in part] for part in parts]
    simplified = _simplify_shared(polygons, tolerance)
    features = [{"type": "Feature", "id": code, "properties": {"code": code},
                 "geometry": {"type": "MultiPolygon", "coordinates": [[[list(p) for p in ring] for ring in part] for part in parts]}}
                for code, parts in simplified.items()]
    every = np.array([p for parts in simplified.values() for part in parts for p in part[0]])
    bounds = (*every.min(axis=0), *every.max(axis=0))
    enlarged = tuple(c for c in spec.enlarge if c in simplified)
    box = None
    if enlarged:
        inner = np.array([p for c in enlarged for part in simplified[c] for p in part[0]])
        box = (*inner.min(axis=0), *inner.max(axis=0))
    labels = {code: _label_point(parts) for code, parts in simplified.items()}
    enlarged_labels = {}
    if box is not None:
        for code, parts in simplified.items():
            point = _label_point(parts, box)
            if point is not None:
                enlarged_labels[code] = point
    return DistrictShapes({"type": "FeatureCollection", "features": features}, labels, tuple(map(float, bounds)), enlarged,
                          None if box is None else tuple(map(float, box)), enlarged_labels, spec.source)


def _simplify_shared(polygons: dict[str, list[list[Ring]]], tolerance: float) -> dict[str, list[list[Ring]]]:
    """Simplify every ring piece by piece between junctions, so shared borders stay shared."""
    neighbours: dict[Point, set[Point]] = defaultdict(set)
    for parts in polygons.values():
        for part in parts:
            for ring in part:
                for a, b in zip(ring, ring[1:]):
                    if a != b:
                        neighbours[a].add(b)
                        neighbours[b].add(a)
    # A vertex with other than two distinct neighbours is where borders meet (or a ring's
    # odd point): it stays, so both districts cut their common border at the same places.
    junction = {p for p, near in neighbours.items() if len(near) != 2}
    out: dict[str, list[list[Ring]]] = {}
    for code, parts in polygons.items():
        kept_parts = []
        for part in parts:
            rings = [r for r in (_simplify_ring(ring, junction, tolerance) for ring in part) if r]
            if rings and len(rings[0]) >= 4:
                kept_parts.append(rings)
        out[code] = kept_parts
    return out


def _simplify_ring(ring: Ring, junction: set[Point], tolerance: float) -> Ring | None:
    points = ring[:-1] if ring[0] == ring[-1] else ring
    cuts = [i for i, p in enumerate(points) if p in junction]
    if not cuts:  # a ring touching no other (an island): keep its first and middle points
        cuts = [0, len(points) // 2]
    start = cuts[0]
    points = points[start:] + points[:start]  # begin at a junction
    cuts = [c - start for c in cuts] + [len(points)]
    points = points + [points[0]]
    out: Ring = []
    for a, b in zip(cuts, cuts[1:]):
        out += _simplify_piece(points[a:b + 1], tolerance)[:-1]
    out.append(out[0])
    rounded = [(round(x, 4), round(y, 4)) for x, y in out]
    deduped = [p for i, p in enumerate(rounded) if i == 0 or p != rounded[i - 1]]
    return deduped if len(deduped) >= 4 else None


def _simplify_piece(piece: Ring, tolerance: float) -> Ring:
    """Douglas-Peucker with the ends kept, the same whichever way the piece is walked (a shared
    border is walked one way by one district and the other way by its neighbour)."""
    if piece[0] > piece[-1] or (piece[0] == piece[-1] and piece[1:2] > piece[-2:-1]):
        return _douglas_peucker(piece[::-1], tolerance)[::-1]
    return _douglas_peucker(piece, tolerance)


def _douglas_peucker(piece: Ring, tolerance: float) -> Ring:
    if len(piece) < 3:
        return list(piece)
    pts = np.asarray(piece)
    keep = np.zeros(len(pts), dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, len(pts) - 1)]
    while stack:
        i, j = stack.pop()
        if j <= i + 1:
            continue
        a, b = pts[i], pts[j]
        seg = b - a
        inner = pts[i + 1:j]
        if not seg.any():  # a closed piece: distance to its start
            dist = np.hypot(*(inner - a).T)
        else:
            dist = np.abs(seg[0] * (inner[:, 1] - a[1]) - seg[1] * (inner[:, 0] - a[0])) / np.hypot(*seg)
        k = int(dist.argmax())
        if dist[k] > tolerance:
            keep[i + 1 + k] = True
            stack += [(i, i + 1 + k), (i + 1 + k, j)]
    return [piece[i] for i in np.flatnonzero(keep)]


def _label_point(parts: list[list[Ring]], box: tuple[float, float, float, float] | None = None) -> Point | None:
    """A point well inside the district (its largest part), where a label reads as belonging to
    it: of a grid of candidates, the one farthest from the border (within ``box`` and from its
    edges too, when given; None when too little of the district lies inside ``box``)."""
    outer = max((np.asarray(part[0]) for part in parts), key=_area)
    lon0, lat0 = outer.min(axis=0)
    lon1, lat1 = outer.max(axis=0)
    if box is not None:
        lon0, lat0, lon1, lat1 = max(lon0, box[0]), max(lat0, box[1]), min(lon1, box[2]), min(lat1, box[3])
        if lon0 >= lon1 or lat0 >= lat1:
            return None
    squash = np.cos(np.radians((lat0 + lat1) / 2))  # a degree of longitude is shorter than one of latitude
    gx, gy = np.meshgrid(np.linspace(lon0, lon1, 40), np.linspace(lat0, lat1, 40))
    candidates = np.column_stack([gx.ravel(), gy.ravel()])
    candidates = candidates[_inside(candidates, outer)]
    if not len(candidates):
        return None
    a, b = outer[:-1], outer[1:]
    dist = _distance_to_segments(candidates, a, b, squash)
    if box is not None:
        to_box = np.minimum.reduce([(candidates[:, 0] - box[0]) * squash, (box[2] - candidates[:, 0]) * squash,
                                    candidates[:, 1] - box[1], box[3] - candidates[:, 1]])
        dist = np.minimum(dist, to_box)
        if dist.max() < 0.04 * (box[3] - box[1]):  # a sliver at the edge of the view: no label
            return None
    best = candidates[int(dist.argmax())]
    return round(float(best[0]), 4), round(float(best[1]), 4)


def _area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return abs(float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))) / 2


def _inside(points: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Even-odd rule: which points lie inside the ring."""
    x, y = points[:, 0:1], points[:, 1:2]
    x0, y0, x1, y1 = ring[:-1, 0], ring[:-1, 1], ring[1:, 0], ring[1:, 1]
    crosses = (y0 > y) != (y1 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
    return (crosses & (x < at)).sum(axis=1) % 2 == 1


def _distance_to_segments(points: np.ndarray, a: np.ndarray, b: np.ndarray, squash: float) -> np.ndarray:
    """Each point's distance to the nearest segment a→b, longitude scaled by ``squash``."""
    scale = np.array([squash, 1.0])
    p, a, b = points[:, None, :] * scale, a[None] * scale, b[None] * scale
    ab = b - a
    length = (ab ** 2).sum(axis=2)
    t = np.clip(((p - a) * ab).sum(axis=2) / np.where(length == 0, 1, length), 0, 1)
    nearest = a + t[..., None] * ab
    return np.sqrt(((p - nearest) ** 2).sum(axis=2)).min(axis=1)
