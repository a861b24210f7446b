# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import csv
import io

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.outcome import ROW_FIELDS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report import build_report
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report_csv import render_csv
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import GENERATED_AT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_enforce_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import planned_rows
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import record
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import stage


def parse(text):
    return list(csv.reader(io.StringIO(text, newline="")))


def test_header_and_one_line_per_stage_in_report_order():
    report = build_enforce_report()
    text = render_csv(report)
    lines = parse(text)
    assert lines[0] == list(ROW_FIELDS)
    assert len(lines) == 1 + len(report["stages"]) == 10
    assert [line[4] for line in lines[1:]] == [item["stage_name"] for item in report["stages"]]
    assert text.endswith("\n")
    assert "\r" not in text


def test_booleans_and_nulls():
    records = {line[1] + "/" + line[2] + "/" + line[4]: dict(zip(ROW_FIELDS, line)) for line in parse(render_csv(build_enforce_report()))[1:]}
    tagged = records["us-east-1/d1d2d3d4d5/tagged"]
    assert (tagged["rest_api_name"], tagged["tracing_enabled_before"], tagged["tracing_enabled_after"], tagged["desired"]) == ("", "false", "false", "")
    assert tagged["action"] == "exempt"
    enabled = records["us-east-1/a1b2c3d4e5/prod"]
    assert (enabled["tracing_enabled_before"], enabled["tracing_enabled_after"], enabled["desired"], enabled["action"]) == ("false", "true", "true", "enabled")


def test_round_trip_of_every_cell():
    report = build_enforce_report()

    def shown(value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return value

    assert parse(render_csv(report))[1:] == [[shown(item[field]) for field in ROW_FIELDS] for item in report["stages"]]


def test_commas_quotes_and_newlines_are_quoted():
    plan, rows = planned_rows([stage(api_name='a, "b"\nc')], check_mode=True)
    rows[0]["reason"] = "one, two"
    line = dict(zip(ROW_FIELDS, parse(render_csv(build_report([record("h", rows, plan)], "audit", GENERATED_AT)))[1]))
    assert line["rest_api_name"] == 'a, "b"\nc'
    assert line["reason"] == "one, two"


def test_no_stages_is_just_the_header():
    assert render_csv(build_report([], "audit", GENERATED_AT)) == ",".join(ROW_FIELDS) + "\n"


def test_account_id_null_is_empty():
    plan, rows = planned_rows([stage()], target={"account_id": None, "region": "us-east-1"}, check_mode=True)
    line = parse(render_csv(build_report([record("h", rows, plan, account_id=None)], "audit", GENERATED_AT)))[1]
    assert line[0] == ""


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx"])
def test_cells_a_spreadsheet_would_run_as_formulas_are_quoted(name):
    plan, rows = planned_rows([stage(api_name=name)], check_mode=True)
    line = dict(zip(ROW_FIELDS, parse(render_csv(build_report([record("h", rows, plan)], "audit", GENERATED_AT)))[1]))
    assert line["rest_api_name"] == "'" + name
