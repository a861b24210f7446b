# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The tasks of the tracing_sweep role as the private action _sweep runs them (role_tasks.py: one function per task,
reading the role's variables itself; run_context.py: those variables and the run's workspace, where the engine's
state is kept between tasks), and the steps they call: the sweep's run-wide steps around the engine (sweep.py:
settings, prepare, plan, guard, converge, report, with the history and the findings), the rollback's (rollback.py),
the merge of a sliced run's reports (merge.py), the remediate playbook's target (remediation.py), and which host fails
with what once a run is judged (run_status.py).
The top of plugin_utils: no package here imports it. May import: _engine, _findings, _policy, _report, _run_history,
_settings, _testing, module_utils.
"""
