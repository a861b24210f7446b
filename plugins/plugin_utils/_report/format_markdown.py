# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""report.md: the sweep report for people (a pull request comment, a CI summary, an AWX artifact)."""

from __future__ import annotations

import re

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report import headlines
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.charts import account_compliance
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.charts import capped
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.charts import trend_labels
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.charts import trend_points
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import CATEGORIES
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import COMPLIANCE_RULE
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import category_counts
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import row_category
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import untraced_hops
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.safe_text import safe_text
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import EXEMPTION_SELECTORS

TITLE = "API Gateway X-Ray tracing sweep"
MARKDOWN_SPECIAL = re.compile(r"[\\|*_`\[\]<>]")
SUMMARY_LABELS = (
    ("targets", "Targets (account x region)"),
    ("targets_failed", "Targets failed"),
    ("stages", "Stages"),
    ("compliant", "Compliant"),
    ("noncompliant", "Non-compliant"),
    ("changed", "Changed"),
    ("would_change", "Would change"),
    ("exempt", "Exempt"),
    ("skipped", "Skipped"),
    ("stage_errors", "Stage errors"),
    ("errors", "Errors (failed targets + stage errors)"),
    ("compliance_percent", "Compliance %"),
    ("planned_changes", "Planned changes"),
    ("max_changes", "Max changes (tracing_sweep_max_changes)"),
    ("refused", "Changes refused by the max-changes guard"),
)
MODE_NOTES = {
    "audit": "audit (check mode: nothing was changed)",
    "enforce": "enforce (changes were made)",
}
# A failed target's error in the per-account table; the whole message is under Errors.
ROW_ERROR_LENGTH = 160
# The Mermaid chart draws this many of the least compliant accounts; the table under it has them all.
CHART_ACCOUNTS = 20
# Each list of changes since the last run shows this many stages; report.json has them all.
CHANGES_SHOWN = 50
# Characters a Mermaid label keeps (letters and digits of any script too); any other becomes '_'.
MERMAID_SAFE = frozenset(" -_.:/@+")
MERMAID_LABEL_LENGTH = 40
CHANGE_LISTS = (
    ("regressed", "Regressed (compliant before, not now)"),
    ("fixed", "Fixed (not compliant before, compliant now)"),
    ("new", "New stages"),
    ("removed", "Removed stages"),
)


