# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The steps after the sweep: a failure of any of them is recorded in the report, never costs it report.json, and
a merged report is judged with the settings its slices recorded."""

from __future__ import annotations

import json
import os
import tempfile

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._testing import faults
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps import sweep as run
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report import formats as report_formats
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import unbuilt_report_result
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import record_failed_step
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import run_section
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.merge import merge_reports
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import EXEMPTIONS
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_enforce_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import enforce_records

ALL_FORMATS = ["json", "markdown", "junit", "csv", "html"]


def enforce_args(tmp_path, **settings):
    records = enforce_records()
    return {"settings": dict({"exemptions": EXEMPTIONS}, **settings), "dest": str(tmp_path), "formats": ALL_FORMATS, "records": records,
            "hosts": [record["host"] for record in records], "mode": "enforce"}


def written(tmp_path):
    with open(tmp_path / "report.json", encoding="utf-8") as handle:
        return json.load(handle)


def changed_arns(report):
    return sorted(row["arn"] for row in report["stages"] if row["action"] in ("enabled", "disabled"))


def test_faults_do_nothing_unless_the_tests_name_the_step(monkeypatch):
    monkeypatch.delenv(faults.FAULTS_VARIABLE, raising=False)
    faults.check("history_read")
    monkeypatch.setenv(faults.FAULTS_VARIABLE, "charts, history_read")
    with pytest.raises(faults.InjectedFault, match="history_read"):
        faults.check("history_read")
    faults.check("history")  # a whole name, not a prefix


def test_a_failed_step_makes_the_verdict_error_with_its_cause():
    report = build_enforce_report()
    assert report["run"]["failed_steps"] == []
    record_failed_step(report, "format_html", "ValueError: boom")
    assert report["run"]["failed_steps"] == [{"step": "format_html", "error": "ValueError: boom"}]
    assert report["run"]["errors"][-1] == "the step format_html failed: ValueError: boom"
    assert report["verdict"] == "error" and report["verdict_reason"].startswith("1 step failed (format_html), ")
    assert "run error" not in report["verdict_reason"]


@pytest.mark.parametrize("name", ["markdown", "junit", "csv", "html"])
def test_a_format_that_fails_is_recorded_and_every_other_file_is_written(tmp_path, monkeypatch, name):
    expected = changed_arns(build_enforce_report())

    def broken(report):
        raise KeyError("no such field")

    monkeypatch.setitem(report_formats.RENDERERS, name, broken)
    result = run.report_step(enforce_args(tmp_path))

    report = written(tmp_path)
    assert changed_arns(report) == expected and expected
    assert report["run"]["failed_steps"] == [{"step": "format_" + name, "error": "KeyError: 'no such field'"}]
    assert sorted(os.listdir(tmp_path)) == sorted(report_formats.FILE_NAMES[other] for other in ALL_FORMATS if other != name)
    assert result["verdict"] == "error" and "format_" + name in result["judgements"]["errors"]
    # The formats written say the same as report.json: they were rendered after the failure was recorded.
    if name != "markdown":
        assert "format\\_" + name in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_history_steps_that_fail_are_recorded_and_the_set_rewritten(tmp_path, monkeypatch):
    monkeypatch.setenv(faults.FAULTS_VARIABLE, "history_write")
    result = run.report_step(enforce_args(tmp_path / "reports", history=str(tmp_path / "history")))

    report = written(tmp_path / "reports")
    assert [step["step"] for step in report["run"]["failed_steps"]] == ["history_write"]
    assert report["run"]["failed_steps"][0]["error"].startswith("tracing_sweep_history: this run's reports were written in ")
    assert result["history_error"] == report["run"]["failed_steps"][0]["error"]
    assert report["verdict"] == "error"


def test_a_report_that_cannot_be_built_names_and_saves_the_changes(tmp_path, monkeypatch):
    temp = tmp_path / "systemp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))

    def broken(*args, **kwargs):
        raise TypeError("unhashable type: 'list'")

    monkeypatch.setattr(run, "build_report", broken)
    args = enforce_args(tmp_path / "reports")
    result = run.report_step(args)

    assert result["failed"] is True and result["report"] is None
    assert result["msg"].startswith("The report could not be built: TypeError: unhashable type: 'list'; nothing was written in ")
    assert len(result["changed_stages"]) == 2 and all(" tracing_enabled " in line for line in result["changed_stages"])
    with open(result["fallback_report"], encoding="utf-8") as handle:
        saved = json.load(handle)
    assert saved["records"] == json.loads(json.dumps(args["records"]))


def test_unbuilt_result_without_changes_saves_nothing(tmp_path):
    result = unbuilt_report_result([{"host": "a", "rows": []}, "not a record"], "The report could not be built: x", str(tmp_path))
    assert result["failed"] is True and "fallback_report" not in result and result["write_error"] == result["msg"]


def test_the_run_records_the_settings_it_is_judged_with(tmp_path):
    result = run.report_step(enforce_args(tmp_path, fail_on_noncompliant=True))
    assert result["report"]["run"]["judged_with"] == {"fail_on_error": True, "fail_on_noncompliant": True, "fail_on_regression": False}


def slice_with(tmp_path, name, records, **settings):
    folder = tmp_path / name
    folder.mkdir()
    run.report_step({"settings": dict({"exemptions": EXEMPTIONS}, **settings), "dest": str(folder), "formats": ["json"], "records": records,
                     "hosts": [record["host"] for record in records], "mode": "enforce"})
    return (folder / "report.json").read_text(encoding="utf-8")


def test_a_merge_is_judged_with_the_slices_settings_unless_it_was_given_others(tmp_path):
    records = enforce_records()
    texts = [slice_with(tmp_path, "a", records[:1], fail_on_noncompliant=True), slice_with(tmp_path, "b", records[1:], fail_on_noncompliant=True)]
    merged, problems = merge_reports(texts)
    assert problems == [] and merged["run"]["judged_with"]["fail_on_noncompliant"] is True
    args = {"dest": str(tmp_path / "merged"), "report": merged, "merged_from": [str(tmp_path / "a" / "report.json")], "formats": ["json"]}
    judged = run.report_step(dict(args, settings={}))
    assert judged["judgements"]["noncompliant"] is not None
    # A value the merge was given, other than the default, is the merge's choice.
    assert run.judging_settings(merged, {"fail_on_error": False}, merged=True)["fail_on_error"] is False
    assert run.judging_settings(merged, {}, merged=True) == {"fail_on_error": True, "fail_on_noncompliant": True, "fail_on_regression": False}


def test_slices_that_disagree_are_judged_by_the_stricter_setting(tmp_path):
    records = enforce_records()
    texts = [slice_with(tmp_path, "a", records[:1], fail_on_error=False), slice_with(tmp_path, "b", records[1:])]
    merged, dummy = merge_reports(texts)
    assert merged["run"]["judged_with"]["fail_on_error"] is True


def test_a_merge_keeps_every_slice_failed_steps(tmp_path):
    records = enforce_records()
    first = json.loads(slice_with(tmp_path, "a", records[:1]))
    record_failed_step(first, "history_write", "cannot write")
    merged, problems = merge_reports([json.dumps(first), slice_with(tmp_path, "b", records[1:])])
    assert problems == []
    assert merged["run"]["failed_steps"] == [{"step": "history_write", "error": "cannot write"}] and merged["verdict"] == "error"


@pytest.mark.parametrize("run_value, message", [
    ({"failed_steps": [{"step": "x"}]}, "run.failed_steps: must be a list of {step, error} mappings of messages"),
    ({"failed_steps": "x"}, "run.failed_steps: must be a list of {step, error} mappings of messages"),
    ({"judged_with": {"fail_on_error": "yes", "fail_on_noncompliant": False, "fail_on_regression": False}}, "run.judged_with: must be a mapping of"),
    ({"judged_with": {"fail_on_error": True}}, "run.judged_with: must be a mapping of"),
])
def test_a_malformed_run_section_is_refused(run_value, message):
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("}", r"\}")):
        run_section(run_value)


def test_the_merge_refuses_a_slice_with_a_malformed_run_section(tmp_path):
    records = enforce_records()
    first = json.loads(slice_with(tmp_path, "a", records[:1]))
    first["run"]["failed_steps"] = [{"step": 1, "error": "x"}]
    merged, problems = merge_reports([json.dumps(first), slice_with(tmp_path, "b", records[1:])], names=["a.json", "b.json"])
    assert merged is None and problems == ["a.json.run.failed_steps: must be a list of {step, error} mappings of messages"]
