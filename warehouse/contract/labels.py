"""The label registry: the name of every code a person can see, in the reader's language.

Departments, feeds, districts, reasons, alert rules, severities, statuses, Dagster run
states, units and indicators each form a *kind* (Dagster's jobs, steps, schedules and
sensors are named on their definitions: ``pipelines/names.py``; roles on their entries in the
cockpit's role registry, ``cockpit/roles.py``, since only the cockpit knows roles); ``name(kind, code, lang)`` is
the one way to turn a code into words. Codes declared with their names elsewhere in the
contract keep them there, in both languages (``feeds.py``, the city file, the indicator
catalog); every other code is named here, in English, and translated through the gettext
catalogs (``translations.py``) with its kind as context.

Messages (alerts, delivery errors) are stored as a template key and JSON parameters and
rendered when read, in the reader's language: ``render(key, params, lang)``. A template
is written here in English and translated like a name (context ``message``); a template
field may name a kind as its format spec (``{feed:feed}``), so codes inside a message are
named too.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from warehouse.contract.city import load_city
from warehouse.contract.feeds import (
    FEEDS,
    OWNER_DEPARTMENTS,
    REQUEST_CATEGORIES,
    REQUEST_HANDLERS,
    UNKNOWN_FEED,
)
from warehouse.contract.translations import gettext, pgettext

Name = tuple[str, str]  # (Chinese, English), of a code named where it is declared
LANGS = ("zh", "en")


@dataclass(frozen=True)
class Reason:
    """A rejection reason: its name, what it means and how the department fixes it (English;
    the Chinese is in the catalog)."""

    name: str
    means: str
    fix: str

    def means_in(self, lang: str) -> str:
        return gettext(self.means, lang)

    def fix_in(self, lang: str) -> str:
        return gettext(self.fix, lang)


REASONS: dict[str, Reason] = {
    "missing_value": Reason("Missing value", "A required field is empty",
                            "Fill in the field and deliver the row again"),
    "bad_id_number": Reason("Invalid identity number",
                            "The identity number's format, check character or birth date is wrong",
                            "Check the number against the household register"),
    "bad_uscc": Reason("Invalid credit code",
                       "The credit code's format or check character is wrong",
                       "Check the code against the business licence"),
    "bad_date": Reason("Invalid date",
                       "A date or time cannot be read, or is before 1 January 1900",
                       "Use a real date written YYYY-MM-DD"),
    "future_date": Reason("Date after the business date",
                          "An event date is after the delivery's business date",
                          "Deliver the event with the business date it happened on, or later"),
    "bad_code": Reason("Code not in its list",
                       "A value is not in its code list",
                       "Use a value from the code list in the feed specification"),
    "unknown_district": Reason("Unknown district",
                               "The district code is not one of the city's districts",
                               "Use the code of one of the city's districts"),
    "mismatch": Reason("Fields disagree",
                       "Gender, birth date or holder type disagrees with the identity or credit code",
                       "Check the fields that disagree"),
    "bad_number": Reason("Invalid number", "The registered capital is not a non-negative number",
                         "Enter a non-negative number (10,000 yuan)"),
    "duplicate": Reason("Duplicate", "The event key was already accepted",
                        "To correct a row, deliver the original file again instead of a new row"),
    "malformed_row": Reason("Malformed row", "The row has the wrong number of fields or is not valid JSON",
                            "Export the row again in the file's format"),
    "bad_encoding": Reason("Invalid encoding", "The file is neither UTF-8 nor GB18030",
                           "Export the file again as UTF-8"),
    "missing_column": Reason("Missing column", "The file lacks a column the specification requires",
                             "Add the column to the header and deliver again"),
    "manifest_mismatch": Reason("Manifest mismatch",
                                "The manifest's row count or checksum disagrees with the file",
                                "Write the manifest again from the file"),
    "unreadable": Reason("Unreadable file", "The file cannot be parsed as its format",
                         "Check the export and deliver again"),
    UNKNOWN_FEED: Reason("Unknown feed", "The file's path names no known department and feed",
                         "Put it under landing/<department>/<feed>/<business date>/"),
}

# Cross-department findings (quality.findings.rule); each is also a consistency:<rule> alert.
FINDINGS: dict[str, str] = {
    "death_not_deregistered": "Death not deregistered",
    "death_of_unknown_person": "Death of a person not in the register",
    "deceased_with_valid_certificate": "Deceased person holds a valid certificate",
    "certificate_holder_unknown": "Certificate holder unknown",
    "insurance_employer_unknown": "Insurance employer unknown",
    "insurance_person_unknown": "Insured person not in the register",
    "legal_rep_unknown": "Legal representative not in the register",
    "legal_rep_deceased": "Legal representative deceased",
    "closed_entity_valid_licence": "Closed entity with a valid licence",
    "ticket_without_creation": "Request ticket without its creation",
}
# Rules of their own; a finding is a rule too, by itself or as consistency:<finding> (see pair).
_RULES: dict[str, str] = {
    "feed_missing": "Feed not delivered",
    "forecast_breach": "Forecast to cross its threshold",
}
# Rules per indicator: the prefix, and how the indicator's name is framed.
_INDICATOR_RULES: dict[str, str] = {
    "threshold": "Threshold: {indicator}",
    "anomaly": "Anomaly: {indicator}",
    "forecast_breach": "Forecast breach: {indicator}",
}
# An access-log entry for a step of the alert loop (alert_<step>: alert_action), named after the step.
_ALERT_ACTION = "Alert: {step}"
_ALERT_ACTION_PREFIX = "alert_"

SEVERITIES: dict[str, str] = {"critical": "Critical", "warning": "Warning"}
# An alert's condition (marts.alerts.status): the contract's open and resolved, and the
# acknowledged of warehouses from before the loop (read as open at the next refresh).
ALERT_STATUSES: dict[str, str] = {"open": "Open", "resolved": "Resolved",
                                   "acknowledged": "Acknowledged"}
# Where an alert stands in the loop from alert to closure (warehouse.ops.alert_loop), and its steps.
ALERT_STATES: dict[str, str] = {"new": "Not yet dispatched", "dispatched": "Dispatched",
                                 "handled": "Handled", "returned": "Returned",
                                 "closed": "Closed"}
# The steps of the loop, each named once: the alerts page's buttons, its history and the
# access log's alert_<step> actions all read these names.
ALERT_STEPS: dict[str, str] = {"dispatch": "Dispatch", "handle": "Handling done", "return": "Return",
                               "close": "Close and evaluate", "acknowledge": "Acknowledged (before the loop)"}
OWNER_KINDS: dict[str, str] = {"department": "Department", "district": "District", "city": "City"}
# Where a request for a catalog entry stands (contract §6) and its steps (warehouse.sharing.requests).
REQUEST_STATES: dict[str, str] = {"draft": "Draft", "submitted": "Submitted", "approved": "Approved", "refused": "Refused",
                                  "active": "Active", "expired": "Expired", "revoked": "Revoked"}
REQUEST_STEPS: dict[str, str] = {"submit": "Submit", "approve": "Approve", "refuse": "Refuse",
                                 "activate": "Activate and issue a key", "revoke": "Revoke"}
# The catalog (warehouse.sharing.catalog): an entry's kind, its sharing class (共享属性, contract
# §6) and open class (开放属性), its update cycle, how fresh it is against it, a data item's type.
ENTRY_KINDS: dict[str, str] = {"feed": "Source feed", "library": "Library table", "indicator": "Indicator",
                               "open": "Open data set", "quarantine": "Rejected rows"}
SHARING_CLASSES: dict[str, str] = {"unconditional": "Shared unconditionally", "conditional": "Shared on conditions",
                                   "none": "Not shared"}
OPEN_CLASSES: dict[str, str] = {"unconditional": "Open unconditionally", "conditional": "Open on conditions",
                                "none": "Not open"}
UPDATE_CYCLES: dict[str, str] = {"daily": "Daily"}
CATALOG_FRESHNESS: dict[str, str] = {"current": "Up to date", "behind": "Behind its cycle", "unknown": "Not known yet"}
ITEM_TYPES: dict[str, str] = {
    "text": "Text", "id_number": "Identity number", "uscc": "Unified social credit code", "date": "Date",
    "timestamp": "Date and time", "code": "Code", "district": "District code", "number": "Number",
    "holder_id": "Holder's identity number or credit code", "handler": "Handling department or district",
    "rating": "Rating (1 to 5)", "boolean": "Yes or no", "list": "List",
}
DELIVERY_STATUSES: dict[str, str] = {"accepted": "Accepted", "partial": "Partly accepted",
                                      "rejected": "Rejected", "superseded": "Superseded"}
TICKET_STATUSES: dict[str, str] = {"open": "Open", "closed": "Closed"}
# A feed's business date: "rejected" is a day whose every file was rejected (nothing usable arrived).
TIMELINESS: dict[str, str] = {"on_time": "On time", "late": "Late", "rejected": "Only rejected files",
                               "missing": "Missing"}
# The states of a Dagster run (DagsterRunStatus); jobs, steps, schedules and sensors are named
# on their definitions (pipelines/names.py).
RUN_STATES: dict[str, str] = {
    "QUEUED": "Queued", "NOT_STARTED": "Not started", "MANAGED": "Managed",
    "STARTING": "Starting", "STARTED": "Running", "SUCCESS": "Succeeded",
    "FAILURE": "Failed", "CANCELING": "Cancelling", "CANCELED": "Cancelled",
    "SUSPENDED": "Suspended",
}
# Units of the indicator catalog. In English a count needs no unit word.
UNITS: dict[str, str] = {"人": "people", "对": "couples", "户": "entities", "件": "items",
                          "次": "uses", "行": "rows", "分": "points", "%": "%", "‰": "‰"}
SCORE_FAMILIES: dict[str, str] = {"vital": "Vital signs score", "sharing": "Data-sharing health score"}
PERIODS: dict[str, str] = {"day": "Day", "week": "Week", "month": "Month", "quarter": "Quarter"}
# What an entry of the access audit log records (cockpit and retention); a step of an alert's
# loop is logged as alert_<step> and named after the step (see pair).
ACTIONS: dict[str, str] = {
    "view_rejected_rows": "Viewed rejected rows",
    "download_rejected_rows": "Downloaded rejected rows",
    "purge_rejected_rows": "Purged rejected rows",
    "audit_search": "Audit search",
    "user_saved": "User added or updated",
    "user_disabled": "User disabled",
    "user_enabled": "User enabled",
    "sign_in": "Signed in",
    "sign_out": "Signed out",
    "sign_in_failed": "Sign-in failed",
    "sign_in_refused": "Sign-in refused (too many failures)",
    "catalog_edit": "Catalog entry edited",  # its purpose names the entry: "catalog <code>"
    # A key of a sharing grant (the entry's purpose names the request: "request <id>").
    "share_key_issue": "Sharing key issued",
    "share_key_revoke": "Sharing key revoked",
}
# The analyst's console (pipeline-runs page): what was done to Dagster, by whom; the entry's
# purpose names what it touched ("run <id>"). Part of ACTIONS.
CONSOLE_ACTIONS: dict[str, str] = {
    "run_launch": "Run launched",
    "run_reexecute": "Run re-executed",
    "run_cancel": "Run cancelled",
    "backfill_launch": "Backfill launched",
    "backfill_cancel": "Backfill cancelled",
    "instigator_on": "Schedule or sensor turned on",
    "instigator_off": "Schedule or sensor turned off",
    "schedule_time": "Schedule time changed",
}
ACTIONS.update(CONSOLE_ACTIONS)
# The governed interfaces (api/): a call answered for an officer, logged as api_<interface>; the
# entry's purpose is "case <case number>: <the grant's purpose>". Part of ACTIONS.
API_ACTIONS: dict[str, str] = {
    "api_certificates_verify": "Interface: certificate verified",
    "api_persons_status": "Interface: household status checked",
    "api_entities_lookup": "Interface: market entity looked up",
}
ACTIONS.update(API_ACTIONS)
# The console's actions that start something in Dagster (whose launcher the console shows).
LAUNCH_ACTIONS: tuple[str, ...] = ("run_launch", "run_reexecute", "backfill_launch")
# Dagster's verdict on an asset against its freshness policy (the analyst's console).
FRESHNESS: dict[str, str] = {
    "HEALTHY": "On time", "WARNING": "Nearly late", "DEGRADED": "Late",
    "UNKNOWN": "Not judged yet", "NOT_APPLICABLE": "No deadline",
}
# The pipeline's stages as the console's freshness table names them (feeds by their own names).
STAGES: dict[str, str] = {
    "libraries": "Thematic libraries", "indicators": "Indicators and alerts",
    "forecasts": "Forecasts", "publish": "Published to the cockpit",
}
# The states Dagster reports for steps, ticks and backfills (the analyst's console).
STEP_STATES: dict[str, str] = {
    "SUCCESS": "Succeeded", "FAILURE": "Failed", "SKIPPED": "Skipped",
    "IN_PROGRESS": "In progress", "NOT_STARTED": "Not started",
}
TICK_STATES: dict[str, str] = {
    "STARTED": "In progress", "SKIPPED": "Nothing to do", "SUCCESS": "Run requested",
    "FAILURE": "Error",
}
BACKFILL_STATES: dict[str, str] = {
    "REQUESTED": "In progress", "COMPLETED": "Completed", "COMPLETED_SUCCESS": "Completed",
    "COMPLETED_FAILED": "Completed with failures", "FAILED": "Failed", "FAILING": "Failing",
    "CANCELING": "Cancelling", "CANCELED": "Cancelled",
}
TIMEZONES: dict[str, str] = {"Asia/Shanghai": "China Standard Time (UTC+8)", "UTC": "UTC"}
LEGAL_BASES: dict[str, str] = {
    "statutory_duty": "Statutory duty (PIPL Art. 13(1)(3))",
    "data_correction": "Correcting inaccurate data (PIPL Art. 46)",
    "retention": "Deletion when the retention period ends (PIPL Art. 47)",
}


def _capitalised(pair: Name) -> Name:
    return pair[0], pair[1][:1].upper() + pair[1][1:]


def _feeds() -> dict[str, Name]:
    """A feed by its id (``psb/household_events``) and by its name alone (names are unique)."""
    titles = {f.id: _capitalised((f.title_zh, f.title_en)) for f in FEEDS}
    return {**titles, **{f.name: titles[f.id] for f in FEEDS}}


def _districts() -> dict[str, Name]:
    """The city's districts, and the city's own code (city-wide values) as the city."""
    city = load_city()
    return {city.code: (city.name, city.name_en), **{d.code: (d.name, d.name_en) for d in city.districts}}


@lru_cache(maxsize=1)
def _indicators() -> dict[str, Name]:
    # The catalog (marts) is the one place indicator names are written; read it when first asked.
    from warehouse.marts.indicators.catalog import catalog

    return {i.id: (i.name_zh, i.name_en) for i in catalog()}


def _departments() -> dict[str, Name]:
    return {**OWNER_DEPARTMENTS, **REQUEST_HANDLERS}


# A kind's codes and their names: an English name (a str) is translated from the catalogs with
# the kind as context; a pair is a name declared in both languages where the code is declared
# (the feeds, departments and categories of the contract, the city file, the indicator catalog).
KINDS: dict[str, Callable[[], Mapping[str, str | Name]]] = {
    "department": _departments,
    "district": _districts,
    "feed": _feeds,
    "reason": lambda: {code: r.name for code, r in REASONS.items()},
    "finding": lambda: FINDINGS,
    "rule": lambda: _RULES,
    "severity": lambda: SEVERITIES,
    "alert_status": lambda: ALERT_STATUSES,
    "alert_state": lambda: ALERT_STATES,
    "alert_step": lambda: ALERT_STEPS,
    "owner_kind": lambda: OWNER_KINDS,
    "entry_kind": lambda: ENTRY_KINDS,
    "sharing_class": lambda: SHARING_CLASSES,
    "open_class": lambda: OPEN_CLASSES,
    "update_cycle": lambda: UPDATE_CYCLES,
    "catalog_freshness": lambda: CATALOG_FRESHNESS,
    "item_type": lambda: ITEM_TYPES,
    "request_state": lambda: REQUEST_STATES,
    "request_step": lambda: REQUEST_STEPS,
    "delivery_status": lambda: DELIVERY_STATUSES,
    "ticket_status": lambda: TICKET_STATUSES,
    "timeliness": lambda: TIMELINESS,
    "run_state": lambda: RUN_STATES,
    "unit": lambda: UNITS,
    "indicator": _indicators,
    "category": lambda: REQUEST_CATEGORIES,
    "score_family": lambda: SCORE_FAMILIES,
    "period": lambda: PERIODS,
    "action": lambda: ACTIONS,
    "legal_basis": lambda: LEGAL_BASES,
    "step_state": lambda: STEP_STATES,
    "freshness": lambda: FRESHNESS,
    "stage": lambda: STAGES,
    "tick_state": lambda: TICK_STATES,
    "backfill_state": lambda: BACKFILL_STATES,
    "timezone": lambda: TIMEZONES,
}


def _both(context: str | None, english: str | Name) -> Name:
    """(Chinese, English) of a name: a declared pair as it is, an English name translated."""
    return english if isinstance(english, tuple) else (pgettext(context, english, "zh"), english)


def names(kind: str) -> Mapping[str, Name]:
    """Every code of ``kind`` with its (Chinese, English) name."""
    return {code: _both(kind, n) for code, n in KINDS[kind]().items()}


def _framed(context: str, frame: str, field: str, of: Name | None) -> Name | None:
    """A name made of a translated frame ("Alert: {step}") around another name, its ``field``."""
    return None if of is None else (pgettext(context, frame, "zh").format(**{field: of[0]}), frame.format(**{field: of[1]}))


def alert_action(step: str) -> str:
    """The access log's action for a step of the alert loop: ``alert_<step>``, named after the step."""
    return _ALERT_ACTION_PREFIX + step


