# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The role's settings and each target's host vars, judged before any AWS call (checks.py): one line per problem naming
the variable, the value and the rule, each problem said once per run, and the normalized settings every other step
reads. Pure Python, no AWS. May import: module_utils.
"""
