# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""report.xml: one suite per target, one case per stage, run errors in a suite of their own."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import build_report
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_junit import render_junit
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import GENERATED_AT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_audit_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_enforce_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import planned_rows
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import record
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import stage

COUNTERS = ("tests", "failures", "errors", "skipped")


def counts(element):
    return tuple(int(element.get(name)) for name in COUNTERS)


def actual_counts(suite):
    """(tests, failures, errors, skipped) counted from the testcases themselves."""
    cases = suite.findall("testcase")
    return (
        len(cases),
        sum(1 for case in cases if case.find("failure") is not None),
        sum(1 for case in cases if case.find("error") is not None),
        sum(1 for case in cases if case.find("skipped") is not None),
    )


def parse(report):
    text = render_junit(report)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    assert text.endswith("\n")
    return ET.fromstring(text)


def test_enforce_suites_cases_and_counts():
    root = parse(build_enforce_report())
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [suite.get("name") for suite in suites] == ["broken", "east", "west"]
    # The refused change of west is a failure: the stage is still not compliant.
    assert [counts(suite) for suite in suites] == [(1, 0, 1, 0), (7, 0, 1, 3), (2, 1, 0, 0)]
    for suite in suites:
        assert counts(suite) == actual_counts(suite)
    assert counts(root) == (10, 1, 2, 3)


def test_enforce_stage_error_is_an_error_case():
    root = parse(build_enforce_report())
    east = root.find("testsuite[@name='east']")
    assert counts(east) == actual_counts(east) == (7, 0, 1, 3)
    assert counts(root) == (10, 1, 2, 3)
    billing = {case.get("name"): case for case in east}["billing/prod (b1b2c3d4e5)"]
    assert billing.find("error").get("message") == "denied | no PATCH"
    assert billing.find("error").text == "arn:aws:apigateway:us-east-1::/restapis/b1b2c3d4e5/stages/prod"


def test_audit_would_changes_are_failures():
    root = parse(build_audit_report())
    suite = root.find("testsuite")
    assert counts(root) == counts(suite) == actual_counts(suite) == (7, 3, 0, 3)
    failed = {case.get("name"): case.find("failure") for case in suite if case.find("failure") is not None}
    assert sorted(failed) == ["billing/prod (b1b2c3d4e5)", "legacy-shop/v1 (c1c2c3c4c5)", "orders/prod (a1b2c3d4e5)"]
    failure = failed["orders/prod (a1b2c3d4e5)"]
    assert failure.get("message") == "default: tracing_sweep_desired=true"
    assert failure.get("type") == "noncompliant"
    assert failure.text == "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod: tracing_enabled is false, desired true (would_enable)"


def test_case_names_and_classnames():
    east = parse(build_enforce_report()).findall("testsuite")[1]
    assert {case.get("classname") for case in east} == {"111111111111.us-east-1"}
    assert [case.get("name") for case in east] == [
        "-/tagged (d1d2d3d4d5)",
        "billing/prod (b1b2c3d4e5)",
        "legacy-shop/v1 (c1c2c3c4c5)",
        "orders/dev (a1b2c3d4e5)",
        "orders/prod (a1b2c3d4e5)",
        "sandbox-1/dev (f1f2f3f4f5)",
        "vendor/prod (e1e2e3e4e5)",
    ]


def test_error_skipped_and_refused_details():
    suites = {suite.get("name"): suite for suite in parse(build_enforce_report())}
    east = {case.get("name"): case for case in suites["east"]}
    assert east["vendor/prod (e1e2e3e4e5)"].find("skipped").get("message") == "exemption 1 until 2026-12-31: vendor managed"
    assert east["-/tagged (d1d2d3d4d5)"].find("skipped").get("message") == "exempt by tag XrayExempt"
    assert east["sandbox-1/dev (f1f2f3f4f5)"].find("skipped").get("message") == "rule 1 'sandboxes': skip"
    assert list(east["orders/prod (a1b2c3d4e5)"]) == []  # compliant: passes
    west = {case.get("name"): case for case in suites["west"]}
    refused = west["orders/prod (a1b2c3d4e5)"].find("failure")
    assert refused.get("message") == "1 changes planned, more than tracing_sweep_max_changes=0"
    assert refused.get("type") == "noncompliant"
    assert refused.text == "arn:aws:apigateway:us-west-2::/restapis/a1b2c3d4e5/stages/prod: tracing_enabled is false, desired true (refused)"


