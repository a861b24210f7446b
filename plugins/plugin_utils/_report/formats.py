# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The formats a sweep report is written in, their renderers and their file names."""

from __future__ import annotations

import json

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_html import render_html
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_csv import render_csv
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_junit import render_junit
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_markdown import render_markdown


def render_json(report):
    return json.dumps(report, indent=2) + "\n"


RENDERERS = {"json": render_json, "markdown": render_markdown, "junit": render_junit, "csv": render_csv, "html": render_html}

FILE_NAMES = {"json": "report.json", "markdown": "report.md", "junit": "report.xml", "csv": "report.csv", "html": "report.html"}

# Other names a format is given by: its file's extension. They are the same format: md and markdown write report.md once.
ALIASES = {"md": "markdown", "xml": "junit"}
# Every name tracing_sweep_report_formats (and the tracing_sweep_report module's formats) accepts.
ACCEPTED = tuple(FILE_NAMES) + tuple(ALIASES)


def canonical_formats(formats):
    """The formats by their own names, in the order given, each once (an alias is its format)."""
    return list(dict.fromkeys(ALIASES.get(name, name) for name in formats))
