# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""report.md: the verdict and the run first, then the counts, the changes, what is not compliant, exemptions and errors."""

from __future__ import annotations

import copy
import re

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report import format_markdown as report_markdown
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import build_report
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import collection_version
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import policy_in_force
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_markdown import cell
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.format_markdown import render_markdown
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import EXEMPTIONS
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import GENERATED_AT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import POLICY
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_audit_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_big_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_enforce_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_half_failed_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import planned_rows
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import record
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import since_baseline_compared
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import since_baseline_none
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import since_baseline_regressed
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import trend_point
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
        "# API Gateway X-Ray tracing sweep\n\n"
        "- Verdict: **error**: 1 target failed, 1 stage error: what failed was not evaluated, so the run cannot vouch for it\n"
        "- **Compliance**: 80.0% of the evaluated stages, 1 of 3 targets failed, 1 stage error (not evaluated)\n"
        "- Mode: enforce (changes were made)\n"
        "- Generated at: 2026-03-15T12:00:00+00:00\n"
        f"- Collection: cloudops.apigw_tracing {cell(collection_version())}\n"
        "- Policy: tracing on by default; 0 rules; 0 exemptions; no exempt tag\n"
        "- Schema version: 1.1\n\n"
    )
    assert enforce_text.endswith("\n")
    audit_text = render_markdown(build_audit_report())
    assert "- Verdict: **noncompliant**: 3 stages do not have their desired tracing state\n- Mode:" in audit_text
    assert "Compliance**" not in audit_text  # every target and stage was evaluated: the figure is the whole run's
    assert "- Mode: audit (check mode: nothing was changed)" in audit_text


def test_header_policy_callers_and_run_errors():
    plan, rows = planned_rows([stage(enabled=True)], **POLICY)
    caller = "arn:aws:sts::111111111111:assumed-role/TracingAudit/cloudops-tracing-sweep"
    records = [
        dict(record("east", rows, plan, account_name="shop"), caller_arn=caller),
        # The same account and caller in another region is named once.
        dict(record("east2", [], None, region="us-east-2", account_name="shop"), caller_arn=caller),
    ]
    run = {
        "collection_version": "1.1.0",
        "policy": policy_in_force(False, POLICY["rules"], EXEMPTIONS, "XrayExempt"),
        "errors": ["the rollback report could not be read"],
    }
    text = render_markdown(build_report(records, "enforce", GENERATED_AT, exemptions=EXEMPTIONS, run=run))
    header = text.split("\n## ", maxsplit=1)[0].splitlines()
    assert header[2].startswith("- Verdict: **error**: 1 run error")
    assert "- Collection: cloudops.apigw_tracing 1.1.0" in header
    assert "- Policy: tracing off by default; 1 rule; 3 exemptions; exempt tag XrayExempt" in header
    assert [line for line in header if "assumed-role" in line] == [
        "  - 111111111111 (shop): arn:aws:sts::111111111111:assumed-role/TracingAudit/cloudops-tracing-sweep"
    ]
    assert "- Run by (the AWS identity in each account):" in header
    assert header[-1] == "- Run error: the rollback report could not be read"
    assert section(text, "Errors")[:4] == ["", "### Run errors (1)", "", "- the rollback report could not be read"]


def test_a_run_without_targets_says_why_and_shows_no_percent():
    text = render_markdown(build_report([], "audit", GENERATED_AT, run={"errors": ["no target: the inventory gave this run no host"]}))
    assert "- Verdict: **error**: no target was swept: the run had no inventory host (see the run's errors)\n" in text
    assert dict(tables(text)["Summary"][2:])["Compliance %"] == "n/a"
    assert "### Run errors (1)" in text
    assert "None." not in section(text, "Errors")


def test_how_it_is_counted(enforce_text):
    assert (
        "How it is counted: compliance % = compliant / (compliant + non-compliant), over the stages that were evaluated; exempt, skipped "
        "and failed stages and the stages of failed targets are not in it; n/a when no stage was evaluated."
    ) in section(enforce_text, "Summary")


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
        "Skipped": "1",
        "Stage errors": "1",
        "Errors (failed targets + stage errors)": "2",
        "Compliance %": "80.0",
        "Planned changes": "4",
        "Max changes (tracing\\_sweep\\_max\\_changes)": "0",
        "Changes refused by the max-changes guard": "true",
    }


