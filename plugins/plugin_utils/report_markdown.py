# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""report.md: the sweep report for people (a pull request comment, a CI summary, an AWX artifact)."""

from __future__ import annotations

import re

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report import CATEGORIES
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report import category_counts
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report import row_category
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
    ("skipped", "Skipped by rule"),
    ("errors", "Errors"),
    ("compliance_percent", "Compliance %"),
    ("planned_changes", "Planned changes"),
    ("max_changes", "Max changes (tracing_sweep_max_changes)"),
    ("refused", "Changes refused by the max-changes guard"),
)
MODE_NOTES = {
    "audit": "audit (check mode: nothing was changed)",
    "enforce": "enforce (changes were made)",
}


def cell(value):
    """One table cell: booleans as true/false, None as '-', line breaks flattened, Markdown punctuation escaped.

    '|' would end the cell; '*', '_', '`', '[', ']', '<' and '>' in API names, globs and reasons would
    otherwise turn into emphasis, code, links or HTML.
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = " ".join(str(value).split())
    return MARKDOWN_SPECIAL.sub(r"\\\g<0>", text) or "-"


def table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(["---"] * len(headers)) + "|"]
    lines.extend("| " + " | ".join(cell(value) for value in row) + " |" for row in rows)
    return lines


def _account_label(account_id, account_name):
    if account_id and account_name:
        return f"{account_id} ({account_name})"
    return account_id or account_name or None


def _groups(report):
    """[((account_id, region), label, rows)] sorted, covering every target, also those without stages."""
    labels = {}
    groups = {}
    for target in report["targets"]:
        key = (target["account_id"], target["region"])
        labels[key] = labels.get(key) or _account_label(target["account_id"], target["account_name"])
        groups.setdefault(key, [])
    for row in report["stages"]:
        groups.setdefault((row["account_id"], row["region"]), []).append(row)
    keys = sorted(groups, key=lambda key: (key[0] or "", key[1] or ""))
    return [(key, labels.get(key) or key[0], groups[key]) for key in keys]


def _stage_table(rows):
    headers = ["Account", "Region", "API", "API id", "Stage", "Tracing before", "Tracing after", "Desired", "Action", "Reason"]
    return table(
        headers,
        [
            (
                row["account_id"],
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


def render_markdown(report):
    """The report as GitHub-flavoured Markdown (str, ends with a newline)."""
    summary = report["summary"]
    lines = [f"# {TITLE}", ""]
    lines.append(f"- Mode: {MODE_NOTES.get(report['mode'], report['mode'])}")
    lines.append(f"- Generated at: {report['generated_at']}")
    lines.append(f"- Schema version: {report['schema_version']}")
    lines += ["", "## Summary", ""]
    lines += table(["Metric", "Value"], [(label, summary[key]) for key, label in SUMMARY_LABELS])

    lines += ["", "## By account and region", ""]
    group_rows = []
    for key, label, rows in _groups(report):
        counts = category_counts(rows)
        group_rows.append((label, key[1], len(rows)) + tuple(counts[name] for name in CATEGORIES) + (counts["compliance_percent"],))
    lines += table(["Account", "Region", "Stages", "Compliant", "Non-compliant", "Exempt", "Skipped", "Errors", "Compliance %"], group_rows)

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

    failed_targets = [target for target in report["targets"] if target["status"] == "error"]
    error_rows = [row for row in report["stages"] if row["action"] == "error"]
    lines += ["", "## Errors", ""]
    if not failed_targets and not error_rows:
        lines.append("None.")
    if failed_targets:
        lines += [f"### Failed targets ({len(failed_targets)})", ""]
        lines += table(
            ["Host", "Account", "Region", "Error"],
            [(target["host"], _account_label(target["account_id"], target["account_name"]), target["region"], target["error"]) for target in failed_targets],
        )
    if error_rows:
        if failed_targets:
            lines.append("")
        lines += [f"### Failed stages ({len(error_rows)})", ""]
        lines += table(
            ["Account", "Region", "API", "API id", "Stage", "Error"],
            [(row["account_id"], row["region"], row["rest_api_name"], row["rest_api_id"], row["stage_name"], row["reason"]) for row in error_rows],
        )
    return "\n".join(lines) + "\n"
