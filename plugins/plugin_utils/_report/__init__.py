# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The sweep report: one row per stage (rows.py), the report of the run and its verdict (model.py,
docs/report.schema.json), text from AWS made safe to print (safe_text.py), what every format says first
(headlines.py, charts.py), one module per format (format_csv.py, format_html.py, format_junit.py,
format_markdown.py; formats.py names them and their files), writing a report set (files.py), merging the reports of
a sliced run (merge.py) and reading an enforcement's report for what it changed (rollback_plan.py). No AWS. May
import: _policy, _settings, _testing, module_utils.
"""
