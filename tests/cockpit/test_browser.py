"""The cockpit served for real and driven in headless Chromium (Debian's, through Playwright):
every role signs in, opens what it may, is refused the rest, and uses the pages."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import dash
import duckdb
import pytest
from browsing import Session, expect
from helpers import CITIZENS, EVIL, USERS, served

from cockpit.app import create_app
from cockpit.figures.city_map import GEOJSON_PATH
from cockpit.roles import Principal
from warehouse.contract import labels
from warehouse.contract.city import load_city
from warehouse.contract.feeds import FEEDS
from warehouse.marts.indicators.catalog import overview
from warehouse.ops.store import OpsStore
from warehouse.settings import Settings
from warehouse.storage.home import Home

pytestmark = pytest.mark.browser
REFUSED = "无权访问此页面"


def _pages_of(role: str, scope: str | None = None) -> dict[str, bool]:
    """Every page (its path) and whether ``role`` may open it, as each page declares where it is registered."""
    who = Principal("someone", role, scope)
    return {p["path"]: who.may_open(p["path"]) for p in dash.page_registry.values() if p.get("allowed")}


@pytest.fixture(scope="module")
def cockpit_url(home: Path) -> Iterator[str]:
    # Nothing listens on this port: the pipeline-runs page must say Dagster is not running.
    app = create_app(Home.resolve(home), Settings(dagster_url="http://127.0.0.1:9"))
    with served(app.server) as url:
        yield url


@pytest.mark.parametrize("user", sorted(USERS))
def test_each_role_opens_its_pages_and_is_refused_the_others(session, user: str) -> None:
    role, scope = USERS[user]
    s = session(user)
    assert s.page.url.endswith(Principal(user, role, scope).home_page())
    nav = s.page.locator("nav a").all_inner_texts()
    pages = _pages_of(role, scope)
    assert len(nav) == sum(pages.values())
    for path, opens in pages.items():
        s.open(path)
        if opens:
            assert REFUSED not in s.page.inner_text("#_pages_content"), path
        else:
            assert REFUSED in s.page.inner_text("#_pages_content"), path
    s.assert_clean()


def _inside_district(s: Session, graph: str, code: str) -> dict:
    """A point of the screen inside ``code``'s shape on the map ``graph``, clear of its label,
    where a person would click."""
    s.page.locator(graph).scroll_into_view_if_needed()
    s.settle()  # the map redraws after each drill-down: click the drawn one
    point = s.page.evaluate(DISTRICT_POINT_JS, [graph, code])
    assert point, f"{code} is not drawn on {graph}"
    return point


# Plotly binds each drawn shape to its datum (``loc``: the district code); sample the shape's
# box for points well inside its fill (their neighbours inside too), no label over them, and
# take the one nearest the middle of those.
DISTRICT_POINT_JS = """([graph, code]) => {
  const path = Array.from(document.querySelectorAll(`${graph} path.choroplethlocation`)).find(p => p.__data__ && p.__data__.loc === code);
  if (!path) return null;
  const box = path.getBBox(), toScreen = path.getScreenCTM(), n = 24;
  const inside = (i, j) => path.isPointInFill(new DOMPoint(box.x + box.width * i / n, box.y + box.height * j / n));
  const good = [];
  for (let i = 1; i < n; i++) for (let j = 1; j < n; j++) {
    if (!(inside(i, j) && inside(i - 1, j) && inside(i + 1, j) && inside(i, j - 1) && inside(i, j + 1))) continue;
    const screen = new DOMPoint(box.x + box.width * i / n, box.y + box.height * j / n).matrixTransform(toScreen);
    const top = document.elementFromPoint(screen.x, screen.y);
    if (top && top.tagName !== 'text') good.push(screen);
  }
  if (!good.length) return null;
  const mx = good.reduce((a, p) => a + p.x, 0) / good.length, my = good.reduce((a, p) => a + p.y, 0) / good.length;
  const best = good.reduce((a, p) => (Math.hypot(p.x - mx, p.y - my) < Math.hypot(a.x - mx, a.y - my) ? p : a));
  return {x: best.x, y: best.y};
}"""
MAP_DRAWN_JS = "() => document.querySelectorAll('#ov-map path.choroplethlocation').length > 0"


def test_a_city_manager_drills_down_by_list_and_by_map(session) -> None:
    s = session("boss")
    s.page.wait_for_selector(".kpi")
    assert "杭州市" in s.page.inner_text("#ov-score")
    s.choose("#ov-pick", "西湖区")
    expect(s.page.locator("#ov-score")).to_contain_text("西湖区")
    # Click 上城区 where a person would: on its shape in the enlarged centre (it is tiny on the
    # whole city's map); the overview then shows it, and the list names it.
    s.page.wait_for_function(MAP_DRAWN_JS)
    point = _inside_district(s, "#ov-map-centre", "330102")
    s.page.mouse.click(point["x"], point["y"])
    expect(s.page.locator("#ov-score")).to_contain_text("上城区")
    expect(s.page.locator("#ov-pick")).to_have_value("上城区")
    # Service leads: the 12345 cards come first, then the registries; requests by category beside them.
    cards = s.page.locator(".kpi").evaluate_all("els => els.map(e => e.dataset.indicator)")
    assert cards == [i.id for i in overview()]
    assert s.page.locator("#ov-categories .bars .point").count() > 0
    # And 淳安县 on the whole city's map; where a chart has nothing to show, it says so.
    point = _inside_district(s, "#ov-map", "330127")
    s.page.mouse.click(point["x"], point["y"])
    expect(s.page.locator("#ov-score")).to_contain_text("淳安县")
    s.settle()
    assert s.page.locator("#ov-categories .bars .point").count() > 0 or "暂无记录" in s.page.inner_text("#ov-categories")
    s.assert_clean()
    # The city's open alerts each say where first, and lead to the alert page.
    s.open("/")
    expect(s.page.locator("#ov-all-alerts")).to_have_attribute("href", "/alerts")
    places = ["杭州市", *(d.name for d in load_city().districts)]
    for line in s.page.locator("#ov-alerts li:not(.ticker-copy)").all_inner_texts():
        assert line.split("：", 1)[0] in places, line
    # An address the cockpit does not have is answered in the reader's language, with the way back.
    s.open("/no-such-page")
    expect(s.page.locator("#_pages_content")).to_contain_text("没有这个页面")
    expect(s.page.get_by_role("link", name="回到首页")).to_have_attribute("href", "/")



def test_a_past_day_shows_the_cockpit_as_it_stood_and_a_card_leads_to_the_deliveries(session, past_day: str) -> None:
    """Pick a day in the header: a banner says it is a historical view of that day, every page
    reads that day's snapshot until "back to today"; a card of the overview (after drilling
    down to a district) leads to its indicator's definition, history and source files."""
    s = session("boss")
    s.page.wait_for_selector(".kpi")
    assert s.page.locator(".tt-banner").count() == 0
    s.page.fill("#tt-day", past_day)  # typed, as a person may, or picked in the calendar
    s.page.press("#tt-day", "Enter")
    banner = s.page.locator(".tt-banner")
    y, m, d = (int(x) for x in past_day.split("-"))
    expect(banner).to_contain_text(f"历史视图：您看到的是{y}年{m}月{d}日日终时的驾驶舱")
    expect(s.page.locator("#ov-asof")).to_contain_text(f"数据截至 {past_day} 07:00")
    assert s.page.input_value("#tt-day") == past_day
    s.page.get_by_role("link", name="预警", exact=True).click()
    s.page.wait_for_selector("#al-table")
    expect(banner).to_be_visible()
    s.page.get_by_role("button", name="回到最新").click()
    s.page.wait_for_url("**/alerts?day=today")
    s.page.wait_for_selector("#al-table")
    expect(banner).to_have_count(0)
    # The overview drilled down to 西湖区; its first card leads to the sources of its value.
    s.open("/")
    s.choose("#ov-pick", "西湖区")
    expect(s.page.locator("#ov-score")).to_contain_text("西湖区")
    s.page.wait_for_function(MAP_DRAWN_JS)
    s.settle()
    s.page.locator(".kpi-link").first.click()
    s.page.wait_for_url("**/trace?area=330106&indicator=svc.requests")
    expect(s.page.locator("#tr-path")).to_contain_text("杭州市 › 西湖区 › 诉求受理量 › ")
    expect(s.page.locator("#tr-def")).to_contain_text("责任部门：12345政务服务便民热线")
    s.page.wait_for_selector("#tr-sources .ag-cell")
    cells = s.page.locator("#tr-sources .ag-cell").all_inner_texts()
    assert "12345政务服务便民热线" in cells and any(c.startswith("service_requests") for c in cells)
    s.assert_clean()

