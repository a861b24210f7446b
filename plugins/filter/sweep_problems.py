# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: sweep_problems
short_description: Check the tracing sweep's settings or one target's host vars
version_added: 1.0.0
deprecated:
  removed_in: 2.0.0
  why: >-
    It is the tracing_sweep role's own plumbing, made public in 1.0.0 by mistake; the role no longer uses it (its
    steps run in the controller's process).
  alternative: Use the C(cloudops.apigw_tracing.tracing_sweep) role, which checks its settings and targets itself.
author:
  - Cloudops Maintainers (@cloudops)
description:
  - Returns the problems of the tracing sweep's role settings (O(kind=settings)) or of the host vars of one
    target, one account x region (O(kind=target)); an empty list when there are none.
  - Every problem names the field path as written (for example C(tracing_sweep_rules[1].match.account_id)) and
    the rule it breaks, so it can be fixed without reading the code.
  - >-
    Types are strict. Booleans must be booleans and numbers numbers; C(-e key=value) on the command line gives
    strings, so pass JSON there (C(-e '{"tracing_sweep_desired": false}')). Account ids must be quoted strings.
  - Values of secret fields (C(tracing_sweep_external_id)) never appear in messages.
positional: kind
options:
  _input:
    description:
      - With O(kind=settings), a mapping with any of the keys C(desired) (bool), C(rules) (list),
        C(exemptions) (list), C(exempt_tag) (str), C(max_changes) (integer >= 0 or null),
        C(report_dir) (non-empty str), C(endpoint_url) and C(sts_endpoint_url) (http(s) URLs),
        C(max_requests_per_second) (number above 0), C(concurrency) (integer 1 to 16), that is the role variables
        C(tracing_sweep_<key>); and C(variables), the names of the C(tracing_sweep_*) variables that are set, so that a
        misspelt one (C(tracing_sweep_exemption)) is reported instead of silently ignored. A key left out is not checked.
      - With O(kind=target), a mapping with C(region) (required), C(account_id), C(role_arn), C(external_id)
        and C(account_name), that is the host vars C(tracing_sweep_<key>).
      - An optional variable that is null or the empty string counts as not set.
    type: dict
    required: true
  kind:
    description: What O(_input) holds.
    type: str
    default: settings
    choices: [settings, target]
seealso:
  - plugin: cloudops.apigw_tracing.sweep_plan
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Stop on malformed settings before any AWS call
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
    quiet: true
  vars:
    problems: >-
      {{ {'desired': tracing_sweep_desired, 'rules': tracing_sweep_rules, 'exemptions': tracing_sweep_exemptions}
         | cloudops.apigw_tracing.sweep_problems }}

- name: Check this host's target variables
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
    quiet: true
  vars:
    problems: >-
      {{ {'region': tracing_sweep_region, 'account_id': tracing_sweep_account_id | default(None)}
         | cloudops.apigw_tracing.sweep_problems('target') }}
"""

RETURN = r"""
_value:
  description: The problems, one message each, in input order; empty when the input is fine.
  type: list
  elements: str
  sample:
    - "tracing_sweep_rules[1].match.account_id: must be a 12-digit account id as a string, got '1234'"
    - "tracing_sweep_exemptions[0].expires: must be a date (YYYY-MM-DD), got '31/12/2026'"
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import settings_problems
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import target_problems

CHECKS = {"settings": settings_problems, "target": target_problems}


def sweep_problems(value, kind="settings"):
    """Problem messages for the sweep settings or one target's host vars."""
    if kind not in CHECKS:
        raise AnsibleFilterError(f"sweep_problems: kind must be settings or target, got {kind!r}")
    return CHECKS[kind](value)


class FilterModule:
    def filters(self):
        return {"sweep_problems": sweep_problems}