def cell(value):
    """One table cell: booleans as true/false, None as '-', line breaks flattened, control characters shown
    escaped (\\x1b), Markdown punctuation escaped.

    '|' would end the cell; '*', '_', '`', '[', ']', '<' and '>' in API names, globs and reasons would
    otherwise turn into emphasis, code, links or HTML.
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = safe_text(" ".join(str(value).split()))
    return MARKDOWN_SPECIAL.sub(r"\\\g<0>", text) or "-"


def table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(["---"] * len(headers)) + "|"]
    lines.extend("| " + " | ".join(cell(value) for value in row) + " |" for row in rows)
    return lines


def percent(value):
    return "n/a" if value is None else value


def mermaid_label(text, length=MERMAID_LABEL_LENGTH):
    """A quoted Mermaid label: one line, letters, digits, spaces and -_.:/@+ only (no quote, bracket, '%', '<' or
    backquote that could end the string, the block or the Markdown around it), at most ``length`` characters."""
    text = " ".join(str(text).split())
    text = "".join(char if char.isalnum() or char in MERMAID_SAFE else "_" for char in text)
    if len(text) > length:
        text = text[: length - 3] + "..."
    return '"' + (text or "_") + '"'


def _mermaid_number(value):
    return f"{float(value):g}"


def _mermaid_account(item):
    """The account's label on the chart; an account that lost a target or a stage says so after its name, which is
    shortened first so that the mark always shows ('111111111111 prod - 1 of 2 targets failed')."""
    name = " ".join(part for part in (item["account_id"], item["account_name"]) if part) or item["label"]
    if not item.get("incomplete"):
        return mermaid_label(name)
    mark = " - " + item["incomplete"].replace(", ", " and ")
    return mermaid_label(mermaid_label(name)[1:-1] + mark, MERMAID_LABEL_LENGTH + len(mark))


def _listed(labels, limit=CHART_ACCOUNTS):
    shown = ", ".join(cell(label) for label in labels[:limit])
    return shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


def _not_drawn_label(item):
    failed = item["failed_targets"]
    return item["label"] + (f" ({_counted(failed, 'failed target')})" if failed else "")


def account_chart(report, limit=CHART_ACCOUNTS):
    """The '## Compliance by account' lines: a Mermaid bar chart of the least compliant accounts."""
    entries = account_compliance(report)
    drawn, not_drawn, left_off = capped(entries, limit)
    lines = ["", "## Compliance by account", ""]
    if drawn:
        lines += [
            "```mermaid",
            "xychart-beta",
            '    title "Compliance percent by account, least compliant first"',
            "    x-axis [" + ", ".join(_mermaid_account(item) for item in drawn) + "]",
            '    y-axis "Compliance percent" 0 --> 100',
            "    bar [" + ", ".join(_mermaid_number(item["percent"]) for item in drawn) + "]",
            "```",
            "",
        ]
        if left_off:
            lines.append(
                f"The {len(drawn)} least compliant of {len(drawn) + left_off} accounts with evaluated stages are drawn; "
                "every account is in the table under By account and region."
            )
        else:
            lines.append(f"{len(drawn)} account{'' if len(drawn) == 1 else 's'} with evaluated stages, the least compliant first.")
        marked = [item for item in drawn if item.get("incomplete")]
        if marked:
            lines.append(
                "Not all evaluated, so their bar is only over the stages that were: "
                + _listed([f"{item['label']} ({item['incomplete']})" for item in marked]) + " (see Errors)."
            )
    else:
        lines.append("No account has an evaluated stage, so there is no chart.")
    if not_drawn:
        lines.append(
            "Not drawn, as no stage of theirs was evaluated (compliance n/a): " + _listed([_not_drawn_label(item) for item in not_drawn]) + "."
        )
    return lines


def _trend_time(point):
    return str(point.get("generated_at") or point.get("id") or "?")[:16].replace("T", " ")


def _trend_labels(points, this_run):
    """Quoted x labels, one per run and each different: runs in the same minute are '... run 2', '... run 3'."""
    return [mermaid_label(label) for label in trend_labels(points, this_run, _trend_time, lambda label, count: f"{label} run {count}")]


def trend_chart(since_baseline):
    """A Mermaid line of compliance over the runs of since_baseline.trend (empty when fewer than 2 have a figure)."""
    trend = since_baseline.get("trend") or []
    points = trend_points(since_baseline)
    if len(points) < 2:
        return []
    this_run = trend[-1] if trend else None
    lines = [
        "",
        "### Compliance over the last runs",
        "",
        "```mermaid",
        "xychart-beta",
        '    title "Compliance percent over the last runs, oldest first"',
        "    x-axis [" + ", ".join(_trend_labels(points, this_run)) + "]",
        '    y-axis "Compliance percent" 0 --> 100',
        "    line [" + ", ".join(_mermaid_number(point["compliance_percent"]) for point in points) + "]",
        "```",
    ]
    skipped = len(trend) - len(points)
    if skipped:
        lines += ["", f"{skipped} run{' is' if skipped == 1 else 's are'} not drawn: no stage was evaluated (compliance n/a)."]
    return lines


def _counted(number, noun):
    return f"{number} {noun}{'' if number == 1 else 's'}"


def since_last_run(since_baseline):
    """The '## Since the last run' lines of report["since_baseline"] (none when history is off)."""
    if not since_baseline:
        return []
    lines = ["", "## Since the last run", ""]
    lines.append(f"- History: {cell(since_baseline.get('history'))} (this run: {cell(since_baseline.get('run_id'))})")
    baseline = since_baseline.get("baseline")
    if since_baseline.get("status") == "compared" and baseline:
        lines.append(
            f"- Compared with: {cell(baseline.get('id'))}, {cell(baseline.get('mode'))} of {cell(baseline.get('generated_at'))}: "
            f"compliance {percent(baseline.get('compliance_percent'))}%, verdict {cell(baseline.get('verdict'))}"
        )
        counts = since_baseline.get("counts") or {}
        corrected = sum(1 for item in since_baseline.get("fixed") or [] if item.get("corrected"))
        lines.append(
            "- Changes: "
            + ", ".join(
                (
                    f"{_counted(counts.get('new', 0), 'new stage')} ({counts.get('new_noncompliant', 0)} not compliant)",
                    f"{counts.get('removed', 0)} removed",
                    f"{counts.get('regressed', 0)} regressed",
                    f"{counts.get('fixed', 0)} fixed" + (f" ({corrected} by this run's enforcement)" if corrected else ""),
                )
            )
        )
        if since_baseline.get("reason"):
            lines.append(f"- Not compared: {cell(since_baseline['reason'])}")
        for key, heading in CHANGE_LISTS:
            items = since_baseline.get(key) or []
            if not items:
                continue
            lines += ["", f"### {heading} ({len(items)})", ""]
            lines += _change_table(key, items[:CHANGES_SHOWN])
            if len(items) > CHANGES_SHOWN:
                lines += ["", f"The first {CHANGES_SHOWN} are shown; report.json has all {len(items)}."]
    else:
        lines.append(f"- No baseline: {cell(since_baseline.get('reason') or 'no earlier run of the same scope in the history')}")
    lines += trend_chart(since_baseline)
    return lines


def _change_table(key, items):
    where = [
        lambda item: _account_label(item.get("account_id"), item.get("account_name")),
        lambda item: item.get("region"),
        lambda item: item.get("rest_api_name"),
        lambda item: item.get("rest_api_id"),
        lambda item: item.get("stage_name"),
    ]
    headers = ["Account", "Region", "API", "API id", "Stage"]
    if key in ("regressed", "fixed"):
        headers += ["Before", "After", "Cause"]
        where += [lambda item: item.get("before"), lambda item: item.get("after"), lambda item: item.get("cause")]
        if key == "fixed":
            headers.append("Corrected by this run")
            where.append(lambda item: bool(item.get("corrected")))
    else:
        headers.append("Category")
        where.append(lambda item: item.get("category"))
    return table(headers, [tuple(get(item) for get in where) for item in items])


def _account_label(account_id, account_name):
    if account_id and account_name:
        return f"{account_id} ({account_name})"
    return account_id or account_name or None


def _shortened(text, length=ROW_ERROR_LENGTH):
    text = " ".join(str(text).split())
    return text if len(text) <= length else text[: length - 3] + "..."


def _groups(report):
    """[((account_id, region), label, rows, failed targets)] sorted, covering every target, also those without stages."""
    labels = {}
    groups = {}
    failures = {}
    for target in report["targets"]:
        key = (target["account_id"], target["region"])
        labels[key] = labels.get(key) or _account_label(target["account_id"], target["account_name"]) or target["host"]
        groups.setdefault(key, [])
        if target["status"] == "error":
            failures.setdefault(key, []).append(target)
    for row in report["stages"]:
        groups.setdefault((row["account_id"], row["region"]), []).append(row)
    keys = sorted(groups, key=lambda key: (key[0] or "", key[1] or ""))
    return [(key, labels.get(key) or key[0], groups[key], failures.get(key, [])) for key in keys]


def _stage_table(rows):
    headers = ["Account", "Region", "API", "API id", "Stage", "Tracing before", "Tracing after", "Desired", "Action", "Reason"]
    return table(
        headers,
        [
            (
                _account_label(row["account_id"], row.get("account_name")),
                row["region"],
                row["rest_api_name"],
                row["rest_api_id"],
                row["stage_name"],
                row["tracing_enabled_before"],
                row["tracing_enabled_after"],
                row["desired"],
                row["action"],
                row["reason"],
            )
            for row in rows
        ],
    )


def _applies_to(exemption):
    if exemption.get("arn"):
        return exemption["arn"]
    return ", ".join(f"{key}={exemption[key]}" for key in EXEMPTION_SELECTORS if exemption.get(key) is not None)


def _policy_line(policy):
    rules = policy.get("rules") or 0
    exemptions = policy.get("exemptions") or 0
    parts = [
        "tracing %s by default" % ("on" if policy.get("desired", True) else "off"),
        "%d rule%s" % (rules, "" if rules == 1 else "s"),
        "%d exemption%s" % (exemptions, "" if exemptions == 1 else "s"),
        "exempt tag %s" % policy["exempt_tag"] if policy.get("exempt_tag") else "no exempt tag",
    ]
    return "; ".join(parts)


def _callers(report):
    """[(account label, caller ARN)] once per account and caller, in account order."""
    seen = {}
    for target in report["targets"]:
        if target.get("caller_arn"):
            label = _account_label(target["account_id"], target["account_name"]) or target["host"]
            seen.setdefault((target["account_id"] or "", target["caller_arn"]), label)
    return [(label, arn) for (dummy, arn), label in sorted(seen.items())]


def _header(report):
    run = report.get("run") or {}
    lines = [f"# {TITLE}", ""]
    lines.append(f"- Verdict: **{report.get('verdict', '-')}**: {cell(report.get('verdict_reason'))}")
    # What must not be missed comes right under the verdict: a regression, and a compliance figure that is not the whole run's.
    regression = headlines.regression_headline(report.get("since_baseline"))
    if regression:
        lines.append(f"- **Regressed**: {cell(regression)}")
    coverage = headlines.coverage_headline(report["summary"])
    if coverage:
        lines.append(f"- **Compliance**: {cell(coverage)}")
    lines.append(f"- Mode: {MODE_NOTES.get(report['mode'], report['mode'])}")
    lines.append(f"- Generated at: {report['generated_at']}")
    if run:
        lines.append(f"- Collection: {run.get('collection', 'cloudops.apigw_tracing')} {cell(run.get('collection_version'))}")
        lines.append(f"- Policy: {cell(_policy_line(run.get('policy') or {}))}")
    callers = _callers(report)
    if callers:
        lines.append("- Run by (the AWS identity in each account):")
        lines.extend(f"  - {cell(label)}: {cell(arn)}" for label, arn in callers)
    lines.append(f"- Schema version: {report['schema_version']}")
    for error in run.get("errors") or []:
        lines.append(f"- Run error: {cell(error)}")
    return lines


def _security_hub_section(report):
    """'## Findings in Security Hub', per target (tracing_sweep_security_hub); nothing when the setting was off."""
    hub = report["summary"].get("security_hub")
    if not hub:
        return []
    lines = ["", "## Findings in Security Hub", ""]
    lines.append(f"{hub['imported']} imported, {hub['archived']} archived, {hub['failed']} not published, over {hub['targets']} targets.")
    if hub["not_enabled"]:
        lines.append(f"Security Hub is not enabled in {', '.join(hub['not_enabled'])}: no finding was published there.")
    lines.append("")
    targets = [target for target in report["targets"] if target.get("security_hub")]
    lines += table(
        ["Host", "Account", "Region", "Status", "Imported", "Archived", "Not published", "Message"],
        [
            (target["host"], _account_label(target["account_id"], target["account_name"]), target["region"], target["security_hub"]["status"],
             target["security_hub"]["imported"], target["security_hub"]["archived"], target["security_hub"]["failed"],
             target["security_hub"]["message"] or "")
            for target in targets
        ],
    )
    return lines


WHOLE_PATH_RULE = (
    "whole-path coverage = stages whose gateway and every Lambda hop (integration or authorizer) trace, over the evaluated "
    "stages (tracing_sweep_whole_path); a stage meant to be traced whose Lambda hops do not all trace is non-compliant"
)
# The stages named in a row of the untraced hops; the count says how many there are in all.
HOP_STAGES_SHOWN = 5


def _first_stages(stages):
    more = len(stages) - HOP_STAGES_SHOWN
    return ", ".join(stages[:HOP_STAGES_SHOWN]) + (f" and {more} more" if more > 0 else "")


def whole_path_lines(report):
    """The whole-path coverage line and the '## Untraced hops' section (tracing_sweep_whole_path), one row per
    function with the stages behind it; nothing when the setting was off."""
    summary = report["summary"]
    if "whole_path_coverage" not in summary:
        return []
    lines = ["", f"Whole-path coverage: {percent(summary['whole_path_coverage'])}%. How it is counted: {WHOLE_PATH_RULE}."]
    untraced = untraced_hops(report["stages"])
    lines += ["", f"## Untraced hops ({len(untraced)})", ""]
    if not untraced:
        return lines + ["Every Lambda hop behind the stages traces."]
    lines += table(
        ["Function", "Tracing", "Stages behind it", "Which", "Why"],
        [(entry["function_arn"] or "(unknown)", entry["tracing"], len(entry["stages"]),
          _first_stages(entry["stages"]),
          entry["note"] or "")
         for entry in untraced],
    )
    return lines


FUNCTION_ACTION_WORDS = {
    "activated": "set to Active", "would_activate": "would be set to Active", "refused": "not changed (refused)",
    "exempt": "exempt", "skipped": "left as it is (a rule)", "cannot_fix": "cannot be fixed there", "error": "error",
}


def lambda_tracing_lines(report):
    """The '## Lambda functions' section (tracing_sweep_lambda_tracing): one row per function, what became of it."""
    functions = report.get("functions")
    if functions is None:
        return []
    lines = ["", f"## Lambda functions ({len(functions)})", ""]
    if not functions:
        return lines + ["No function in the path of a stage that should be traced needs Active tracing."]
    lines += table(
        ["Function", "What", "Mode before", "Mode after", "Stages behind it", "Why"],
        [(entry["function_arn"], FUNCTION_ACTION_WORDS.get(entry["action"], entry["action"]), entry["mode_before"], entry["mode_after"],
          len(entry["stages"]), entry["reason"] or "") for entry in functions],
    )
    return lines


def render_markdown(report):
    """The report as GitHub-flavoured Markdown (str, ends with a newline)."""
    summary = report["summary"]
    lines = _header(report)
    lines += since_last_run(report.get("since_baseline"))
    lines += ["", "## Summary", ""]
    lines += table(
        ["Metric", "Value"],
        [(label, percent(summary.get(key)) if key == "compliance_percent" else summary.get(key)) for key, label in SUMMARY_LABELS],
    )
    lines += ["", "How it is counted: " + COMPLIANCE_RULE + "."]
    lines += whole_path_lines(report)
    lines += lambda_tracing_lines(report)
    lines += account_chart(report)

    lines += ["", "## By account and region", ""]
    group_rows = []
    for key, label, rows, failed in _groups(report):
        counts = category_counts(rows)
        status = "; ".join("FAILED: " + _shortened(target["error"] or "the target failed") for target in failed) or "ok"
        group_rows.append(
            (label, key[1], status, len(rows))
            + tuple(counts[name] for name in CATEGORIES[:-1])
            + (counts["stage_errors"] + len(failed), percent(counts["compliance_percent"]))
        )
    lines += table(
        ["Account", "Region", "Target", "Stages", "Compliant", "Non-compliant", "Exempt", "Skipped", "Errors", "Compliance %"], group_rows
    )

    changed = [row for row in report["stages"] if row["action"] in ("enabled", "disabled")]
    if report["mode"] == "enforce":
        lines += ["", f"## Stages changed ({len(changed)})", ""]
        lines += (
            table(
                ["Account", "Region", "API", "API id", "Stage", "Tracing before", "Tracing after"],
                [
                    (
                        _account_label(row["account_id"], row.get("account_name")),
                        row["region"],
                        row["rest_api_name"],
                        row["rest_api_id"],
                        row["stage_name"],
                        row["tracing_enabled_before"],
                        row["tracing_enabled_after"],
                    )
                    for row in changed
                ],
            )
            if changed
            else ["None."]
        )

    noncompliant = [row for row in report["stages"] if row_category(row) == "noncompliant"]
    heading = "Stages that would change" if report["mode"] == "audit" else "Stages still not compliant"
    lines += ["", f"## {heading} ({len(noncompliant)})", ""]
    lines += _stage_table(noncompliant) if noncompliant else ["None."]

    lines += ["", f"## Exemptions ({len(report['exemptions'])})", ""]
    if report["exemptions"]:
        lines += table(
            ["#", "Applies to", "Reason", "Expires", "Status", "Stages"],
            [
                (item["index"] + 1, _applies_to(item), item["reason"], item["expires"] or "never", item["status"], len(item["stages"]))
                for item in report["exemptions"]
            ],
        )
    else:
        lines.append("None configured.")
    exempt_rows = [row for row in report["stages"] if row["action"] == "exempt"]
    if exempt_rows:
        lines += ["", f"### Exempt stages ({len(exempt_rows)})", ""]
        lines += table(
            ["Account", "Region", "API", "Stage", "Reason"],
            [(row["account_id"], row["region"], row["rest_api_name"], row["stage_name"], row["reason"]) for row in exempt_rows],
        )

    lines += _security_hub_section(report)

    failed_targets = [target for target in report["targets"] if target["status"] == "error"]
    error_rows = [row for row in report["stages"] if row["action"] == "error"]
    run_errors = (report.get("run") or {}).get("errors") or []
    lines += ["", "## Errors", ""]
    if not failed_targets and not error_rows and not run_errors:
        lines.append("None.")
    if run_errors:
        lines += [f"### Run errors ({len(run_errors)})", ""]
        lines += [f"- {cell(error)}" for error in run_errors]
    if failed_targets:
        if run_errors:
            lines.append("")
        lines += [f"### Failed targets ({len(failed_targets)})", ""]
        lines += table(
            ["Host", "Account", "Region", "Error"],
            [(target["host"], _account_label(target["account_id"], target["account_name"]), target["region"], target["error"]) for target in failed_targets],
        )
    if error_rows:
        if failed_targets or run_errors:
            lines.append("")
        lines += [f"### Failed stages ({len(error_rows)})", ""]
        lines += table(
            ["Account", "Region", "API", "API id", "Stage", "Error"],
            [(row["account_id"], row["region"], row["rest_api_name"], row["rest_api_id"], row["stage_name"], row["reason"]) for row in error_rows],
        )
    return "\n".join(lines) + "\n"