# The maps keep their height and end before the scores and cards start (below them, or beside).
MAPS_CLEAR_JS = """() => { const m = document.querySelector('.ov-maps').getBoundingClientRect();
  const next = Array.from(document.querySelectorAll('.ov-side, #ov-kpis')).map(e => e.getBoundingClientRect());
  return m.height >= 300 && next.every(b => b.top >= m.bottom - 1 || b.left >= m.right - 1); }"""


def test_the_map_draws_the_real_districts_named_in_the_readers_language_and_offline(session, cockpit_url: str) -> None:
    """Thirteen district shapes from the real boundaries, each named once in the reader's
    language (the small central ones in the enlarged view), with a colour scale that says what
    1.0 means; every request stays on the cockpit's host (no tile, font or base-map server)."""
    city = load_city()
    s = session("boss")
    for lang, names in (("zh", [d.name for d in city.districts]), ("en", [d.name_en for d in city.districts])):
        s.context.add_cookies([{"name": "cb_lang", "value": lang, "url": cockpit_url}])
        s.open("/")
        s.page.wait_for_function(MAP_DRAWN_JS)
        s.settle()
        assert s.page.locator("#ov-map path.choroplethlocation").count() == 13
        assert s.page.locator("#ov-map-centre path.choroplethlocation").count() == 13
        # Each name with its score under it (the vital-signs score, two decimals).
        named = {m: [re.fullmatch(r"(.+?)(\d\.\d\d)?", x) for x in s.page.locator(f"{m} .scattergeo text").all_text_contents()]
                 for m in ("#ov-map", "#ov-map-centre")}
        assert any(x.group(2) for xs in named.values() for x in xs), "no district's score on the map"
        labels, centre = ([x.group(1) for x in named[m]] for m in ("#ov-map", "#ov-map-centre"))
        assert sorted(set(labels) | set(centre)) == sorted(names), (labels, centre)
        assert len(labels) == len(set(labels)), "a district named twice on one map"
        scale = " ".join(s.page.locator("#ov-map .colorbar text").all_text_contents())
        assert ("1.0 = 达到目标" if lang == "zh" else "1.0 = on target") in scale
        assert s.page.evaluate(MAPS_CLEAR_JS), "the maps collapsed onto what follows them"
    # On a phone too, load after load (the maps once collapsed on about half the loads).
    s.page.set_viewport_size({"width": 390, "height": 844})
    for _ in range(3):
        s.open("/")
        s.page.wait_for_function(MAP_DRAWN_JS)
        s.settle()
        assert s.page.evaluate(MAPS_CLEAR_JS), "the maps collapsed onto what follows them (phone)"
    hosts = {urlsplit(u).netloc for u in s.requests if not u.startswith(("data:", "blob:"))}
    assert hosts == {urlsplit(cockpit_url).netloc}, hosts
    # The boundaries the maps fetch are simplified: small enough for a phone.
    served = s.page.request.get(f"{cockpit_url}{GEOJSON_PATH}")
    assert served.ok and len(served.body()) < 100_000
    s.assert_clean()


