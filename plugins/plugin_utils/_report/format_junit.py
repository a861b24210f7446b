# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""report.xml: the sweep report as JUnit XML, so CI systems show non-compliant stages as failed tests.

One <testsuite> per target (inventory host), one <testcase> per stage:
  non-compliant -> <failure>, error -> <error>, exempt or skipped -> <skipped>, compliant -> passes.
A stage that regressed since the last run (report.since_baseline) fails with type "regression" and the cause;
one that an enforcement put back passes, with the regression in its <system-out>.
A failed target adds one testcase with an <error> carrying the target's error. A run error (no target at
all, for one) is a testcase with an <error> in a suite of its own, so that a run that swept nothing never
shows as a green build.
With tracing_sweep_whole_path, a stage whose gateway has its desired state but whose path breaks at a Lambda hop
fails with type "whole_path", and its text names each hop that does not trace (where, the function, why); a stage
that fails on its gateway names those hops too.
Report rows do not carry the host, so a stage belongs to the target with its account id and region
(the first by host name if two targets share both).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_path import hop_breaks_trace
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import row_category
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import whole_path_breaks
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.safe_text import safe_text

# Characters XML 1.0 cannot carry at all; an AWS error message is not supposed to hold any, but one
# stray control character must not make the whole report unparsable.
INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
COUNTERS = ("tests", "failures", "errors", "skipped")


def _clean(value):
    # Control and bidirectional characters are shown escaped (\x1b, \u202e), as in report.md and report.csv.
    return INVALID_XML_CHARS.sub("?", safe_text("" if value is None else str(value)))


def _classname(account_id, account_name, region):
    return _clean(f"{account_id or account_name or 'default'}.{region or 'unknown-region'}")


def _testcase(parent, classname, name):
    return ET.SubElement(parent, "testcase", {"classname": classname, "name": _clean(name)})


def _regressions(report):
    """(account id, ARN) -> the sentence saying the stage regressed since the baseline."""
    since = report.get("since_baseline") or {}
    baseline = since.get("baseline") or {}
    found = {}
    for item in since.get("regressed") or []:
        found[(item["account_id"], item["arn"])] = (
            f"regressed since the last run ({baseline.get('id')}): {item['before']} then, {item['after']} now ({item['cause']})"
            + ("; put back by this run" if item["corrected"] else "")
        )
    return found


def _hop_place(hop):
    if hop["kind"] == "authorizer":
        return "authorizer %s" % (hop.get("name") or "-")
    return "%s %s" % (hop.get("http_method") or "-", hop.get("resource_path") or "-")


def untraced_hops_lines(row):
    """The Lambda hops of the row's path that do not trace, one line each: where, the function, its state and why."""
    return [
        _clean("%s -> %s (%s: %s)" % (_hop_place(hop), hop.get("function_arn") or "function unknown", hop["tracing"], hop.get("note") or ""))
        for hop in row.get("hops") or []
        if hop_breaks_trace(hop)
    ]


def _stage_case(suite, counts, classname, row, regressions):
    case = _testcase(suite, classname, f"{row['rest_api_name'] or '-'}/{row['stage_name']} ({row['rest_api_id']})")
    counts["tests"] += 1
    category = row_category(row)
    reason = _clean(row["reason"])
    regression = regressions.get((row["account_id"], row["arn"]))
    if regression is not None and category != "noncompliant":
        ET.SubElement(case, "system-out").text = _clean(regression)
    if category == "noncompliant":
        counts["failures"] += 1
        if regression is not None:
            reason = _clean(regression)
        # tracing_sweep_whole_path: the gateway is as desired, a Lambda hop behind it is not.
        on_the_path = regression is None and row["action"] in ("none", "enabled") and whole_path_breaks(row)
        kind = "regression" if regression is not None else "whole_path" if on_the_path else "noncompliant"
        failure = ET.SubElement(case, "failure", {"message": reason, "type": kind})
        # In an audit, tracing_enabled_after is what the stage would become; the finding is its state now.
        now = row["tracing_enabled_before"] if row["action"].startswith("would_") else row["tracing_enabled_after"]
        text = _clean(f"{row['arn']}: tracing_enabled is {str(now).lower()}, desired {str(row['desired']).lower()} ({row['action']})")
        hops = untraced_hops_lines(row) if whole_path_breaks(row) else []
        if hops:
            text = "\n".join([text + "; the whole path does not trace, these Lambda hops do not:"] + hops)
        failure.text = text
    elif category == "stage_errors":
        counts["errors"] += 1
        ET.SubElement(case, "error", {"message": reason, "type": "error"}).text = _clean(row["arn"])
    elif category in ("exempt", "skipped"):
        counts["skipped"] += 1
        ET.SubElement(case, "skipped", {"message": reason})


def _suite(root, totals, name, classname, rows, regressions, target_error=None):
    suite = ET.SubElement(root, "testsuite", {"name": _clean(name)})
    counts = dict.fromkeys(COUNTERS, 0)
    if target_error is not None:
        case = _testcase(suite, classname, f"{name} (target)")
        ET.SubElement(case, "error", {"message": _clean(target_error), "type": "target"})
        counts["tests"] += 1
        counts["errors"] += 1
    for row in rows:
        _stage_case(suite, counts, classname, row, regressions)
    for counter in COUNTERS:
        suite.set(counter, str(counts[counter]))
        totals[counter] += counts[counter]


def render_junit(report):
    """The report as a JUnit XML document (str, with an XML declaration, ends with a newline)."""
    rows_by_place = {}
    for row in report["stages"]:
        rows_by_place.setdefault((row["account_id"], row["region"]), []).append(row)

    regressions = _regressions(report)
    root = ET.Element("testsuites", {"name": "apigw tracing sweep"})
    totals = dict.fromkeys(COUNTERS, 0)
    run_errors = (report.get("run") or {}).get("errors") or []
    if run_errors:
        suite = ET.SubElement(root, "testsuite", {"name": "run"})
        for number, error in enumerate(run_errors, 1):
            case = _testcase(suite, "run", f"run error {number}")
            ET.SubElement(case, "error", {"message": _clean(error), "type": "run"})
        for counter, value in (("tests", len(run_errors)), ("failures", 0), ("errors", len(run_errors)), ("skipped", 0)):
            suite.set(counter, str(value))
            totals[counter] += value
    for target in report["targets"]:
        rows = rows_by_place.pop((target["account_id"], target["region"]), [])
        classname = _classname(target["account_id"], target["account_name"], target["region"])
        error = (target["error"] or "the target failed") if target["status"] == "error" else None
        _suite(root, totals, target["host"], classname, rows, regressions, target_error=error)
    # Rows of no listed target (a hand-made report) are still counted, in a suite of their own.
    for place in sorted(rows_by_place, key=lambda place: (place[0] or "", place[1] or "")):
        classname = _classname(place[0], None, place[1])
        _suite(root, totals, classname, classname, rows_by_place[place], regressions)
    for counter in COUNTERS:
        root.set(counter, str(totals[counter]))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
