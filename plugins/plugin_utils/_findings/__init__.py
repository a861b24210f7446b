# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""A report output besides the files: each swept stage as a finding in AWS Security Hub, in the target's own account
and region (security_hub.py). Never touches a stage. May import: _engine, _report, module_utils.
"""
