"""China's official workday calendar (法定节假日与调休), from the chinese-calendar package.

Years the package does not cover yet fall back to Monday-Friday workdays, so a city
generated past the package's range still has a weekly rhythm (without holidays).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=8192)
def day_kind(day: dt.date) -> str:
    """'workday', 'holiday' (an official holiday) or 'weekend' (a plain rest day)."""
    try:
        if chinese_calendar.is_workday(day):
            return "workday"
        _, name = chinese_calendar.get_holiday_detail(day)
        return "holiday" if name else "weekend"
    except NotImplementedError:
        return "workday" if day.weekday() < 5 else "weekend"


def is_workday(day: dt.date) -> bool:
    """True on a day government offices work (adjusted weekend workdays included)."""
    return day_kind(day) == "workday"


@lru_cache(maxsize=8192)
def holiday_name(day: dt.date) -> str | None:
    """English name of the official holiday on ``day`` (e.g. 'Spring Festival'), if any."""
    try:
        on, name = chinese_calendar.get_holiday_detail(day)
        return name if on and name else None
    except NotImplementedError:
        return None


def near_spring_festival(day: dt.date, days: int = 7) -> bool:
    """Within ``days`` of a Spring Festival holiday: the season activity dips."""
    return any(holiday_name(day + dt.timedelta(d)) == "Spring Festival" for d in range(-days, days + 1))
