"""The feed contract as code: departments, feeds, columns, code lists and reasons.

This is the project's own copy of the interface departments deliver against
(docs/feeds.md explains it to them). Validation SQL, the synthetic city and the docs
are all generated from these declarations, so the contract lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

DEPARTMENTS: dict[str, tuple[str, str]] = {
    # code: (Chinese name, English name)
    "psb": ("公安局", "Public Security Bureau"),
    "health": ("卫生健康委员会", "Health Commission"),
    "civil": ("民政局", "Civil Affairs Bureau"),
    "hrss": ("人力资源和社会保障局", "Human Resources and Social Security Bureau"),
    "samr": ("市场监督管理局", "Market Regulation Administration"),
    "dsb": ("数据资源管理局", "Data Resources Bureau"),
    "hotline": ("12345政务服务便民热线", "12345 Government Service Hotline"),
}
# Departments the 12345 hotline dispatches requests to that deliver no feed of their own.
HANDLER_DEPARTMENTS: dict[str, tuple[str, str]] = {
    "urban": ("城市管理局", "Urban Management Bureau"),
    "transport": ("交通运输局", "Transport Bureau"),
    "housing": ("住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    "environment": ("生态环境局", "Ecology and Environment Bureau"),
    "education": ("教育局", "Education Bureau"),
}
# Who closes requests (承办单位), the dimension of the per-handler service indicators: the
# departments the hotline dispatches to, then the district governments together (属地).
REQUEST_HANDLERS: dict[str, tuple[str, str]] = {
    **{code: DEPARTMENTS[code] for code in ("psb", "health", "civil", "hrss", "samr")},
    **HANDLER_DEPARTMENTS,
    "local": ("属地区县政府", "District governments"),
}
# The departments that own data and alerts: those that deliver feeds (their data), and those
# that only handle requests (their own on-time closure); a user limited to a department is
# limited to one of these.
OWNER_DEPARTMENTS: dict[str, tuple[str, str]] = {**DEPARTMENTS, **HANDLER_DEPARTMENTS}
# First-level categories of citizens' requests (诉求分类).
REQUEST_CATEGORIES: dict[str, tuple[str, str]] = {
    "urban_management": ("城市管理", "Urban management"),
    "traffic": ("交通出行", "Traffic and transport"),
    "environment": ("生态环境", "Environment"),
    "housing": ("住房建设", "Housing and construction"),
    "labour": ("劳动社保", "Labour and social security"),
    "market": ("市场消费", "Markets and consumers"),
    "public_safety": ("公共安全", "Public safety"),
    "health": ("医疗卫生", "Health care"),
    "education": ("教育", "Education"),
    "civil_affairs": ("民政", "Civil affairs"),
    "other": ("其他", "Other"),
}
REQUEST_CHANNELS: tuple[str, ...] = ("phone", "app", "web", "wechat")
REQUEST_EVENTS: tuple[str, ...] = ("create", "dispatch", "close", "rate", "reopen")

# Row-level rejection reasons (CONTRACT §3), in the order they are documented.
ROW_REASONS: tuple[str, ...] = (
    "missing_value",
    "bad_id_number",
    "bad_uscc",
    "bad_date",
    "future_date",
    "bad_code",
    "unknown_district",
    "mismatch",
    "bad_number",
    "duplicate",
    "malformed_row",
)
# File-level outcomes: the whole delivery is rejected with one of these.
FILE_REASONS: tuple[str, ...] = ("bad_encoding", "missing_column", "manifest_mismatch", "unreadable")
UNKNOWN_FEED = "unknown_feed"

FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet")

# GB/T 3304 ethnicity codes: 01-56, 97 (other), 98 (foreign-born naturalised).
ETHNICITY_CODES: tuple[str, ...] = tuple(f"{i:02d}" for i in range(1, 57)) + ("97", "98")
# GB/T 4754-2017 industry sections.
INDUSTRY_SECTIONS: tuple[str, ...] = tuple("ABCDEFGHIJKLMNOPQRST")
GENDER_CODES: tuple[str, ...] = ("1", "2")
ENTITY_TYPES: tuple[str, ...] = (
    "enterprise",
    "individual_business",
    "farmer_cooperative",
    "public_institution",
    "social_organization",
)
# Which kind of holder each certificate type is issued to.
CERTIFICATE_HOLDER: dict[str, str] = {
    "business_licence": "legal_person",
    "food_business_licence": "legal_person",
    "id_card": "person",
    "marriage_certificate": "person",
    "driving_licence": "person",
    "birth_medical_certificate": "person",
}
HOLDER_TYPES: tuple[str, ...] = ("person", "legal_person")


@dataclass(frozen=True)
class Column:
    """One column of a feed.

    kind is one of: text, id_number, uscc, date, timestamp, code, district, number,
    holder_id, handler (a department code, a hotline handler or one of the city's
    districts), rating (an integer 1-5). ``event_date`` marks dates that may not lie after
    the business date. ``only_on`` limits the column to rows whose ``event_type`` is one
    of those: there it is required (unless ``required`` is false) and checked; on every
    other row it is ignored.
    """

    name: str
    kind: str = "text"
    required: bool = True
    codes: tuple[str, ...] = ()
    event_date: bool = False
    only_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class Feed:
    """A daily feed one department delivers (CONTRACT §2)."""

    department: str
    name: str
    key: str
    columns: tuple[Column, ...]
    title_zh: str
    title_en: str
    # Deadline for a business date D, in hours after D 00:00 (30 = 06:00 on D+1).
    deadline_hours: int = 30
    extra_checks: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        """``department/feed``, the name used in paths, alerts and the UI."""
        return f"{self.department}/{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def event_day_column(self) -> str:
        """The column that dates a row's event: the feed's last event date (a household
        event's ``event_date``, not the person's ``birth_date``; a certificate event's own
        date, not the validity it carries)."""
        return [c.name for c in self.columns if c.event_date][-1]


def _c(name: str, kind: str = "text", *, required: bool = True, codes: tuple[str, ...] = (), event: bool = False,
       only_on: tuple[str, ...] = ()) -> Column:
    return Column(name, kind, required, codes, event, only_on)


FEEDS: tuple[Feed, ...] = (
    Feed(
        "psb",
        "household_events",
        "event_id",
        (
            _c("event_id"),
            _c("id_number", "id_number"),
            _c("name"),
            _c("gender", "code", codes=GENDER_CODES),
            _c("birth_date", "date", event=True),
            _c("ethnicity", "code", codes=ETHNICITY_CODES),
            _c("district_code", "district"),
            _c("event_type", "code", codes=("birth", "move_in", "move_out", "death", "update")),
            _c("event_date", "date", event=True),
        ),
        "户籍变动",
        "household-registration events",
        extra_checks=("gender_matches_id", "birth_date_matches_id"),
    ),
    Feed(
        "health",
        "death_records",
        "record_id",
        (
            _c("record_id"),
            _c("id_number", "id_number"),
            _c("death_date", "date", event=True),
            _c("district_code", "district"),
            _c("cause_category", required=False),
        ),
        "死亡医学证明",
        "medical death certificates",
    ),
    Feed(
        "civil",
        "marriage_registrations",
        "registration_no",
        (
            _c("registration_no"),
            _c("party1_id_number", "id_number"),
            _c("party2_id_number", "id_number"),
            _c("registration_type", "code", codes=("marriage", "divorce")),
            _c("registration_date", "date", event=True),
            _c("district_code", "district"),
        ),
        "婚姻登记",
        "marriage and divorce registrations",
    ),
    Feed(
        "hrss",
        "insurance_events",
        "event_id",
        (
            _c("event_id"),
            _c("id_number", "id_number"),
            _c("employer_uscc", "uscc"),
            _c("event_type", "code", codes=("enrol", "leave")),
            _c("event_date", "date", event=True),
        ),
        "社保参保变动",
        "social-insurance enrolment changes",
    ),
    Feed(
        "samr",
        "entity_events",
        "event_id",
        (
            _c("event_id"),
            _c("uscc", "uscc"),
            _c("name"),
            _c("entity_type", "code", codes=ENTITY_TYPES),
            _c("legal_rep_id_number", "id_number"),
            _c("registered_capital", "number", required=False),
            _c("industry_section", "code", codes=INDUSTRY_SECTIONS),
            _c("district_code", "district"),
            _c("event_type", "code", codes=("establish", "change", "deregister", "revoke")),
            _c("event_date", "date", event=True),
        ),
        "市场主体登记",
        "market-entity registration events",
    ),
    Feed(
        "dsb",
        "certificate_events",
        "event_id",
        (
            _c("event_id"),
            _c("certificate_no"),
            _c("certificate_type", "code", codes=tuple(CERTIFICATE_HOLDER)),
            _c("holder_type", "code", codes=HOLDER_TYPES),
            _c("holder_id", "holder_id"),
            _c("issuer", "code", codes=tuple(DEPARTMENTS)),
            _c("valid_from", "date"),
            _c("valid_to", "date", required=False),
            _c("event_type", "code", codes=("issue", "renew", "revoke", "cancel")),
            _c("event_date", "date", event=True),
        ),
        "电子证照",
        "e-certificate lifecycle events",
        extra_checks=("holder_matches_type", "holder_type_matches_certificate"),
    ),
    Feed(
        "dsb",
        "certificate_usage",
        "usage_id",
        (
            _c("usage_id"),
            _c("certificate_no"),
            _c("used_at", "timestamp", event=True),
            _c("service_code"),
            _c("channel", "code", codes=("online", "counter", "mobile")),
            _c("district_code", "district"),
        ),
        "电子证照用证",
        "e-certificate uses",
    ),
    Feed(
        "hotline",
        "service_requests",
        "event_id",
        (
            _c("event_id"),
            _c("ticket_no"),
            _c("event_type", "code", codes=REQUEST_EVENTS),
            _c("event_time", "timestamp", event=True),
            _c("district_code", "district"),
            _c("category", "code", codes=tuple(REQUEST_CATEGORIES), only_on=("create",)),
            _c("channel", "code", codes=REQUEST_CHANNELS, only_on=("create",)),
            _c("handler", "handler", only_on=("dispatch",)),
            _c("due_at", "timestamp", only_on=("dispatch",)),
            _c("satisfaction", "rating", only_on=("rate",)),
            _c("caller_id_number", "id_number", required=False, only_on=("create",)),
        ),
        "12345热线诉求工单",
        "12345 hotline service requests",
        extra_checks=("due_after_event",),
    ),
)

FEEDS_BY_ID: dict[str, Feed] = {f.id: f for f in FEEDS}


def feed(department: str, name: str) -> Feed | None:
    """The feed a landing path names, or None for an unknown department/feed."""
    return FEEDS_BY_ID.get(f"{department}/{name}")


# The temporary table load_feed_table() fills: every feed with its deadline.
FEED_TABLE = "cb_contract_feeds"


def load_feed_table(con: duckdb.DuckDBPyConnection) -> None:
    """Make the contract's feeds readable by SQL on ``con``: the temporary table ``FEED_TABLE``
    (department, feed, deadline_hours), its values bound, and the macro ``cb_due_at(day,
    deadline_hours)``, the moment a feed's delivery for business date ``day`` is due (its
    deadline, CONTRACT §2). Queries that judge timeliness read both, so the deadline is
    reckoned one way everywhere."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {FEED_TABLE} (department VARCHAR, feed VARCHAR, deadline_hours INTEGER)")
    con.executemany(f"INSERT INTO {FEED_TABLE} VALUES (?, ?, ?)", [(f.department, f.name, f.deadline_hours) for f in FEEDS])
    con.execute("CREATE OR REPLACE TEMP MACRO cb_due_at(day, deadline_hours) AS (day + to_hours(deadline_hours))")
