"""A real browser on the real UI: the Dagster webserver on loopback, a fixture venue-year
materialised through `paperatlas run`, and headless Chromium (Debian's, driven by Playwright)
reading the asset graph and the headline asset's metadata.

Skips cleanly where Chromium or Playwright is missing (fails instead when
PAPERATLAS_REQUIRE_BROWSER is set, as `.ci/run` does in CI); `.ci/run` installs both. Screenshots go
to `$PAPERATLAS_SCREENSHOTS` when set (CI keeps them), else to the test's temporary folder.
"""

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pipeline import cli

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def webserver(home, tmp_path):
    """`paperatlas run neurips-2020`, then dagster-webserver on the same instance and store."""
    assert cli.main(["run", "neurips-2020"]) == 0
    port = _free_port()
    log = open(tmp_path / "webserver.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dagster_webserver", "-m", "pipeline.definitions", "-h", "127.0.0.1",
         "-p", str(port)],
        env={**os.environ}, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[1],
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{base}/server_info", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("dagster-webserver did not start:\n" + (tmp_path / "webserver.log").read_text()[-3000:])
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


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

            # The global lineage: one box per group, and the groups are the stages of the flow.
            page.goto(f"{webserver}/asset-groups")
            page.get_by_text("Global asset lineage").first.wait_for()
            for group in GROUPS:
                page.get_by_text(group, exact=True).first.wait_for(state="attached")
            page.wait_for_timeout(1500)  # let the graph lay itself out (and the dialog open) before the picture
            _dismiss(page)
            page.get_by_role("button", name="Skip").first.wait_for(state="hidden")
            page.wait_for_timeout(300)
            page.screenshot(path=str(shots / "asset-groups.png"))
            lines = [line.strip() for line in page.inner_text("body").splitlines()]
            assert set(GROUPS) <= set(lines) and "paperatlas" not in lines  # no catch-all group

            page.goto(f"{webserver}/assets")
            for stage in STAGES:
                page.get_by_text(stage, exact=True).first.wait_for(state="attached")
            _dismiss(page)
            page.screenshot(path=str(shots / "asset-catalog.png"))

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
            assert shown == {"papers": "8", "us_papers": "3", "us_cn_papers": "1", "us_cn_share": "0.125"}, shown
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
            imported = subprocess.run([sys.executable, "-m", "pipeline.cli", "review", "import", "neurips-2020",
                                       str(saved)], capture_output=True, text=True, env=os.environ.copy())
            assert imported.returncode == 0, imported.stderr
            report = json.loads(subprocess.run([sys.executable, "-m", "pipeline.cli", "report", "neurips-2020",
                                                "--json"], capture_output=True, text=True, check=True,
                                               env=os.environ.copy()).stdout)
            assert report["reviewed"][number]["wrong"] == 1 and report["reviewed"][number]["stale"] == 0
            page.screenshot(path=str(shots / "review-page.png"))
        finally:
            browser.close()
    for name in ("asset-groups.png", "asset-catalog.png", "headlines-metadata.png", "report-metadata.png", "report-chart.png",
                 "review-page.png"):
        assert (shots / name).stat().st_size > 10_000, name
