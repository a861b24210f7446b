# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The accounts inventory plugin's logic (plugins/inventory/accounts.py imports it, nothing else does): the rules of
its configuration and the hosts it builds, one per account x region (accounts_config.py), and the regions enabled in
each account for regions: enabled (region_discovery.py). May import: module_utils.
"""
