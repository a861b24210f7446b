# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The per-target engine, run in the controller's process (pipeline.py): reach a target's account, read every REST API
stage, plan (the policy's decision per stage), the run-wide change guard over every plan, converge (or say what
would change), and restore a target's changed stages for the rollback. AWS is reached through module_utils, as the
modules reach it. May import: _report, _policy, _settings, module_utils.
"""
