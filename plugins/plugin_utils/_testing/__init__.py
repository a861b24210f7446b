# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""Test hooks shipped with the collection because its own tests drive the real ansible-playbook: faults.py makes a
named step after a converge fail as a bug in it would, when the collection's tests set
_CLOUDOPS_APIGW_TRACING_FAULTS; unset, it does nothing. May import: module_utils.
"""