def test_failed_target_is_one_error_case():
    broken = parse(build_enforce_report()).find("testsuite[@name='broken']")
    cases = broken.findall("testcase")
    assert len(cases) == 1
    assert (cases[0].get("classname"), cases[0].get("name")) == ("444444444444.eu-west-1", "broken (target)")
    assert cases[0].find("error").get("message") == "Unable to assume role"


def test_failed_target_with_stages_keeps_them():
    plan, rows = planned_rows([stage()], check_mode=True)
    report = build_report([record("half", rows, plan, status="error", error="listing stages failed")], "audit", GENERATED_AT)
    suite = parse(report).find("testsuite")
    assert counts(suite) == actual_counts(suite) == (2, 1, 1, 0)


def test_classname_without_account_id_uses_the_name_or_default():
    plan, rows = planned_rows([stage()], target={"account_id": None, "region": "us-east-1"}, check_mode=True)
    named = build_report([record("n", rows, plan, account_id=None, account_name="dev")], "audit", GENERATED_AT)
    unnamed = build_report([record("u", rows, plan, account_id=None)], "audit", GENERATED_AT)
    assert parse(named).find("testsuite/testcase").get("classname") == "dev.us-east-1"
    assert parse(unnamed).find("testsuite/testcase").get("classname") == "default.us-east-1"


def test_rows_of_no_listed_target_are_still_counted():
    report = copy.deepcopy(build_enforce_report())
    report["targets"] = [target for target in report["targets"] if target["host"] != "west"]
    root = parse(report)
    assert [suite.get("name") for suite in root] == ["broken", "east", "222222222222.us-west-2"]
    orphan = root.find("testsuite[@name='222222222222.us-west-2']")
    assert counts(orphan) == actual_counts(orphan) == (2, 1, 0, 0)
    assert counts(root) == (10, 1, 2, 3)


def test_no_targets():
    root = parse(build_report([], "audit", GENERATED_AT))
    assert counts(root) == (0, 0, 0, 0)
    assert list(root) == []


def test_control_characters_are_shown_escaped_and_do_not_break_the_document():
    plan, rows = planned_rows([stage(api_name="bad\x01name\x1b[31m")], check_mode=True)
    rows[0]["reason"] = "x\x00y & <z> \u202eevil"
    case = parse(build_report([record("h", rows, plan)], "audit", GENERATED_AT)).find("testsuite/testcase")
    assert case.get("name") == "bad\\x01name\\x1b[31m/prod (a1b2c3d4e5)"
    assert case.find("failure").get("message") == "x\\x00y & <z> \\u202eevil"


def test_characters_xml_cannot_carry_are_replaced():
    plan, rows = planned_rows([stage(api_name="odd\ufffename")], check_mode=True)
    case = parse(build_report([record("h", rows, plan)], "audit", GENERATED_AT)).find("testsuite/testcase")
    assert case.get("name") == "odd?name/prod (a1b2c3d4e5)"


def test_run_errors_are_a_suite_of_their_own():
    report = build_report([], "audit", GENERATED_AT, run={"errors": ["no target: the inventory gave this run no host", "second \x1b problem"]})
    root = parse(report)
    suites = root.findall("testsuite")
    assert [suite.get("name") for suite in suites] == ["run"]
    assert counts(suites[0]) == actual_counts(suites[0]) == (2, 0, 2, 0)
    # A run that swept nothing never shows as a green build.
    assert counts(root) == (2, 0, 2, 0)
    cases = suites[0].findall("testcase")
    assert [(case.get("classname"), case.get("name")) for case in cases] == [("run", "run error 1"), ("run", "run error 2")]
    assert [(case.find("error").get("type"), case.find("error").get("message")) for case in cases] == [
        ("run", "no target: the inventory gave this run no host"),
        ("run", "second \\x1b problem"),
    ]


def test_run_errors_come_before_the_targets_and_add_to_the_totals():
    plan, rows = planned_rows([stage(enabled=True)], check_mode=True)
    root = parse(build_report([record("h", rows, plan)], "audit", GENERATED_AT, run={"errors": ["boom"]}))
    assert [suite.get("name") for suite in root] == ["run", "h"]
    assert counts(root) == (2, 0, 1, 0)


def test_a_report_without_a_run_section_renders():
    """A report of schema 1.0 (merged or read back) has no run section."""
    report = copy.deepcopy(build_audit_report())
    del report["run"]
    assert counts(parse(report)) == (7, 3, 0, 3)


def test_target_without_region():
    report = build_report([{"host": "lost", "status": "error", "error": "no region"}], "enforce", GENERATED_AT)
    case = parse(report).find("testsuite/testcase")
    assert (case.get("classname"), case.find("error").get("message")) == ("default.unknown-region", "no region")
