# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""report.html read as a machine reads it (html.parser): well formed, self-contained, escaped, with its summary,
chart, changes since the last run and sortable tables. tests/integration/test_report_html_browser.py looks at it
in a real browser."""

from __future__ import annotations

import base64
import copy
import hashlib
import re
import time
from html.parser import HTMLParser

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report import format_html as _report_html
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_html import render_html
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.formats import FILE_NAMES
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.formats import RENDERERS
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_audit_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_big_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_enforce_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_half_failed_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import since_baseline_compared
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import since_baseline_none
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import since_baseline_regressed
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import trend_point

VOID = {"meta", "br", "hr", "img", "input", "link", "area", "base", "col", "embed", "source", "track", "wbr"}
HOSTILE = '<script>alert(1)</script>"\'</svg><img src=x onerror=alert(2)>'


class Page(HTMLParser):
    """Every element (tag, attributes, text inside it), checking that each element is closed in order."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements = []
        self.open = []
        self.problems = []
        self.feed(text)
        self.close()
        if self.open:
            self.problems.append(f"not closed: {[element['tag'] for element in self.open]}")

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": []}
        self.elements.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.elements.append({"tag": tag, "attrs": dict(attrs), "text": []})

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.open or self.open[-1]["tag"] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1]['tag'] if self.open else 'nothing'}")
            return
        self.open.pop()

    def handle_data(self, data):
        for element in self.open:
            element["text"].append(data)

    def find(self, tag=None, **attrs):
        return [
            element for element in self.elements
            if (tag is None or element["tag"] == tag)
            and all((element["attrs"].get(key.rstrip("_")) or "") == value or value in (element["attrs"].get(key.rstrip("_")) or "").split()
                    for key, value in attrs.items())
        ]

    def by_id(self, element_id):
        found = self.find(id=element_id)
        assert len(found) == 1, (element_id, len(found))
        return found[0]


def text_of(element):
    return " ".join("".join(element["text"]).split())


def table_rows(page, table_id):
    """[[cell text, ...] per body row] of the table with that id."""
    rows = []
    inside = False
    for element in page.elements:
        if element["tag"] == "table":
            inside = element["attrs"].get("id") == table_id
        elif inside and element["tag"] == "tr" and rows is not None:
            rows.append([])
        elif inside and element["tag"] in ("td", "th") and rows:
            rows[-1].append(text_of(element))
    return rows[1:]  # the header row first


def assert_well_formed_and_self_contained(text):
    page = Page(text)
    assert page.problems == []
    assert text.startswith("<!DOCTYPE html>\n<html lang=\"en\">") and text.endswith("</html>\n")
    # Nothing is loaded: no src at all, no link element, no remote href, no CSS import or url().
    for element in page.elements:
        assert "src" not in element["attrs"], element
        href = element["attrs"].get("href") or ""
        assert not re.match(r"(?i)\s*(https?:)?//", href), element
    assert not page.find("link") and not page.find("img") and not page.find("iframe") and not page.find("object")
    styles = page.find("style")
    assert len(styles) == 1 and "@import" not in text_of(styles[0]) and "url(" not in text_of(styles[0])
    # One script, the page's own, allowed by its hash; the policy allows no other source.
    scripts = page.find("script")
    assert len(scripts) == 1 and "src" not in scripts[0]["attrs"]
    policy = page.find("meta", **{"http-equiv": "Content-Security-Policy"})
    assert len(policy) == 1
    content = policy[0]["attrs"]["content"]
    assert "default-src 'none'" in content and "img-src 'none'" in content
    for body in ("".join(scripts[0]["text"]), "".join(styles[0]["text"])):
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii")
        assert f"'sha256-{digest}'" in content
    return page


@pytest.mark.parametrize("build", [build_enforce_report, build_audit_report])
def test_page_is_well_formed_self_contained_and_deterministic(build):
    report = build()
    saved = copy.deepcopy(report)
    text = render_html(report)
    assert_well_formed_and_self_contained(text)
    assert render_html(build()) == text
    assert report == saved
    assert RENDERERS["html"] is render_html and FILE_NAMES["html"] == "report.html"