def pair(kind: str, code: str | None) -> Name | None:
    """The (Chinese, English) name of ``code``, or None when the registry has none.

    Some names are composed: a rule per indicator (``threshold:pop.births``) is named after
    its indicator, a finding is a rule by itself or as ``consistency:<finding>``, the access
    log's ``alert_<step>`` after the step, and an ``owner`` is a department or a district."""
    if code is None or code != code:  # None, or a missing value (NaN) from a data frame
        return None
    if kind == "owner":
        return pair("department", code) or pair("district", code)
    if kind == "rule" and code not in _RULES:
        if code in FINDINGS:
            return pair("finding", code)
        prefix, _, rest = code.partition(":")
        if prefix == "consistency":
            return pair("finding", rest)
        return _framed("rule", _INDICATOR_RULES[prefix], "indicator", pair("indicator", rest)) if prefix in _INDICATOR_RULES else None
    if kind == "action" and code not in ACTIONS and code.startswith(_ALERT_ACTION_PREFIX):
        return _framed("action", _ALERT_ACTION, "step", pair("alert_step", code.removeprefix(_ALERT_ACTION_PREFIX)))
    found = KINDS[kind]().get(code)
    return None if found is None else _both(kind, found)


def name(kind: str, code: str | None, lang: str) -> str:
    """``code``'s name in ``lang`` ('zh' or 'en'); an unknown code is shown as itself (a test
    checks that none the warehouse produces is unknown)."""
    found = pair(kind, code)
    if found is None:
        return "" if code is None or code != code else str(code)
    return found[1] if lang == "en" else found[0]


