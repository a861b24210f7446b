# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: sweep_report
short_description: Build the tracing sweep report from the rows of every account and region
version_added: 1.0.0
deprecated:
  removed_in: 2.0.0
  why: >-
    It is the tracing_sweep role's own plumbing, made public in 1.0.0 by mistake; the role no longer uses it (its
    steps run in the controller's process).
  alternative: Use the C(cloudops.apigw_tracing.tracing_sweep) role, whose report (C(tracing_sweep_report)) it builds.
author:
  - Cloudops Maintainers (@cloudops)
description:
  - Builds the whole-run report (C(report.json), described by C(docs/report.schema.json) in the collection)
    from one record per target (inventory host).
  - Every stage counts in exactly one of C(compliant), C(noncompliant), C(exempt), C(skipped) and C(errors), so
    they add up to C(stages). C(compliance_percent) is C(compliant) over C(compliant + noncompliant), one decimal,
    V(100.0) when that is zero.
  - Deterministic; targets are sorted by host, stages by account id, region, API name, API id and stage name.
  - Inputs are not modified.
positional: mode, generated_at, exemptions, max_changes, hosts
options:
  _input:
    description:
      - One record per target, each with C(host), C(account_id), C(account_name), C(region), C(status)
        (V(ok) or V(error)), C(error) (message or null), C(rows) (from P(cloudops.apigw_tracing.sweep_outcome#filter)),
        C(exemptions) (the plan's C(exemptions)) and C(planned_changes) (the number of the plan's C(changes)).
      - C(region) may be null on a failed target.
    type: list
    elements: dict
    required: true
  mode:
    description: V(audit) (check mode) or V(enforce).
    type: str
    required: true
    choices: [audit, enforce]
  generated_at:
    description: When the run started, an ISO 8601 date and time string.
    type: str
    required: true
  exemptions:
    description: The configured exemptions (C(tracing_sweep_exemptions)); each gets an entry with its status and stages.
    type: list
    elements: dict
    default: []
  max_changes:
    description: C(tracing_sweep_max_changes), shown in the summary; null when there is no limit.
    type: int
  hosts:
    description:
      - The host of each record of O(_input), in the same order, typically C(ansible_play_hosts_all) when the
        records are extracted from C(hostvars) with an empty default.
      - An empty record then stands for a host that stopped before recording its result, and is reported as a
        failed target, so no host goes missing from the report.
    type: list
    elements: str
seealso:
  - plugin: cloudops.apigw_tracing.render_report
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Build the report from every target's facts
  ansible.builtin.set_fact:
    tracing_report: >-
      {{ ansible_play_hosts_all | map('extract', hostvars) | map(attribute='tracing_target_record', default={})
         | cloudops.apigw_tracing.sweep_report('audit' if ansible_check_mode else 'enforce',
                                               now(utc=true).strftime('%Y-%m-%dT%H:%M:%SZ'),
                                               exemptions=tracing_sweep_exemptions,
                                               max_changes=tracing_sweep_max_changes,
                                               hosts=ansible_play_hosts_all) }}
  run_once: true
"""

RETURN = r"""
_value:
  description: The report.
  type: dict
  contains:
    schema_version:
      description: Version of the report schema.
      type: str
      sample: "1.0"
    generated_at:
      description: The O(generated_at) given.
      type: str
    mode:
      description: V(audit) or V(enforce).
      type: str
    summary:
      description:
        - Counts over all targets, C(targets), C(targets_failed), C(stages), C(compliant), C(noncompliant),
          C(changed), C(would_change), C(exempt), C(skipped), C(errors), C(compliance_percent),
          C(planned_changes), C(max_changes) and C(refused).
      type: dict
      sample:
        targets: 2
        targets_failed: 0
        stages: 5
        compliant: 3
        noncompliant: 1
        changed: 0
        would_change: 1
        exempt: 1
        skipped: 0
        errors: 0
        compliance_percent: 75.0
        planned_changes: 1
        max_changes: 50
        refused: false
    targets:
      description: One entry per target, C(host), C(account_id), C(account_name), C(region), C(status), C(error), C(stages) and C(noncompliant) (counts).
      type: list
      elements: dict
    stages:
      description: Every row of every target (see P(cloudops.apigw_tracing.sweep_outcome#filter)), sorted.
      type: list
      elements: dict
    exemptions:
      description:
        - One entry per configured exemption, C(index), its C(arn) or selectors, C(reason), C(expires),
          C(status) (V(active), V(expired) or V(unused)) and C(stages) (ARNs it matched).
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import build_report


def sweep_report(targets, mode, generated_at, exemptions=None, max_changes=None, hosts=None):
    """The report dict; see plugin_utils/_report/model.py."""
    try:
        return build_report(targets, mode, generated_at, exemptions=exemptions, max_changes=max_changes, hosts=hosts)
    except ValueError as error:
        raise AnsibleFilterError(f"sweep_report: {error}") from error


class FilterModule:
    def filters(self):
        return {"sweep_report": sweep_report}
