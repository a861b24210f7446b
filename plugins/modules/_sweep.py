#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release. The work is done by the action plugin of
# the same name, on the controller; this file documents it because ansible-test wants every action documented.

DOCUMENTATION = r"""
module: _sweep
short_description: Private to this collection, the steps of the tracing_sweep role
version_added: 1.1.0
description:
  - B(Private to this collection.) Not an API; its options and results change without notice in any release.
    Use the C(cloudops.apigw_tracing.tracing_sweep) role, or the modules
    M(cloudops.apigw_tracing.apigw_stage_tracing_info) and M(cloudops.apigw_tracing.apigw_stage_tracing).
  - Runs one step of the role's sweep in the controller's process. The step reads the role's variables itself, in
    the context of its host, and keeps the engine's state in the run's workspace; the role's tasks pass nothing else.
author: Cloudops Maintainers (@cloudops)
options:
  step:
    description: The step to run.
    type: str
    required: true
    choices: [retire, start, sweep, guard, converge, report, target_status, judge, merge, region, rollback_plan, restore, rollback_summary,
      event_target]
  entry_point:
    description: For the start step, the role's entry point, which says which settings are required.
    type: str
    choices: [main, rollback, merge]
    default: main
  retire:
    description: For the start step, move the reports an earlier run left in the report directory away first.
    type: bool
    default: false
  no_targets:
    description: For the report step, the report of a run the inventory gave no target.
    type: bool
    default: false
  report_variable:
    description: For the report step, keep the report in the result, for the task that sets C(tracing_sweep_report).
    type: bool
    default: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
"""

EXAMPLES = r"""
# Private: the tracing_sweep role's tasks call it. Use the role instead.
- name: Sweep every target of the inventory
  ansible.builtin.import_role:
    name: cloudops.apigw_tracing.tracing_sweep
"""

RETURN = r"""
verdict:
  description: The run's verdict, for the steps that write a report.
  returned: for the report, merge and rollback_summary steps
  type: str
"""
