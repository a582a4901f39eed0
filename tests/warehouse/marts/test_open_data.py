"""Open data: no published count lets anyone recover a count of one to nine people."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from warehouse.marts.open_data import BASE, export


def test_open_data_reveals_no_count_of_one_to_nine_people_even_by_differencing(tiny, tmp_path: Path) -> None:
    """The attacks that undid suppression, run on the published files: deaths as births + net
    migration − Δregistered, day-on-day changes of stocks, negative cells, city minus districts."""
    _, con = tiny
    files = export(con, tmp_path)
    pub = pd.read_csv(files["csv"], dtype={"district_code": str})
    assert "multiple of 10" in files["readme"].read_text(encoding="utf-8")
    assert (pub.value % BASE == 0).all() and (pub.rounded_to == BASE).all()
    truth = con.execute("SELECT indicator_id, CAST(date AS VARCHAR) AS date, district_code, value FROM marts.indicator_values").df()
    merged = pub.merge(truth, on=["indicator_id", "date", "district_code"], suffixes=("", "_true"))
    assert len(merged) == len(pub) and ((merged.value - merged.value_true).abs() <= BASE / 2).all()
    small = merged[merged.value_true.abs().between(1, 9)]
    assert len(small) > 20 and not (small.value == small.value_true).any()
    assert (small[small.value_true < 0].indicator_id == "pop.net_migration").any()  # negatives are covered too

    wide = pub.pivot_table(index=["date", "district_code"], columns="indicator_id", values="value")
    true = truth.pivot_table(index=["date", "district_code"], columns="indicator_id", values="value")
    # Deaths from the other flows and the stock.
    registered_change = wide["pop.registered"].groupby(level="district_code").diff()
    derived = wide["pop.births"] + wide["pop.net_migration"] - registered_change
    deaths = true["pop.deaths"].reindex(derived.index)
    hit = derived[deaths.between(1, 9)] == deaths[deaths.between(1, 9)]
    assert len(hit) > 0 and not hit.any()
    # Day-on-day changes of stocks, and the city minus the other districts.
    for stock in ("pop.registered", "cert.valid", "le.active"):
        change = wide[stock].groupby(level="district_code").diff().dropna()
        assert not change.abs().between(1, 9).any()
