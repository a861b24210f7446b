# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""report.html: the sweep report as one self-contained page to open in a browser (an AWX artifact, a CI artifact).

Everything is in the file: the CSS, the charts (inline SVG) and a small script that sorts a table when a column
header is clicked. Nothing is loaded from anywhere, and the page's Content-Security-Policy says so to the browser:
no source but the page's own style and script, which are allowed by their hashes, so that a script that got into the
page some other way would not run. The page reads the same without JavaScript (tables in report order). The stage
table has content-visibility: auto: a browser shows the first screen of a 10,000-stage page at once and lays the
table out when it is scrolled near.

Every value from the report is HTML-escaped (quotes too) after _report.safe_text.safe_text has shown control characters
escaped. The same report always gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import html

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report import headlines
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.charts import account_compliance
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.charts import account_label
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.charts import capped
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.charts import trend_labels
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.charts import trend_points
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import CATEGORIES
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import COMPLIANCE_RULE
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import category_counts
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import row_category
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import untraced_hops
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_markdown import WHOLE_PATH_RULE
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_markdown import FUNCTION_ACTION_WORDS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_markdown import CHANGE_LISTS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_markdown import MODE_NOTES
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_markdown import SUMMARY_LABELS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_markdown import TITLE
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_markdown import _applies_to
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_markdown import _callers
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_markdown import _groups
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_markdown import _policy_line
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_markdown import _shortened
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.safe_text import safe_text

# The chart draws this many of the least compliant accounts (and lists this many with no evaluated stage);
# the table by account and region has them all.
CHART_ACCOUNTS = 50
# Each list of changes since the last run shows this many stages; report.json has them all.
CHANGES_SHOWN = 500
COLOURS = {
    "compliant": "#2e7d32",
    "noncompliant": "#c62828",
    "na": "#757575",
    "trend": "#1565c0",
    "grid": "#d0d7de",
}
CATEGORY_NAMES = {
    "compliant": "compliant",
    "noncompliant": "non-compliant",
    "exempt": "exempt",
    "skipped": "skipped",
    "stage_errors": "error",
}

STYLE = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; margin: 0 auto;
  max-width: 1400px; padding: 1rem 1.5rem 3rem; color: #1f2328; background: #ffffff; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 0.5rem 0 1rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 0.6rem; border-bottom: 1px solid #d0d7de; padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 0.4rem; }