def test_summary_verdict_and_run_header():
    page = Page(render_html(build_enforce_report()))
    verdict = page.by_id("verdict")
    assert "verdict-error" in verdict["attrs"]["class"].split()
    assert text_of(verdict) == (
        "error 1 target failed, 1 stage error: what failed was not evaluated, so the run cannot vouch for it "
        "Compliance 80.0% of the evaluated stages, 1 of 3 targets failed, 1 stage error (not evaluated)"
    )
    # The biggest card is never a bare percent when targets or stages were lost.
    card = page.by_id("figure-compliance_percent")
    assert text_of(card) == "80.0 Compliance % of the evaluated stages 1 of 3 targets failed, 1 stage error (not evaluated)"
    assert "incomplete" in card["attrs"]["class"].split()
    assert text_of(page.by_id("figure-stages")) == "9 Stages"
    assert text_of(page.by_id("figure-noncompliant")) == "1 Non-compliant"
    assert text_of(page.by_id("figure-errors")) == "2 Errors"
    header = text_of(page.find("dl", class_="run")[0])
    assert "Mode enforce (changes were made)" in header and "Generated at 2026-03-15T12:00:00+00:00" in header
    assert "Policy tracing on by default; 0 rules; 0 exemptions; no exempt tag" in header
    assert page.find("title") and text_of(page.find("title")[0]).startswith("API Gateway X-Ray tracing sweep: error (enforce, ")
    audit = Page(render_html(build_audit_report()))
    assert "verdict-noncompliant" in audit.by_id("verdict")["attrs"]["class"].split()
    # Every target and stage evaluated: the figure is the whole run's, and nothing is added to the banner.
    assert text_of(audit.by_id("figure-compliance_percent")) == "25.0 Compliance %"
    assert not audit.find("p", class_="headline")
    assert table_rows(page, "failed-targets") == [["broken", "444444444444", "eu-west-1", "Unable to assume role"]]


def test_chart_has_a_bar_per_account_with_evaluated_stages():
    page = Page(render_html(build_enforce_report()))
    chart = page.by_id("account-chart")
    assert chart["tag"] == "svg"
    groups = page.find("g", class_="account")
    assert [group["attrs"]["data-account"] for group in groups] == ["222222222222", "111111111111", "444444444444"]
    bars = page.find("rect", class_="bar")
    # payments: 1 of 2 compliant, half green and half red; shop: all compliant; the failed account has no bar.
    assert [(rect["attrs"]["class"], rect["attrs"]["width"]) for rect in bars] == [
        ("bar compliant", "200"), ("bar noncompliant", "200"), ("bar compliant", "400")]
    assert {rect["attrs"]["fill"] for rect in bars} == {_report_html.COLOURS["compliant"], _report_html.COLOURS["noncompliant"]}
    assert "n/a: no stage evaluated (1 failed target)" in text_of(chart)
    assert "50.0%" in text_of(chart) and "100.0%" in text_of(chart)
    assert table_rows(page, "accounts")[2] == ["444444444444", "eu-west-1", "FAILED: Unable to assume role", "0", "0", "0", "0", "0", "1", "n/a"]


def test_hostile_names_are_escaped_everywhere():
    report = build_enforce_report()
    for row in report["stages"]:
        row["rest_api_name"] = HOSTILE
        row["account_name"] = HOSTILE
    for target in report["targets"]:
        target["account_name"] = HOSTILE
        target["error"] = target["error"] and HOSTILE + "\x1b[31m"
    report["verdict_reason"] = HOSTILE
    since = since_baseline_compared()
    since["history"] = HOSTILE
    since["regressed"][0]["cause"] = HOSTILE
    since["trend"][0]["id"] = HOSTILE
    report["since_baseline"] = since
    text = render_html(report)
    page = assert_well_formed_and_self_contained(text)
    assert "<script>alert" not in text and "<img" not in text and "</svg><" not in text.replace("</svg>\n", "")
    assert len(page.find("svg")) == 2 and len(page.find("script")) == 1
    assert HOSTILE in text_of(page.by_id("verdict"))
    assert any(row[2] == HOSTILE for row in table_rows(page, "stages"))
    assert "\x1b" not in text and "\\x1b[31m" in text
    assert HOSTILE in text_of(page.by_id("account-chart"))