# Contrast ratio (WCAG) of an element's text against the first opaque background behind it.
CONTRAST_JS = r"""(el) => {
  const rgb = c => (c.match(/[\d.]+/g) || []).map(Number);
  const fg = rgb(getComputedStyle(el).color);
  let bg = [255, 255, 255];
  for (let e = el; e; e = e.parentElement) {
    const c = rgb(getComputedStyle(e).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) { bg = c; break; }
  }
  const lum = c => c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
                             .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
  return (hi + 0.05) / (lo + 0.05);
}"""
NO_VERTICAL_SCROLL_JS = "() => document.scrollingElement.scrollHeight <= window.innerHeight"
NO_HORIZONTAL_SCROLL_JS = "() => document.scrollingElement.scrollWidth <= window.innerWidth"


def test_the_wall_screen_shows_the_overview_on_one_screen_in_dark_mode(session, cockpit_url: str) -> None:
    s = session("boss", viewport=(1920, 1080))
    s.context.add_cookies([{"name": "cb_theme", "value": "dark", "url": cockpit_url}])
    for lang in ("en", "zh"):  # English words are longer: it has to fit too
        s.context.add_cookies([{"name": "cb_lang", "value": lang, "url": cockpit_url}])
        s.open("/")
        s.page.wait_for_selector(".shell.dark .kpi")
        s.page.wait_for_function(MAP_DRAWN_JS)
        s.settle()
        assert s.page.evaluate(NO_VERTICAL_SCROLL_JS), f"the wall screen scrolls ({lang})"
        assert s.page.evaluate(NO_HORIZONTAL_SCROLL_JS)
        assert s.page.evaluate("() => { const side = document.querySelector('.ov-side'); return side.scrollHeight <= side.clientHeight; }"), \
            f"the scores and alerts do not fit beside the map ({lang})"
        # Map, scores, alerts and key indicators all on the screen.
        for part in ("#ov-map", "#ov-map-centre", "#ov-score", "#ov-alerts", "#ov-kpis"):
            box = s.page.locator(part).bounding_box()
            assert box and box["y"] + box["height"] <= 1080 + 1, (part, lang)
    # The district list is readable in the dark: its shown value and its opened options.
    shown = s.page.locator("#ov-pick")
    expect(shown).to_have_value(re.compile("全市"))
    assert shown.evaluate(CONTRAST_JS) >= 4.5
    s.page.click("#ov-pick")
    option = s.page.get_by_role("option", name="西湖区", exact=True)
    option.wait_for()
    assert option.evaluate(CONTRAST_JS) >= 4.5
    option.click()
    expect(s.page.locator("#ov-score")).to_contain_text("西湖区")
    s.assert_clean()

def test_an_analyst_compares_districts_and_downloads_csv(session) -> None:
    s = session("ana")
    s.page.wait_for_selector("#ex-graph .main-svg")
    s.choose("#ex-dist", "西湖区")
    s.page.locator("#ex-graph .scatterlayer .trace").nth(1).wait_for()
    assert "责任部门" in s.page.inner_text("#ex-defs")
    # The city apart from its districts, each panel headed, every line named in the legend, dates in Chinese.
    graph = s.page.locator("#ex-graph")
    expect(graph.locator(".legendtext")).to_have_count(2)
    assert sorted(graph.locator(".legendtext").all_text_contents()) == ["全市", "西湖区"]
    headings = graph.locator(".annotation-text").all_text_contents()
    assert any(h.startswith("电子证照用证次数（次） · 全市") for h in headings), headings
    assert any(h.startswith("电子证照用证次数（次） · 各区县") for h in headings), headings
    assert any("月" in tick for tick in graph.locator(".xtick text").all_text_contents())
    s.choose("#ex-ind", "网上及移动端用证占比")
    expect(graph.locator(".annotation-text", has_text="网上及移动端用证占比（%） · 全市")).to_have_count(1)
    assert any(tick.endswith("%") for tick in graph.locator(".ytick text").all_text_contents())  # shares as percentages
    expect(s.page.locator(".mantine-MultiSelect-root:has(#ex-ind) .mantine-MultiSelect-pill")).to_have_text(
        ["电子证照用证次数", "网上及移动端用证占比"])
    with s.page.expect_download() as download:
        s.page.click("#ex-download-btn")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert {r["district_code"] for r in rows} == {"330100", "330106"}
    assert {r["indicator_id"] for r in rows} == {"cert.usage", "cert.online_share"}
    assert {r["指标"] for r in rows} == {"电子证照用证次数", "网上及移动端用证占比"} and {r["单位"] for r in rows} == {"次", "%"}
    s.assert_clean()


