"""A real browser on the real UI: the Dagster webserver on loopback, a fixture venue-year
materialised through `paperatlas run`, and headless Chromium (Debian's, driven by Playwright)
reading the asset graph and the headline asset's metadata; and the pages a reader opens from
files (report.html, study.html, the review page) on a desktop and on a phone.

Skips cleanly where Chromium or Playwright is missing (fails instead when
PAPERATLAS_REQUIRE_BROWSER is set, as `.ci/run` does in CI); `.ci/run` installs both. Screenshots go
to `$PAPERATLAS_SCREENSHOTS` when set (CI keeps them), else to the test's temporary folder.
"""

import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port, start_ui
from test_automation_defaults import declared_states

from paperatlas import cli

CHROMIUM = os.environ.get("PAPERATLAS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# As root in a container Chromium needs --no-sandbox; the rest keeps it off the (closed) network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
STAGES = ["raw_papers", "author_affiliations", "resolved_affiliations", "paper_countries", "country_edges",
          "paper_mentions", "headlines", "venue_year_report", "yearly_aggregates"]
GROUPS = ["reference", "sources", "pdfs", "affiliations", "countries", "mentions", "reports"]  # the stages


def _unavailable(reason: str):
    """Skip, unless this run promised a browser (`.ci/run` sets PAPERATLAS_REQUIRE_BROWSER in CI)."""
    if os.environ.get("PAPERATLAS_REQUIRE_BROWSER", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason}, and PAPERATLAS_REQUIRE_BROWSER is set")
    pytest.skip(reason)


def _playwright():
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install playwright)")
    return sync_playwright


