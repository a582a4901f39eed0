"""The overview's score box read as a newcomer reads it: what 1.0 means, the periods in order
with their dates, top and bottom indicators with value and target, and 'no records' when empty."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
from flask import Flask

from cockpit.scorecard import score_cards

DAY, WEEK = dt.date(2026, 11, 20), dt.date(2026, 11, 16)
SCORES = pd.DataFrame([
    {"family": "vital", "period": p, "first_day": first, "last_day": DAY, "score": s}
    for p, first, s in (("day", DAY, 0.82), ("week", WEEK, 0.81), ("month", dt.date(2026, 11, 1), 0.85),
                        ("quarter", dt.date(2026, 10, 1), 0.9))])
CONTRIBUTORS = pd.DataFrame([
    {"family": "vital", "indicator_id": "svc.on_time_rate", "value": 0.903, "target": 0.95, "score": 0.95, "unit": "%", "direction": "higher"},
    {"family": "vital", "indicator_id": "svc.overdue_share", "value": 0.085, "target": 0.05, "score": 0.59, "unit": "%", "direction": "lower"},
    {"family": "vital", "indicator_id": "le.survival_rate", "value": 0.989, "target": 0.9, "score": 1.1, "unit": "%", "direction": "higher"},
])


def _text(cards) -> str:
    return json.dumps([c.to_plotly_json() for c in cards], ensure_ascii=False, default=lambda o: o.to_plotly_json())


def test_the_score_box_says_what_it_means_in_the_readers_language() -> None:
    app = Flask(__name__)
    with app.test_request_context(headers={"Cookie": "cb_lang=en"}):
        text = _text(score_cards("Hangzhou", SCORES, CONTRIBUTORS))
    assert "1.0 = on target" in text and "Vital signs score" in text
    assert [text.index(p) for p in ('"Day"', '"Week"', '"Month"', '"Quarter"')] == sorted(text.index(p) for p in ('"Day"', '"Week"', '"Month"', '"Quarter"'))
    # Spans as CLDR writes them (through Babel), a thin space around the dash in English.
    assert "16\u2009–\u200920 Nov" in text and "1 Oct\u2009–\u200920 Nov" in text
    # Worst first below target, with value and target; the one above target lifts it.
    assert text.index("Share of open requests overdue") < text.index("On-time closure rate") < text.index("Entity survival")
    assert "8.5% (target ≤ 5.0%)" in text and "90.3% (target ≥ 95.0%)" in text
    with app.test_request_context():
        zh = _text(score_cards("杭州市", SCORES, CONTRIBUTORS))
    assert "1.0 = 达到目标" in zh and "11月16日至20日" in zh and "Nov" not in zh


def test_an_empty_score_box_says_there_are_no_records() -> None:
    with Flask(__name__).test_request_context():
        assert "暂无评分记录" in _text(score_cards("杭州市", pd.DataFrame(), pd.DataFrame()))
        assert "没有未达目标的指标" in _text(score_cards("杭州市", SCORES, CONTRIBUTORS[CONTRIBUTORS.score >= 1]))


def test_the_count_short_of_target_says_when_only_the_lowest_are_listed() -> None:
    many = pd.DataFrame([{"family": "vital", "indicator_id": f"i{k}", "value": 1.0, "target": 2.0, "score": 0.5 + k / 100,
                          "unit": "", "direction": "higher"} for k in range(7)])
    with Flask(__name__).test_request_context():
        assert "7 项指标中 7 项未达目标（11月20日），下列最低的 5 项" in _text(score_cards("杭州市", SCORES, many))
        few = _text(score_cards("杭州市", SCORES, CONTRIBUTORS))
    assert "3 项指标中 2 项未达目标（11月20日）\"" in few  # all listed: nothing to add
    assert '"黄 0.95–1.0", "className": "period-score near"' in few  # amber in amber


def test_the_city_sharing_score_counts_data_requests_answered_on_time() -> None:
    """The on-time answer rate of data requests is one more indicator of the data-sharing score in
    each period some answer fell due (the mean over one more), listed among the day's indicators;
    a period without any keeps the warehouse's score."""
    sharing = pd.DataFrame([{"family": "sharing", "period": p, "first_day": first, "last_day": DAY, "score": 0.9, "indicators": 3}
                            for p, first in (("day", DAY), ("week", WEEK), ("month", dt.date(2026, 11, 1)))])
    contributors = pd.DataFrame([{"family": "sharing", "indicator_id": "gov.rejection_rate", "value": 0.02, "target": 0.01,
                                  "score": 0.5, "unit": "%", "direction": "lower"}])
    answers = {"day": (1, 2), "week": (3, 4), "month": (0, 0)}
    with Flask(__name__).test_request_context(headers={"Cookie": "cb_lang=en"}):
        text = _text(score_cards("Hangzhou", sharing, contributors, answers))
        plain = _text(score_cards("Hangzhou", sharing, contributors))
    day, week = (0.9 * 3 + 0.5) / 4, (0.9 * 3 + 0.75) / 4
    assert f'"{day:.2f}"' in text and f'"{week:.2f}"' in text and '"0.90"' in text  # the month: none fell due
    assert "Data requests answered on time" in text and "50.0% (target ≥ 100.0%)" in text
    assert "Day: 1 of 2, Week: 3 of 4" in text and "Month" not in text.split("Counted in it")[1].split('"')[0]
    assert "Data requests answered on time" not in plain and '"0.90"' in plain and f'"{week:.2f}"' not in plain