def _take_step(s: Session, alert: tuple[str, str], button: str, *, owner: str | None = None, due: str | None = None,
               note: str | None = None, rating: str | None = None) -> None:
    """On the alerts page: find the alert (by its id, which the search still takes though no
    column shows it), choose it, fill in the step and confirm it in the page."""
    alert_id, text = alert
    s.page.fill("#al-search", alert_id)
    s.page.keyboard.press("Enter")
    summary = s.page.locator("#al-summary")
    expect(summary).to_contain_text(alert_id)  # the search is applied (a click before it lands would be undone)
    expect(summary).to_contain_text("共 1 条")
    s.page.locator("#al-table .ag-row", has_text=text).locator("[col-id=message]").click()
    expect(s.page.locator("#al-detail")).to_contain_text(text)
    expect(s.page.locator(f"{button}:not([disabled])")).to_be_visible()
    if owner:
        s.choose("#al-owner", owner)
    if due:
        s.choose("#al-due", due)
    if rating:
        s.choose("#al-rating", rating)
    if note:
        s.page.fill("#al-note", note)
    s.page.click(button)
    expect(s.page.get_by_role("dialog")).to_be_visible()
    assert not HEX_ID.search(s.page.get_by_role("dialog").inner_text())  # the confirmation names the alert in words
    s.page.click("#al-yes")
    expect(s.page.get_by_role("dialog")).to_be_hidden()


HEX_ID = re.compile(r"\b[0-9a-f]{16}\b")


def _first_new_alert(s: Session, home: Path, district: str | None = None) -> tuple[str, str]:
    """The first alert in the city manager's queue not yet in the loop (of ``district``): its id,
    found in the warehouse from what the row shows (no column shows an id), and its message."""
    s.page.wait_for_selector("#al-table .ag-row")
    rows = s.page.locator("#al-table .ag-row", has_text="待派单")
    if district:
        rows = rows.filter(has_text=district)
    cells = [c.strip() for c in rows.first.locator(".ag-cell").all_inner_texts()]
    assert not any(HEX_ID.search(c) for c in cells), cells
    date, district_name, rule, text = (rows.first.locator(f"[col-id={c}]").inner_text().strip()
                                       for c in ("date", "district_code", "rule_id", "message"))
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    found = [a for a, k, p, m, d, r, day in con.execute(
        "SELECT alert_id, message_key, message_params, message, district_code, rule_id, CAST(date AS VARCHAR) FROM marts.alerts").fetchall()
        if labels.render(k, p, "zh", m) == text and labels.name("district", d, "zh") == district_name
        and labels.name("rule", r, "zh") == rule and day == date]
    con.close()
    assert len(found) == 1, (cells, found)
    return found[0], text


