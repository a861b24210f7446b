# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""report.csv: one line per stage, and one per failed target, for spreadsheets and ad-hoc queries.

The first column, status, is one of PASS (compliant), FAIL (non-compliant), EXEMPT, SKIPPED and ERROR (a stage
error, or a target that failed: its line has the target's account and region, no stage, and the error as its
reason). The other columns are the report's stage fields in report order; booleans are written true/false and
a missing value (no desired state, no account id) as an empty cell. Control characters are written as their
escapes (\\x1b), and a cell that a spreadsheet would run as a formula starts with a quote.

Only in the report of a run with tracing_sweep_whole_path (run.whole_path), a last column, untraced_hops: the
Lambda hops of the stage's path that do not trace, each as its function ARN (or, when the function cannot be known,
the cause), separated by "; "; empty when the whole path traces. Other reports have the columns they always had.
"""

from __future__ import annotations

import csv
import io

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import ROW_FIELDS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import untraced_functions
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import row_category
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.safe_text import safe_text

COLUMNS = ("status", "account_id", "account_name") + tuple(field for field in ROW_FIELDS if field != "account_id")
# The column a whole-path run (tracing_sweep_whole_path) adds, last.
WHOLE_PATH_COLUMNS = ("untraced_hops",)
STATUS = {"compliant": "PASS", "noncompliant": "FAIL", "exempt": "EXEMPT", "skipped": "SKIPPED", "stage_errors": "ERROR"}

# A spreadsheet runs a cell that starts with one of these as a formula. API names, tag values (the
# exempt tag's reason) and AWS error messages come from people who may not be the report's readers.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    text = "'" + text if text.startswith(_FORMULA_STARTS) else text
    return safe_text(text)


def _target_line(target):
    line = dict.fromkeys(COLUMNS)
    line.update(
        status="ERROR",
        account_id=target["account_id"],
        account_name=target["account_name"],
        region=target["region"],
        action="error",
        reason="target %s failed: %s" % (target["host"], target["error"] or "the target failed"),
    )
    return line


def render_csv(report):
    """The report's stages, then its failed targets, as CSV text (header line first, '\\n' line endings)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    whole_path = bool((report.get("run") or {}).get("whole_path")) or any("hops" in row for row in report["stages"])
    columns = COLUMNS + (WHOLE_PATH_COLUMNS if whole_path else ())
    writer.writerow(columns)
    for row in report["stages"]:
        line = dict(row, status=STATUS[row_category(row)])
        if whole_path:
            line["untraced_hops"] = "; ".join(dict.fromkeys(str(item) for item in untraced_functions(row.get("hops")))) or None
        writer.writerow([_csv_value(line.get(column)) for column in columns])
    for target in report["targets"]:
        if target["status"] == "error":
            line = _target_line(target)
            writer.writerow([_csv_value(line.get(column)) for column in columns])
    return buffer.getvalue()
