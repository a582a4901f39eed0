"""The 12345 hotline of the synthetic city: citizens' requests and each step of their life.

A request is created on a call, message or app form; most are dispatched within hours to the
department responsible for its category, or to the district government (属地), with a due
time by category; most are closed on time, some late; many are rated, mostly well; a few
are reopened, dispatched again and closed again. Volume follows the week, public holidays
and surges (a rainstorm, a cold wave) that shift the category mix. A ticket's whole life is
drawn when it is created and each step is emitted on the business date it happens.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

import numpy as np

from citybrain.synth.ids import EPOCH
from warehouse.contract.city import City
from warehouse.contract.feeds import REQUEST_CATEGORIES, REQUEST_CHANNELS
from warehouse.contract.workdays import day_kind

FEED = "hotline/service_requests"
CATEGORIES = np.array(list(REQUEST_CATEGORIES))
# Requests per resident and day on a workday (Hangzhou: ~30,000 a day for ~12.5M residents).
PER_RESIDENT_DAY = 0.0024
DAY_FACTOR = {"workday": 1.0, "weekend": 0.72, "holiday": 0.6}
# Category mix of urban districts (市辖区) and of rural counties and county-level cities.
MIX_URBAN = np.array([24, 17, 7, 9, 8, 10, 6, 5, 6, 4, 4], dtype=float)
MIX_RURAL = np.array([11, 8, 13, 16, 9, 8, 6, 7, 6, 8, 8], dtype=float)
# Surges shift the mix toward what the weather breaks.
SURGES = {
    "rainstorm": (1.9, {"urban_management": 3.0, "traffic": 2.5, "public_safety": 2.0, "housing": 1.5}),
    "cold_wave": (1.5, {"housing": 3.0, "urban_management": 1.8, "health": 1.5}),
}
# The department responsible for each category (the rest go to the district government).
HANDLER = {
    "urban_management": "urban", "traffic": "transport", "environment": "environment", "housing": "housing",
    "labour": "hrss", "market": "samr", "public_safety": "psb", "health": "health", "education": "education",
    "civil_affairs": "civil", "other": None,
}
# Days a handler has to close a request of each category (办理时限).
DUE_DAYS = {
    "urban_management": 3, "traffic": 5, "environment": 5, "housing": 10, "labour": 10, "market": 7,
    "public_safety": 1, "health": 5, "education": 7, "civil_affairs": 7, "other": 5,
}
CHANNEL_P = np.array([0.55, 0.15, 0.08, 0.22])
HOUR_P = np.array([0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 0.8, 2, 5, 9, 10, 8, 5, 6, 8, 8, 7, 5, 4, 4, 3, 2, 1, 0.5])
RATING_P = np.array([0.03, 0.03, 0.08, 0.24, 0.62])


@dataclass
class _Steps:
    """Rows of the feed, collected column by column before one emit."""

    rows: dict[str, list]

    @classmethod
    def empty(cls) -> _Steps:
        names = ("ticket_no", "event_type", "event_time", "district_code", "category", "channel",
                 "handler", "due_at", "satisfaction", "caller_id_number", "_bdate")
        return cls({n: [] for n in names})

    def add(self, kind: str, ticket: np.ndarray, when: np.ndarray, district: np.ndarray, **cols: np.ndarray) -> None:
        n = len(ticket)
        if not n:
            return
        self.rows["event_type"].append(np.full(n, kind))
        self.rows["ticket_no"].append(ticket)
        self.rows["event_time"].append(_stamp(when))
        self.rows["district_code"].append(district)
        self.rows["_bdate"].append((when // 86400).astype(np.int64))
        for name in ("category", "channel", "handler", "due_at", "satisfaction", "caller_id_number"):
            self.rows[name].append(cols.get(name, np.full(n, None, dtype=object)))


def _working_hours(at: np.ndarray, after: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Times moved into 08:00-21:00 of their day (handlers close during the day), never
    earlier than ten minutes after ``after``."""
    hour = (at % 86400) // 3600
    moved = at - at % 86400 + rng.integers(8 * 3600, 21 * 3600, len(at))
    return np.maximum(np.where((hour < 8) | (hour >= 21), moved, at), after + 600)