def test_an_alert_goes_round_the_loop_dispatch_handle_close_and_return(session, home: Path) -> None:
    """As a duty officer would: the city manager dispatches an alert to Xihu with a time limit,
    Xihu's manager records what was done, the city manager closes it with an evaluation. A second
    alert goes to the police and comes back: returned, it waits on the police again."""
    boss = session("boss")
    boss.open("/alerts")
    first = _first_new_alert(boss, home)
    _take_step(boss, first, "#al-dispatch", owner="区县 · 西湖区", due="24 小时内", note="请核实并处置")
    expect(boss.page.locator("#al-result")).to_contain_text("已派单：")
    expect(boss.page.locator("#al-result")).to_contain_text("→ 西湖区")
    expect(boss.page.locator("#al-detail")).to_contain_text("已派单待处置")
    expect(boss.page.locator("#al-history")).to_contain_text("请核实并处置")

    xihu = session("xihu")
    xihu.open("/alerts")
    expect(xihu.page.locator("#al-table")).to_contain_text(first[1])  # in Xihu's queue, though not Xihu's own alert maybe
    _take_step(xihu, first, "#al-handle", note="已现场核查并处置")
    expect(xihu.page.locator("#al-result")).to_contain_text("已记录处置：")
    # The district manager may neither close nor return it.
    assert xihu.page.locator("#al-close").is_hidden() and xihu.page.locator("#al-return").is_hidden()

    boss.open("/alerts")
    _take_step(boss, first, "#al-close", rating="4 ★", note="处置及时")
    expect(boss.page.locator("#al-result")).to_contain_text("（4 分）")
    expect(boss.page.locator("#al-detail")).to_contain_text("已结案")  # the closed alert stays shown, with its history
    expect(boss.page.locator("#al-history")).to_contain_text("结案评价")
    history = boss.page.inner_text("#al-history")
    for who, step in (("boss", "派单"), ("xihu", "处置"), ("boss", "结案评价")):
        assert who in history and step in history, history
    assert "区领导" in history and "4 ★" in history
    # How owners perform: Xihu, one dispatch handled within its time limit and closed.
    perf = boss.page.locator("#al-perf")
    expect(perf).to_contain_text("西湖区")
    xihu_row = perf.locator(".ag-row", has_text="西湖区").locator(".ag-cell").all_inner_texts()
    assert xihu_row[:6] == ["区县", "西湖区", "1", "1", "1", "100%"] and xihu_row[7] == "1", xihu_row

    # The return path, with a department: the police steward handles, the city manager returns it.
    boss.open("/alerts")
    second = _first_new_alert(boss, home)
    _take_step(boss, second, "#al-dispatch", owner="部门 · 公安局", due="8 小时内")
    police = session("police")
    police.open("/alerts")
    _take_step(police, second, "#al-handle", note="已通知核查")
    boss.open("/alerts")
    _take_step(boss, second, "#al-return", note="未说明核查结果，请补充")
    expect(boss.page.locator("#al-result")).to_contain_text("已退回：")
    police.open("/alerts")
    expect(police.page.locator("#al-table .ag-row", has_text=second[1])).to_contain_text("已退回待处置")
    steps = [st["step"] for st in OpsStore(home).alert_steps(second[0])]
    assert steps == ["dispatch", "handle", "return"]
    # Every step is in the access audit log with who did it.
    logged = [(e["username"], e["action"]) for e in OpsStore(home).access_log(limit=50) if e["action"].startswith("alert_")]
    assert {("boss", "alert_dispatch"), ("xihu", "alert_handle"), ("boss", "alert_close"), ("police", "alert_handle"),
            ("boss", "alert_return")} <= set(logged)
    for s in (boss, xihu, police):
        s.assert_clean()


def test_an_overdue_dispatch_is_red_first_and_counted(session, home: Path) -> None:
    """An alert dispatched to Xihu whose time limit has passed: first in Xihu's queue, its row red
    and its time limit marked overdue, and the queue's summary counts it."""
    boss = session("boss")
    boss.open("/alerts")
    alert_id, text = _first_new_alert(boss, home)
    assert OpsStore(home).add_alert_step(alert_id, "dispatch", actor="boss", role="city_manager", scope=None,
                                         owner=("district", "330106"), due_at=dt.datetime.now() - dt.timedelta(days=2))
    xihu = session("xihu")
    xihu.open("/alerts")
    row = xihu.page.locator("#al-table .ag-row").first
    expect(row).to_contain_text(text)
    expect(row).to_have_class(re.compile(r"\boverdue\b"))
    expect(row.locator("[col-id=due_at]")).to_contain_text("（超期）")
    assert row.evaluate("e => getComputedStyle(e).color") == "rgb(207, 34, 46)"  # --crit
    expect(xihu.page.locator("#al-summary")).not_to_contain_text("超期未处置 0 条")
    xihu.assert_clean()


def test_a_steward_views_and_downloads_rejected_rows_and_markup_stays_text(session, home: Path) -> None:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    delivery = con.execute("SELECT delivery_id FROM ingest.deliveries WHERE file_name = 'extra.csv'").fetchone()[0]
    con.close()
    s = session("police")
    s.page.wait_for_selector("#in-timeliness .main-svg")
    # The timeliness grid: the feed by name, dated columns, a legend of its colours; the tallies beside it.
    grid = s.page.locator("#in-timeliness")
    assert grid.locator(".ytick text").all_text_contents() == ["户籍变动"]
    assert all("月" in tick for tick in grid.locator(".xtick text").all_text_contents())
    assert grid.locator(".legendtext").all_text_contents() == ["按时", "迟到", "仅有被拒文件", "缺失"]
    assert "整批拒收 " in s.page.inner_text(".tally")
    s.page.fill("#in-delivery", str(delivery))
    s.page.fill("#in-purpose", "核对后重新报送")
    s.choose("#in-basis", "更正不准确的数据（《个人信息保护法》第四十六条）")
    s.page.click("#in-view")
    s.page.wait_for_selector("#in-rows-table")
    # The name is shown as the literal text, and no script ran (a dialog would be recorded).
    assert EVIL in s.page.inner_text("#in-rows-table")
    assert s.page.locator("#in-rows-table script").count() == 0
    with s.page.expect_download() as download:
        s.page.click("#in-download-btn")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert EVIL in text and "unknown_district" in text
    s.assert_clean()
    # The person those rows name sees both accesses: when, which office, why, on which basis.
    zhang = session("zhang")
    assert zhang.page.url.endswith("/my-data")
    expect(zhang.page.locator("#md-table")).to_contain_text("核对后重新报送")
    table = zhang.page.inner_text("#md-table")
    assert table.count("核对后重新报送") == 2 and "公安局" in table and "更正不准确的数据" in table and "police" not in table
    expected = len(OpsStore(home).access_log(CITIZENS["zhang"]))
    assert zhang.page.locator("#md-table .ag-row").count() == expected
    zhang.assert_clean()
    other = session("li")
    expect(other.page.locator("#md-summary")).to_contain_text("尚无任何人访问过您的数据")


