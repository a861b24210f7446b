# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""report.csv: one line per stage, for spreadsheets and ad-hoc queries.

The columns are the report's stage fields in report order; booleans are written true/false and a
missing value (no desired state, no account id) as an empty cell.
"""

from __future__ import annotations

import csv
import io

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.outcome import ROW_FIELDS


# A spreadsheet runs a cell that starts with one of these as a formula. API names, tag values (the
# exempt tag's reason) and AWS error messages come from people who may not be the report's readers.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def render_csv(report):
    """The report's stages as CSV text (header line first, '\\n' line endings)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ROW_FIELDS)
    for row in report["stages"]:
        writer.writerow([_csv_value(row[field]) for field in ROW_FIELDS])
    return buffer.getvalue()