# ---------------------------------------------------------------------------- messages

MESSAGES: dict[str, str] = {
    # Alerts (marts.alerts.message_key).
    "feed_missing": "{department:department}: {feed:feed} for {day} not delivered by {deadline}",
    "deceased_with_valid_certificate": "Deceased persons still holding valid certificates: {persons}; their certificates: {certificates}",
    "death_not_deregistered": "Still on the household register 30 days after health reported the death: {count}",
    "consistency": "Cross-department check, {rule:finding}: {count}",
    "threshold_below": "{indicator:indicator} {value} {unit:unit}, below the warning level of {level} {unit:unit}",
    "threshold_above": "{indicator:indicator} {value} {unit:unit}, above the warning level of {level} {unit:unit}",
    "threshold_below_critical": "{indicator:indicator} {value} {unit:unit}, below the critical level of {level} {unit:unit}",
    "threshold_above_critical": "{indicator:indicator} {value} {unit:unit}, above the critical level of {level} {unit:unit}",
    "forecast_below": "{indicator:indicator} may fall below the warning level of {level} {unit:unit} from {day} (80% forecast bound {bound} {unit:unit})",
    "forecast_above": "{indicator:indicator} may rise above the warning level of {level} {unit:unit} from {day} (80% forecast bound {bound} {unit:unit})",
    "forecast_below_critical": "{indicator:indicator} may fall below the critical level of {level} {unit:unit} from {day} (95% forecast bound {bound} {unit:unit})",
    "forecast_above_critical": "{indicator:indicator} may rise above the critical level of {level} {unit:unit} from {day} (95% forecast bound {bound} {unit:unit})",
    "anomaly": "{indicator:indicator} {value} against a usual {usual} on comparable days",
    # Deliveries (ingest.deliveries.error_key).
    "rows_rejected": "Rows rejected: {rejected} of {rows_read}; see the rejection reasons, and the rows under Rejected rows",
    "empty_file": "the file is empty: a CSV delivery needs at least its header row",
    "bad_header": "the header row cannot be parsed as CSV: {detail}",
    "empty_column_name": "the header row has an empty column name",
    "duplicate_columns": "column(s) {columns} appear more than once in the header",
    "missing_columns": "required column(s) missing: {columns}; expected columns: {expected}",
    "utf16": "the file is UTF-16: deliver UTF-8 or GB18030",
    "not_decodable": "the file could not be read as {encoding}",
    "unknown_encoding": "the file is neither UTF-8 nor GB18030 (first undecodable byte at offset {offset}); re-export it as UTF-8",
    "csv_unparseable": "the file cannot be parsed as CSV: {detail}",
    "jsonl_unreadable": "the file cannot be read as JSON lines: {detail}",
    "parquet_unreadable": "the file is not readable Parquet: {detail}",
    "file_unreadable": "the file cannot be read: {detail}",
    "manifest_unreadable": "the manifest {manifest} is not a readable JSON object: {detail}",
    "manifest_mismatch": "{problems:manifest_problems}",
    "not_a_feed": "'{path}' is not under landing/<department>/<feed>/<YYYY-MM-DD>/ of a known feed",
    "not_a_business_date": "folder '{folder}' is not a business date (YYYY-MM-DD)",
    "not_a_format": "'{file}' is not a .csv, .jsonl or .parquet file",
}
# Parts of a manifest mismatch, joined by the formatter.
_MANIFEST_PROBLEMS: dict[str, str] = {
    "rows": "manifest says {said} rows, the file has {found}",
    "sha256": "manifest sha256 {said}… differs from the file's {found}…",
}
_PROBLEM_SEPARATOR = "; "