def test_an_auditor_searches_the_log_and_an_administrator_manages_users(session, cockpit_url, browser, home: Path) -> None:
    # A steward's earlier look at that person's rejected row, as the ingestion page logs it.
    OpsStore(home).log_access("police", "steward", "view_rejected_rows", delivery_id=1, rows=1,
                              id_numbers=["11010519491231002X"], purpose="核对")
    s = session("aud")
    s.open("/audit")
    s.page.fill("#au-id", "11010519491231002X")
    s.page.keyboard.press("Enter")
    s.settle()
    assert "police" in s.page.inner_text("#au-table"), "the steward's view of that person's row is in the log"
    s.open("/users")
    assert REFUSED in s.page.inner_text("#_pages_content")  # the auditor changes no user
    s = session("root")
    s.open("/users")
    s.page.fill("#us-name", "newbie")
    s.choose("#us-role", "分析员")
    s.page.fill("#us-password", "a long password")
    s.page.click("#us-save")
    expect(s.page.locator("#us-modal-text")).to_contain_text("新增用户 newbie")  # confirmed before anything is written
    assert OpsStore(home).user("newbie") is None
    s.page.click("#us-yes")
    expect(s.page.locator("#us-table")).to_contain_text("newbie")
    s.assert_clean()
    newbie = Session(browser, cockpit_url, "newbie")
    newbie.page.goto(f"{cockpit_url}/login")
    newbie.page.fill("input[name=username]", "newbie")
    newbie.page.fill("input[name=password]", "a long password")
    newbie.page.click("button[type=submit]")
    newbie.page.wait_for_load_state("networkidle")
    assert newbie.page.url.endswith("/explorer")
    newbie.close()


def test_the_runs_page_says_plainly_when_dagster_is_not_running(session) -> None:
    s = session("ana")
    s.open("/runs")
    expect(s.page.locator("#ru-status")).to_contain_text("无法连接调度服务")
    s.page.click("#ru-refresh")
    expect(s.page.locator("#ru-modal-text")).to_have_text("确定立即运行每日刷新？")  # asked in the page first
    s.page.click("#ru-yes")
    expect(s.page.locator("#ru-result")).to_contain_text("操作未完成")
    s.assert_clean()


def test_english_and_the_big_screen_mode_stick_across_pages(session) -> None:
    s = session("boss")
    s.page.click("#lang-switch")
    s.page.wait_for_load_state("networkidle")
    assert "Overview" in s.page.locator("nav").inner_text()
    s.page.wait_for_selector(".kpi")
    score = s.page.inner_text("#ov-score")
    assert "Vital signs score" in score and "Data-sharing health score" in score and "1.0 = on target" in score
    s.page.click("#theme-switch")
    s.page.wait_for_selector(".shell.dark .kpi")
    s.open("/explorer")
    assert s.page.locator(".shell.dark").count() == 1 and "Explorer" in s.page.locator("nav").inner_text()
    s.assert_clean()


def test_the_overview_fits_a_phone(session) -> None:
    s = session("xihu", viewport=(390, 844))
    s.page.wait_for_selector(".kpi")
    s.page.wait_for_function(MAP_DRAWN_JS)
    s.settle()
    assert s.page.evaluate(NO_HORIZONTAL_SCROLL_JS)
    assert "西湖区" in s.page.inner_text("#ov-score")
    # One column: each part spans the screen's width, none beside another, none wider than it.
    boxes = [s.page.locator(part).bounding_box() for part in ("#ov-map", "#ov-map-centre", "#ov-score", "#ov-alerts", "#ov-kpis")]
    assert all(b["x"] >= 0 and b["x"] + b["width"] <= 390 for b in boxes), boxes
    assert all(a["y"] + a["height"] <= b["y"] + 1 for a, b in zip(boxes, boxes[1:])), boxes
    assert s.page.locator("#ov-map path.choroplethlocation").count() == 13
    s.assert_clean()


# --------------------------------------------------------------------------- the widgets' own words

