# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""report.html as a person sees it: an audit through the real playbook writes it (a default format), and Debian's
headless Chromium opens it from the disk, with no network.

The screenshot is decoded (PNG, with zlib from the standard library) and must show the page, not a blank: many
colours, the verdict's banner and the chart's green and red bars. The DOM after the page's script ran (--dump-dom)
must hold the summary of report.json and the chart, and clicking a column header must sort the table. A regression and
a run that lost a region are said in the verdict's banner, on the first screen, and the account is marked on its bar.

Skipped, saying why, when no Chromium is on PATH (`make test` installs Debian's chromium-headless-shell when it can:
root and apt-get). tests/unit/plugins/plugin_utils/_report/test_format_html.py reads the page with html.parser everywhere.
"""

from __future__ import annotations

import base64
import collections
import copy
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser

import pytest

from sweep_run import Sweep
from sweep_world import POLICY
from sweep_world import static_inventory
from sweep_world import write_yaml

AUDIT = "cloudops.apigw_tracing.audit"
BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser")
WINDOW = (1280, 2400)
# The colours of report.html (plugins/plugin_utils/_report/format_html.py): the chart's bars and the banner of a non-compliant verdict.
GREEN = (0x2E, 0x7D, 0x32)
RED = (0xC6, 0x28, 0x28)
NONCOMPLIANT_BANNER = (0xFF, 0xF3, 0xE0)
ERROR_BANNER = (0xFF, 0xEB, 0xEE)
TREND = (0x15, 0x65, 0xC0)
RENDER = """
import json, sys
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_html import render_html
with open(sys.argv[1], encoding="utf-8") as handle:
    report = json.load(handle)
with open(sys.argv[2], "w", encoding="utf-8") as handle:
    handle.write(render_html(report))
"""


def browser():
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium(page, tmp_path, *args):
    """Run headless Chromium on a local file, with no network; returns the completed process."""
    path = browser()
    if path is None:
        pytest.skip(f"no headless Chromium on PATH (looked for {', '.join(BROWSERS)}); `make test` installs Debian's "
                    "chromium-headless-shell when run as root with apt-get; the html.parser unit tests still check report.html")
    command = [path]
    if os.path.basename(path) != "chromium-headless-shell":
        command.append("--headless=new")
    if os.geteuid() == 0:
        command.append("--no-sandbox")  # Chromium's sandbox refuses to start as root
    command += [
        "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--disable-extensions", "--no-first-run", "--no-default-browser-check", "--mute-audio",
        "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
        f"--user-data-dir={tmp_path / 'chromium-profile'}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
    ]
    command += list(args) + [page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def png_pixels(data):
    """(width, height, [(r, g, b)] row by row) of an 8-bit RGB or RGBA, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, chunks = 8, collections.defaultdict(list)
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        chunks[kind].append(data[offset + 8:offset + 8 + length])
        offset += 12 + length
    width, height, depth, colour, dummy, dummy2, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"][0])
    assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks[b"IDAT"]))
    stride = width * channels
    previous = bytearray(stride)
    pixels = []
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for index in range(stride):
            left = line[index - channels] if index >= channels else 0
            up = previous[index]
            corner = previous[index - channels] if index >= channels else 0
            if kind == 1:
                line[index] = (line[index] + left) & 0xFF
            elif kind == 2:
                line[index] = (line[index] + up) & 0xFF
            elif kind == 3:
                line[index] = (line[index] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - corner
                distances = (abs(estimate - left), abs(estimate - up), abs(estimate - corner))
                predictor = left if distances[0] <= distances[1] and distances[0] <= distances[2] else up if distances[1] <= distances[2] else corner
                line[index] = (line[index] + predictor) & 0xFF
        pixels.extend(tuple(line[index:index + 3]) for index in range(0, stride, channels))
        previous = line
    return width, height, pixels


def near(colour, target, tolerance=6):
    return all(abs(a - b) <= tolerance for a, b in zip(colour, target))


class Dom(HTMLParser):
    """The elements of a dumped DOM, with their attributes and text (void and self-closed elements have none)."""

    VOID = {"meta", "br", "hr", "img", "input", "link", "rect", "circle", "line", "polyline"}

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements, self.open = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": []}
        self.elements.append(element)
        if tag not in self.VOID:
            self.open.append(element)

    def handle_endtag(self, tag):
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index]["tag"] == tag:
                del self.open[index:]
                break

    def handle_data(self, data):
        for element in self.open:
            element["text"].append(data)

    def text(self, element_id):
        found = [element for element in self.elements if element["attrs"].get("id") == element_id]
        assert len(found) == 1, element_id
        return " ".join("".join(found[0]["text"]).split())

    def column(self, table_id, index):
        values, inside, cells = [], False, None
        for element in self.elements:
            if element["tag"] == "table":
                inside = element["attrs"].get("id") == table_id
            elif inside and element["tag"] == "tr":
                cells = []
                values.append(cells)
            elif inside and element["tag"] == "td" and cells is not None:
                cells.append(" ".join("".join(element["text"]).split()))
        return [row[index] for row in values if len(row) > index]


