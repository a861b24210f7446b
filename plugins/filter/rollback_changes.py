# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: rollback_changes
short_description: The stage changes of an enforcement, from its report, and how to undo them
version_added: 1.0.0
deprecated:
  removed_in: 2.0.0
  why: >-
    It is the tracing_sweep role's own plumbing, made public in 1.0.0 by mistake; the role no longer uses it (its
    steps run in the controller's process).
  alternative: Use the C(cloudops.apigw_tracing.rollback) playbook (or the role's C(rollback) entry point).
author:
  - Cloudops Maintainers (@cloudops)
description:
  - Reads the C(report.json) an enforcement run of the C(cloudops.apigw_tracing.tracing_sweep) role wrote
    (schema C(docs/report.schema.json)) and lists the stages it changed, the rows whose C(action) is C(enabled)
    or C(disabled). Rolling one back means setting its tracing to C(tracing_enabled_before) again.
  - The report is checked before anything is listed. A report that is not JSON, not a sweep report, of an
    unsupported schema version, of an audit (which changed nothing), or with a changed row whose ids or
    previous state are malformed is not rolled back at all; RV(_value.problems) says why and RV(_value.changes)
    is empty.
  - A report without changed rows has no problems and no changes.
  - Inputs are not modified.
positional: target, targets
options:
  _input:
    description:
      - The report, as the text of C(report.json) or as its parsed mapping.
      - Or a list of stage rows of an enforcement's report, for example RV(_value.changes) of an earlier call.
    type: raw
    required: true
  target:
    description:
      - 'One target, C({"account_id": "111111111111", "region": "us-east-1"}): RV(_value.stages) then holds its changes.'
      - Both values must be well formed; the filter fails otherwise.
    type: dict
  targets:
    description:
      - The targets of this run, each a mapping with C(account_id) and C(region) (other keys are ignored).
      - RV(_value.not_in_run) then lists the changes of any other account and region. A target whose account id
        or region is null, empty or malformed covers nothing.
    type: list
    elements: dict
seealso:
  - plugin: cloudops.apigw_tracing.sweep_report
    plugin_type: filter
  - module: cloudops.apigw_tracing.apigw_stage_tracing
"""

EXAMPLES = r"""
- name: Read the report of the enforcement to undo
  ansible.builtin.set_fact:
    rollback: "{{ lookup('ansible.builtin.file', '/srv/sweeps/2026-03-15/report.json') | cloudops.apigw_tracing.rollback_changes }}"
  run_once: true

- name: Refuse a report that cannot be rolled back
  ansible.builtin.fail:
    msg: "Not rolled back: the report {{ rollback.problems | join('; ') }}"
  when: rollback.problems | length > 0

- name: Put this target's stages back as they were
  vars:
    target_stages: >-
      {{ (rollback.changes | cloudops.apigw_tracing.rollback_changes(
            target={'account_id': tracing_sweep_account_id, 'region': tracing_sweep_region})).stages }}
  cloudops.apigw_tracing.apigw_stage_tracing:
    region: "{{ tracing_sweep_region }}"
    stages: "{{ target_stages }}"
    # A stage deleted since the enforcement is listed in missing, not an error.
    ignore_missing: true
  when: target_stages | length > 0

- name: Name the changes that no target of this run covers
  vars:
    run_targets:
      - {account_id: "111111111111", region: us-east-1}
      - {account_id: "111111111111", region: eu-west-1}
  ansible.builtin.debug:
    msg: "{{ (rollback.changes | cloudops.apigw_tracing.rollback_changes(targets=run_targets)).not_in_run | map(attribute='arn') }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: The rollback plan.
  type: dict
  contains:
    problems:
      description: Why the report cannot be rolled back, each message naming the field; empty when it can.
      type: list
      elements: str
      sample: ["is the report of an audit (mode audit), which changed nothing, so there is nothing to roll back; ..."]
    mode:
      description: The report's mode (V(enforce)); null for a list input or a report with problems.
      type: str
    generated_at:
      description: When the enforcement ran, as the report says; null for a list input or a report with problems.
      type: str
    changes:
      description: The changed rows, in report order, each stage once.
      type: list
      elements: dict
      contains:
        account_id:
          description: Account id of the stage.
          type: str
        region:
          description: Region of the stage.
          type: str
        rest_api_id:
          description: Id of the REST API.
          type: str
        rest_api_name:
          description: Name of the REST API, or null.
          type: str
        stage_name:
          description: Name of the stage.
          type: str
        arn:
          description: ARN of the stage, or null when the report has none.
          type: str
        action:
          description: V(enabled) or V(disabled), what the enforcement did.
          type: str
        tracing_enabled_before:
          description: Tracing state before the enforcement, the state a rollback restores.
          type: bool
        tracing_enabled_after:
          description: Tracing state the enforcement left.
          type: bool
    stages:
      description:
        - The changes of O(target), ready for the O(cloudops.apigw_tracing.apigw_stage_tracing#module:stages) option,
          each back to its previous state; empty without O(target).
      type: list
      elements: dict
      sample: [{"rest_api_id": "a1b2c3d4e5", "stage_name": "prod", "tracing_enabled": false}]
    not_in_run:
      description: The changes none of O(targets) covers, with the keys of RV(_value.changes); empty without O(targets).
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rollback_plan import rollback_plan


def rollback_changes(report, target=None, targets=None):
    """The rollback plan of an enforcement's report; see plugin_utils/_report/rollback_plan.py."""
    try:
        return rollback_plan(report, target=target, targets=targets)
    except ValueError as error:
        raise AnsibleFilterError(f"rollback_changes: {error}") from error


class FilterModule:
    def filters(self):
        return {"rollback_changes": rollback_changes}