# What the third-party widgets say themselves, in each language: plotly's mode bar, AG Grid's
# filter menu and empty grid, the date pickers' month caption, weekdays and placeholders, and
# the browser tab's title.
WIDGET_WORDS = {
    "zh": {"download": "下载图片", "zoom": "缩放", "filter_button": "打开筛选菜单", "no_rows": "暂无记录",
           "operators": ["包含", "不包含", "等于", "不等于", "开头是", "结尾是", "为空", "不为空"],
           "caption": r"\d{4}年\d{1,2}月", "month": r"\d{1,2}月", "weekdays": ["周一", "周二", "周三", "周四", "周五", "周六", "周日"],
           "range": ["开始日期", "结束日期"], "day": "选择日期", "titles": ["指标分析 · 城市大脑 · 数字驾驶舱", "预警 · 城市大脑 · 数字驾驶舱"]},
    "en": {"download": "Download plot as a PNG", "zoom": "Zoom", "filter_button": "Open Filter Menu", "no_rows": "No records",
           "operators": ["Contains", "Does not contain", "Equals", "Does not equal", "Begins with", "Ends with", "Blank", "Not blank"],
           "caption": r"[A-Z][a-z]+ \d{4}", "month": r"[A-Z][a-z]+", "weekdays": ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"],
           "range": ["Start date", "End date"], "day": "Pick a day", "titles": ["Explorer · City Brain · Digital cockpit",
                                                                          "Alerts · City Brain · Digital cockpit"]},
}
CALENDAR = "[role=dialog] .dash-datepicker-calendar-wrapper"


def _calendar_words(s: Session, picker: str) -> tuple[list[str], list[str], str]:
    """Open the date picker whose input is ``picker``: the captions over its months (a range
    shows two months, each under its caption; a single day one, under the month list), the
    first month's weekday names, and the month chosen in its month list."""
    s.page.click(picker)
    s.page.wait_for_selector(CALENDAR)
    calendar = s.page.locator(CALENDAR)
    captions = calendar.locator(".dash-datepicker-calendar-month-header").all_inner_texts()
    weekdays = calendar.locator("table").first.locator("thead tr").last.locator("th").all_inner_texts()
    month = calendar.locator(".dash-dropdown-value").first.inner_text()
    s.page.keyboard.press("Escape")
    return captions, weekdays, month


def test_the_widgets_own_words_follow_the_pages_language(session, cockpit_url: str) -> None:
    analyst, steward = session("ana"), session("police")
    for lang, words in WIDGET_WORDS.items():
        for s in (analyst, steward):
            s.context.add_cookies([{"name": "cb_lang", "value": lang, "url": cockpit_url}])
        s = analyst
        s.open("/explorer")
        assert s.page.title() == words["titles"][0]
        # Plotly's mode bar: each button's tooltip is its data-title, shown on hover.
        s.page.wait_for_selector("#ex-graph .modebar-btn")
        s.page.hover("#ex-graph .modebar-btn >> nth=0")
        assert s.page.get_attribute("#ex-graph .modebar-btn >> nth=0", "data-title") == words["download"]
        tooltips = s.page.eval_on_selector_all("#ex-graph .modebar-btn", "bs => bs.map(b => b.getAttribute('data-title'))")
        assert words["zoom"] in tooltips and all(bool(CJK.search(t)) == (lang == "zh") for t in tooltips), tooltips
        # The date pickers: the explorer's range and the header's day.
        assert [s.page.get_attribute(f, "placeholder") for f in ("#ex-dates", "#ex-dates-end-date")] == words["range"]
        assert s.page.get_attribute("#tt-day", "placeholder") == words["day"]
        for picker, months in (("#ex-dates", 2), ("#tt-day", 0)):
            captions, weekdays, month = _calendar_words(s, picker)
            assert len(captions) == months and all(re.fullmatch(words["caption"], c) for c in captions), (picker, captions)
            assert re.fullmatch(words["month"], month) and weekdays == words["weekdays"], (picker, month, weekdays)
        # AG Grid's empty grid, and the tab's title after moving by the navigation.
        s.page.click("nav a[href='/alerts']")
        s.page.wait_for_selector("#al-table .ag-header-cell")
        expect(s.page).to_have_title(words["titles"][1])
        s.page.fill("#al-search", "no alert says this")
        s.page.keyboard.press("Enter")
        expect(s.page.locator("#al-table .ag-overlay-no-rows-center")).to_have_text(words["no_rows"])
        # AG Grid's filter menu, opened from the filter under a column's header.
        s = steward
        s.open("/ingestion")
        button = s.page.locator("#in-deliveries .ag-floating-filter[col-id=feed] .ag-floating-filter-button-button")
        assert button.get_attribute("aria-label") == words["filter_button"]
        button.click()
        operator = s.page.locator(".ag-filter-menu .ag-picker-field-wrapper")
        expect(operator.locator(".ag-picker-field-display")).to_have_text(words["operators"][0])
        operator.click()
        assert [t.strip() for t in s.page.locator(".ag-select-list-item").all_inner_texts()] == words["operators"]
        s.page.keyboard.press("Escape")
    for s in (analyst, steward):
        s.assert_clean()


# --------------------------------------------------------------------------- one language per page

