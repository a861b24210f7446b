# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The policy: the desired tracing state of every stage of one target and why (decide.py), from the exemptions, the
exempt tag, the rules and the default, in that order. Pure Python, no AWS. May import: _settings, module_utils.
"""