.verdict { border-left: 0.5rem solid; padding: 0.7rem 1rem; border-radius: 0.3rem; margin-bottom: 1rem; }
.verdict strong { font-size: 1.3rem; text-transform: uppercase; letter-spacing: 0.03em; margin-right: 0.6rem; }
.verdict-compliant { background: #e8f5e9; border-color: #2e7d32; }
.verdict-noncompliant { background: #fff3e0; border-color: #e65100; }
.verdict-error { background: #ffebee; border-color: #c62828; }
.verdict p { margin: 0.4rem 0 0; }
.verdict p.headline { font-weight: 600; }
dl.run { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1rem; margin: 0; }
dl.run dt { font-weight: 600; }
dl.run dd { margin: 0; overflow-wrap: anywhere; }
.figures { display: flex; flex-wrap: wrap; gap: 0.6rem; margin: 0.6rem 0 1rem; }
.figure { border: 1px solid #d0d7de; border-radius: 0.3rem; padding: 0.4rem 0.8rem; min-width: 7rem; }
.figure b { display: block; font-size: 1.4rem; }
.figure.incomplete { border: 2px dashed #c62828; }
.figure .coverage { display: block; color: #c62828; font-weight: 600; font-size: 0.9rem; }
table { border-collapse: collapse; margin: 0.4rem 0 0.8rem; font-size: 0.9rem; }
th, td { border: 1px solid #d0d7de; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; overflow-wrap: break-word; }
td { max-width: 32rem; }
.wide { overflow-x: auto; }
th { background: #f6f8fa; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.js table.sortable th { cursor: pointer; user-select: none; }
.js table.sortable th::after { content: " \\2195"; color: #8c959f; }
.js table.sortable th[aria-sort="ascending"]::after { content: " \\25B2"; color: #1f2328; }
.js table.sortable th[aria-sort="descending"]::after { content: " \\25BC"; color: #1f2328; }
tr.c-noncompliant td.cat { color: #c62828; font-weight: 600; }
tr.c-stage_errors td.cat { color: #c62828; font-weight: 600; }
tr.c-compliant td.cat { color: #2e7d32; }
tr.c-exempt td.cat, tr.c-skipped td.cat { color: #57606a; }
.note { color: #57606a; font-size: 0.9rem; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 0.4rem 0; }
svg.chart text { font-family: inherit; font-size: 12px; fill: #1f2328; }
svg.chart text.na { fill: #57606a; font-style: italic; }
svg.chart text.incomplete { fill: #c62828; font-weight: 600; }
footer { margin-top: 2.5rem; color: #57606a; font-size: 0.85rem; }
"""

SCRIPT = """
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  var collator = new Intl.Collator("en", { numeric: true });
  each(document.querySelectorAll("table.sortable"), function (table) {
    var headers = table.tHead.rows[0].cells;
    each(headers, function (th, column) {
      th.tabIndex = 0;
      th.title = "Sort by this column";
      th.setAttribute("aria-sort", "none");
      var sort = function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        var numeric = th.getAttribute("data-type") === "number";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows).map(function (row, index) {
          var text = row.cells[column] ? row.cells[column].textContent : "";
          var value = numeric ? parseFloat(text) : text;
          return { row: row, index: index, value: numeric && isNaN(value) ? -Infinity : value };
        });
        rows.sort(function (a, b) {
          var order = numeric ? (a.value > b.value) - (a.value < b.value) : collator.compare(a.value, b.value);
          return (ascending ? order : -order) || a.index - b.index;
        });
        each(headers, function (other) { other.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var fragment = document.createDocumentFragment();
        rows.forEach(function (item) { fragment.appendChild(item.row); });
        body.appendChild(fragment);
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sort(); }
      });
    });
  });
})();
"""


def _hash(text):
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def page_style(rows):
    """STYLE and, for the stage table, content-visibility: a browser lays it out when it is scrolled near, not before
    the first screen (10,000 rows took seconds), with room held for about as many lines as it has rows."""
    return STYLE + f"#stages-section {{ content-visibility: auto; contain-intrinsic-size: auto {max(10, 2 * rows)}em; }}\n"


def content_security_policy(style):
    """Nothing may load; only the page's own style and script apply, allowed by their hashes."""
    return (
        f"default-src 'none'; style-src {_hash(style)}; script-src {_hash(SCRIPT)}; img-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )


def esc(value):
    """A report value as HTML text: None as '-', booleans as true/false, control characters shown escaped."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    return html.escape(safe_text(value), quote=True)


def _number(value):
    return f"{float(value):g}"


def _percent(value):
    """As report.md shows it: the report's figure (one decimal), n/a for None."""
    return "n/a" if value is None else value


def _table(headers, rows, table_id=None, sortable=True, row_classes=None):
    """A table; headers are (title, kind) with kind 'text', 'number' or 'cat' (the category column)."""
    attributes = (f' id="{table_id}"' if table_id else "") + (' class="sortable"' if sortable else "")
    out = ['<div class="wide">', f"<table{attributes}>", "<thead><tr>"]
    out += [f'<th scope="col" data-type="{"number" if kind == "number" else "text"}">{esc(title)}</th>' for title, kind in headers]
    out.append("</tr></thead>")
    out.append("<tbody>")
    for index, row in enumerate(rows):
        row_class = f' class="{row_classes[index]}"' if row_classes else ""
        cells = []
        for (dummy, kind), value in zip(headers, row):
            css = {"number": ' class="num"', "cat": ' class="cat"'}.get(kind, "")
            cells.append(f"<td{css}>{esc(value)}</td>")
        out.append(f"<tr{row_class}>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return out


def _headlines(report):
    """[(id, sentence)] the verdict's banner adds: a regression since the last run, and a compliance figure that is
    not the whole run's (targets or stages were not evaluated)."""
    found = []
    regression = headlines.regression_headline(report.get("since_baseline"))
    if regression:
        found.append(("regressed", regression))
    coverage = headlines.coverage_headline(report["summary"])
    if coverage:
        found.append(("coverage", "Compliance " + coverage))
    return found


def _header(report):
    run = report.get("run") or {}
    verdict = report.get("verdict") or "error"
    css = verdict if verdict in ("compliant", "noncompliant", "error") else "error"
    out = [
        f"<h1>{esc(TITLE)}</h1>",
        f'<div class="verdict verdict-{css}" id="verdict"><strong>{esc(verdict)}</strong> {esc(report.get("verdict_reason"))}'
        + "".join(f'\n<p class="headline" id="headline-{key}">{esc(text)}</p>' for key, text in _headlines(report))
        + "</div>",
        '<dl class="run">',
        f"<dt>Mode</dt> <dd>{esc(MODE_NOTES.get(report['mode'], report['mode']))}</dd>",
        f"<dt>Generated at</dt> <dd>{esc(report['generated_at'])}</dd>",
    ]
    if run:
        out.append(f"<dt>Collection</dt> <dd>{esc(run.get('collection', 'cloudops.apigw_tracing'))} {esc(run.get('collection_version'))}</dd>")
        out.append(f"<dt>Policy</dt> <dd>{esc(_policy_line(run.get('policy') or {}))}</dd>")
    for label, arn in _callers(report):
        out.append(f"<dt>Run by in {esc(label)}</dt> <dd>{esc(arn)}</dd>")
    out.append(f"<dt>Schema version</dt> <dd>{esc(report['schema_version'])}</dd>")
    for error in run.get("errors") or []:
        out.append(f"<dt>Run error</dt> <dd>{esc(error)}</dd>")
    out.append("</dl>")
    return out


def _summary(report):
    summary = report["summary"]
    out = ['<section id="summary">', "<h2>Summary</h2>", '<div class="figures">']
    lost = headlines.not_evaluated(summary)
    for key, label in (("compliance_percent", "Compliance %"), ("stages", "Stages"), ("compliant", "Compliant"),
                       ("noncompliant", "Non-compliant"), ("errors", "Errors"), ("targets", "Targets")):
        value = _percent(summary.get(key)) if key == "compliance_percent" else summary.get(key)
        if key == "compliance_percent" and lost:
            # Never a bare 100%: the figure is over the evaluated stages only, and the card says what was not evaluated.
            out.append(
                f'<div class="figure incomplete" id="figure-{key}"><b>{esc(value)}</b> {esc(label)} of the evaluated stages '
                f'<span class="coverage">{esc(lost)} (not evaluated)</span></div>'
            )
            continue
        out.append(f'<div class="figure" id="figure-{key}"><b>{esc(value)}</b> {esc(label)}</div>')
    out.append("</div>")
    out += _table(
        (("Metric", "text"), ("Value", "text")),
        [(label, _percent(summary.get(key)) if key == "compliance_percent" else summary.get(key)) for key, label in SUMMARY_LABELS],
        sortable=False,
    )
    out.append(f'<p class="note">How it is counted: {esc(COMPLIANCE_RULE)}.</p>')
    out.append("</section>")
    return out


def _short(text, length):
    return text if len(text) <= length else text[: length - 1] + "\u2026"


def account_chart_svg(entries, limit=CHART_ACCOUNTS):
    """(svg lines, note lines): horizontal bars, compliant share green and non-compliant share red, per account."""
    drawn, not_drawn, left_off = capped(entries, limit)
    shown_na = not_drawn[:limit]
    rows = len(drawn) + len(shown_na)
    if not rows:
        return [], ['<p class="note">No account in the report.</p>']
    label_width, bar_width, row_height, top = 300, 400, 24, 8
    # An account that lost a target or a stage has its mark written after its figure: room for it when one does.
    marked = any(item.get("incomplete") for item in drawn)
    width = label_width + bar_width + (340 if marked else 90)
    height = top * 2 + rows * row_height
    out = [
        f'<svg class="chart" id="account-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="account-chart-title">',
        '<title id="account-chart-title">Compliance percent by account, least compliant first</title>',
    ]
    for index, item in enumerate(drawn + shown_na):
        y = top + index * row_height
        label = esc(_short(item["label"], 44))
        full = esc(item["label"])
        out.append(f'<g class="account" data-account="{esc(item["account_id"] or item["label"])}">')
        out.append(f"<title>{full}: {esc(_account_tooltip(item))}</title>")
        out.append(f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end">{label}</text>')
        if item["percent"] is None:
            out.append(f'<text class="na" x="{label_width}" y="{y + 16}">n/a: no stage evaluated{_failed_note(item)}</text>')
        else:
            good = round(bar_width * item["percent"] / 100.0, 1)
            out.append(
                f'<rect class="bar compliant" x="{label_width}" y="{y + 3}" width="{_number(good)}" height="{row_height - 6}" '
                f'fill="{COLOURS["compliant"]}"/>'
            )
            if good < bar_width:
                out.append(
                    f'<rect class="bar noncompliant" x="{_number(label_width + good)}" y="{y + 3}" width="{_number(round(bar_width - good, 1))}" '
                    f'height="{row_height - 6}" fill="{COLOURS["noncompliant"]}"/>'
                )
            out.append(f'<text x="{label_width + bar_width + 8}" y="{y + 16}">{esc(_percent(item["percent"]))}%</text>')
            if item.get("incomplete"):
                # Its bar is over what was evaluated only: outlined in red, and what it lost said beside it.
                out.append(
                    f'<rect class="outline incomplete" x="{label_width}" y="{y + 2}" width="{bar_width}" height="{row_height - 4}" '
                    f'fill="none" stroke="{COLOURS["noncompliant"]}" stroke-width="2" stroke-dasharray="6 3"/>'
                )
                out.append(f'<text class="incomplete" x="{label_width + bar_width + 60}" y="{y + 16}">{esc(item["incomplete"])}</text>')
        out.append("</g>")
    out.append("</svg>")
    notes = []
    if left_off:
        notes.append(f"The {len(drawn)} least compliant of {len(drawn) + left_off} accounts with evaluated stages are drawn.")
    if len(not_drawn) > len(shown_na):
        notes.append(f"{len(not_drawn) - len(shown_na)} more accounts have no evaluated stage.")
    notes.append(
        "Green: compliant stages, red: non-compliant, as a share of the evaluated stages of the account (all its regions); "
        "an account with no evaluated stage is marked n/a, not drawn. Every account is in the table by account and region."
    )
    if marked:
        notes.append(
            "An account outlined in red lost a target (a region that failed) or a stage that could not be read or changed: its bar is "
            "only over the stages that were evaluated (see Errors)."
        )
    return out, [f'<p class="note">{esc(note)}</p>' for note in notes]


def _failed_note(item):
    failed = item["failed_targets"]
    return esc(f" ({failed} failed target{'' if failed == 1 else 's'})") if failed else ""


def _account_tooltip(item):
    text = f"{_percent(item['percent'])}% ({item['compliant']} compliant, {item['noncompliant']} non-compliant, {item['stages']} stages"
    if item.get("incomplete"):
        text += f"; {item['incomplete']}: not evaluated"
    return text + ")"


def trend_svg(since_baseline):
    """A line of compliance over the runs of since_baseline.trend (no lines when fewer than 2 have a figure)."""
    trend = since_baseline.get("trend") or []
    points = trend_points(since_baseline)
    if len(points) < 2:
        return []
    this_run = trend[-1]
    width, height, left, right, top, bottom = 760, 240, 48, 24, 16, 48
    plot_width, plot_height = width - left - right, height - top - bottom
    step = plot_width / (len(points) - 1)

    def y_of(value):
        return round(top + plot_height * (1 - float(value) / 100.0), 1)

    out = [
        f'<svg class="chart" id="trend-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="trend-chart-title">',
        '<title id="trend-chart-title">Compliance percent over the last runs, oldest first</title>',
    ]
    for value in (0, 50, 100):
        y = y_of(value)
        out.append(f'<line x1="{left}" y1="{_number(y)}" x2="{width - right}" y2="{_number(y)}" stroke="{COLOURS["grid"]}"/>')
        out.append(f'<text x="{left - 6}" y="{_number(y + 4)}" text-anchor="end">{value}%</text>')
    coordinates = [(round(left + index * step, 1), y_of(point["compliance_percent"])) for index, point in enumerate(points)]
    out.append(
        f'<polyline class="trend" fill="none" stroke="{COLOURS["trend"]}" stroke-width="2.5" points="'
        + " ".join(f"{_number(x)},{_number(y)}" for x, y in coordinates) + '"/>'
    )
    labels = trend_labels(
        points, this_run, lambda point: str(point.get("generated_at") or point.get("id") or "?")[5:16].replace("T", " "),
        lambda label, count: f"{label} #{count}",
    )
    for point, (x, y), label in zip(points, coordinates, labels):
        out.append(
            f'<circle cx="{_number(x)}" cy="{_number(y)}" r="4" fill="{COLOURS["trend"]}"><title>{esc(point.get("id"))} '
            f'({esc(point.get("mode"))}, {esc(point.get("generated_at"))}): {esc(_number(point["compliance_percent"]))}%, '
            f'{esc(point.get("noncompliant"))} non-compliant, verdict {esc(point.get("verdict"))}</title></circle>'
        )
        out.append(f'<text x="{_number(x)}" y="{height - bottom + 18}" text-anchor="middle">{esc(label)}</text>')
    out.append("</svg>")
    skipped = len(trend) - len(points)
    if skipped:
        out.append(f'<p class="note">{skipped} run{" is" if skipped == 1 else "s are"} not drawn: no stage was evaluated (compliance n/a).</p>')
    return out


def _change_rows(key, items):
    headers = [("Account", "text"), ("Region", "text"), ("API", "text"), ("API id", "text"), ("Stage", "text")]
    if key in ("regressed", "fixed"):
        headers += [("Before", "text"), ("After", "text"), ("Cause", "text")]
        if key == "fixed":
            headers.append(("Corrected by this run", "text"))
    else:
        headers.append(("Category", "text"))
    rows = []
    for item in items:
        row = [account_label(item.get("account_id"), item.get("account_name")), item.get("region"), item.get("rest_api_name"),
               item.get("rest_api_id"), item.get("stage_name")]
        if key in ("regressed", "fixed"):
            row += [item.get("before"), item.get("after"), item.get("cause")]
            if key == "fixed":
                row.append(bool(item.get("corrected")))
        else:
            row.append(item.get("category"))
        rows.append(row)
    return headers, rows


def since_last_run(since_baseline):
    if not since_baseline:
        return []
    out = ['<section id="since-last-run">', "<h2>Since the last run</h2>", '<dl class="run">']
    out.append(f"<dt>History</dt> <dd>{esc(since_baseline.get('history'))}</dd>")
    out.append(f"<dt>This run</dt> <dd>{esc(since_baseline.get('run_id'))}</dd>")
    baseline = since_baseline.get("baseline")
    compared = since_baseline.get("status") == "compared" and baseline
    if compared:
        out.append(
            f"<dt>Compared with</dt> <dd>{esc(baseline.get('id'))}, {esc(baseline.get('mode'))} of {esc(baseline.get('generated_at'))}: "
            f"compliance {esc(_percent(baseline.get('compliance_percent')))}%, verdict {esc(baseline.get('verdict'))}</dd>"
        )
        if since_baseline.get("reason"):
            out.append(f"<dt>Not compared</dt> <dd>{esc(since_baseline['reason'])}</dd>")
    else:
        out.append(f"<dt>No baseline</dt> <dd>{esc(since_baseline.get('reason') or 'no earlier run of the same scope in the history')}</dd>")
    out.append("</dl>")
    if compared:
        counts = since_baseline.get("counts") or {}
        out.append('<div class="figures">')
        for key, label in (("new", "New"), ("new_noncompliant", "New, not compliant"), ("removed", "Removed"),
                           ("regressed", "Regressed"), ("fixed", "Fixed")):
            out.append(f'<div class="figure" id="change-{key}"><b>{esc(counts.get(key, 0))}</b> {esc(label)}</div>')
        out.append("</div>")
        for key, heading in CHANGE_LISTS:
            items = since_baseline.get(key) or []
            if not items:
                continue
            out.append(f"<h3>{esc(heading)} ({len(items)})</h3>")
            headers, rows = _change_rows(key, items[:CHANGES_SHOWN])
            out += _table(headers, rows, table_id=f"changes-{key}")
            if len(items) > CHANGES_SHOWN:
                out.append(f'<p class="note">The first {CHANGES_SHOWN} are shown; report.json has all {len(items)}.</p>')
    trend = trend_svg(since_baseline)
    if trend:
        out += ["<h3>Compliance over the last runs</h3>"] + trend
    out.append("</section>")
    return out


def _accounts(report):
    svg, notes = account_chart_svg(account_compliance(report))
    out = ['<section id="by-account">', "<h2>Compliance by account</h2>"] + svg + notes
    rows = []
    for key, label, group_rows, failed in _groups(report):
        counts = category_counts(group_rows)
        status = "; ".join("FAILED: " + _shortened(target["error"] or "the target failed") for target in failed) or "ok"
        rows.append(
            [label, key[1], status, len(group_rows)]
            + [counts[name] for name in CATEGORIES[:-1]]
            + [counts["stage_errors"] + len(failed), _percent(counts["compliance_percent"])]
        )
    out.append("<h3>By account and region</h3>")
    out += _table(
        [("Account", "text"), ("Region", "text"), ("Target", "text"), ("Stages", "number"), ("Compliant", "number"),
         ("Non-compliant", "number"), ("Exempt", "number"), ("Skipped", "number"), ("Errors", "number"), ("Compliance %", "number")],
        rows, table_id="accounts",
    )
    out.append("</section>")
    return out


def _errors(report):
    failed_targets = [target for target in report["targets"] if target["status"] == "error"]
    error_rows = [row for row in report["stages"] if row["action"] == "error"]
    run_errors = (report.get("run") or {}).get("errors") or []
    out = ['<section id="errors">', "<h2>Errors</h2>"]
    if not failed_targets and not error_rows and not run_errors:
        out.append("<p>None.</p>")
    if run_errors:
        out.append(f"<h3>Run errors ({len(run_errors)})</h3><ul>" + "".join(f"<li>{esc(error)}</li>" for error in run_errors) + "</ul>")
    if failed_targets:
        out.append(f"<h3>Failed targets ({len(failed_targets)})</h3>")
        out += _table(
            [("Host", "text"), ("Account", "text"), ("Region", "text"), ("Error", "text")],
            [(target["host"], account_label(target["account_id"], target["account_name"]), target["region"], target["error"]) for target in failed_targets],
            table_id="failed-targets",
        )
    if error_rows:
        out.append(f"<h3>Failed stages ({len(error_rows)})</h3>")
        out += _table(
            [("Account", "text"), ("Region", "text"), ("API", "text"), ("API id", "text"), ("Stage", "text"), ("Error", "text")],
            [(row["account_id"], row["region"], row["rest_api_name"], row["rest_api_id"], row["stage_name"], row["reason"]) for row in error_rows],
            table_id="failed-stages",
        )
    out.append("</section>")
    return out


def _stages(report):
    rows = report["stages"]
    categories = [row_category(row) for row in rows]
    out = ['<section id="stages-section">', f"<h2>Stages ({len(rows)})</h2>"]
    if not rows:
        out.append("<p>None.</p>")
    else:
        out.append('<p class="note">Click a column header to sort by it (again to reverse).</p>')
        out += _table(
            [("Account", "text"), ("Region", "text"), ("API", "text"), ("API id", "text"), ("Stage", "text"), ("Category", "cat"),
             ("Action", "text"), ("Tracing before", "text"), ("Tracing after", "text"), ("Desired", "text"), ("Reason", "text")],
            [
                (account_label(row["account_id"], row.get("account_name")), row["region"], row["rest_api_name"], row["rest_api_id"],
                 row["stage_name"], CATEGORY_NAMES[category], row["action"], row["tracing_enabled_before"], row["tracing_enabled_after"],
                 row["desired"], row["reason"])
                for row, category in zip(rows, categories)
            ],
            table_id="stages",
            row_classes=[f"c-{category}" for category in categories],
        )
    out.append("</section>")
    return out


def _exemptions(report):
    out = ['<section id="exemptions">', f"<h2>Exemptions ({len(report['exemptions'])})</h2>"]
    if report["exemptions"]:
        out += _table(
            [("#", "number"), ("Applies to", "text"), ("Reason", "text"), ("Expires", "text"), ("Status", "text"), ("Stages", "number")],
            [(item["index"] + 1, _applies_to(item), item["reason"], item["expires"] or "never", item["status"], len(item["stages"]))
             for item in report["exemptions"]],
            table_id="exemptions-table",
        )
    else:
        out.append("<p>None configured.</p>")
    out.append("</section>")
    return out


def _security_hub(report):
    """The findings published to Security Hub (tracing_sweep_security_hub), as report.md has them; nothing when off."""
    found = report["summary"].get("security_hub")
    if not found:
        return []
    out = ['<section id="security-hub">', "<h2>Findings in Security Hub</h2>",
           f"<p>{esc(found['imported'])} imported, {esc(found['archived'])} archived, {esc(found['failed'])} not published, "
           f"over {esc(found['targets'])} targets.</p>"]
    if found.get("not_enabled"):
        out.append(f"<p>Security Hub is not enabled in {esc(', '.join(found['not_enabled']))}: no finding was published there.</p>")
    targets = [target for target in report["targets"] if target.get("security_hub")]
    out += _table(
        [("Host", "text"), ("Account", "text"), ("Region", "text"), ("Status", "text"), ("Imported", "number"), ("Archived", "number"),
         ("Not published", "number"), ("Message", "text")],
        [(target["host"], account_label(target["account_id"], target["account_name"]), target["region"], target["security_hub"]["status"],
          target["security_hub"]["imported"], target["security_hub"]["archived"], target["security_hub"]["failed"],
          target["security_hub"]["message"] or "")
         for target in targets],
        table_id="security-hub-targets",
    )
    out.append("</section>")
    return out


def _whole_path(report):
    """The whole-path coverage and the untraced hops grouped by function (tracing_sweep_whole_path), as report.md has
    them; nothing when off."""
    summary = report["summary"]
    if "whole_path_coverage" not in summary:
        return []
    coverage = summary["whole_path_coverage"]
    untraced = untraced_hops(report["stages"])
    out = ['<section id="untraced-hops">', f"<h2>Untraced hops ({len(untraced)})</h2>",
           f"<p>Whole-path coverage: {esc('n/a' if coverage is None else coverage)}%. How it is counted: {esc(WHOLE_PATH_RULE)}.</p>"]
    if not untraced:
        out.append("<p>Every Lambda hop behind the stages traces.</p>")
    else:
        out += _table(
            [("Function", "text"), ("Tracing", "text"), ("Stages behind it", "number"), ("Which", "text"), ("Why", "text")],
            [(entry["function_arn"] or "(unknown)", entry["tracing"], len(entry["stages"]), ", ".join(entry["stages"]), entry["note"] or "")
             for entry in untraced],
            table_id="untraced-hops-functions",
        )
    out.append("</section>")
    return out


def _lambda_functions(report):
    """The Lambda functions whose tracing the run set, or would set, to Active (tracing_sweep_lambda_tracing), as
    report.md has them; nothing when off."""
    functions = report.get("functions")
    if functions is None:
        return []
    out = ['<section id="lambda-functions">', f"<h2>Lambda functions ({len(functions)})</h2>"]
    if not functions:
        out.append("<p>No function in the path of a stage that should be traced needs Active tracing.</p>")
    else:
        out += _table(
            [("Function", "text"), ("What", "text"), ("Mode before", "text"), ("Mode after", "text"), ("Stages behind it", "number"), ("Why", "text")],
            [(entry["function_arn"], FUNCTION_ACTION_WORDS.get(entry["action"], entry["action"]), entry["mode_before"], entry["mode_after"],
              len(entry["stages"]), entry["reason"] or "") for entry in functions],
            table_id="lambda-functions-table",
        )
    out.append("</section>")
    return out


def render_html(report):
    """The report as one self-contained HTML page (str, ends with a newline)."""
    run = report.get("run") or {}
    title = f"{TITLE}: {report.get('verdict', '-')} ({report['mode']}, {report['generated_at']})"
    style = page_style(len(report["stages"]))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy(style)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{esc(title)}</title>",
        f"<style>{style}</style>",
        "</head>",
        "<body>",
        "<header>",
    ]
    parts += _header(report)
    parts.append("</header>")
    parts.append("<main>")
    parts += _summary(report)
    parts += _accounts(report)
    parts += since_last_run(report.get("since_baseline"))
    parts += _errors(report)
    parts += _stages(report)
    parts += _exemptions(report)
    parts += _security_hub(report)
    parts += _whole_path(report)
    parts += _lambda_functions(report)
    parts.append("</main>")
    parts.append(
        f"<footer>Written by {esc(run.get('collection', 'cloudops.apigw_tracing'))} {esc(run.get('collection_version'))}. "
        "report.json holds the same report for machines (schema docs/report.schema.json).</footer>"
    )
    parts.append(f"<script>{SCRIPT}</script>")
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"