@pytest.fixture
def sweep_report(run_playbook, tmp_path, estate):
    report_dir = tmp_path / "reports"
    extra_vars = copy.deepcopy(POLICY)
    extra_vars["tracing_sweep_report_dir"] = str(report_dir)
    inventory = write_yaml(tmp_path / "hosts.yml", static_inventory())
    run = run_playbook(AUDIT, extra_vars, diff=False, inventory=inventory)
    sweep = Sweep(run, report_dir)
    assert run.rc == 0, run.describe()
    return sweep


def since_baseline(report):
    """A comparison with an earlier run, in the shape report["since_baseline"] has: a stage of the sweep regressed."""
    row = next(row for row in report["stages"] if row["action"] == "would_enable")
    ref = {key: row[key] for key in ("account_id", "account_name", "region", "rest_api_id", "rest_api_name", "stage_name", "arn")}
    points = [(20.0, 6), (25.0, 5), (50.0, 4), (report["summary"]["compliance_percent"], report["summary"]["noncompliant"])]
    return {
        "status": "compared", "reason": None, "history": "/var/lib/tracing-history", "run_id": "20261202T003000123456Z",
        "baseline": {"id": "20261201T003000123456Z", "generated_at": "2026-12-01T00:30:00Z", "mode": "audit", "compliance_percent": 50.0,
                     "verdict": "noncompliant"},
        "counts": {"new": 0, "new_noncompliant": 0, "removed": 0, "regressed": 1, "fixed": 0},
        "new": [], "removed": [], "fixed": [],
        "regressed": [dict(ref, category="noncompliant", before="compliant", after="noncompliant", cause="tracing was turned off", corrected=False)],
        "trend": [{"id": f"2026112{index}T003000000000Z", "generated_at": f"2026-11-2{index}T00:30:00Z", "mode": "audit",
                   "compliance_percent": percent, "noncompliant": noncompliant, "verdict": "noncompliant"}
                  for index, (percent, noncompliant) in enumerate(points)],
    }


