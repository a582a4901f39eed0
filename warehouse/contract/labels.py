"""The label registry: the Chinese and English name of every code a person can see.

Departments, feeds, districts, reasons, alert rules, severities, statuses, roles, jobs,
Dagster run states, units and indicators each form a *kind*; ``name(kind, code, lang)`` is
the one way to turn a code into words. Names are derived from where the contract already
keeps them (``feeds.py``, the city file, the indicator catalog); only codes that had no
name anywhere are named here.

Messages (alerts, delivery errors) are stored as a template key and JSON parameters and
rendered when read, in the reader's language: ``render(key, params, lang)``. A template
field may name a kind as its format spec (``{feed:feed}``), so codes inside a message are
named too.

The cockpit's own phrases (buttons, headings, column headers) live in ``cockpit/i18n.py``:
this registry is for the codes the contract and the warehouse produce, which the
warehouse needs as well (the English ``message`` column) and which a test checks for
completeness.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from warehouse.contract.city import load_city
from warehouse.contract.feeds import (
    FEEDS,
    REQUEST_CATEGORIES,
    REQUEST_HANDLERS,
    STEWARD_DEPARTMENTS,
    UNKNOWN_FEED,
)

Name = tuple[str, str]  # (Chinese, English)
LANGS = ("zh", "en")


@dataclass(frozen=True)
class Reason:
    """A rejection reason: its name, what it means and how the department fixes it."""

    name: Name
    means: Name
    fix: Name


REASONS: dict[str, Reason] = {
    "missing_value": Reason(("缺少必填值", "Missing value"), ("必填字段为空", "A required field is empty"),
                            ("补全该字段后重新报送", "Fill in the field and deliver the row again")),
    "bad_id_number": Reason(("身份证号无效", "Invalid identity number"),
                            ("身份证号格式、校验位或出生日期不正确", "The identity number's format, check character or birth date is wrong"),
                            ("按户籍记录核对号码", "Check the number against the household register")),
    "bad_uscc": Reason(("统一社会信用代码无效", "Invalid credit code"),
                       ("统一社会信用代码格式或校验位不正确", "The credit code's format or check character is wrong"),
                       ("按营业执照核对代码", "Check the code against the business licence")),
    "bad_date": Reason(("日期无效", "Invalid date"),
                       ("日期或时间无法识别，或早于1900年1月1日", "A date or time cannot be read, or is before 1 January 1900"),
                       ("填写真实日期，写作“年-月-日”（如 2026-11-20）", "Use a real date written YYYY-MM-DD")),
    "future_date": Reason(("日期晚于业务日期", "Date after the business date"),
                          ("事件日期晚于该批数据的业务日期", "An event date is after the delivery's business date"),
                          ("在事件发生当天或之后的批次中报送", "Deliver the event with the business date it happened on, or later")),
    "bad_code": Reason(("代码不在代码表中", "Code not in its list"),
                       ("取值不在规定的代码表中", "A value is not in its code list"),
                       ("按数据规范中的代码表取值", "Use a value from the code list in the feed specification")),
    "unknown_district": Reason(("区县代码不存在", "Unknown district"),
                               ("区县代码不是本市的区县", "The district code is not one of the city's districts"),
                               ("填写本市区县的行政区划代码", "Use the code of one of the city's districts")),
    "mismatch": Reason(("字段相互矛盾", "Fields disagree"),
                       ("性别、出生日期或持证主体类型与证件号码不一致", "Gender, birth date or holder type disagrees with the identity or credit code"),
                       ("核对相互矛盾的字段", "Check the fields that disagree")),
    "bad_number": Reason(("数值无效", "Invalid number"), ("注册资本不是非负数", "The registered capital is not a non-negative number"),
                         ("填写非负的数值（万元）", "Enter a non-negative number (10,000 yuan)")),
    "duplicate": Reason(("重复记录", "Duplicate"), ("同一事件编号已被接收", "The event key was already accepted"),
                        ("更正请重新报送原文件，不要另报新行", "To correct a row, deliver the original file again instead of a new row")),
    "malformed_row": Reason(("行无法解析", "Malformed row"), ("该行字段数不对或不是有效的 JSON", "The row has the wrong number of fields or is not valid JSON"),
                            ("按文件格式重新导出该行", "Export the row again in the file's format")),
    "bad_encoding": Reason(("文件编码无效", "Invalid encoding"), ("文件既不是 UTF-8 也不是 GB18030 编码", "The file is neither UTF-8 nor GB18030"),
                           ("以 UTF-8 编码重新导出文件", "Export the file again as UTF-8")),
    "missing_column": Reason(("缺少必填列", "Missing column"), ("文件缺少规范要求的列", "The file lacks a column the specification requires"),
                             ("按数据规范补齐表头后重新报送", "Add the column to the header and deliver again")),
    "manifest_mismatch": Reason(("清单不符", "Manifest mismatch"),
                                ("清单中的行数或校验值与文件不一致", "The manifest's row count or checksum disagrees with the file"),
                                ("重新生成清单文件", "Write the manifest again from the file")),
    "unreadable": Reason(("文件无法读取", "Unreadable file"), ("文件无法按其格式解析", "The file cannot be parsed as its format"),
                         ("检查导出程序后重新报送", "Check the export and deliver again")),
    UNKNOWN_FEED: Reason(("未知数据集", "Unknown feed"), ("文件路径不属于任何已知的部门和数据集", "The file's path names no known department and feed"),
                         ("按“部门/数据集/业务日期”的目录放置文件", "Put it under landing/<department>/<feed>/<business date>/")),
}

# Cross-department findings (quality.findings.rule); each is also a consistency:<rule> alert.
FINDINGS: dict[str, Name] = {
    "death_not_deregistered": ("死亡未销户", "Death not deregistered"),
    "death_of_unknown_person": ("死亡人员不在人口库", "Death of a person not in the register"),
    "deceased_with_valid_certificate": ("已故人员持有有效证照", "Deceased person holds a valid certificate"),
    "certificate_holder_unknown": ("证照持有人不存在", "Certificate holder unknown"),
    "insurance_employer_unknown": ("参保单位不存在", "Insurance employer unknown"),
    "insurance_person_unknown": ("参保人员不在人口库", "Insured person not in the register"),
    "legal_rep_unknown": ("法定代表人不在人口库", "Legal representative not in the register"),
    "legal_rep_deceased": ("法定代表人已故", "Legal representative deceased"),
    "closed_entity_valid_licence": ("已注销主体执照仍有效", "Closed entity with a valid licence"),
    "ticket_without_creation": ("工单缺少受理记录", "Request ticket without its creation"),
}
_RULES: dict[str, Name] = {
    "feed_missing": ("数据未按时报送", "Feed not delivered"),
    "deceased_with_valid_certificate": FINDINGS["deceased_with_valid_certificate"],
    "forecast_breach": ("预测将越过预警线", "Forecast to cross its threshold"),
    **{f"consistency:{rule}": name for rule, name in FINDINGS.items()},
}
# Rules per indicator: the prefix, and how the indicator's name is framed.
_INDICATOR_RULES: dict[str, Name] = {
    "threshold": ("越过预警线 · {}", "Threshold: {}"),
    "anomaly": ("异常波动 · {}", "Anomaly: {}"),
    "forecast_breach": ("预测越线 · {}", "Forecast breach: {}"),
}

SEVERITIES: dict[str, Name] = {"critical": ("严重", "Critical"), "warning": ("警告", "Warning")}
# An alert's condition (marts.alerts.status): the contract's open and resolved, and the
# acknowledged of warehouses from before the loop (read as open at the next refresh).
ALERT_STATUSES: dict[str, Name] = {"open": ("未解除", "Open"), "resolved": ("已解除", "Resolved"),
                                   "acknowledged": ("已确认", "Acknowledged")}
# Where an alert stands in the loop from alert to closure (warehouse.ops.alert_loop), and its steps.
ALERT_STATES: dict[str, Name] = {"new": ("待派单", "Not yet dispatched"), "dispatched": ("已派单待处置", "Dispatched"),
                                 "handled": ("已处置待结案", "Handled"), "returned": ("已退回待处置", "Returned"),
                                 "closed": ("已结案", "Closed")}
ALERT_STEPS: dict[str, Name] = {"dispatch": ("派单", "Dispatched"), "handle": ("处置", "Handled"), "return": ("退回", "Returned"),
                                "close": ("结案评价", "Closed and evaluated"), "acknowledge": ("确认（旧）", "Acknowledged (before the loop)")}
OWNER_KINDS: dict[str, Name] = {"department": ("部门", "Department"), "district": ("区县", "District")}
DELIVERY_STATUSES: dict[str, Name] = {"accepted": ("已接收", "Accepted"), "partial": ("部分接收", "Partly accepted"),
                                      "rejected": ("整批拒收", "Rejected"), "superseded": ("已被更正", "Superseded")}
TICKET_STATUSES: dict[str, Name] = {"open": ("在办", "Open"), "closed": ("已办结", "Closed")}
# A feed's business date: "rejected" is a day whose every file was rejected (nothing usable arrived).
TIMELINESS: dict[str, Name] = {"on_time": ("按时", "On time"), "late": ("迟到", "Late"), "rejected": ("仅有被拒文件", "Only rejected files"),
                               "missing": ("缺失", "Missing")}
ROLES: dict[str, Name] = {
    "city_manager": ("市领导", "City manager"),
    "district_manager": ("区领导", "District manager"),
    "analyst": ("分析员", "Analyst"),
    "steward": ("部门数据专员", "Data steward"),
    "auditor": ("审计员（数据资源管理局）", "Auditor"),
    "admin": ("系统管理员", "Administrator"),
    "citizen": ("市民", "Citizen"),
}
# Dagster jobs the cockpit shows, and the states of a Dagster run (DagsterRunStatus).
JOBS: dict[str, Name] = {"daily_refresh": ("每日刷新", "Daily refresh"), "indicators_refresh": ("指标计算", "Indicator refresh"),
                         "__ASSET_JOB": ("手动物化", "Manual materialisation")}  # Dagster's job for assets launched by hand
RUN_STATES: dict[str, Name] = {
    "QUEUED": ("排队中", "Queued"), "NOT_STARTED": ("未开始", "Not started"), "MANAGED": ("外部管理", "Managed"),
    "STARTING": ("启动中", "Starting"), "STARTED": ("运行中", "Running"), "SUCCESS": ("成功", "Succeeded"),
    "FAILURE": ("失败", "Failed"), "CANCELING": ("取消中", "Cancelling"), "CANCELED": ("已取消", "Cancelled"),
    "SUSPENDED": ("已挂起", "Suspended"),
}
# Units of the indicator catalog. In English a count needs no unit word.
UNITS: dict[str, Name] = {"人": ("人", "people"), "对": ("对", "couples"), "户": ("户", "entities"), "件": ("件", "items"),
                          "次": ("次", "uses"), "行": ("行", "rows"), "分": ("分", "points"), "%": ("%", "%"), "‰": ("‰", "‰")}
SCORE_FAMILIES: dict[str, Name] = {"vital": ("城市体征评分", "Vital signs score"), "sharing": ("数据共享健康度", "Data-sharing health score")}
PERIODS: dict[str, Name] = {"day": ("日", "Day"), "week": ("周", "Week"), "month": ("月", "Month"), "quarter": ("季", "Quarter")}
# What an entry of the access audit log records (cockpit and retention).
ACTIONS: dict[str, Name] = {
    "view_rejected_rows": ("查看被拒数据行", "Viewed rejected rows"),
    "download_rejected_rows": ("下载被拒数据行", "Downloaded rejected rows"),
    "purge_rejected_rows": ("按期限删除被拒数据行", "Purged rejected rows"),
    "audit_search": ("审计查询", "Audit search"),
    "user_saved": ("新增或更新用户", "User added or updated"),
    "user_disabled": ("停用用户", "User disabled"),
    "user_enabled": ("启用用户", "User enabled"),
    "sign_in": ("登录", "Signed in"),
    "sign_out": ("退出", "Signed out"),
    "sign_in_failed": ("登录失败", "Sign-in failed"),
    "sign_in_refused": ("登录被拒（失败次数过多）", "Sign-in refused (too many failures)"),
    "alert_dispatch": ("预警派单", "Alert dispatched"),
    "alert_handle": ("预警处置", "Alert handled"),
    "alert_return": ("预警退回", "Alert returned"),
    "alert_close": ("预警结案评价", "Alert closed and evaluated"),
    # The analyst's console (pipeline-runs page): what was done to Dagster, by whom.
    "run_launch": ("启动运行", "Run launched"),
    "run_reexecute": ("重新执行运行", "Run re-executed"),
    "run_cancel": ("取消运行", "Run cancelled"),
    "backfill_launch": ("启动补算", "Backfill launched"),
    "backfill_cancel": ("取消补算", "Backfill cancelled"),
    "instigator_on": ("开启调度或传感器", "Schedule or sensor turned on"),
    "instigator_off": ("关闭调度或传感器", "Schedule or sensor turned off"),
    "schedule_time": ("修改调度时间", "Schedule time changed"),
}
# The pipeline's steps (Dagster op names), schedules and sensors, and the states Dagster
# reports for steps, ticks and backfills: named on the analyst's console.
STEPS: dict[str, Name] = {
    "ingest": ("接收数据", "Ingest deliveries"),
    "population__persons": ("人口库", "Population library"),
    "legal_person__entities": ("法人库", "Legal-person library"),
    "e_certificate__certificate_state": ("电子证照库", "E-certificate library"),
    "service__tickets": ("诉求工单库", "Service-request library"),
    "quality__consistency_findings": ("跨部门一致性核查", "Cross-department consistency checks"),
    "marts__dirty_days": ("标记待重算日期", "Mark days to recompute"),
    "marts__indicator_values": ("计算指标", "Compute indicators"),
    "marts__city_score": ("城市评分", "City score"),
    "marts__forecasts": ("预测", "Forecasts"),
    "marts__alerts": ("预警评估", "Evaluate alerts"),
    "marts__open_data": ("开放数据导出", "Open-data export"),
    "serving__snapshot": ("发布快照", "Publish the snapshot"),
}
INSTIGATORS: dict[str, Name] = {
    "daily_after_deadline": ("每日刷新（报送截止后）", "Daily refresh (after the feeds' deadline)"),
    "landing_sensor": ("落地区传感器", "Landing-zone sensor"),
    "indicators_after_refresh": ("刷新后计算指标", "Indicators after each refresh"),
}
# Dagster's verdict on an asset against its freshness policy (the analyst's console).
FRESHNESS: dict[str, Name] = {
    "HEALTHY": ("按时", "On time"), "WARNING": ("即将超时", "Nearly late"), "DEGRADED": ("已超时", "Late"),
    "UNKNOWN": ("尚未评估", "Not judged yet"), "NOT_APPLICABLE": ("无时限要求", "No deadline"),
}
# The pipeline's stages as the console's freshness table names them (feeds by their own names).
STAGES: dict[str, Name] = {
    "libraries": ("专题库", "Thematic libraries"), "indicators": ("指标与预警", "Indicators and alerts"),
    "forecasts": ("预测", "Forecasts"), "publish": ("发布到驾驶舱", "Published to the cockpit"),
}
STEP_STATES: dict[str, Name] = {
    "SUCCESS": ("成功", "Succeeded"), "FAILURE": ("失败", "Failed"), "SKIPPED": ("跳过", "Skipped"),
    "IN_PROGRESS": ("进行中", "In progress"), "NOT_STARTED": ("未开始", "Not started"),
}
TICK_STATES: dict[str, Name] = {
    "STARTED": ("进行中", "In progress"), "SKIPPED": ("无需运行", "Nothing to do"), "SUCCESS": ("已发起运行", "Run requested"),
    "FAILURE": ("出错", "Error"),
}
BACKFILL_STATES: dict[str, Name] = {
    "REQUESTED": ("进行中", "In progress"), "COMPLETED": ("已完成", "Completed"), "COMPLETED_SUCCESS": ("已完成", "Completed"),
    "COMPLETED_FAILED": ("完成但有失败", "Completed with failures"), "FAILED": ("失败", "Failed"), "FAILING": ("失败中", "Failing"),
    "CANCELING": ("取消中", "Cancelling"), "CANCELED": ("已取消", "Cancelled"),
}
TIMEZONES: dict[str, Name] = {"Asia/Shanghai": ("北京时间", "China Standard Time (UTC+8)"), "UTC": ("协调世界时", "UTC")}
LEGAL_BASES: dict[str, Name] = {
    "statutory_duty": ("履行法定职责（《个人信息保护法》第十三条第一款第三项）", "Statutory duty (PIPL Art. 13(1)(3))"),
    "data_correction": ("更正不准确的数据（《个人信息保护法》第四十六条）", "Correcting inaccurate data (PIPL Art. 46)"),
    "retention": ("保存期限届满依法删除（《个人信息保护法》第四十七条）", "Deletion when the retention period ends (PIPL Art. 47)"),
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
    from warehouse.marts.indicators.compute import catalog

    return {i.id: (i.name_zh, i.name_en) for i in catalog()}


def _departments() -> dict[str, Name]:
    return {**STEWARD_DEPARTMENTS, **REQUEST_HANDLERS}


KINDS: dict[str, Callable[[], Mapping[str, Name]]] = {
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
    "delivery_status": lambda: DELIVERY_STATUSES,
    "ticket_status": lambda: TICKET_STATUSES,
    "timeliness": lambda: TIMELINESS,
    "role": lambda: ROLES,
    "job": lambda: JOBS,
    "run_state": lambda: RUN_STATES,
    "unit": lambda: UNITS,
    "indicator": _indicators,
    "category": lambda: REQUEST_CATEGORIES,
    "score_family": lambda: SCORE_FAMILIES,
    "period": lambda: PERIODS,
    "action": lambda: ACTIONS,
    "legal_basis": lambda: LEGAL_BASES,
    "step": lambda: STEPS,
    "instigator": lambda: INSTIGATORS,
    "step_state": lambda: STEP_STATES,
    "freshness": lambda: FRESHNESS,
    "stage": lambda: STAGES,
    "tick_state": lambda: TICK_STATES,
    "backfill_state": lambda: BACKFILL_STATES,
    "timezone": lambda: TIMEZONES,
}


def names(kind: str) -> Mapping[str, Name]:
    """Every code of ``kind`` with its (Chinese, English) name."""
    return KINDS[kind]()


def pair(kind: str, code: str | None) -> Name | None:
    """The (Chinese, English) name of ``code``, or None when the registry has none.

    Two kinds are composed: a rule per indicator (``threshold:pop.births``) is named after
    its indicator, and an ``owner`` is a department or a district."""
    if code is None or code != code:  # None, or a missing value (NaN) from a data frame
        return None
    if kind == "owner":
        return pair("department", code) or pair("district", code)
    if kind == "rule" and code not in _RULES and ":" in code:
        prefix, indicator = code.split(":", 1)
        frame, of = _INDICATOR_RULES.get(prefix), pair("indicator", indicator)
        return (frame[0].format(of[0]), frame[1].format(of[1])) if frame and of else None
    return names(kind).get(code)


def name(kind: str, code: str | None, lang: str) -> str:
    """``code``'s name in ``lang`` ('zh' or 'en'); an unknown code is shown as itself (a test
    checks that none the warehouse produces is unknown)."""
    found = pair(kind, code)
    if found is None:
        return "" if code is None or code != code else str(code)
    return found[1] if lang == "en" else found[0]


# ---------------------------------------------------------------------------- messages

MESSAGES: dict[str, Name] = {
    # Alerts (marts.alerts.message_key).
    "feed_missing": ("{department:department}「{feed:feed}」{day} 的数据截至 {deadline} 仍未报送",
                     "{department:department}: {feed:feed} for {day} not delivered by {deadline}"),
    "deceased_with_valid_certificate": ("{persons} 名已故人员仍持有 {certificates} 件有效证照",
                                        "Deceased persons still holding valid certificates: {persons}; their certificates: {certificates}"),
    "death_not_deregistered": ("{count} 名卫健委已报死亡人员超过30天仍未销户",
                               "Still on the household register 30 days after health reported the death: {count}"),
    "consistency": ("{count} 条跨部门不一致：{rule:finding}", "Cross-department check, {rule:finding}: {count}"),
    "threshold_below": ("{indicator:indicator} {value}{unit:unit}，低于预警线 {level}{unit:unit}",
                        "{indicator:indicator} {value} {unit:unit}, below the warning level of {level} {unit:unit}"),
    "threshold_above": ("{indicator:indicator} {value}{unit:unit}，高于预警线 {level}{unit:unit}",
                        "{indicator:indicator} {value} {unit:unit}, above the warning level of {level} {unit:unit}"),
    "threshold_below_critical": ("{indicator:indicator} {value}{unit:unit}，低于警戒线 {level}{unit:unit}",
                                 "{indicator:indicator} {value} {unit:unit}, below the critical level of {level} {unit:unit}"),
    "threshold_above_critical": ("{indicator:indicator} {value}{unit:unit}，高于警戒线 {level}{unit:unit}",
                                 "{indicator:indicator} {value} {unit:unit}, above the critical level of {level} {unit:unit}"),
    "forecast_below": ("{indicator:indicator} 预计自 {day} 起可能低于预警线 {level}{unit:unit}（80% 预测区间下限 {bound}{unit:unit}）",
                       "{indicator:indicator} may fall below the warning level of {level} {unit:unit} from {day} "
                       "(80% forecast bound {bound} {unit:unit})"),
    "forecast_above": ("{indicator:indicator} 预计自 {day} 起可能高于预警线 {level}{unit:unit}（80% 预测区间上限 {bound}{unit:unit}）",
                       "{indicator:indicator} may rise above the warning level of {level} {unit:unit} from {day} "
                       "(80% forecast bound {bound} {unit:unit})"),
    "forecast_below_critical": ("{indicator:indicator} 预计自 {day} 起可能低于警戒线 {level}{unit:unit}（95% 预测区间下限 {bound}{unit:unit}）",
                                "{indicator:indicator} may fall below the critical level of {level} {unit:unit} from {day} "
                                "(95% forecast bound {bound} {unit:unit})"),
    "forecast_above_critical": ("{indicator:indicator} 预计自 {day} 起可能高于警戒线 {level}{unit:unit}（95% 预测区间上限 {bound}{unit:unit}）",
                                "{indicator:indicator} may rise above the critical level of {level} {unit:unit} from {day} "
                                "(95% forecast bound {bound} {unit:unit})"),
    "anomaly": ("{indicator:indicator} {value}{unit:unit}，常态约 {usual}{unit:unit}",
                "{indicator:indicator} {value} against a usual {usual} on comparable days"),
    # Deliveries (ingest.deliveries.error_key).
    "rows_rejected": ("共 {rows_read} 行，拒收 {rejected} 行：原因见“拒收原因”，数据行可在“被拒数据行”中查看",
                      "Rows rejected: {rejected} of {rows_read}; see the rejection reasons, and the rows under Rejected rows"),
    "empty_file": ("文件为空：CSV 文件至少要有表头行", "the file is empty: a CSV delivery needs at least its header row"),
    "bad_header": ("表头行无法按 CSV 解析", "the header row cannot be parsed as CSV: {detail}"),
    "empty_column_name": ("表头行有空的列名", "the header row has an empty column name"),
    "duplicate_columns": ("表头中有重复的列：{columns}", "column(s) {columns} appear more than once in the header"),
    "missing_columns": ("缺少必填列：{columns}；应有的列：{expected}",
                        "required column(s) missing: {columns}; expected columns: {expected}"),
    "utf16": ("文件为 UTF-16 编码：请以 UTF-8 或 GB18030 报送", "the file is UTF-16: deliver UTF-8 or GB18030"),
    "not_decodable": ("文件无法按 {encoding} 读取", "the file could not be read as {encoding}"),
    "unknown_encoding": ("文件既不是 UTF-8 也不是 GB18030（第 {offset} 字节无法解码）；请以 UTF-8 重新导出",
                         "the file is neither UTF-8 nor GB18030 (first undecodable byte at offset {offset}); re-export it as UTF-8"),
    "csv_unparseable": ("文件无法按 CSV 解析", "the file cannot be parsed as CSV: {detail}"),
    "jsonl_unreadable": ("文件无法按逐行 JSON 格式读取", "the file cannot be read as JSON lines: {detail}"),
    "parquet_unreadable": ("文件不是可读的 Parquet 文件", "the file is not readable Parquet: {detail}"),
    "file_unreadable": ("文件无法读取", "the file cannot be read: {detail}"),
    "manifest_unreadable": ("清单 {manifest} 不是可读的 JSON 对象", "the manifest {manifest} is not a readable JSON object: {detail}"),
    "manifest_mismatch": ("清单与文件不符：{problems:manifest_problems}", "{problems:manifest_problems}"),
    "not_a_feed": ("「{path}」不在任何已知数据集的报送目录下",
                   "'{path}' is not under landing/<department>/<feed>/<YYYY-MM-DD>/ of a known feed"),
    "not_a_business_date": ("目录「{folder}」不是业务日期（年-月-日）", "folder '{folder}' is not a business date (YYYY-MM-DD)"),
    "not_a_format": ("「{file}」不是 .csv、.jsonl 或 .parquet 文件", "'{file}' is not a .csv, .jsonl or .parquet file"),
}
# Parts of a manifest mismatch, joined by the formatter.
_MANIFEST_PROBLEMS: dict[str, Name] = {
    "rows": ("清单写 {said} 行，文件有 {found} 行", "manifest says {said} rows, the file has {found}"),
    "sha256": ("清单校验值 {said}… 与文件的 {found}… 不同", "manifest sha256 {said}… differs from the file's {found}…"),
}


class _Formatter(string.Formatter):
    """str.format where a field's format spec may name a kind: ``{feed:feed}`` gives the feed's name."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value, format_spec: str) -> str:
        if format_spec == "manifest_problems":
            sep = "；" if self.lang == "zh" else "; "
            return sep.join(self.format(_MANIFEST_PROBLEMS[p["kind"]][self.lang == "en"], **p) for p in value)
        if format_spec in KINDS or format_spec in ("owner",):
            return name(format_spec, value, self.lang)
        return super().format_field(value, format_spec)


def render(key: str | None, params: Mapping | str | None, lang: str, fallback: str = "") -> str:
    """A stored message in ``lang``: template ``key`` filled with ``params`` (a mapping or its
    JSON text). ``fallback`` (the stored text) is used when there is no key, as in a warehouse
    built before messages were templates."""
    template = MESSAGES.get(key or "")
    if template is None:
        return fallback
    values = json.loads(params) if isinstance(params, str) else dict(params or {})
    try:
        return _Formatter(lang).format(template[1] if lang == "en" else template[0], **values)
    except (KeyError, IndexError, ValueError):  # parameters of another version of the template
        return fallback