def test_account_and_region_table_covers_every_target(enforce_text):
    assert tables(enforce_text)["By account and region"] == [
        ["Account", "Region", "Target", "Stages", "Compliant", "Non-compliant", "Exempt", "Skipped", "Errors", "Compliance %"],
        ["---"] * 10,
        ["111111111111 (shop)", "us-east-1", "ok", "7", "3", "0", "2", "1", "1", "100.0"],
        ["222222222222 (payments)", "us-west-2", "ok", "2", "1", "1", "0", "0", "0", "50.0"],
        # A failed target is an error, and a place with no evaluated stage has no percent.
        ["444444444444", "eu-west-1", "FAILED: Unable to assume role", "0", "0", "0", "0", "0", "1", "n/a"],
    ]


def test_a_long_target_error_is_shortened_in_the_account_table_only():
    error = "AccessDenied: " + "x" * 300
    text = render_markdown(build_report([record("h", [], None, status="error", error=error)], "enforce", GENERATED_AT))
    status = tables(text)["By account and region"][2][2]
    assert status == "FAILED: " + "AccessDenied: " + "x" * 143 + "..."
    assert len(status) == len("FAILED: ") + 160
    assert tables(text)["Failed targets (1)"][2][3] == error


def test_stages_changed_by_an_enforcement(enforce_text):
    assert tables(enforce_text)["Stages changed (2)"] == [
        ["Account", "Region", "API", "API id", "Stage", "Tracing before", "Tracing after"],
        ["---"] * 7,
        ["111111111111 (shop)", "us-east-1", "legacy-shop", "c1c2c3c4c5", "v1", "false", "true"],
        ["111111111111 (shop)", "us-east-1", "orders", "a1b2c3d4e5", "prod", "false", "true"],
    ]


def test_stages_changed_is_an_enforcement_section():
    assert "Stages changed" not in render_markdown(build_audit_report())
    plan, rows = planned_rows([stage(enabled=True)])
    text = render_markdown(build_report([record("calm", rows, plan)], "enforce", GENERATED_AT))
    assert section(text, "Stages changed (0)") == ["", "None.", ""]


def test_enforce_lists_the_stages_still_not_compliant(enforce_text):
    rows = tables(enforce_text)["Stages still not compliant (1)"]
    assert rows[0] == ["Account", "Region", "API", "API id", "Stage", "Tracing before", "Tracing after", "Desired", "Action", "Reason"]
    assert rows[2:] == [
        [
            "222222222222 (payments)",
            "us-west-2",
            "orders",
            "a1b2c3d4e5",
            "prod",
            "false",
            "false",
            "true",
            "refused",
            "1 changes planned, more than tracing\\_sweep\\_max\\_changes=0",
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
        ["1", "arn:aws:apigateway:us-east-1::/restapis/e1e2e3e4e5/stages/prod", "vendor managed", "2026-12-31", "active", "1"],
        ["2", "api\\_name=legacy-\\*, stage\\_name=v1", "retiring", "2025-01-31", "expired", "1"],
        ["3", "account\\_id=333333333333", "never matches", "never", "unused", "0"],
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
    assert tables(text)["By account and region"][2][:3] == ["default creds", "us-east-1", "ok"]
    # Stage rows carry the target's account name: the stage tables label the account by it too.
    assert tables(text)["Stages that would change (1)"][2][0] == "default creds"


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
        # Control and bidirectional characters show as their escapes: no terminal sequence, no bell, no reordering.
        # The escape's backslash is itself escaped for Markdown, so the page reads \x1b.
        ("red\x1b[31malert", "red\\\\x1b\\[31malert"),
        ("ding\x07", "ding\\\\x07"),
        ("del\x7f", "del\\\\x7f"),
        ("csi\x9b", "csi\\\\x9b"),
        ("abc\u202edcba", "abc\\\\u202edcba"),
        ("iso\u2066late\u2069", "iso\\\\u2066late\\\\u2069"),
        ("zero\u200bwidth", "zero\\\\u200bwidth"),
        ("caf\u00e9 \u00fcber \u65e5\u672c", "caf\u00e9 \u00fcber \u65e5\u672c"),
    ],
)
def test_cell_escaping(value, shown):
    assert cell(value) == shown