# One user per role, and a steward of a department that only handles requests (its own pages).
EVERY_ROLE = ["boss", "xihu", "ana", "police", "roads", "aud", "root", "zhang"]
LATIN_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_.\-/']*")
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# Everything a person sees: the page's rendered text (tables, the values of lists and fields, an open
# calendar) and the text of every chart (plotly draws it as SVG), each visible leaf apart too.
SHOWN_JS = """() => {
  const seen = e => e.checkVisibility ? e.checkVisibility({visibilityProperty: true}) : true;
  const svg = Array.from(document.querySelectorAll('.main-svg text')).filter(seen).map(t => t.textContent.trim());
  const leaves = Array.from(document.querySelectorAll('body *'))
    .filter(e => e.children.length === 0 && !e.closest('svg') && seen(e)).map(e => e.textContent.trim());
  // What a choice list or a field shows is its value (a typed password is not shown).
  const fields = Array.from(document.querySelectorAll('input:not([type=hidden]):not([type=password]):not([type=checkbox]):not([type=radio])'))
    .filter(seen).map(e => e.value.trim());
  // The language switch names the other language in that language ("English", "中文").
  const other = document.querySelector('#lang-switch');
  const text = document.body.innerText.replace(other ? other.innerText : '', '');
  return {text: text, cells: [...svg, ...leaves, ...fields].filter(t => t && !(other && t === other.innerText))};
}"""
GRAPHS_DRAWN_JS = "() => Array.from(document.querySelectorAll('.dash-graph')).every(g => g.querySelector('.main-svg'))"


def _codes_shown(shown: dict, lang: str) -> list[str]:
    """Registry codes among what is shown: a code-shaped one (``on_time``, ``psb/household_events``,
    ``330106``, ``SUCCESS``) anywhere, a plain word (``open``, ``psb``) as a whole cell. Codes
    whose name in ``lang`` is the code itself (the unit %) are names there."""
    found = []
    for kind in labels.KINDS:
        for code, pair in labels.names(kind).items():
            if pair[lang == "en"] == code:
                continue
            if re.search(r"[_./:\d]", code) or (code.isupper() and len(code) > 1):
                if re.search(rf"(?<![\w./:\-]){re.escape(code)}(?![\w./:\-])", shown["text"] + "\n" + "\n".join(shown["cells"])):
                    found.append(f"{kind} {code}")
            elif code in shown["cells"]:
                found.append(f"{kind} {code}")
    return found


def _names_people_gave(home: Path) -> set[str]:
    """Names that stay as written in either language: user names, the files and folders a
    department delivered (and columns it added), the contract's column names that messages
    about a file's header quote, and the names of file formats."""
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    files = con.execute("""SELECT file_name FROM ingest.deliveries UNION SELECT department FROM ingest.deliveries
                           WHERE reason = 'unknown_feed' UNION SELECT feed FROM ingest.deliveries WHERE reason = 'unknown_feed'
                           UNION SELECT unnest(extra_columns) FROM ingest.deliveries""").fetchall()
    con.close()
    columns = {c.name for f in FEEDS for c in f.columns}
    return {*USERS, *CITIZENS, "newbie", "CSV", "JSON", "Parquet", *(f[0] for f in files), *columns}


def _other_language(shown: dict, lang: str, allowed: set[str], typed: list[str]) -> list[str]:
    """Words of the other language: Latin words (not numbers, ids or the allowed names) in
    Chinese; Chinese characters in English (except what people typed, such as a purpose)."""
    if lang == "zh":
        tokens = LATIN_TOKEN.findall(shown["text"] + "\n" + "\n".join(shown["cells"]))
        return sorted({w for w in tokens if not re.search(r"\d", w) and w.strip(".-/'") not in allowed
                       and len(re.sub(r"[^A-Za-z]", "", w)) > 1})
    text = shown["text"] + "\n" + "\n".join(shown["cells"])
    for phrase in sorted(typed, key=len, reverse=True):
        text = text.replace(phrase, "")
    return sorted({line.strip() for line in text.splitlines() if CJK.search(line)})


def test_every_role_sees_every_page_in_one_language_without_codes(browser, cockpit_url, home: Path) -> None:
    allowed = _names_people_gave(home)
    problems: list[str] = []
    for user in EVERY_ROLE:
        role = USERS[user][0] if user in USERS else "citizen"
        s = Session(browser, cockpit_url, user)
        # What people typed is shown as typed: purposes, and the notes of alert steps.
        typed = [e["purpose"] for e in OpsStore(home).access_log(limit=10_000) if e["purpose"]] + \
            [st["note"] for st in OpsStore(home).alert_steps() if st["note"]]
        for lang in ("zh", "en"):
            s.context.add_cookies([{"name": "cb_lang", "value": lang, "url": cockpit_url}])
            for path, opens in _pages_of(role).items():
                if not opens:
                    continue
                s.open(path)
                s.page.wait_for_function(GRAPHS_DRAWN_JS, timeout=15_000)
                s.settle()
                if path == "/alerts" and s.page.locator("#al-table .ag-row").count():
                    # An alert chosen: its history and what the reader may do with it.
                    s.page.locator("#al-table .ag-row [col-id=message]").first.click()
                    s.page.wait_for_selector("#al-detail .delta")
                    s.settle()
                if path in ("/explorer", "/runs"):  # the calendar, opened: its month and day names
                    s.page.locator("#ex-dates, #ru-range").first.click()
                    s.page.wait_for_timeout(300)
                shown = s.page.evaluate(SHOWN_JS)
                where = f"{user} {lang} {path}"
                problems += [f"{where}: code {c}" for c in _codes_shown(shown, lang)]
                problems += [f"{where}: other language {w!r}" for w in _other_language(shown, lang, allowed, typed)]
                s.page.keyboard.press("Escape")
        s.assert_clean()
        s.close()
    assert not problems, "\n".join(problems)