def _stamp(seconds: np.ndarray) -> np.ndarray:
    """Seconds since the epoch as 'YYYY-MM-DD HH:MM:SS' local time."""
    if not len(seconds):
        return np.array([], dtype="U19")
    epoch = np.datetime64(EPOCH.isoformat(), "s")
    return np.char.replace(np.datetime_as_string(epoch + seconds.astype("timedelta64[s]"), unit="s"), "T", " ")


class Hotline:
    """Draws each day's requests for ``city``; its own random stream leaves the other feeds as they were."""

    def __init__(self, city: City, residents: int, seed: int, *, clean: bool = False) -> None:
        self.rng = np.random.default_rng(zlib.crc32(f"{seed}|hotline".encode()))
        self.codes = np.array(city.district_codes)
        pop = np.array([d.population for d in city.districts], dtype=float)
        self.weights = pop / pop.sum()
        self.rural = np.array([int(c[4:6]) >= 21 for c in self.codes])  # GB/T 2260: 21+ are counties and cities
        self.residents = residents
        self.serial = 0
        self.event_serial = 0
        self.clean = clean  # no planted inconsistency: every ticket's creation is delivered
        self.days = 0

    def _surge(self, day: dt.date) -> str | None:
        if self.rng.random() >= 1 / 30:
            return None
        return "rainstorm" if 4 <= day.month <= 10 else "cold_wave"

    def day(self, day: dt.date, callers: np.ndarray, emit) -> None:
        """Create ``day``'s requests (callers drawn from ``callers``' identity numbers) and emit their lives."""
        rng = self.rng
        self.days += 1
        surge = self._surge(day)
        factor, boost = SURGES[surge] if surge else (1.0, {})
        n = int(rng.poisson(self.residents * PER_RESIDENT_DAY * DAY_FACTOR[day_kind(day)] * factor))
        if n == 0:
            return
        d0 = (day - EPOCH).days * 86400
        dist = rng.choice(len(self.codes), n, p=self.weights)
        cat = np.empty(n, dtype=CATEGORIES.dtype)
        for rural in (False, True):
            sel = np.flatnonzero(self.rural[dist] == rural)
            mix = (MIX_RURAL if rural else MIX_URBAN) * np.array([boost.get(c, 1.0) for c in CATEGORIES])
            cat[sel] = CATEGORIES[rng.choice(len(CATEGORIES), len(sel), p=mix / mix.sum())]
        tickets = np.char.add(f"12345-{day:%Y%m%d}-", np.char.zfill(np.arange(self.serial, self.serial + n).astype(str), 6))
        self.serial += n
        district = self.codes[dist]
        created = d0 + rng.choice(24, n, p=HOUR_P / HOUR_P.sum()) * 3600 + rng.integers(0, 3600, n)
        caller = np.full(n, None, dtype=object)
        known = np.flatnonzero(rng.random(n) < 0.6) if len(callers) else np.array([], int)
        caller[known] = callers[rng.integers(0, len(callers), len(known))].astype(str)
        steps = _Steps.empty()
        steps.add("create", tickets, created, district, category=cat,
                  channel=np.array(REQUEST_CHANNELS)[rng.choice(len(REQUEST_CHANNELS), n, p=CHANNEL_P)], caller_id_number=caller)

        # About one in twenty is answered on the call itself (直接办结): closed without dispatch.
        direct = rng.random(n) < 0.05
        closed_direct = created + rng.integers(120, 1800, n)
        steps.add("close", tickets[direct], closed_direct[direct], district[direct])

        sent = np.flatnonzero(~direct)
        dept = np.array([HANDLER[c] for c in cat[sent]], dtype=object)
        local = (dept == None) | (rng.random(len(sent)) < 0.3)  # noqa: E711 - object array
        handler = np.where(local, district[sent], dept).astype(str)
        dispatched = created[sent] + rng.integers(600, 4 * 3600, len(sent))
        due_days = np.array([DUE_DAYS[c] for c in cat[sent]])
        due = dispatched + due_days * 86400
        steps.add("dispatch", tickets[sent], dispatched, district[sent], handler=handler, due_at=_stamp(due))
        # Most close well within their time; one in ten runs late, housing more often.
        late_p = np.where(cat[sent] == "housing", 0.2, 0.09)
        late = rng.random(len(sent)) < late_p
        share = np.where(late, 1.0 + rng.exponential(0.4, len(sent)), rng.beta(2.0, 2.5, len(sent)))
        closed = _working_hours(dispatched + np.maximum(600, (share * due_days * 86400)).astype(np.int64), dispatched, rng)
        steps.add("close", tickets[sent], closed, district[sent])

        # Ratings, mostly good, worse after a late closure; low ratings are reopened more often.
        close_time = np.concatenate([closed_direct[direct], closed])
        t_all = np.concatenate([tickets[direct], tickets[sent]])
        d_all = np.concatenate([district[direct], district[sent]])
        late_all = np.concatenate([np.zeros(direct.sum(), bool), late])
        rated = rng.random(len(t_all)) < 0.65
        stars = rng.choice(5, len(t_all), p=RATING_P) + 1
        stars = np.where(late_all & (rng.random(len(t_all)) < 0.5), np.maximum(1, stars - 2), stars)
        rate_time = close_time + rng.integers(300, 3 * 86400, len(t_all))
        steps.add("rate", t_all[rated], rate_time[rated], d_all[rated], satisfaction=stars[rated].astype(str))
        reopen_p = np.where(rated & (stars <= 2), 0.3, 0.02)
        again = np.flatnonzero((rng.random(len(t_all)) < reopen_p) | ((self.days == 1) & (np.arange(len(t_all)) == 0)))
        if len(again):
            after = np.maximum(close_time[again], np.where(rated[again], rate_time[again], 0))
            reopened = after + rng.integers(3600, 4 * 86400, len(again))
            steps.add("reopen", t_all[again], reopened, d_all[again])
            redispatched = reopened + rng.integers(600, 4 * 3600, len(again))
            local_district = d_all[again]
            steps.add("dispatch", t_all[again], redispatched, local_district, handler=local_district,
                      due_at=_stamp(redispatched + 3 * 86400))
            reclosed = redispatched + rng.integers(3600, 5 * 86400, len(again))
            steps.add("close", t_all[again], reclosed, local_district)
        if not self.clean and (self.days == 2 or rng.random() < 0.2):
            self._orphan(steps, d0)
        self._emit(steps, day, emit)

    def _orphan(self, steps: _Steps, d0: int) -> None:
        """A handler's steps for a ticket whose creation the hotline never delivered (planted
        inconsistency: the library's finding ``ticket_without_creation``)."""
        rng = self.rng
        ticket = np.array([f"12345-X{self.serial:07d}"])
        self.serial += 1
        district = self.codes[rng.integers(0, len(self.codes), 1)]
        at = d0 + rng.integers(9 * 3600, 17 * 3600, 1)
        steps.add("dispatch", ticket, at, district, handler=district, due_at=_stamp(at + 3 * 86400))
        steps.add("close", ticket, at + rng.integers(3600, 2 * 86400, 1), district)

    def _emit(self, steps: _Steps, day: dt.date, emit) -> None:
        cols = {k: np.concatenate(v) for k, v in steps.rows.items()}
        bdate = cols.pop("_bdate")
        order = np.lexsort((cols["event_time"], bdate))  # each day's file in time order
        cols = {k: v[order] for k, v in cols.items()}
        n = len(bdate)
        cols["event_id"] = np.char.add(f"RX{day:%Y%m%d}", np.char.zfill(np.arange(self.event_serial, self.event_serial + n).astype(str), 8))
        self.event_serial += n
        emit(FEED, bdate[order], cols)
