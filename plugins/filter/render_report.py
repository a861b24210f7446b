# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: render_report
short_description: Render the tracing sweep report as Markdown, JUnit XML, CSV, HTML or JSON
version_added: 1.0.0
deprecated:
  removed_in: 2.0.0
  why: >-
    It is the tracing_sweep role's own plumbing, made public in 1.0.0 by mistake; the role no longer uses it (its
    steps run in the controller's process).
  alternative: >-
    Use the reports the C(cloudops.apigw_tracing.tracing_sweep) role writes, or the
    M(cloudops.apigw_tracing.tracing_sweep_report) module, which renders every format from the report the role leaves
    in C(tracing_sweep_report).
author:
  - Cloudops Maintainers (@cloudops)
description:
  - Renders the report of P(cloudops.apigw_tracing.sweep_report#filter) as text to write to a file.
  - V(markdown) has the summary, a table per account and region, the non-compliant stages (in audit, those
    that would change; in enforce, those still not compliant), the exemptions and the errors.
  - V(junit) has one test suite per target and one test case per stage; non-compliant stages are failures,
    errors are errors, exempt and skipped stages are skipped.
  - V(csv) has a header line and one line per stage; booleans are V(true) or V(false), null is empty.
  - V(html) is one self-contained page with the summary, a chart per account and a sortable stage table.
  - V(json) is the report itself, indented by 2, keys in report order.
  - Every format ends with a newline.
positional: format
options:
  _input:
    description: The report of P(cloudops.apigw_tracing.sweep_report#filter).
    type: dict
    required: true
  format:
    description: The output format.
    type: str
    required: true
    choices: [json, markdown, junit, csv, html]
seealso:
  - plugin: cloudops.apigw_tracing.sweep_report
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Write the report in every format
  ansible.builtin.copy:
    content: "{{ tracing_report | cloudops.apigw_tracing.render_report(item.format) }}"
    dest: "{{ tracing_sweep_report_dir }}/{{ item.file }}"
    mode: "0644"
  loop:
    - {format: json, file: report.json}
    - {format: markdown, file: report.md}
    - {format: junit, file: report.xml}
    - {format: csv, file: report.csv}
    - {format: html, file: report.html}
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
_value:
  description: The report as text in the requested format.
  type: str
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.formats import RENDERERS


def render_report(report, format):  # pylint: disable=redefined-builtin
    """The report rendered as text in one of RENDERERS' formats."""
    if format not in RENDERERS:
        raise AnsibleFilterError(f"render_report: format must be one of {', '.join(RENDERERS)}, got {format!r}")
    if not isinstance(report, Mapping) or "summary" not in report or "stages" not in report:
        raise AnsibleFilterError("render_report: the input must be a report built by cloudops.apigw_tracing.sweep_report")
    try:
        return RENDERERS[format](report)
    except (KeyError, TypeError) as error:
        raise AnsibleFilterError(f"render_report: the report is malformed ({error!r}); build it with cloudops.apigw_tracing.sweep_report") from error


class FilterModule:
    def filters(self):
        return {"render_report": render_report}