def test_report_html_renders_in_a_browser(sweep_report, tmp_path, collections_path):
    """The page the audit wrote, in headless Chromium: summary and chart in the DOM, colours on the screen, sorting."""
    page = sweep_report.report_dir / "report.html"
    assert page.is_file(), sorted(path.name for path in sweep_report.report_dir.iterdir())
    report = sweep_report.report
    summary = report["summary"]

    screenshot = tmp_path / "report.png"
    shot = chromium(page, tmp_path, f"--screenshot={screenshot}")
    assert shot.returncode == 0 and screenshot.is_file(), shot.stderr[-3000:]
    width, height, pixels = png_pixels(screenshot.read_bytes())
    assert (width, height) == WINDOW
    colours = collections.Counter(pixels)
    # A page, not a blank: many colours (text is anti-aliased), the banner of the verdict, the chart's bars.
    assert len(colours) > 50, len(colours)
    assert colours.most_common(1)[0][1] < 0.95 * len(pixels)
    assert report["verdict"] == "noncompliant"
    assert sum(count for colour, count in colours.items() if near(colour, NONCOMPLIANT_BANNER)) > 5000
    # Bars are 18 px high: every account with an evaluated stage draws green, the non-compliant share red.
    assert sum(count for colour, count in colours.items() if near(colour, GREEN)) > 18 * 50
    assert sum(count for colour, count in colours.items() if near(colour, RED)) > 18 * 50

    dumped = chromium(page, tmp_path, "--dump-dom")
    assert dumped.returncode == 0 and "</html>" in dumped.stdout, dumped.stderr[-3000:]
    dom = Dom(dumped.stdout)
    # The page's own script ran (its hash is in the Content-Security-Policy): it marked the page and the headers.
    assert re.search(r'<html lang="en" class="js">', dumped.stdout), dumped.stdout[:300]
    assert 'aria-sort="none"' in dumped.stdout
    assert dom.text("verdict").startswith("noncompliant " + report["verdict_reason"])
    assert dom.text("figure-stages") == f"{summary['stages']} Stages"
    assert dom.text("figure-compliance_percent") == f"{summary['compliance_percent']} Compliance %"
    assert dom.text("figure-noncompliant") == f"{summary['noncompliant']} Non-compliant"
    accounts = sorted({row["account_id"] for row in report["stages"]})
    groups = [element for element in dom.elements if element["tag"] == "g" and "account" in element["attrs"].get("class", "").split()]
    assert sorted(element["attrs"]["data-account"] for element in groups) == accounts
    assert [element["tag"] for element in dom.elements].count("rect") >= len(accounts)
    assert dom.column("stages", 4) == [row["stage_name"] for row in report["stages"]]

    # Clicking a header sorts: a copy of the page with a script that clicks (its hash added to the policy).
    clicks = (
        'document.querySelector("#stages thead th:nth-child(5)").click();'
        'document.querySelector("#stages thead th:nth-child(5)").click();'
        'document.querySelector("#accounts thead th:nth-child(10)").click();'
    )
    digest = "'sha256-" + base64.b64encode(hashlib.sha256(clicks.encode("utf-8")).digest()).decode("ascii") + "'"
    text = page.read_text(encoding="utf-8")
    text = text.replace("script-src ", f"script-src {digest} ", 1).replace("</body>", f"<script>{clicks}</script></body>", 1)
    clicked = tmp_path / "clicked.html"
    clicked.write_text(text, encoding="utf-8")
    dumped = chromium(clicked, tmp_path, "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-3000:]
    dom = Dom(dumped.stdout)
    stages = dom.column("stages", 4)
    assert stages == sorted((row["stage_name"] for row in report["stages"]), reverse=True), stages
    assert 'aria-sort="descending"' in dumped.stdout and 'aria-sort="ascending"' in dumped.stdout
    percents = [float(value) for value in dom.column("accounts", 9) if value != "n/a"]
    assert percents == sorted(percents) and len(percents) >= 2, percents
    # The report itself is as report.json says: the browser saw what the sweep wrote.
    assert json.loads((sweep_report.report_dir / "report.json").read_text(encoding="utf-8")) == report

    # With a run history: the same report and its changes since the last run, rendered by the collection's code.
    with_history = tmp_path / "with-history.json"
    with_history.write_text(json.dumps(dict(report, since_baseline=since_baseline(report))), encoding="utf-8")
    page = tmp_path / "with-history.html"
    rendered = subprocess.run([sys.executable, "-c", RENDER, str(with_history), str(page)], env=dict(os.environ, PYTHONPATH=collections_path),
                              capture_output=True, text=True, timeout=120, check=False)
    assert rendered.returncode == 0, rendered.stderr
    shot = chromium(page, tmp_path, f"--screenshot={screenshot}")
    assert shot.returncode == 0, shot.stderr[-3000:]
    dummy, dummy2, pixels = png_pixels(screenshot.read_bytes())
    # The trend line and its points are drawn in their colour.
    assert sum(1 for colour in pixels if near(colour, TREND)) > 200
    dumped = chromium(page, tmp_path, "--dump-dom")
    dom = Dom(dumped.stdout)
    assert "Compared with 20261201T003000123456Z, audit of 2026-12-01T00:30:00Z: compliance 50.0%" in dom.text("since-last-run")
    assert dom.text("change-regressed") == "1 Regressed"
    assert dom.column("changes-regressed", 4) == [since_baseline(report)["regressed"][0]["stage_name"]]
    assert dumped.stdout.count("<circle") == 4 and "<polyline" in dumped.stdout


def with_a_lost_region(report):
    """The report as if one more region of the first account had failed: 100% or not, the run lost a target."""
    lost = copy.deepcopy(report)
    account_id = lost["stages"][0]["account_id"]
    lost["targets"].append({"host": "lost_eu-central-1", "account_id": account_id, "account_name": lost["stages"][0]["account_name"],
                            "region": "eu-central-1", "status": "error", "error": "GetRestApis: 8 server errors (HTTP 503)",
                            "caller_arn": None, "stages": 0, "noncompliant": 0})
    lost["summary"] = dict(lost["summary"], targets=lost["summary"]["targets"] + 1, targets_failed=1, errors=lost["summary"]["errors"] + 1)
    lost["verdict"], lost["verdict_reason"] = "error", "1 target failed: what failed was not evaluated, so the run cannot vouch for it"
    return lost, account_id


def test_the_verdict_banner_says_what_regressed_and_what_was_not_evaluated(sweep_report, tmp_path, collections_path):
    """A regression and a lost region are in the verdict's banner, on the first screen, and the account is marked."""
    report, account_id = with_a_lost_region(sweep_report.report)
    report["since_baseline"] = since_baseline(sweep_report.report)
    source = tmp_path / "headlines.json"
    source.write_text(json.dumps(report), encoding="utf-8")
    page = tmp_path / "headlines.html"
    rendered = subprocess.run([sys.executable, "-c", RENDER, str(source), str(page)], env=dict(os.environ, PYTHONPATH=collections_path),
                              capture_output=True, text=True, timeout=120, check=False)
    assert rendered.returncode == 0, rendered.stderr
    # Where the browser lays the headlines out, written into the page by a script allowed by its hash.
    measure = (
        'for (const id of ["headline-regressed", "headline-coverage"]) {'
        ' const box = document.getElementById(id).getBoundingClientRect();'
        ' document.body.setAttribute("data-" + id, Math.round(box.top) + " " + Math.round(box.height)); }'
    )
    digest = "'sha256-" + base64.b64encode(hashlib.sha256(measure.encode("utf-8")).digest()).decode("ascii") + "'"
    text = page.read_text(encoding="utf-8").replace("script-src ", f"script-src {digest} ", 1)
    page.write_text(text.replace("</body>", f"<script>{measure}</script></body>", 1), encoding="utf-8")

    dumped = chromium(page, tmp_path, "--dump-dom")
    assert dumped.returncode == 0 and "</html>" in dumped.stdout, dumped.stderr[-3000:]
    dom = Dom(dumped.stdout)
    regressed = since_baseline(sweep_report.report)["regressed"][0]
    assert dom.text("headline-regressed") == (
        f"1 stage regressed since the last run: {regressed['arn']} in {regressed['account_id']} (tracing was turned off)")
    assert dom.text("headline-coverage") == (
        f"Compliance {report['summary']['compliance_percent']}% of the evaluated stages, 1 of {report['summary']['targets']} targets failed "
        "(not evaluated)")
    assert dom.text("verdict").startswith("error 1 target failed") and dom.text("headline-regressed") in dom.text("verdict")
    assert dom.text("figure-compliance_percent").endswith(f"1 of {report['summary']['targets']} targets failed (not evaluated)")
    # Both on the first screen, one under the other, each a line of text.
    body = next(element for element in dom.elements if element["tag"] == "body")
    boxes = {key: [int(value) for value in body["attrs"][f"data-headline-{key}"].split()] for key in ("regressed", "coverage")}
    assert 0 < boxes["regressed"][0] < boxes["coverage"][0] < WINDOW[1] // 4, boxes
    assert all(height >= 12 for dummy, height in boxes.values()), boxes
    # The account that lost its region is outlined and says so beside its bar.
    groups = [element for element in dom.elements if element["tag"] == "g" and element["attrs"].get("data-account") == account_id]
    assert len(groups) == 1
    assert "1 of" in " ".join("".join(element["text"]) for element in dom.elements
                              if element["tag"] == "text" and "incomplete" in element["attrs"].get("class", "").split())
    assert dumped.stdout.count('class="outline incomplete"') == 1

    screenshot = tmp_path / "headlines.png"
    shot = chromium(page, tmp_path, f"--screenshot={screenshot}")
    assert shot.returncode == 0, shot.stderr[-3000:]
    dummy, dummy2, pixels = png_pixels(screenshot.read_bytes())
    # The error banner, three lines high now (verdict, regression, coverage): at least 70 rows of its colour at the top.
    rows = {index // WINDOW[0] for index, colour in enumerate(pixels) if near(colour, ERROR_BANNER)}
    assert len(rows) > 70 and min(rows) < WINDOW[1] // 8, (len(rows), min(rows, default=None))