def test_stage_table_is_sortable_and_reads_without_javascript():
    report = build_enforce_report()
    page = Page(render_html(report))
    table = page.by_id("stages")
    assert "sortable" in table["attrs"]["class"].split()
    rows = table_rows(page, "stages")
    # In report order, one row per stage, the category named.
    assert len(rows) == len(report["stages"])
    assert [row[4] for row in rows] == [stage["stage_name"] for stage in report["stages"]]
    assert {row[5] for row in rows} == {"compliant", "non-compliant", "exempt", "skipped", "error"}
    script = text_of(page.find("script")[0])
    assert 'querySelectorAll("table.sortable")' in script and 'addEventListener("click"' in script
    numbers = [element for element in page.find("th") if element["attrs"].get("data-type") == "number"]
    assert "Compliance %" in [text_of(element) for element in numbers]


def test_since_the_last_run():
    report = build_enforce_report()
    assert "since-last-run" not in render_html(report)  # history off: no section
    report["since_baseline"] = since_baseline_compared()
    page = Page(render_html(report))
    section = text_of(page.by_id("since-last-run"))
    assert "History s3://tracing-history/sweeps" in section and "This run 20261202T003000123456Z" in section
    assert "Compared with 20261201T003000123456Z, audit of 2026-12-01T00:30:00+00:00: compliance 60.0%, verdict noncompliant" in section
    assert text_of(page.by_id("change-regressed")) == "1 Regressed"
    assert table_rows(page, "changes-regressed") == [
        ["111111111111 (shop)", "us-east-1", "regress", "g1g2g3g4g5", "prod", "compliant", "noncompliant", "tracing was turned off outside the sweep"]]
    assert table_rows(page, "changes-fixed")[0][-1] == "true"
    assert table_rows(page, "changes-new")[0][-1] == "noncompliant"
    assert table_rows(page, "changes-removed")[0][2] == "retired"
    # The trend: the 4 runs with a figure, this run last; the one that evaluated nothing is said, not drawn as 0.
    line = page.find("polyline", class_="trend")
    assert len(line) == 1 and len(line[0]["attrs"]["points"].split()) == 4
    assert len(page.by_id("trend-chart")["attrs"]) and len(page.find("circle")) == 4
    assert "this run" in text_of(page.by_id("trend-chart"))
    assert "1 run is not drawn: no stage was evaluated (compliance n/a)." in section

    report["since_baseline"] = since_baseline_none()
    page = Page(render_html(report))
    section = text_of(page.by_id("since-last-run"))
    assert "No baseline the history has no earlier run of this scope" in section
    assert not page.find("polyline") and not page.find("table", id="changes-new")


def test_changes_are_capped(monkeypatch):
    monkeypatch.setattr(_report_html, "CHANGES_SHOWN", 2)
    report = build_audit_report()
    since = since_baseline_compared()
    since["new"] = since["new"] * 5
    report["since_baseline"] = since
    page = Page(render_html(report))
    assert len(table_rows(page, "changes-new")) == 2
    assert "The first 2 are shown; report.json has all 5." in text_of(page.by_id("since-last-run"))


