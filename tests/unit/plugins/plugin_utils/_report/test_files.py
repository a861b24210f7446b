# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Writing a report set: one coherent set of files per run, and no change of an enforcement left unrecorded."""

from __future__ import annotations

import json
import os
import tempfile

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import FALLBACK_PREFIX
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import ReportWriteError
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import changed_stage_lines
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import failed_write_result
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import formats_in_order
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import prepare
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import render_set
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import save_fallback
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import stale_files
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import write_set
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.formats import RENDERERS
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_audit_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_enforce_report

ALL = ["json", "markdown", "junit", "csv"]


@pytest.fixture(name="report")
def report_fixture():
    return build_enforce_report()


@pytest.fixture(name="temp_dir")
def temp_dir_fixture(tmp_path, monkeypatch):
    """The system's temporary directory, for save_fallback, moved under tmp_path."""
    temp = tmp_path / "systemp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return temp


def listing(path):
    return sorted(os.listdir(path))


# ---- formats -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "formats, ordered",
    [([], ["json"]), (["markdown"], ["json", "markdown"]), (["csv", "json", "csv"], ["json", "csv"]), (ALL[::-1], ["json", "csv", "junit", "markdown"])],
)
def test_report_json_is_always_written_first(formats, ordered):
    assert formats_in_order(formats) == ordered


@pytest.mark.parametrize(
    "formats, ordered",
    [(["md"], ["json", "markdown"]), (["xml", "md", "csv"], ["json", "junit", "markdown", "csv"]),
     (["markdown", "md", "junit", "xml"], ["json", "markdown", "junit"])],
)
def test_md_and_xml_are_markdown_and_junit_written_once(formats, ordered):
    assert formats_in_order(formats) == ordered


def test_a_set_named_by_extensions_writes_each_file_once(tmp_path, report):
    files, changed = write_set(render_set(report, ["md", "markdown", "xml", "html"]), str(tmp_path))
    assert changed and sorted(files) == ["html", "json", "junit", "markdown"]
    assert listing(tmp_path) == ["report.html", "report.json", "report.md", "report.xml"]


def test_render_set_renders_each_format(report):
    rendered = render_set(report, ["markdown"])
    assert list(rendered) == ["json", "markdown"]
    assert json.loads(rendered["json"]) == report
    assert rendered["markdown"] == RENDERERS["markdown"](report)


def test_render_set_of_an_unknown_format_raises(report):
    with pytest.raises(KeyError):
        render_set(report, ["pdf"])


# ---- prepare ---------------------------------------------------------------------------------------------


def test_prepare_creates_the_directory_and_leaves_nothing_in_it(tmp_path):
    dest = tmp_path / "a" / "b"
    prepare(str(dest))
    assert dest.is_dir()
    assert listing(dest) == []


def test_prepare_keeps_an_existing_directory_as_it_is(tmp_path):
    (tmp_path / "report.json").write_text("{}", encoding="utf-8")
    prepare(str(tmp_path))
    assert listing(tmp_path) == ["report.json"]


def test_prepare_refuses_a_regular_file(tmp_path):
    dest = tmp_path / "reports"
    dest.write_text("not a directory", encoding="utf-8")
    with pytest.raises(ReportWriteError) as raised:
        prepare(str(dest))
    assert str(raised.value) == f"{dest} exists and is not a directory"


def test_prepare_refuses_a_path_under_a_regular_file(tmp_path):
    regular = tmp_path / "file"
    regular.write_text("x", encoding="utf-8")
    dest = regular / "reports"
    with pytest.raises(ReportWriteError) as raised:
        prepare(str(dest))
    assert str(raised.value).startswith(f"cannot write in {dest}: ")
    assert "Not a directory" in str(raised.value)
    assert regular.read_text(encoding="utf-8") == "x"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes in a read-only directory")
def test_prepare_refuses_a_directory_it_cannot_write_in(tmp_path):
    dest = tmp_path / "read-only"
    dest.mkdir()
    dest.chmod(0o500)
    try:
        with pytest.raises(ReportWriteError, match="^cannot write in .*: Permission denied$"):
            prepare(str(dest))
    finally:
        dest.chmod(0o700)


# ---- write_set -------------------------------------------------------------------------------------------


def test_write_set_writes_every_format(tmp_path, report):
    dest = tmp_path / "out"
    files, changed = write_set(render_set(report, ALL), str(dest))
    assert changed is True
    names = {"json": "report.json", "markdown": "report.md", "junit": "report.xml", "csv": "report.csv"}
    assert files == {name: str(dest / file) for name, file in names.items()}
    assert listing(dest) == ["report.csv", "report.json", "report.md", "report.xml"]
    assert json.loads((dest / "report.json").read_text(encoding="utf-8")) == report
    assert oct((dest / "report.md").stat().st_mode & 0o777) == oct(0o644)


def test_write_set_of_the_same_text_changes_nothing(tmp_path, report):
    rendered = render_set(report, ALL)
    write_set(rendered, str(tmp_path))
    before = {name: os.stat(tmp_path / name).st_mtime_ns for name in listing(tmp_path)}
    files, changed = write_set(rendered, str(tmp_path))
    assert changed is False
    assert {name: os.stat(tmp_path / name).st_mtime_ns for name in listing(tmp_path)} == before
    assert set(files) == set(ALL)


