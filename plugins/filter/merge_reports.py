# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: merge_reports
short_description: One sweep report from the reports of the slices of a run
version_added: 1.0.0
deprecated:
  removed_in: 2.0.0
  why: >-
    It is the tracing_sweep role's own plumbing, made public in 1.0.0 by mistake; the role no longer uses it (its
    steps run in the controller's process).
  alternative: >-
    Use the C(cloudops.apigw_tracing.merge_reports) playbook (or the role's C(merge) entry point), which reads,
    merges, writes and judges the reports.
author:
  - Cloudops Maintainers (@cloudops)
description:
  - Puts together the C(report.json) files that the slices of one sweep wrote, each slice having swept other
    hosts with the same settings (AWX job slicing, or runs with disjoint C(--limit)). The result is the report
    one unsliced run would have written (schema C(docs/report.schema.json)), but for C(generated_at), which is
    the earliest of the slices'.
  - Targets and stages are put together and sorted; the summary is counted again from them, C(planned_changes)
    is the slices' sum and C(max_changes) their common value (null when they differ). An exemption is
    C(active) when it was active in any slice, C(expired) when it was expired in one and active in none, and
    lists every stage it matched in any slice.
  - The reports are checked before anything is merged. A report that is not JSON or not a sweep report, of
    another schema version, a mix of audits and enforcements, or a host in two reports is not merged at all;
    RV(_value.problems) says why, naming the report, and RV(_value.report) is null.
  - Inputs are not modified.
positional: names
options:
  _input:
    description:
      - The reports, each the text of a C(report.json) or its parsed mapping.
    type: list
    elements: raw
    required: true
  names:
    description:
      - How each report is named in RV(_value.problems), in the order of the reports, for example the paths
        they were read from. The default is C(reports[N]).
    type: list
    elements: str
seealso:
  - plugin: cloudops.apigw_tracing.sweep_report
    plugin_type: filter
  - plugin: cloudops.apigw_tracing.tracing_sweep
    plugin_type: role
"""

EXAMPLES = r"""
- name: Merge the reports of two slices of the daily audit
  vars:
    slice_reports:
      - /var/lib/tracing-sweep/4711/report.json
      - /var/lib/tracing-sweep/4712/report.json
  ansible.builtin.set_fact:
    merged: >-
      {{ query('ansible.builtin.file', *slice_reports) | cloudops.apigw_tracing.merge_reports(slice_reports) }}

- name: Refuse reports that cannot be merged
  ansible.builtin.fail:
    msg: "Not merged: {{ merged.problems | join('; ') }}"
  when: merged.problems | length > 0

- name: Write the merged report in every format
  cloudops.apigw_tracing.tracing_sweep_report:
    report: "{{ merged.report }}"
    dest: /var/lib/tracing-sweep/merged
"""

RETURN = r"""
_value:
  description: The merged report, or why there is none.
  type: dict
  contains:
    problems:
      description: Why the reports cannot be merged, each message naming the report and the field; empty when they can.
      type: list
      elements: str
      sample: ["slice-2/report.json: host prod_us-east-1 is also in slice-1/report.json; merge the reports of slices with disjoint hosts ..."]
    report:
      description:
        - The merged report, a mapping of schema C(docs/report.schema.json) with the keys C(schema_version),
          C(generated_at), C(mode), C(summary), C(targets), C(stages) and C(exemptions); null when there are
          problems.
      type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.merge import merge_reports as merged_report


def merge_reports(reports, names=None):
    """{report, problems} of the slices' reports; see plugin_utils/_report/merge.py."""
    try:
        report, problems = merged_report(reports, names=names)
    except ValueError as error:
        raise AnsibleFilterError(f"merge_reports: {error}") from error
    return {"report": report, "problems": problems}


class FilterModule:
    def filters(self):
        return {"merge_reports": merge_reports}
