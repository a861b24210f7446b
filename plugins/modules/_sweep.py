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
  - Runs one step of the role's sweep in the controller's process.
author: Cloudops Maintainers (@cloudops)
options:
  step:
    description: The step to run.
    type: str
    required: true
    choices: [settings, settings_problems, prepare, plan, guard, converge, report, restore, region, rollback_plan, rollback_summary, merge, retire]
  settings:
    description: The role's settings.
    type: raw
  target:
    description: The target's variables.
    type: dict
  planned:
    description: The result of the plan step.
    type: raw
  guard:
    description: The result of the guard step.
    type: raw
  claims:
    description: What each target planned.
    type: list
    elements: raw
  records:
    description: Each target's record (for the settings_problems step, each host's settings problems).
    type: list
    elements: raw
  planned_records:
    description: Each target's record as its plan step made it (an audit's).
    type: list
    elements: raw
  hosts:
    description: The host of each record.
    type: list
    elements: str
  live:
    description: The hosts that did not fail before their sweep (their records are this run's).
    type: list
    elements: str
  run_errors:
    description: Errors of the whole run.
    type: list
    elements: str
    default: []
  mode:
    description: Audit or enforce.
    type: str
    choices: [audit, enforce]
  dest:
    description: The report directory.
    type: str
  formats:
    description: The report formats.
    type: list
    elements: str
  changes:
    description: The changes of an enforcement, for the rollback.
    type: list
    elements: raw
  report:
    description: A report to write instead of building one (the merge of slices' reports).
    type: raw
  merged_from:
    description: The reports merged into O(report).
    type: list
    elements: str
  judged_on_localhost:
    description:
      - For the steps that judge a run (report, rollback_summary), whether a play on localhost ends the playbook and
        judges the run as a whole there (the collection's playbooks say so in their first play, on localhost).
    type: bool
    default: false
  keep:
    description: For the retire step, the merge's input reports, which are never moved.
    type: raw
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
target:
  description: The target's record, for the steps that sweep a target.
  returned: for the plan, converge and restore steps
  type: dict
"""