def _graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(f"{base}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]


SENSORS_QUERY = """{ sensorsOrError(repositorySelector: {repositoryName: "__repository__",
  repositoryLocationName: "paperatlas.definitions"}) { ... on Sensors { results { name
  sensorState { status ticks(limit: 5) { status skipReason runIds } } } } } }"""
RUNS_QUERY = "{ runsOrError { ... on Runs { results { runId jobName tags { key value } } } } }"


@pytest.fixture
def webserver(home, tmp_path):
    """`paperatlas run neurips-2020`, then `paperatlas ui -p PORT -h 127.0.0.1` (dagster dev: the
    webserver and the daemon) on the same instance and store."""
    assert cli.main(["run", "neurips-2020"]) == 0
    port = free_port()
    proc = start_ui(port, tmp_path / "ui.log", 180)
    base = f"http://127.0.0.1:{port}"
    try:
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever of the group is left
        proc.wait(timeout=20)


# Each row of the Automation page: its name (the first line) and whether its switch (the row's
# last checkbox; the first selects the row) is on.
TOGGLES_JS = """() => {
  const rows = new Map();
  for (const box of document.querySelectorAll('input[type=checkbox]')) {
    const row = box.closest('[role=row], tr, [data-index]');
    if (row) rows.set(row, [...(rows.get(row) || []), box]);
  }
  return Object.fromEntries([...rows].map(([row, boxes]) =>
    [row.innerText.trim().split('\\n')[0], boxes[boxes.length - 1].checked]));
}"""


def _wait_for_ticks(base: str, names: list[str], timeout: float = 120) -> dict[str, list[dict]]:
    """The sensors' ticks, once each of `names` has ticked at least once (the daemon ticks every 30 s)."""
    deadline = time.monotonic() + timeout
    while True:
        sensors = _graphql(base, SENSORS_QUERY)["sensorsOrError"]["results"]
        ticks = {s["name"]: s["sensorState"]["ticks"] for s in sensors if s["name"] in names}
        if all(ticks.get(n) for n in names) or time.monotonic() > deadline:
            assert all(ticks.get(n) for n in names), f"no tick within {timeout:.0f} s: {ticks}"
            return ticks
        time.sleep(2)


def _dismiss(page) -> None:
    """The UI greets a new instance with a newsletter dialog; close it."""
    skip = page.get_by_role("button", name="Skip")
    if skip.count() and skip.first.is_visible():
        skip.first.click()


def _click(page, locator, attempts: int = 4) -> None:
    """Click, closing the newsletter dialog first. On a loaded machine the dialog can open
    after the page is ready; its backdrop then takes the click, so close it and try again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        _dismiss(page)
        try:
            locator.click(timeout=15_000)
            return
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise


@pytest.fixture
def browser_tools():
    return _playwright()  # before the webserver fixture spends time on a run


def test_asset_graph_and_headline_metadata_in_chromium(browser_tools, webserver, tmp_path):
    sync_playwright = browser_tools
    shots = Path(os.environ.get("PAPERATLAS_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(60_000)

            # Out of the box: the sensors and schedules are on or off as the definitions (and
            # docs/architecture.md, see test_automation_defaults) say, and starting the UI launched
            # no run: the file sensors find the files the store loaded, automation finds nothing new.
            page.goto(f"{webserver}/automation")
            page.get_by_text("overrides_changed", exact=True).first.wait_for()
            page.wait_for_timeout(1500)
            _dismiss(page)
            page.screenshot(path=str(shots / "automation.png"))
            toggles = page.evaluate(TOGGLES_JS)
            expected = declared_states()
            assert {name: toggles.get(name) for name in expected} == expected, toggles
            ticked = _wait_for_ticks(webserver, ["overrides_changed", "terms_changed",
                                                 "default_automation_condition_sensor"])
            assert all(t["status"] == "SKIPPED" and not t["runIds"] for ticks in ticked.values() for t in ticks), ticked
            assert "is what affiliation_overrides last loaded" in ticked["overrides_changed"][-1]["skipReason"]
            runs = _graphql(webserver, RUNS_QUERY)["runsOrError"]["results"]
            triggers = {tag["value"] for run in runs for tag in run["tags"] if tag["key"] == "paperatlas/trigger"}
            assert triggers == {"cli"}, runs
            assert all(any(t["key"] == "paperatlas/trigger" for t in r["tags"]) for r in runs), runs

            # The global lineage: one box per group, and the groups are the stages of the flow.
            page.goto(f"{webserver}/asset-groups")
            page.get_by_text("Global asset lineage").first.wait_for()
            for group in [*GROUPS, "studies"]:  # the stages, then the published comparisons on them
                page.get_by_text(group, exact=True).first.wait_for(state="attached")
            page.wait_for_timeout(1500)  # let the graph lay itself out (and the dialog open) before the picture
            _dismiss(page)
            page.get_by_role("button", name="Skip").first.wait_for(state="hidden")
            page.wait_for_timeout(300)
            page.screenshot(path=str(shots / "asset-groups.png"))
            lines = [line.strip() for line in page.inner_text("body").splitlines()]
            assert set(GROUPS) <= set(lines) and "paperatlas" not in lines  # no catch-all group

            page.set_viewport_size({"width": 1600, "height": 1800})  # the catalogue lists only what fits
            page.goto(f"{webserver}/assets")
            for stage in STAGES:
                page.get_by_text(stage, exact=True).first.wait_for(state="attached")
            _dismiss(page)
            page.screenshot(path=str(shots / "asset-catalog.png"))
            page.set_viewport_size({"width": 1600, "height": 1000})

            page.goto(f"{webserver}/assets/headlines?view=events&partition=neurips-2020")
            page.get_by_text("us_cn_papers", exact=True).first.wait_for()
            _dismiss(page)
            text = page.inner_text("body")
            for label in ("us_papers", "cn_papers", "us_cn_papers", "us_cn_share", "country_coverage",
                          "changes_since_previous"):
                assert label in text, label
            # The fixture's headline: 8 papers, 3 with a US author, 1 US-CN paper (1/8 of all).
            tokens = [t.strip() for t in text.splitlines() if t.strip()]
            shown = {label: tokens[tokens.index(label) + 1] for label in ("papers", "us_papers", "us_cn_papers",
                                                                          "us_cn_share")}
            assert shown == {"papers": "8", "us_papers": "3", "us_cn_papers": "1",
                             "us_cn_share": "12.5% (1 of 8 papers)"}, shown
            page.screenshot(path=str(shots / "headlines-metadata.png"), full_page=True)

            page.goto(f"{webserver}/assets/venue_year_report?view=events&partition=neurips-2020")
            page.get_by_text("chart_us_cn_share_by_year", exact=True).first.wait_for()
            _dismiss(page)
            page.screenshot(path=str(shots / "report-metadata.png"), full_page=True)
            assert "review_html" in page.inner_text("body")
            # A chart opens as a picture from the metadata's Markdown.
            row = page.locator("tr", has=page.get_by_text("chart_country_network", exact=True))
            _click(page, row.get_by_text("Show Markdown").first)
            chart = page.locator("img[src^='data:image/png;base64,']").first
            chart.wait_for(state="visible")
            assert chart.evaluate("img => img.naturalWidth") > 200
            page.wait_for_timeout(800)  # the dialog fades in
            page.screenshot(path=str(shots / "report-chart.png"))

            # The review page the asset wrote: mark a paper, see the tally, keep it, download it.
            review = Path(os.environ["PAPERATLAS_HOME"]) / "reports" / "neurips-2020" / "review.html"
            page.goto(review.as_uri())
            tally = page.locator("#tally")
            assert tally.inner_text().startswith("0 of ")
            first = page.locator(".paper").first
            paper_id = first.get_attribute("data-id")
            digest = first.get_attribute("data-sha")
            first.locator("button[data-v=wrong]").click()
            assert "1 of" in tally.inner_text() and "1 marked wrong" in tally.inner_text()
            page.reload()
            assert "1 of" in page.locator("#tally").inner_text()  # kept in the browser
            assert "wrong" in (page.locator(".paper").first.get_attribute("class") or "")
            with page.expect_download() as download:
                page.locator("#download").click()
            verdicts = Path(download.value.path()).read_text()
            number, paper = paper_id.split("|")
            rows = {(r["number"], r["paper_id"]): r for r in csv.DictReader(io.StringIO(verdicts))}
            assert {k: rows[(number, paper)][k] for k in ("china_scope", "placement", "evidence_sha256", "verdict")} \
                == {"china_scope": "cn", "placement": "hq", "evidence_sha256": digest, "verdict": "wrong"}
            # The download is what `paperatlas review import` reads.
            saved = tmp_path / "verdicts.csv"
            saved.write_text(verdicts)
            imported = subprocess.run([sys.executable, "-m", "paperatlas.cli", "review", "import", "neurips-2020",
                                       str(saved)], capture_output=True, text=True, env=os.environ.copy())
            assert imported.returncode == 0, imported.stderr
            done = subprocess.run([sys.executable, "-m", "paperatlas.cli", "report", "neurips-2020", "--json"],
                                  capture_output=True, text=True, env=os.environ.copy())
            assert done.returncode == 0, done.stderr[-2000:]
            report = json.loads(done.stdout)
            assert report["reviewed"][number]["wrong"] == 1 and report["reviewed"][number]["stale"] == 0
            page.screenshot(path=str(shots / "review-page.png"))
        finally:
            browser.close()
    for name in ("automation.png", "asset-groups.png", "asset-catalog.png", "headlines-metadata.png", "report-metadata.png", "report-chart.png",
                 "review-page.png"):
        assert (shots / name).stat().st_size > 10_000, name


STUDY = """\
name: browser-check
title: "US–China papers, <img src=x onerror=window.__pwned=1> checked"
source: {name: A newsroom, url: "https://example.org/story"}
scope: [neurips-2020, icml-2021]
claims:
  - {id: us-cn, claim: "US–CN share <script>window.__pwned=1</script>", number: us_cn, measure: share,
     published: 0.03, bound: about}
  - {id: us-partners, claim: "US partners", number: top_partners, country: US, top: 3, published: [CN, GB, CA]}
"""


def test_study_page_in_chromium(browser_tools, home, tmp_path):
    """study.html as a reader opens it: the claims table, the chart of a claim over years, links
    into each venue-year's report and review sample that work, and hostile text shown as text."""
    sync_playwright = browser_tools
    shots = Path(os.environ.get("PAPERATLAS_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    assert cli.main(["run", "nips-2020", "icml-2021"]) == 0
    study = tmp_path / "study.yaml"
    study.write_text(STUDY, encoding="utf-8")
    out = tmp_path / "out"
    assert cli.main(["study", "run", str(study), "--stored", "--out", str(out)]) == 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            page.goto((out / "study.html").as_uri())
            assert "<img src=x" in page.locator("h1").inner_text()  # shown, not run
            rows = page.locator("tbody tr")
            assert rows.count() == 2
            assert "US–CN share <script>" in rows.first.inner_text()
            assert page.evaluate("() => window.__pwned") is None
            chart = page.locator("figure img").first
            chart.wait_for(state="visible")
            assert chart.evaluate("img => img.naturalWidth") > 200
            assert page.locator("a[href='https://example.org/story']").count() == 1
            page.screenshot(path=str(shots / "study-page.png"), full_page=True)
            page.locator("a", has_text="review sample").first.click()
            page.wait_for_load_state()
            assert page.url.endswith("reports/icml-2021/review.html") or page.url.endswith(
                "reports/neurips-2020/review.html")
            assert page.locator(".paper").count() > 0
            page.go_back()
            page.locator("a", has_text="report").first.click()
            page.wait_for_load_state()
            assert page.url.endswith("/report.html") and "US" in page.content()
        finally:
            browser.close()
    assert (shots / "study-page.png").stat().st_size > 10_000


# An interval where nothing is uncertain: "570 (570–570)", "3.2% (3.2%–3.2%, +2 unplaced)", or a
# range of one number inside parentheses, "(16–16)". A page gives the number alone then.
DEGENERATE = re.compile(r"(?<![\w.,])(\d[\d,.]*%?) \(\1[–-]\1(?=[,;)])"
                        r"|\((?:[^()]*?[;,] )?(\d[\d,.]*%?)[–-]\2(?=[,;)])")
PHONE = {"width": 390, "height": 844}
# The first paragraph a reader sees (the report keeps a headline per convention; one shows).
FIRST_PARAGRAPH_JS = """() => { const p = [...document.body.querySelectorAll('p')]
  .find(p => p.offsetParent !== null && p.innerText.trim()); return p ? p.innerText : null; }"""
# What sticks out past `width` px, outside a box that scrolls on its own: elements, and text
# that runs out of its element (a long word, a path, a URL).
WIDE_JS = """width => { const out = [], where = e => `${e.tagName.toLowerCase()}${e.className ? '.' + e.className : ''}`;
  const free = e => !e.closest('.scroll');
  for (const e of document.body.querySelectorAll('*'))
    if (e.getBoundingClientRect().right > width + 1 && e.parentElement && free(e.parentElement))
      out.push(`${where(e)} ${Math.round(e.getBoundingClientRect().right)}px`);
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), range = document.createRange();
  while (walk.nextNode()) { range.selectNodeContents(walk.currentNode); const right = range.getBoundingClientRect().right;
    if (right > width + 1 && free(walk.currentNode.parentElement))
      out.push(`text in ${where(walk.currentNode.parentElement)} ${Math.round(right)}px: ${walk.currentNode.textContent.trim().slice(0, 80)}`); }
  return out.slice(0, 6); }"""


def degenerate_intervals(text: str) -> list[str]:
    return [m.group(0) for m in DEGENERATE.finditer(text)]


def test_the_degenerate_interval_check():
    assert degenerate_intervals("570 (570–570) papers; 3.2% (3.2%–3.2%, +2 unplaced); 30 (5.3%; 16–16); "
                                "1,570 (570–570)") == ["570 (570–570", "3.2% (3.2%–3.2%", "(5.3%; 16–16", "(570–570"]
    assert degenerate_intervals("18 (16–18) and 343 papers (60.2% of all; 337–343, +2 unplaced); "
                                "NeurIPS 2010–2011 (2010–2011); 12.5% (1 of 8 papers)") == []


def _read_as_a_reader(browser, page_path: Path, shots: Path, name: str) -> dict:
    """`page_path` on a desktop and on a phone: full-page screenshots of both, the first paragraph
    a reader sees, the visible text, and whether the phone layout is wider than the phone."""
    seen = {}
    for device, options in (("desktop", {"viewport": {"width": 1280, "height": 900}}),
                            ("phone", {"viewport": PHONE, "is_mobile": True, "has_touch": True,
                                       "device_scale_factor": 2})):
        context = browser.new_context(**options)
        try:
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(page_path.as_uri())
            page.wait_for_load_state("load")
            page.screenshot(path=str(shots / f"{name}-{device}.png"), full_page=True)
            seen[device] = {
                "first": page.evaluate(FIRST_PARAGRAPH_JS),
                "text": page.inner_text("body"),
                "width": page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]"),
                "wide": page.evaluate(WIDE_JS, PHONE["width"]) if device == "phone" else [],
                "institutions": page.locator("table#institutions tbody tr").count(),
            }
        finally:
            context.close()
    return seen


def test_report_and_study_pages_lead_with_the_answer_in_chromium(browser_tools, home, tmp_path):
    """report.html and study.html as a reader opens them, on a desktop and on a phone: the first
    paragraph is the headline sentence, no interval of one number is printed, the report has
    its institutions table, and the phone layout is no wider than the phone."""
    sync_playwright = browser_tools
    shots = Path(os.environ.get("PAPERATLAS_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    assert cli.main(["run", "neurips-2020"]) == 0
    assert cli.main(["report", "neurips-2020", "--out", str(tmp_path / "report")]) == 0
    assert cli.main(["study", "run", "wired-neurips", "--stored", "--out", str(tmp_path / "study")]) == 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            study = _read_as_a_reader(browser, tmp_path / "study" / "study.html", shots, "study")
            report = _read_as_a_reader(browser, tmp_path / "report" / "report.html", shots, "report")
        finally:
            browser.close()

    for name, seen in (("study.html", study), ("report.html", report)):
        for device, view in seen.items():
            assert not degenerate_intervals(view["text"]), (name, device, degenerate_intervals(view["text"]))
        scroll_width, inner_width = seen["phone"]["width"]
        # A phone widens its layout to what is wider than it (or to 980 px without a viewport meta).
        assert scroll_width <= PHONE["width"] + 1 and inner_width == PHONE["width"], (
            name, "wider than the phone", seen["phone"]["width"], seen["phone"]["wide"])
        assert seen["desktop"]["first"] == seen["phone"]["first"], name

    # The study: WIRED's figure beside ours, in the first paragraph; the claims the fixture
    # cannot satisfy are counted, not hidden.
    lead = study["desktop"]["first"]
    assert lead and "WIRED published about 3.0%" in lead and "we count " in lead, lead
    assert re.search(r"we count \d[\d,]* of \d[\d,]* papers \(\d+(\.\d)?%\) in NeurIPS 2020", lead), lead
    assert "1 of the 6 claims is compared here" in lead, lead

    # The report: the US–China sentence first, in words, with its denominator and share.
    lead = report["desktop"]["first"]
    assert lead and " of the " in lead and "papers" in lead and re.search(r"\d(\.\d)?%", lead), lead
    assert re.search(r"\bUS\b|United States", lead) and re.search(r"Chin(a|ese)", lead), lead
    assert not re.search(r"\bCN\b|US[–-]CN", lead), lead
    assert lead.startswith("1 of the 8 NeurIPS 2020 papers (12.5%)"), lead
    assert report["desktop"]["institutions"] >= 1 and report["phone"]["institutions"] >= 1
    for name in ("study", "report"):
        for device in ("desktop", "phone"):
            assert (shots / f"{name}-{device}.png").stat().st_size > 10_000, (name, device)


def test_report_toggles_show_one_reading_at_a_time_and_print_without_them(browser_tools, home, tmp_path, capsys):
    """The convention toggles of report.html (CSS only): for every placement and China scope
    exactly one headline shows, and it is what `report --placement P --china-scope S` leads with;
    printed, the toggles are gone and the report's own reading shows."""
    sync_playwright = browser_tools
    assert cli.main(["run", "neurips-2020"]) == 0
    assert cli.main(["report", "neurips-2020", "--out", str(tmp_path / "report")]) == 0
    capsys.readouterr()
    expected = {}
    for placement in ("hq", "coauthors"):
        for scope in ("cn", "cn+hk+mo", "greater"):
            assert cli.main(["report", "neurips-2020", "--json", "--placement", placement,
                             "--china-scope", scope]) == 0
            expected[(placement, scope)] = json.loads(capsys.readouterr().out)["headline_sentences"][0]
    assert len(set(expected.values())) > 1  # the fixture's readings differ, so a wrong one is seen
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto((tmp_path / "report" / "report.html").as_uri())
            shown = "() => [...document.querySelectorAll('.lead .v')].filter(e => e.offsetParent !== null)" \
                    ".map(e => e.querySelector('p.headline').innerText)"
            assert page.evaluate(shown) == [expected[("hq", "cn")]]
            for (placement, scope), sentence in expected.items():
                page.check(f"#t-pl-{placement}")
                page.check(f"#t-sc-{scope.replace('+', '')}")
                assert page.evaluate(shown) == [sentence], (placement, scope)
            page.reload()
            page.emulate_media(media="print")
            assert page.locator("form.toggles").is_hidden()
            assert page.evaluate(shown) == [expected[("hq", "cn")]]
        finally:
            browser.close()