def test_escape_sequences_and_bidi_in_names_never_reach_the_reader():
    plan, rows = planned_rows([stage(api_name="\x1b]8;;http://evil\x07click\x1b]8;;\x07"), stage(name="dev", api_name="\u202etxt.exe")], check_mode=True)
    records = [record("h", rows, plan, account_name="acct\x1b[2J"), record("bad", [], None, region="us-east-2", status="error", error="boom\x07\u202e")]
    text = render_markdown(build_report(records, "audit", GENERATED_AT))
    for char in ("\x1b", "\x07", "\u202e"):
        assert char not in text
    assert "\\\\x1b\\]8;;http://evil\\\\x07click\\\\x1b\\]8;;\\\\x07" in text
    assert "\\\\u202etxt.exe" in text
    assert "111111111111 (acct\\\\x1b\\[2J)" in text
    assert "FAILED: boom\\\\x07\\\\u202e" in text


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
        # No account id, name nor region: the host names the place.
        ["lost", "-", "FAILED: no region", "0", "0", "0", "0", "0", "1", "n/a"],
        ["111111111111", "us-east-1", "ok", "1", "0", "1", "0", "0", "0", "0.0"],
    ]
    assert tables(text)["Failed targets (1)"][2:] == [["lost", "-", "-", "no region"]]


def test_a_report_of_schema_1_0_renders_without_run_or_verdict():
    report = copy.deepcopy(build_audit_report())
    for key in ("run", "verdict", "verdict_reason"):
        del report[key]
    text = render_markdown(report)
    assert "- Verdict: **-**: -" in text
    assert "- Collection:" not in text
    assert "## Summary" in text


# ---- the Mermaid charts and the changes since the last run ----------------------------------------------------


def mermaid_blocks(text):
    return re.findall(r"^```mermaid\n(.*?)^```$", text, re.S | re.M)


def test_account_chart_draws_the_accounts_with_evaluated_stages(enforce_text):
    lines = section(enforce_text, "Compliance by account")
    assert lines[1:8] == [
        "```mermaid",
        "xychart-beta",
        '    title "Compliance percent by account, least compliant first"',
        '    x-axis ["222222222222 payments", "111111111111 shop - 1 stage error"]',
        '    y-axis "Compliance percent" 0 --> 100',
        "    bar [50, 100]",
        "```",
    ]
    # shop lost a stage (it could not be changed): its 100% is over what was evaluated, and says so.
    assert "Not all evaluated, so their bar is only over the stages that were: 111111111111 (shop) (1 stage error) (see Errors)." in lines
    # The failed account has no compliance: said, not drawn as 0% or 100%.
    assert "Not drawn, as no stage of theirs was evaluated (compliance n/a): 444444444444 (1 failed target)." in lines
    # It comes after the summary, before the table by account and region.
    assert enforce_text.index("## Summary") < enforce_text.index("## Compliance by account") < enforce_text.index("## By account and region")


HOSTILE_NAMES = ['a"] , bar [1]', "two\nlines\n```\n# heading", "%%{init: {'theme': 'dark'}}%%", "<b>x</b> `code`", "Ünïcødé 日本 ✓", ""]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_mermaid_labels_cannot_break_the_block(name):
    plan, rows = planned_rows([stage(enabled=True)])
    report = build_report([record("east", rows, plan, account_name=name)], "audit", GENERATED_AT)
    text = render_markdown(report)
    assert text.count("```") == 2
    block = mermaid_blocks(text)
    assert len(block) == 1 and len(block[0].splitlines()) == 5
    axis = block[0].splitlines()[2]
    labels = re.fullmatch(r'    x-axis \["([^"\[\]]*)"\]', axis)
    assert labels, axis
    assert all(char.isalnum() or char in " -_.:/@+" for char in labels.group(1))
    assert labels.group(1).startswith("111111111111")
    if name.startswith("Ü"):
        assert labels.group(1) == "111111111111 Ünïcødé 日本 _"


