# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The run history (tracing_sweep_history, runs.py): each run's report set kept in a directory or under an S3 prefix,
the baseline the next run compares with, and what changed since the last runs (regressions, the trend). May import:
_engine, _report, module_utils.
"""