class _Formatter(string.Formatter):
    """str.format where a field's format spec may name a kind: ``{feed:feed}`` gives the feed's name."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value, format_spec: str) -> str:
        if format_spec == "manifest_problems":
            sep = pgettext("message", _PROBLEM_SEPARATOR, self.lang)
            return sep.join(self.format(pgettext("message", _MANIFEST_PROBLEMS[p["kind"]], self.lang), **p) for p in value)
        if format_spec in KINDS or format_spec in ("owner",):
            return name(format_spec, value, self.lang)
        return super().format_field(value, format_spec)


def msgids() -> Iterator[tuple[str | None, str]]:
    """(context, English) of every name and template the catalogs translate, for the
    extraction (``translations.extract_names``): the registry's English names with their
    kind, what each reason means and its fix, the frames of composed names, the messages."""
    for kind, table in KINDS.items():
        for english in table().values():
            if isinstance(english, str):
                yield kind, english
    for reason in REASONS.values():
        yield None, reason.means
        yield None, reason.fix
    yield from (("rule", frame) for frame in _INDICATOR_RULES.values())
    yield "action", _ALERT_ACTION
    yield from (("message", template) for template in (*MESSAGES.values(), *_MANIFEST_PROBLEMS.values(), _PROBLEM_SEPARATOR))


def render(key: str | None, params: Mapping | str | None, lang: str, fallback: str = "") -> str:
    """A stored message in ``lang``: template ``key`` filled with ``params`` (a mapping or its
    JSON text). ``fallback`` (the stored text) is used when there is no key, as in a warehouse
    built before messages were templates."""
    template = MESSAGES.get(key or "")
    if template is None:
        return fallback
    values = json.loads(params) if isinstance(params, str) else dict(params or {})
    try:
        return _Formatter(lang).format(pgettext("message", template, lang), **values)
    except (KeyError, IndexError, ValueError):  # parameters of another version of the template
        return fallback