def test_account_chart_is_capped_to_the_least_compliant():
    report = build_big_report(accounts=500, stages_per_account=20)
    text = render_markdown(report)
    block = mermaid_blocks(text)
    assert len(block) == 1
    axis = block[0].splitlines()[2]
    assert axis.count('"') == 2 * 20
    bars = [float(value) for value in block[0].splitlines()[4].strip()[len("bar ["):-1].split(", ")]
    assert len(bars) == 20 and bars == sorted(bars) and bars[0] == 5.0
    assert "The 20 least compliant of 500 accounts with evaluated stages are drawn; every account is in the table under By account and region." in text


def test_no_chart_when_no_stage_was_evaluated():
    report = build_report([record("broken", [], None, status="error", error="Unable to assume role")], "audit", GENERATED_AT)
    lines = section(render_markdown(report), "Compliance by account")
    assert "No account has an evaluated stage, so there is no chart." in lines
    assert "Not drawn, as no stage of theirs was evaluated (compliance n/a): 111111111111 (1 failed target)." in lines


def test_no_since_section_without_history(enforce_text):
    assert "Since the last run" not in enforce_text
    assert len(mermaid_blocks(enforce_text)) == 1


def test_since_the_last_run_opens_the_report():
    report = build_enforce_report()
    report["since_baseline"] = since_baseline_compared()
    text = render_markdown(report)
    # Right after the run header, before the summary.
    assert "- Schema version: 1.1\n\n## Since the last run\n\n" in text
    assert text.index("## Since the last run") < text.index("## Summary")
    lines = section(text, "Since the last run")
    assert lines[1:4] == [
        "- History: s3://tracing-history/sweeps (this run: 20261202T003000123456Z)",
        "- Compared with: 20261201T003000123456Z, audit of 2026-12-01T00:30:00+00:00: compliance 60.0%, verdict noncompliant",
        "- Changes: 1 new stage (1 not compliant), 1 removed, 1 regressed, 1 fixed (1 by this run's enforcement)",
    ]
    found = tables(text)
    assert found["Regressed (compliant before, not now) (1)"][2] == [
        "111111111111 (shop)", "us-east-1", "regress", "g1g2g3g4g5", "prod", "compliant", "noncompliant", "tracing was turned off outside the sweep"]
    assert found["Fixed (not compliant before, compliant now) (1)"][0][-1] == "Corrected by this run"
    assert found["Fixed (not compliant before, compliant now) (1)"][2][-1] == "true"
    assert found["New stages (1)"][2][-1] == "noncompliant"
    assert found["Removed stages (1)"][2][2] == "retired"
    blocks = mermaid_blocks(text)
    assert len(blocks) == 2
    assert blocks[0].splitlines() == [
        "xychart-beta",
        '    title "Compliance percent over the last runs, oldest first"',
        '    x-axis ["2026-11-01 00:30", "2026-11-02 00:30", "2026-11-04 00:30", "this run"]',
        '    y-axis "Compliance percent" 0 --> 100',
        "    line [40, 55, 60, 80]",
    ]
    assert "1 run is not drawn: no stage was evaluated (compliance n/a)." in lines


def test_since_the_last_run_without_a_baseline_or_trend():
    report = build_audit_report()
    report["since_baseline"] = since_baseline_none()
    text = render_markdown(report)
    lines = section(text, "Since the last run")
    assert lines[1:3] == [
        "- History: /var/lib/tracing-history (this run: 20261202T003000123456Z)",
        "- No baseline: the history has no earlier run of this scope",
    ]
    assert "Compliance over the last runs" not in text  # one run is no line
    assert len(mermaid_blocks(text)) == 1


