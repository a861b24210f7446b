# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""report.md: the sweep report for people (a pull request comment, a CI summary, an AWX artifact)."""

from __future__ import annotations

import re

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report import CATEGORIES
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report import COMPLIANCE_RULE
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report import category_counts
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report import row_category
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report_text import safe_text
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.sweep_settings import EXEMPTION_SELECTORS

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


def render_markdown(report):
    """The report as GitHub-flavoured Markdown (str, ends with a newline)."""
    summary = report["summary"]
    lines = _header(report)
    lines += ["", "## Summary", ""]
    lines += table(
        ["Metric", "Value"],
        [(label, percent(summary.get(key)) if key == "compliance_percent" else summary.get(key)) for key, label in SUMMARY_LABELS],
    )
    lines += ["", "How it is counted: " + COMPLIANCE_RULE + "."]

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
                (item["index"], _applies_to(item), item["reason"], item["expires"] or "never", item["status"], len(item["stages"]))
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