def test_write_set_removes_the_report_files_of_formats_not_written(tmp_path, report):
    """A report.md of an earlier run must not sit beside a new report.json, telling another story."""
    write_set(render_set(report, ALL), str(tmp_path))
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    audit = build_audit_report()

    assert stale_files(str(tmp_path), ["json"]) == [str(tmp_path / name) for name in ("report.md", "report.xml", "report.csv")]
    files, changed = write_set(render_set(audit, ["json"]), str(tmp_path))

    assert changed is True
    assert files == {"json": str(tmp_path / "report.json")}
    assert listing(tmp_path) == ["notes.txt", "report.json"]
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8")) == audit


def test_write_set_removes_a_stale_file_even_when_report_json_is_unchanged(tmp_path, report):
    rendered = render_set(report, ["json", "markdown"])
    write_set(rendered, str(tmp_path))
    files, changed = write_set({"json": rendered["json"]}, str(tmp_path))
    assert changed is True
    assert listing(tmp_path) == ["report.json"]
    assert stale_files(str(tmp_path), ["json"]) == []


def test_write_set_in_check_mode_writes_and_removes_nothing(tmp_path, report):
    write_set(render_set(report, ["json", "markdown"]), str(tmp_path))
    saved = {name: (tmp_path / name).read_text(encoding="utf-8") for name in listing(tmp_path)}
    files, changed = write_set(render_set(build_audit_report(), ["json"]), str(tmp_path), check_mode=True)
    assert changed is True  # it would change
    assert files == {"json": str(tmp_path / "report.json")}
    assert {name: (tmp_path / name).read_text(encoding="utf-8") for name in listing(tmp_path)} == saved
    assert not (tmp_path / "nowhere").exists()
    files, changed = write_set(render_set(report, ["json"]), str(tmp_path / "nowhere"), check_mode=True)
    assert changed is True
    assert not (tmp_path / "nowhere").exists()


def test_write_set_leaves_no_temporary_file(tmp_path, report):
    write_set(render_set(report, ALL), str(tmp_path))
    assert [name for name in listing(tmp_path) if name.startswith(".")] == []


def test_write_set_under_a_regular_file_raises_naming_the_directory(tmp_path, report):
    regular = tmp_path / "file"
    regular.write_text("x", encoding="utf-8")
    dest = regular / "reports"
    with pytest.raises(ReportWriteError) as raised:
        write_set(render_set(report, ["json"]), str(dest))
    assert str(raised.value).startswith(f"cannot write the reports in {dest}: Not a directory")


# ---- when the reports cannot be written ------------------------------------------------------------------


def test_changed_stage_lines_name_every_changed_stage(report):
    assert changed_stage_lines(report) == [
        "arn:aws:apigateway:us-east-1::/restapis/c1c2c3c4c5/stages/v1 tracing_enabled false -> true",
        "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod tracing_enabled false -> true",
    ]
    assert changed_stage_lines(build_audit_report()) == []  # would_* is no change
    assert changed_stage_lines({}) == []


def test_failed_write_of_an_enforcement_names_the_changed_stages_and_saves_a_fallback(temp_dir, report):
    json_text = render_set(report, ["json"])["json"]
    result = failed_write_result(report, json_text, "dest: cannot write the reports in /r: Read-only file system (/r)", "/r")

    fallback = result["fallback_report"]
    assert os.path.dirname(fallback) == str(temp_dir)
    assert os.path.basename(fallback).startswith(FALLBACK_PREFIX) and fallback.endswith(".json")
    with open(fallback, encoding="utf-8") as handle:
        assert handle.read() == json_text
    assert result["failed"] is True
    assert result["dest"] == "/r"
    assert result["changed_stages"] == changed_stage_lines(report)
    assert result["msg"] == (
        "dest: cannot write the reports in /r: Read-only file system (/r). This run changed 2 stages: "
        + "; ".join(changed_stage_lines(report))
        + f". report.json was saved to {fallback} instead: keep it, the rollback reads it (tracing_sweep_rollback_report={fallback})"
    )


def test_failed_write_without_changes_saves_nothing(temp_dir):
    audit = build_audit_report()
    result = failed_write_result(audit, render_set(audit, ["json"])["json"], "dest: boom", "/r")
    assert result == {"failed": True, "dest": "/r", "msg": "dest: boom"}
    assert listing(temp_dir) == []


def test_failed_write_falls_back_to_the_home_then_the_working_directory(tmp_path, monkeypatch, report):
    regular = tmp_path / "file"
    regular.write_text("x", encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(regular / "tmp"))
    monkeypatch.setenv("HOME", str(home))
    assert os.path.dirname(failed_write_result(report, "{}", "dest: boom", "/r")["fallback_report"]) == str(home)
    monkeypatch.setenv("HOME", str(regular / "home"))
    monkeypatch.chdir(tmp_path)
    # The working directory is the last place tried.
    assert os.path.dirname(failed_write_result(report, "{}", "dest: boom", "/r")["fallback_report"]) == str(tmp_path)


def test_save_fallback_tries_each_place_in_order(tmp_path):
    regular = tmp_path / "file"
    regular.write_text("x", encoding="utf-8")
    second = tmp_path / "second"
    second.mkdir()
    path = save_fallback("{}", places=[str(regular / "nope"), str(second)])
    assert os.path.dirname(path) == str(second)
    assert save_fallback("{}", places=[str(regular / "nope")]) is None


def test_failed_write_when_no_place_at_all_says_the_log_is_the_only_record(monkeypatch, report):
    monkeypatch.setattr("ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files.save_fallback", lambda text: None)
    result = failed_write_result(report, "{}", "dest: boom", "/r")
    assert result["fallback_report"] is None
    assert result["msg"].endswith("report.json could not be saved anywhere else either: the changed stages above are the only record")
    assert "tracing_enabled false -> true" in result["msg"]
