# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.apigw_tracing.plugins.filter.render_report import render_report
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_csv import render_csv
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_junit import render_junit
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_markdown import render_markdown
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_enforce_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import schema_errors


@pytest.fixture(name="report")
def report_fixture():
    return build_enforce_report()


def test_json_is_the_report_indented_by_two_in_report_order(report):
    text = render_report(report, "json")
    assert text == json.dumps(report, indent=2) + "\n"
    assert text.startswith('{\n  "schema_version": "1.1",\n  "generated_at": "2026-03-15T12:00:00+00:00",\n  "mode": "enforce",\n  "verdict": "error",\n')
    loaded = json.loads(text)
    assert loaded == report
    assert schema_errors(loaded) == []


@pytest.mark.parametrize("format_name, renderer", [("markdown", render_markdown), ("junit", render_junit), ("csv", render_csv)])
def test_text_formats_use_their_renderer(report, format_name, renderer):
    text = render_report(report, format_name)
    assert text == renderer(report)
    assert text.endswith("\n")


def test_junit_output_parses(report):
    assert ET.fromstring(render_report(report, "junit")).get("tests") == "10"


@pytest.mark.parametrize("format_name", ["yaml", "Markdown", "", None])
def test_unknown_format(report, format_name):
    with pytest.raises(AnsibleFilterError, match="^render_report: format must be one of json, markdown, junit, csv, html, got "):
        render_report(report, format_name)


@pytest.mark.parametrize("value", [None, [], {"stages": []}, "report"])
def test_input_must_be_a_report(value):
    with pytest.raises(AnsibleFilterError, match="^render_report: the input must be a report built by cloudops.apigw_tracing.sweep_report$"):
        render_report(value, "markdown")


def test_malformed_report_is_a_filter_error(report):
    del report["targets"]
    with pytest.raises(AnsibleFilterError, match=r"^render_report: the report is malformed \(KeyError\('targets'\)\)"):
        render_report(report, "markdown")


def test_rendering_does_not_modify_the_report(report):
    saved = json.dumps(report)
    for format_name in ("markdown", "junit", "csv", "json"):
        render_report(report, format_name)
    assert json.dumps(report) == saved