def test_big_report_is_capped_well_formed_and_quick_enough_to_measure():
    report = build_big_report(accounts=500, stages_per_account=20)
    started = time.perf_counter()
    text = render_html(report)
    seconds = time.perf_counter() - started
    page = assert_well_formed_and_self_contained(text)
    print(f"report.html of {len(report['stages'])} stages: {len(text.encode('utf-8'))} bytes in {seconds:.2f}s")
    assert len(table_rows(page, "stages")) == 10000
    # A browser lays the stage table out when it is scrolled near, not before showing the first screen.
    assert "#stages-section { content-visibility: auto; contain-intrinsic-size: auto 20000em; }" in text_of(page.find("style")[0])
    assert len(table_rows(page, "accounts")) == 500
    assert len(page.find("g", class_="account")) == _report_html.CHART_ACCOUNTS
    assert "The 50 least compliant of 500 accounts with evaluated stages are drawn." in text_of(page.by_id("by-account"))
    # The least compliant first.
    widths = [float(rect["attrs"]["width"]) for rect in page.find("rect", class_="compliant")]
    assert widths == sorted(widths)


# ---- what the page says first: a regression, and a compliance figure that is not the whole run's ---------------


def test_a_regression_is_in_the_verdict_banner():
    report = build_audit_report()
    report["since_baseline"] = since_baseline_regressed(4)
    page = Page(render_html(report))
    headline = page.by_id("headline-regressed")
    # Inside the banner, not only in the card of the section further down.
    assert headline in [element for element in page.elements if element["tag"] == "p" and "headline" in element["attrs"].get("class", "")]
    assert text_of(page.by_id("verdict")).startswith("noncompliant 3 stages do not have their desired tracing state 4 stages regressed")
    text = text_of(headline)
    assert text.startswith("4 stages regressed since the last run: arn:aws:apigateway:us-east-1::/restapis/g000000000/stages/prod in 111111111111 "
                           "(tracing_enabled is false, desired true (#1), put back by this run); ")
    assert text.count("arn:") == 3 and text.endswith("; and 1 more")
    report["since_baseline"] = since_baseline_none()
    assert "headline-regressed" not in render_html(report)


def test_a_run_that_lost_targets_never_headlines_a_bare_percent():
    page = Page(render_html(build_half_failed_report()))
    assert text_of(page.by_id("headline-coverage")) == "Compliance 100.0% of the evaluated stages, 2 of 4 targets failed (not evaluated)"
    assert text_of(page.by_id("figure-compliance_percent")) == "100.0 Compliance % of the evaluated stages 2 of 4 targets failed (not evaluated)"
    # Both accounts' bars are all green, over the region that was swept: each is outlined in red and says what it lost.
    assert [(rect["attrs"]["class"], rect["attrs"]["width"]) for rect in page.find("rect", class_="bar")] == [
        ("bar compliant", "400"), ("bar compliant", "400")]
    assert len(page.find("rect", class_="incomplete")) == 2
    marks = [text_of(element) for element in page.find("text", class_="incomplete")]
    assert marks == ["1 of 2 targets failed", "1 of 2 targets failed"]
    chart = page.by_id("account-chart")
    assert 'width="1040"' in render_html(build_half_failed_report()) and chart["attrs"]["width"] == "1040"
    assert "An account outlined in red lost a target" in text_of(page.by_id("by-account"))
    # The same accounts, nothing lost: no mark, the chart as narrow as before.
    calm = Page(render_html(build_audit_report()))
    assert not calm.find("rect", class_="incomplete") and calm.by_id("account-chart")["attrs"]["width"] == "790"


def test_trend_labels_are_unique_for_runs_in_the_same_minute():
    report = build_audit_report()
    since = since_baseline_compared()
    since["trend"] = [dict(trend_point(0, percent), id=f"2026110{index}", generated_at="2026-11-01T00:30:40Z")
                      for index, percent in enumerate((40.0, 50.0, 60.0))] + [trend_point(9, 80.0)]
    report["since_baseline"] = since
    page = Page(render_html(report))
    labels = [text_of(element) for element in page.find("text") if element in page.elements and text_of(element).startswith(("11-", "this"))]
    assert labels == ["11-01 00:30", "11-01 00:30 #2", "11-01 00:30 #3", "this run"]
    assert len(page.find("circle")) == 4