def test_since_the_last_run_escapes_and_caps(monkeypatch):
    monkeypatch.setattr(report_markdown, "CHANGES_SHOWN", 3)
    report = build_audit_report()
    since = since_baseline_compared()
    since["new"] = since["new"] * 7
    since["regressed"][0]["cause"] = "a | b\n## injected *bold*"
    since["reason"] = "1 target failed: its stages were not compared"
    report["since_baseline"] = since
    text = render_markdown(report)
    assert len(tables(text)["New stages (7)"]) == 2 + 3
    assert "The first 3 are shown; report.json has all 7." in text
    assert "a \\| b ## injected \\*bold\\*" in text and "\n## injected" not in text
    assert "- Not compared: 1 target failed: its stages were not compared" in text


# ---- what the report says first: a regression, and a compliance figure that is not the whole run's -------------


def test_a_regression_is_the_headline():
    report = build_audit_report()
    report["since_baseline"] = since_baseline_regressed(1)
    header = render_markdown(report).splitlines()
    assert header[2].startswith("- Verdict: **noncompliant**")
    assert header[3] == (
        "- **Regressed**: 1 stage regressed since the last run: arn:aws:apigateway:us-east-1::/restapis/g000000000/stages/prod in "
        "111111111111 (tracing\\_enabled is false, desired true (#1), put back by this run)"
    )
    report["since_baseline"] = since_baseline_regressed(5)
    line = render_markdown(report).splitlines()[3]
    assert line.startswith("- **Regressed**: 5 stages regressed since the last run: arn:")
    # A few are named, then how many more: the table under Since the last run has them all.
    assert line.count("arn:aws:apigateway") == 3 and line.endswith("(tracing\\_enabled is false, desired true (#3)); and 2 more")
    report["since_baseline"] = since_baseline_compared()
    report["since_baseline"]["regressed"] = []
    report["since_baseline"]["counts"]["regressed"] = 0
    assert "Regressed**" not in render_markdown(report)


def test_a_run_that_lost_targets_never_headlines_a_bare_percent():
    report = build_half_failed_report()
    assert report["summary"]["compliance_percent"] == 100.0 and report["verdict"] == "error"
    text = render_markdown(report)
    assert text.splitlines()[3] == "- **Compliance**: 100.0% of the evaluated stages, 2 of 4 targets failed (not evaluated)"
    lines = section(text, "Compliance by account")
    # Each account lost a region: its bar says so on the chart itself, and under it.
    assert '    x-axis ["111111111111 shop - 1 of 2 targets failed", "222222222222 payments - 1 of 2 targets failed"]' in lines
    assert "    bar [100, 100]" in lines
    assert ("Not all evaluated, so their bar is only over the stages that were: 111111111111 (shop) (1 of 2 targets failed), "
            "222222222222 (payments) (1 of 2 targets failed) (see Errors).") in lines


def test_the_mark_of_a_lost_region_survives_a_long_account_name():
    report = build_half_failed_report()
    for target in report["targets"]:
        target["account_name"] = "a very long account name that goes on " * 3
    for row in report["stages"]:
        row["account_name"] = "a very long account name that goes on " * 3
    axis = mermaid_blocks(render_markdown(report))[0].splitlines()[2]
    labels = re.findall(r'"([^"]*)"', axis)
    assert len(labels) == 2 and all(label.endswith("... - 1 of 2 targets failed") for label in labels), labels
    assert all(len(label) <= report_markdown.MERMAID_LABEL_LENGTH + len(" - 1 of 2 targets failed") for label in labels)


def test_trend_labels_are_unique_for_runs_in_the_same_minute_or_second():
    report = build_audit_report()
    since = since_baseline_compared()
    same = [dict(trend_point(0, percent), id=f"2026110{index}", generated_at=generated_at) for index, (percent, generated_at) in enumerate(
        ((40.0, "2026-11-01T00:30:05Z"), (50.0, "2026-11-01T00:30:40Z"), (60.0, "2026-11-01T00:30:40Z"), (70.0, "2026-11-01T00:31:00Z")))]
    since["trend"] = same + [trend_point(9, 80.0)]
    report["since_baseline"] = since
    axis = mermaid_blocks(render_markdown(report))[0].splitlines()[2]
    assert axis == ('    x-axis ["2026-11-01 00:30", "2026-11-01 00:30 run 2", "2026-11-01 00:30 run 3", "2026-11-01 00:31", '
                    '"this run"]')
