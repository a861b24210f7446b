# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The formats a sweep report is written in, their renderers and their file names."""

from __future__ import annotations

import json

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report_html import render_html
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report_csv import render_csv
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report_junit import render_junit
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report_markdown import render_markdown


def render_json(report):
    return json.dumps(report, indent=2) + "\n"


RENDERERS = {"json": render_json, "markdown": render_markdown, "junit": render_junit, "csv": render_csv, "html": render_html}

FILE_NAMES = {"json": "report.json", "markdown": "report.md", "junit": "report.xml", "csv": "report.csv", "html": "report.html"}
