"""What every page reads about the snapshot: its description (city, as-of time), the districts
and the indicator catalog, shared by every reader."""

from __future__ import annotations

import pandas as pd

from cockpit.data.snapshot import shared


def info() -> dict[str, str]:
    """The snapshot's description (``city_code``, ``as_of``...); empty before the first publish."""
    df = shared("info", "SELECT key, value FROM snapshot_info")
    return dict(zip(df["key"], df["value"])) if not df.empty else {}


def districts() -> pd.DataFrame:
    """The city's districts (codes, names, map tiles)."""
    return shared("districts", "SELECT * FROM districts ORDER BY district_code")


def catalog() -> pd.DataFrame:
    """The indicator catalog as published with the snapshot."""
    return shared("catalog", "SELECT * FROM indicator_catalog ORDER BY indicator_id")
