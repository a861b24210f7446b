# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: sweep_outcome
short_description: Report rows for one account and region from the plan and what was changed
version_added: 1.0.0
deprecated:
  removed_in: 2.0.0
  why: >-
    It is the tracing_sweep role's own plumbing, made public in 1.0.0 by mistake; the role no longer uses it (its
    steps run in the controller's process).
  alternative: Use the C(cloudops.apigw_tracing.tracing_sweep) role.
author:
  - Cloudops Maintainers (@cloudops)
description:
  - Joins the plan of P(cloudops.apigw_tracing.sweep_plan#filter) with the registered result of
    M(cloudops.apigw_tracing.apigw_stage_tracing) into one row per stage, with the action taken.
  - Actions are V(exempt), V(skipped) (a rule skips the stage, the max-changes guard refused the changes, or the
    stage was gone when the change was made), V(none) (already as desired), V(would_enable) and V(would_disable)
    (check mode), V(enabled) and V(disabled), and V(error) (the reason is the module's message for that stage).
  - A planned change absent from O(converge) is an V(error), never reported as compliant.
  - Inputs are not modified.
positional: converge, check_mode, refused
options:
  _input:
    description: The plan of P(cloudops.apigw_tracing.sweep_plan#filter) for this target.
    type: dict
    required: true
  converge:
    description:
      - The registered result of M(cloudops.apigw_tracing.apigw_stage_tracing) called with the plan's C(changes)
        (its C(stages), C(missing) and C(failures); also a failed result, with C(msg)).
      - Null, or the result of a skipped task, when no call was made.
    type: dict
  check_mode:
    description:
      - Whether this is a check-mode run. Planned changes become V(would_enable) or V(would_disable) unless
        O(converge) says otherwise.
    type: bool
    default: false
  refused:
    description:
      - Null, or why the max-changes guard refused the changes (for example
        V(12 changes planned, more than tracing_sweep_max_changes=10)); planned changes are then V(skipped)
        with the reason prefixed V(refused:).
    type: str
seealso:
  - plugin: cloudops.apigw_tracing.sweep_report
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Converge the stages that differ
  cloudops.apigw_tracing.apigw_stage_tracing:
    region: "{{ tracing_sweep_region }}"
    stages: "{{ tracing_plan.changes }}"
  when: tracing_plan.changes | length > 0
  register: converged
  ignore_errors: true

- name: One row per stage
  ansible.builtin.set_fact:
    tracing_rows: "{{ tracing_plan | cloudops.apigw_tracing.sweep_outcome(converge=converged, check_mode=ansible_check_mode) }}"
"""

RETURN = r"""
_value:
  description: One row per stage of the plan, in plan order; the C(stages) entries of the report.
  type: list
  elements: dict
  contains:
    account_id:
      description: Account id of the target, or null.
      type: str
    region:
      description: Region of the target.
      type: str
    rest_api_id:
      description: Id of the REST API.
      type: str
    rest_api_name:
      description: Name of the REST API.
      type: str
    stage_name:
      description: Name of the stage.
      type: str
    arn:
      description: ARN of the stage.
      type: str
    tracing_enabled_before:
      description: Tracing state before the run.
      type: bool
    tracing_enabled_after:
      description: Tracing state after the run; in check mode, the state it would have.
      type: bool
    desired:
      description: Tracing state the policy wants; null when exempt or skipped by a rule.
      type: bool
    action:
      description: What happened, one of V(exempt), V(skipped), V(none), V(would_enable), V(would_disable), V(enabled), V(disabled), V(error).
      type: str
    reason:
      description: Why; the policy reason, the guard's refusal, or the error message.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import target_rows


def sweep_outcome(plan, converge=None, check_mode=False, refused=None):
    """Rows for one target; see plugin_utils/_report/rows.py."""
    if not isinstance(check_mode, bool):
        raise AnsibleFilterError(f"sweep_outcome: check_mode must be a boolean, got {check_mode!r}")
    if refused is not None and not isinstance(refused, (str, bool)):
        raise AnsibleFilterError(f"sweep_outcome: refused must be null or a string, got {refused!r}")
    try:
        return target_rows(plan, converge=converge, check_mode=check_mode, refused=refused or None)
    except ValueError as error:
        raise AnsibleFilterError(f"sweep_outcome: {error}") from error


class FilterModule:
    def filters(self):
        return {"sweep_outcome": sweep_outcome}
