# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import re

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report import build_report
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report_markdown import cell
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report_markdown import render_markdown
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import GENERATED_AT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_audit_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_enforce_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import planned_rows
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import record
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import stage

UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def tables(text):
    """{heading: [[cell, ...] per line]} for every Markdown table, keyed by the nearest heading above it."""
    found = {}
    heading = None
    for line in text.splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif line.startswith("|"):
            cells = [part.strip() for part in UNESCAPED_PIPE.split(line)[1:-1]]
            found.setdefault(heading, []).append(cells)
    return found


def section(text, heading):
    """The lines under one '## heading' up to the next heading of level 2."""
    lines = text.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("## " + heading))
    end = next((index for index in range(start + 1, len(lines)) if lines[index].startswith("## ")), len(lines))
    return lines[start + 1:end]


@pytest.fixture(name="enforce_text")
def enforce_text_fixture():
    return render_markdown(build_enforce_report())


def test_header(enforce_text):
    assert enforce_text.startswith(
        "# API Gateway X-Ray tracing sweep\n\n- Mode: enforce (changes were made)\n- Generated at: 2026-03-15T12:00:00+00:00\n- Schema version: 1.0\n"
    )
    assert enforce_text.endswith("\n")
    assert "- Mode: audit (check mode: nothing was changed)" in render_markdown(build_audit_report())


def test_every_table_is_rectangular(enforce_text):
    for heading, rows in tables(enforce_text).items():
        assert len({len(row) for row in rows}) == 1, heading
        assert set(rows[1]) == {"---"}, heading


def test_summary_table(enforce_text):
    summary = dict(tables(enforce_text)["Summary"][2:])
    assert summary == {
        "Targets (account x region)": "3",
        "Targets failed": "1",
        "Stages": "9",
        "Compliant": "4",
        "Non-compliant": "1",
        "Changed": "2",
        "Would change": "0",
        "Exempt": "2",
        "Skipped by rule": "1",
        "Errors": "1",
        "Compliance %": "80.0",
        "Planned changes": "4",
        "Max changes (tracing\\_sweep\\_max\\_changes)": "0",
        "Changes refused by the max-changes guard": "true",
    }


def test_account_and_region_table_covers_every_target(enforce_text):
    assert tables(enforce_text)["By account and region"] == [
        ["Account", "Region", "Stages", "Compliant", "Non-compliant", "Exempt", "Skipped", "Errors", "Compliance %"],
        ["---"] * 9,
        ["111111111111 (shop)", "us-east-1", "7", "3", "0", "2", "1", "1", "100.0"],
        ["222222222222 (payments)", "us-west-2", "2", "1", "1", "0", "0", "0", "50.0"],
        ["444444444444", "eu-west-1", "0", "0", "0", "0", "0", "0", "100.0"],
    ]


def test_enforce_lists_the_stages_still_not_compliant(enforce_text):
    rows = tables(enforce_text)["Stages still not compliant (1)"]
    assert rows[0] == ["Account", "Region", "API", "API id", "Stage", "Tracing before", "Tracing after", "Desired", "Action", "Reason"]
    assert rows[2:] == [
        [
            "222222222222",
            "us-west-2",
            "orders",
            "a1b2c3d4e5",
            "prod",
            "false",
            "false",
            "true",
            "skipped",
            "refused: 1 changes planned, more than tracing\\_sweep\\_max\\_changes=0",
        ]
    ]


def test_audit_lists_the_stages_that_would_change():
    found = tables(render_markdown(build_audit_report()))["Stages that would change (3)"]
    assert [(row[2], row[4], row[8]) for row in found[2:]] == [
        ("billing", "prod", "would\\_enable"),
        ("legacy-shop", "v1", "would\\_enable"),
        ("orders", "prod", "would\\_enable"),
    ]


def test_exemptions_with_reasons_expiry_and_status(enforce_text):
    assert tables(enforce_text)["Exemptions (3)"][2:] == [
        ["0", "arn:aws:apigateway:us-east-1::/restapis/e1e2e3e4e5/stages/prod", "vendor managed", "2026-12-31", "active", "1"],
        ["1", "api\\_name=legacy-\\*, stage\\_name=v1", "retiring", "2025-01-31", "expired", "1"],
        ["2", "account\\_id=333333333333", "never matches", "never", "unused", "0"],
    ]
    assert [row[3] for row in tables(enforce_text)["Exempt stages (2)"][2:]] == ["tagged", "prod"]


def test_errors_list_failed_targets_and_stages(enforce_text):
    found = tables(enforce_text)
    assert found["Failed targets (1)"][2:] == [["broken", "444444444444", "eu-west-1", "Unable to assume role"]]
    assert found["Failed stages (1)"][2:] == [["111111111111", "us-east-1", "billing", "b1b2c3d4e5", "prod", "denied \\| no PATCH"]]
    assert "| 111111111111 | us-east-1 | billing | b1b2c3d4e5 | prod | denied \\| no PATCH |" in section(enforce_text, "Errors")
    assert "denied | no PATCH" not in enforce_text


def test_empty_sections_say_so():
    plan, rows = planned_rows([stage(enabled=True)])
    text = render_markdown(build_report([record("calm", rows, plan)], "enforce", GENERATED_AT))
    assert section(text, "Stages still not compliant (0)") == ["", "None.", ""]
    assert section(text, "Exemptions (0)") == ["", "None configured.", ""]
    assert section(text, "Errors") == ["", "None."]
    assert "Exempt stages" not in text


def test_target_without_account_id_is_labelled_by_name():
    plan, rows = planned_rows([stage()], target={"account_id": None, "region": "us-east-1"}, check_mode=True)
    text = render_markdown(build_report([record("h", rows, plan, account_id=None, account_name="default creds")], "audit", GENERATED_AT))
    assert tables(text)["By account and region"][2][:2] == ["default creds", "us-east-1"]
    assert tables(text)["Stages that would change (1)"][2][0] == "-"


@pytest.mark.parametrize(
    "value, shown",
    [
        (None, "-"),
        ("", "-"),
        (True, "true"),
        (False, "false"),
        (66.7, "66.7"),
        ("a|b", "a\\|b"),
        ("line one\nline two\r\n  three", "line one line two three"),
        ("internal-*", "internal-\\*"),
        ("_x_ `y` [z](u) <b>", "\\_x\\_ \\`y\\` \\[z\\](u) \\<b\\>"),
        ("back\\slash|", "back\\\\slash\\|"),
    ],
)
def test_cell_escaping(value, shown):
    assert cell(value) == shown


def test_names_with_pipes_and_newlines_keep_the_table_intact():
    plan, rows = planned_rows([stage(api_name="a|b\nc")], check_mode=True)
    text = render_markdown(build_report([record("h", rows, plan)], "audit", GENERATED_AT))
    found = tables(text)["Stages that would change (1)"]
    assert found[2][2] == "a\\|b c"
    assert len(found[2]) == len(found[0])


def test_target_without_region_is_listed():
    plan, rows = planned_rows([stage()], check_mode=True)
    records = [record("ok", rows, plan), {"host": "lost", "status": "error", "error": "no region"}]
    text = render_markdown(build_report(records, "audit", GENERATED_AT))
    assert tables(text)["By account and region"][2:] == [
        ["-", "-", "0", "0", "0", "0", "0", "0", "100.0"],
        ["111111111111", "us-east-1", "1", "0", "1", "0", "0", "0", "0.0"],
    ]
    assert tables(text)["Failed targets (1)"][2:] == [["lost", "-", "-", "no region"]]
