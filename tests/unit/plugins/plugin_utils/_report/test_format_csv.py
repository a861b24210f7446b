# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""report.csv: a status column first, one line per stage and one per failed target, cells safe for spreadsheets and terminals."""

from __future__ import annotations

import csv
import io

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import ROW_FIELDS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import build_report
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_csv import COLUMNS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_csv import render_csv
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import GENERATED_AT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_enforce_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import planned_rows
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import record
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import stage


def parse(text):
    return list(csv.reader(io.StringIO(text, newline="")))


def lines_of(report):
    """[{column: cell}] of every line after the header."""
    return [dict(zip(COLUMNS, line)) for line in parse(render_csv(report))[1:]]


def one_line(rows, plan, **record_fields):
    return lines_of(build_report([record("h", rows, plan, **record_fields)], "audit", GENERATED_AT))[0]


def test_columns_are_status_then_the_stage_fields_with_the_account_name():
    assert COLUMNS == ("status", "account_id", "account_name") + tuple(field for field in ROW_FIELDS if field != "account_id")
    assert COLUMNS[:4] == ("status", "account_id", "account_name", "region")


def test_header_and_one_line_per_stage_in_report_order_then_failed_targets():
    report = build_enforce_report()
    text = render_csv(report)
    lines = parse(text)
    assert lines[0] == list(COLUMNS)
    # 9 stages, then one line for the one failed target (broken).
    assert len(lines) == 1 + len(report["stages"]) + 1 == 11
    assert [line[COLUMNS.index("stage_name")] for line in lines[1:-1]] == [item["stage_name"] for item in report["stages"]]
    assert text.endswith("\n")
    assert "\r" not in text


def test_status_of_every_category():
    statuses = {(line["region"], line["rest_api_id"], line["stage_name"]): line["status"] for line in lines_of(build_enforce_report())}
    assert statuses == {
        ("us-east-1", "d1d2d3d4d5", "tagged"): "EXEMPT",
        ("us-east-1", "b1b2c3d4e5", "prod"): "ERROR",
        ("us-east-1", "c1c2c3c4c5", "v1"): "PASS",
        ("us-east-1", "a1b2c3d4e5", "dev"): "PASS",
        ("us-east-1", "a1b2c3d4e5", "prod"): "PASS",
        ("us-east-1", "f1f2f3f4f5", "dev"): "SKIPPED",
        ("us-east-1", "e1e2e3e4e5", "prod"): "EXEMPT",
        ("us-west-2", "a1b2c3d4e5", "prod"): "FAIL",  # refused by the guard: still not compliant
        ("us-west-2", "a1b2c3d4e5", "qa"): "PASS",
        ("eu-west-1", "", ""): "ERROR",  # the failed target
    }


def test_audit_pending_changes_fail():
    plan, rows = planned_rows([stage(enabled=False)], check_mode=True)
    line = one_line(rows, plan)
    assert (line["status"], line["action"]) == ("FAIL", "would_enable")


def test_a_failed_target_is_one_error_line_with_its_account_region_and_error():
    lines = lines_of(build_enforce_report())
    assert lines[-1] == {
        "status": "ERROR",
        "account_id": "444444444444",
        "account_name": "",
        "region": "eu-west-1",
        "rest_api_id": "",
        "rest_api_name": "",
        "stage_name": "",
        "arn": "",
        "tracing_enabled_before": "",
        "tracing_enabled_after": "",
        "desired": "",
        "action": "error",
        "reason": "target broken failed: Unable to assume role",
    }


def test_failed_targets_follow_the_stages_in_host_order():
    report = build_report(
        [
            record("zeta", [], None, account_id="555555555555", account_name="z", status="error", error="no credentials"),
            record("alpha", [], None, account_id=None, region=None, status="error", error=""),
        ],
        "enforce",
        GENERATED_AT,
    )
    lines = lines_of(report)
    assert [(line["status"], line["account_id"], line["account_name"], line["region"], line["reason"]) for line in lines] == [
        ("ERROR", "", "", "", "target alpha failed: the target failed"),
        ("ERROR", "555555555555", "z", "us-east-1", "target zeta failed: no credentials"),
    ]


def test_booleans_and_nulls():
    records = {line["region"] + "/" + line["rest_api_id"] + "/" + line["stage_name"]: line for line in lines_of(build_enforce_report())}
    tagged = records["us-east-1/d1d2d3d4d5/tagged"]
    assert (tagged["rest_api_name"], tagged["tracing_enabled_before"], tagged["tracing_enabled_after"], tagged["desired"]) == ("", "false", "false", "")
    assert tagged["action"] == "exempt"
    assert tagged["account_name"] == "shop"
    enabled = records["us-east-1/a1b2c3d4e5/prod"]
    assert (enabled["tracing_enabled_before"], enabled["tracing_enabled_after"], enabled["desired"], enabled["action"]) == ("false", "true", "true", "enabled")


def test_round_trip_of_every_stage_cell():
    report = build_enforce_report()

    def shown(value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return value

    assert [line[1:] for line in parse(render_csv(report))[1:-1]] == [[shown(item[field]) for field in COLUMNS[1:]] for item in report["stages"]]


def test_commas_and_quotes_are_quoted_and_control_characters_escaped():
    plan, rows = planned_rows([stage(api_name='a, "b"\nc\x1b[31m\x07')], check_mode=True)
    rows[0]["reason"] = "one, two"
    line = one_line(rows, plan)
    # A line break or an escape sequence in a name shows as its escape, never as a new line or a colour.
    assert line["rest_api_name"] == 'a, "b"\\x0ac\\x1b[31m\\x07'
    assert line["reason"] == "one, two"


def test_bidi_override_is_escaped():
    plan, rows = planned_rows([stage(api_name="invoice\u202egpj.exe")], check_mode=True)
    assert one_line(rows, plan)["rest_api_name"] == "invoice\\u202egpj.exe"


def test_no_stages_and_no_targets_is_just_the_header():
    assert render_csv(build_report([], "audit", GENERATED_AT)) == ",".join(COLUMNS) + "\n"


def test_account_id_null_is_empty():
    plan, rows = planned_rows([stage()], target={"account_id": None, "region": "us-east-1"}, check_mode=True)
    line = one_line(rows, plan, account_id=None)
    assert (line["status"], line["account_id"], line["account_name"]) == ("FAIL", "", "")


@pytest.mark.parametrize("name, cell", [("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
                                        ("\tx", "'\\x09x")])
def test_cells_a_spreadsheet_would_run_as_formulas_are_quoted(name, cell):
    plan, rows = planned_rows([stage(api_name=name)], check_mode=True)
    assert one_line(rows, plan)["rest_api_name"] == cell


def test_a_failed_target_error_is_escaped_too():
    report = build_report([record("h", [], None, status="error", error="denied\x1b[2J\u2028")], "enforce", GENERATED_AT)
    assert lines_of(report)[0]["reason"] == "target h failed: denied\\x1b[2J\\u2028"
