"""The overview's score box, in the manner of Boston's CityScore: what 1.0 means, the score for
the day, week, month and quarter with the dates each covers, and the indicators lifting and
pulling it most, by name, value and target. The city's vital signs and its departments'
data-sharing health are two scores, each in its own card, never added together.

The data-sharing score the warehouse computes (its indicators: deliveries on time, rejected
rows, e-licence coverage) does not see the operational store, where requests for data are
answered. The city's card counts their on-time answer rate as one more indicator of the score,
period by period (:func:`warehouse.sharing.measures.answers_due_in`: the requests whose answer
fell due in the period, answered within 5 working days or not), scored as any indicator is
(actual ÷ target, target every request answered in time); a period in which no answer fell due
keeps the warehouse's score. The card says so and lists the rate among the day's indicators."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd
from dash import html

from cockpit.i18n import _, days_text, label, pct, pgettext
from warehouse.sharing.measures import ON_TIME_TARGET, answer_score

TOP = 5  # Boston's mayor's view: the top five and the bottom five
ANSWERS = "sharing.requests_answered_on_time"  # the on-time answer rate among the sharing score's indicators


def _what_it_measures(family: str) -> str:
    return {
        "vital": _("How the place itself is doing: 12345 requests closed on time and satisfaction, births, migration and new businesses, online services"),
        "sharing": _("How well departments share their data: on-time delivery, rejected rows, e-licence coverage, and for the whole city data requests answered within 5 working days"),
    }.get(family, "")


def score_cards(area_name: str, scores: pd.DataFrame, contributors: pd.DataFrame,
                answers: Mapping[str, tuple[int, int]] | None = None) -> list:
    """One card per score family for ``area_name``: scores per period and the top and bottom
    contributors. ``answers``: per period, the data requests answered on time and those judged
    (the city's card), counted in the data-sharing score where any were judged."""
    intro = html.Div([html.Strong(area_name),
                      html.Span(_(" · a score of 1.0 = on target; above 1.0 is better than target, below is short of it (0–2)"),
                                className="delta score-explained"),
                      html.Span(_(": "), className="delta"),
                      html.Span(_("green ≥ 1.0"), className="period-score above"),
                      html.Span(_(", "), className="delta"),
                      html.Span(_("amber 0.95–1.0"), className="period-score near"),
                      html.Span(_(", "), className="delta"),
                      html.Span(_("red < 0.95"), className="period-score below")], className="score-intro")
    if scores.empty:
        return [intro, html.Div(_("No score records yet"), className="empty")]
    # A handful of rows: plain records are read many times faster than data frame slices
    # (this runs on every overview request).
    rows = scores.to_dict("records")
    lifting = [] if contributors.empty else contributors.to_dict("records")
    if answers:
        rows, lifting = _with_answers(rows, lifting, answers)
    families = list(dict.fromkeys(r["family"] for r in rows))
    return [intro, *(_family_card(f, [r for r in rows if r["family"] == f], [c for c in lifting if c["family"] == f],
                                  answers if f == "sharing" else None)
                     for f in families)]


def _with_answers(rows: list[dict], contributors: list[dict], answers: Mapping[str, tuple[int, int]]) -> tuple[list, list]:
    """The data-sharing scores with the on-time answer rate as one more indicator in each period
    it was judged in (the mean over one more), and the rate among the day's contributors."""
    out = []
    for r in rows:
        scored = answer_score(*answers.get(r["period"], (0, 0))) if r["family"] == "sharing" else None
        n = r.get("indicators")
        if scored is None or not n:
            out.append(r)
            continue
        out.append({**r, "score": (r["score"] * n + scored) / (n + 1), "indicators": n + 1})
        if r["period"] == "day":
            on_time, judged = answers["day"]
            contributors = [*contributors, {"family": "sharing", "indicator_id": ANSWERS, "name": _("Data requests answered on time"),
                                            "value": on_time / judged, "target": ON_TIME_TARGET, "score": scored, "unit": "%",
                                            "direction": "higher"}]
    return out, contributors


def _family_card(family: str, rows: list[dict], contributors: list[dict], answers: Mapping[str, tuple[int, int]] | None) -> html.Div:
    periods = [html.Span([html.Span(label("period", s["period"]), className="period-name"),
                          html.Span(f"{s['score']:.2f}", className=f"period-score {_verdict(s['score'])}"),
                          html.Small(_span(s["first_day"], s["last_day"]))], className="period")
               for s in rows]
    head = html.Div([html.B(label("score_family", family)), html.Span(_what_it_measures(family), className="delta")],
                    className="family-head")
    day = [r for r in rows if r["period"] == "day"]
    body = [head, html.Div(periods, className="periods")]
    judged = [(s["period"], *answers[s["period"]]) for s in rows if answers and answers.get(s["period"], (0, 0))[1]]
    if judged:
        counted = pgettext("list separator", ", ").join(
            _("{period}: {on_time} of {judged}").format(period=label("period", p), on_time=a, judged=j) for p, a, j in judged)
        body.append(html.Div(_("Counted in it: data requests answered within 5 working days, of those whose answer fell due in the period ({counted})").format(counted=counted),
                             className="delta answers-counted"))
    if day:
        when = _span(day[0]["first_day"], day[0]["last_day"])
        # How many fall short, said outright: indicators above target can carry the score over 1.0.
        short = sum(1 for r in contributors if r["score"] < 1.0)
        listed = _("; the lowest {count} below").format(count=TOP) if short > TOP else ""
        body.append(html.Div(_("{short} of {count} indicators short of target ({when}){listed}").format(count=len(contributors), short=short, when=when, listed=listed),
                             className="delta short-of-target"))
        body.append(html.Div([_contributor_list(_("Pulling the score down most ({when})").format(when=when),
                                                _worst(contributors), _("No indicator is short of its target")),
                              _contributor_list(_("Lifting the score most ({when})").format(when=when),
                                                _best(contributors), _("No indicator is on target"))],
                             className="contributors"))
    return html.Div(body, className=f"card score-family {family}", **{"data-family": family})


def _worst(c: list[dict]) -> list[dict]:
    """Up to five indicators below target, furthest below first."""
    return sorted((r for r in c if r["score"] < 1.0), key=lambda r: (r["score"], r["indicator_id"]))[:TOP]


def _best(c: list[dict]) -> list[dict]:
    """Up to five indicators on or above target, furthest above first."""
    return sorted((r for r in c if r["score"] >= 1.0), key=lambda r: (-r["score"], r["indicator_id"]))[:TOP]


def _contributor_list(title: str, rows: list[dict], when_none: str) -> html.Div:
    if not rows:
        return html.Div([html.Div(title, className="list-title"), html.Div(when_none, className="empty")], className="contributor-list")
    items = [html.Li([html.Span(f"{r['score']:.2f}", className=f"period-score {_verdict(r['score'])}"),
                      html.Span(r.get("name") or label("indicator", r["indicator_id"]), className="name"),
                      html.Span(_("{value} ({target})").format(value=_value(r["value"], r["unit"]), target=_target(r)), className="delta")],
                     **{"data-indicator": r["indicator_id"]})
             for r in rows]
    return html.Div([html.Div(title, className="list-title"), html.Ul(items)], className="contributor-list")


def _verdict(score: float) -> str:
    """A CSS class for how a score stands against its target."""
    if score != score:
        return ""
    return "below" if score < 0.95 else "near" if score < 1.0 else "above"


def _value(value: float, unit: str | None) -> str:
    if value is None or value != value:
        return "—"
    if unit == "%":
        return pct(value)
    if unit == "‰":
        return f"{value:.2f}‰"
    shown = f"{value:,.2f}" if abs(value) < 100 and not float(value).is_integer() else f"{value:,.0f}"
    if not unit:
        return shown
    # Chinese writes a unit word right after the number (12人), English after a space (12 people).
    return pgettext("quantity", "{value} {unit}").format(value=shown, unit=label("unit", unit))


def _target(r: dict) -> str:
    sign = "≥" if r["direction"] == "higher" else "≤"
    return _("target {sign} {value}").format(sign=sign, value=_value(r["target"], r["unit"]))


def _span(first, last) -> str:
    """The days a period covers, in the reader's language: 11月16日至20日, 16 – 20 Nov."""
    return days_text(*(d if type(d) is dt.date else pd.Timestamp(d).date() for d in (first, last)))
