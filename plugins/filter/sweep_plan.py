# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: sweep_plan
short_description: Decide the desired X-Ray tracing state of every stage of one account and region
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
  - Takes the stages M(cloudops.apigw_tracing.apigw_stage_tracing_info) returned for one target (one account x
    region) and decides, for each, whether tracing is enforced (on or off), the stage is exempt, or left alone.
  - Precedence per stage, highest first. The first matching exemption of O(exemptions) that has not expired;
    the exempt tag O(exempt_tag) on the stage; the first rule of O(rules) whose C(match) matches (it sets
    C(tracing_enabled), or C(skip)s the stage); the default O(desired).
  - An exemption applies through the end of its C(expires) day in UTC and is expired once today (UTC) is later.
    An expired exemption that matched is named in the stage's reason so it can be removed.
  - The policy is checked first, as P(cloudops.apigw_tracing.sweep_problems#filter) does; a malformed policy,
    target or stage list fails the filter with a message that names the field.
  - Inputs are not modified.
positional: target, desired, rules, exemptions, exempt_tag, today, read_failures
options:
  _input:
    description:
      - The C(stages) list of M(cloudops.apigw_tracing.apigw_stage_tracing_info) for this target; each needs
        C(rest_api_id), C(stage_name), C(arn), C(tracing_enabled) and uses C(rest_api_name) and C(tags).
    type: list
    elements: dict
    required: true
  target:
    description:
      - 'The target, C({"account_id": "123456789012", "region": "us-east-1"}).'
      - C(account_id) may be null when not known; then rules and exemptions that select an account id do not match.
    type: dict
    required: true
  desired:
    description: The default, C(tracing_sweep_desired), for stages no exemption, exempt tag or rule covers.
    type: bool
    default: true
  rules:
    description:
      - C(tracing_sweep_rules), ordered; the first rule whose C(match) matches decides.
      - Each rule has an optional C(name), a C(match) mapping (every key given must match; absent or empty
        matches every stage) and exactly one of C(tracing_enabled) (true or false) and C(skip) (true).
      - C(match) keys are C(account_id) and C(region) (exact), C(api_id) (exact), C(api_name) and
        C(stage_name) (globs such as C(internal-*)), and C(tag) (C(key), and optionally C(value); without
        C(value) any value matches).
    type: list
    elements: dict
    default: []
  exemptions:
    description:
      - C(tracing_sweep_exemptions). Each has either C(arn) (a stage ARN) or one or more of C(account_id),
        C(region), C(api_id), C(api_name) (glob) and C(stage_name) (glob); a non-empty C(reason); and optionally
        C(expires), a date (C(YYYY-MM-DD)).
    type: list
    elements: dict
    default: []
  exempt_tag:
    description:
      - C(tracing_sweep_exempt_tag), a tag key; a stage that carries it is exempt and the tag value is the reason.
    type: str
  today:
    description:
      - The date exemptions are compared with, a date or a C(YYYY-MM-DD) string. Defaults to today in UTC.
    type: raw
  read_failures:
    description:
      - The C(failures) list of M(cloudops.apigw_tracing.apigw_stage_tracing_info), the REST APIs whose stages
        could not be read.
      - Each becomes one entry of RV(_value.stages) with C(stage_name=*), C(decision=error) and the failure's
        message as C(reason), so that the report counts it as an error instead of losing it.
    type: list
    elements: dict
    default: []
seealso:
  - plugin: cloudops.apigw_tracing.sweep_outcome
    plugin_type: filter
  - module: cloudops.apigw_tracing.apigw_stage_tracing_info
"""

EXAMPLES = r"""
- name: Read every stage of the region
  cloudops.apigw_tracing.apigw_stage_tracing_info:
    region: "{{ tracing_sweep_region }}"
  register: found

- name: Decide what every stage should be
  ansible.builtin.set_fact:
    tracing_plan: >-
      {{ found.stages | cloudops.apigw_tracing.sweep_plan(
           {'account_id': tracing_sweep_account_id | default(None), 'region': tracing_sweep_region},
           desired=true,
           rules=[{'name': 'sandboxes', 'match': {'api_name': 'sandbox-*'}, 'skip': true},
                  {'match': {'tag': {'key': 'Tier', 'value': 'internal'}}, 'tracing_enabled': false}],
           exemptions=[{'arn': 'arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod',
                        'reason': 'cost review CHG-1234', 'expires': '2026-12-31'}],
           exempt_tag='XrayExempt') }}

- name: Converge the stages that differ
  cloudops.apigw_tracing.apigw_stage_tracing:
    region: "{{ tracing_sweep_region }}"
    stages: "{{ tracing_plan.changes }}"
  when: tracing_plan.changes | length > 0
"""

RETURN = r"""
_value:
  description: The plan for this target.
  type: dict
  contains:
    stages:
      description: One entry per input stage, in input order.
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
          description: Tracing state as read.
          type: bool
        desired:
          description: Tracing state the policy wants; null when the stage is exempt or skipped.
          type: bool
        decision:
          description: V(enforce), V(exempt) or V(skip).
          type: str
        reason:
          description: >-
            Why, for example V(rule 2 'internal apis': tracing_enabled=false) or V(exemption 0 until 2026-12-31: cost review).
          type: str
        exemption:
          description: Index in O(exemptions) of the exemption that applies, or null.
          type: int
        expired_exemption:
          description: Index in O(exemptions) of an expired exemption that matched, or null.
          type: int
    changes:
      description:
        - The stages to change, C(rest_api_id), C(stage_name), C(tracing_enabled) (desired) and
          C(observed_tracing_enabled) (as read), ready for the O(cloudops.apigw_tracing.apigw_stage_tracing#module:stages)
          option.
      type: list
      elements: dict
      sample: [{"rest_api_id": "a1b2c3d4e5", "stage_name": "prod", "tracing_enabled": true, "observed_tracing_enabled": false}]
    exemptions:
      description: The exemptions that matched a stage of this target, C(index), C(status) (V(active) or V(expired)) and C(matched) (stage ARNs).
      type: list
      elements: dict
      sample: [{"index": 0, "status": "active", "matched": ["arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod"]}]
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._policy.decide import plan_target


def sweep_plan(stages, target, desired=True, rules=None, exemptions=None, exempt_tag=None, today=None, read_failures=None):
    """The plan (stages, changes, exemptions) for one target; see plugin_utils/_policy/decide.py."""
    try:
        return plan_target(stages, target, desired=desired, rules=rules, exemptions=exemptions, exempt_tag=exempt_tag, today=today, read_failures=read_failures)
    except ValueError as error:
        raise AnsibleFilterError(f"sweep_plan: {error}") from error


class FilterModule:
    def filters(self):
        return {"sweep_plan": sweep_plan}
