"""The column tables of ``docs/feeds.md``, generated from the contract so they never drift.

``python -m warehouse.contract.docs docs/feeds.md`` rewrites the block between the markers;
``tests/test_docs.py`` fails when the committed block is not what the contract says.
"""

from __future__ import annotations

import sys
from pathlib import Path

from warehouse.contract.feeds import FEEDS, Column, Feed

BEGIN = "<!-- generated from warehouse/contract: feed columns -->"
END = "<!-- end of generated feed columns -->"

KINDS: dict[str, str] = {
    "text": "文本 text",
    "id_number": "身份号码 identity number (GB 11643)",
    "uscc": "统一社会信用代码 credit code (GB 32100)",
    "date": "日期 date",
    "timestamp": "时间 timestamp",
    "code": "代码 code",
    "district": "区县代码 district (§4)",
    "number": "数值 number",
    "holder_id": "身份号码或信用代码 identity number or credit code",
    "handler": "承办单位：部门代码或区县代码 handling department or district code",
    "rating": "整数 1–5 integer 1–5",
}
_LISTED = 12  # longer code lists are summarised by their first and last codes


def _values(c: Column) -> str:
    if not c.codes:
        return ""
    if len(c.codes) <= _LISTED:
        return ", ".join(f"`{v}`" for v in c.codes)
    return f"{len(c.codes)} 个代码 codes: `{c.codes[0]}` … `{c.codes[-1]}`"


def _deadline(hours: int) -> str:
    days, hour = divmod(hours, 24)
    return f"截止 业务日期后第 {days} 天 {hour:02d}:00 · due by {hour:02d}:00 on the business date + {days} day(s)"


def feed_table(feed: Feed) -> str:
    """One feed's columns as a Markdown table, with its staging table and event key."""
    rows = [
        f"#### `{feed.id}` {feed.title_zh} · {feed.title_en}",
        f"键 key `{feed.key}` · 暂存表 staging table `staging.{feed.name}` · {_deadline(feed.deadline_hours)}",
        "",
        "| 字段 column | 类型 kind | 必填 required | 取值 values |",
        "|---|---|---|---|",
    ]
    for c in feed.columns:
        required = "是 yes" if c.required else "否 optional"
        if c.only_on:
            only = ", ".join(f"`{e}`" for e in c.only_on)
            required = f"{'仅' if c.required else '可选，仅'} {only} · {'only' if c.required else 'optional, only'} on {only}"
        kind = KINDS[c.kind] + (", 不晚于业务日期 not after the business date" if c.event_date else "")
        rows.append(f"| `{c.name}` | {kind} | {required} | {_values(c)} |")
    return "\n".join(rows)


def feed_tables() -> str:
    """Every feed's table, in contract order, between the markers."""
    return "\n\n".join([BEGIN, *(feed_table(f) for f in FEEDS), END])


def current_block(text: str) -> str:
    """The generated block as it stands in a document."""
    return text[text.index(BEGIN) : text.index(END) + len(END)]


def rewrite(path: Path) -> None:
    """Replace the generated block of ``path`` with what the contract says now."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(current_block(text), feed_tables()), encoding="utf-8")


if __name__ == "__main__":
    rewrite(Path(sys.argv[1]))
