# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release (the modules that use it are the API).

"""Running one function over many items on a few threads, results in the items' order.

API calls spend most of their time waiting for the answer, so a handful of threads keeps the request
pacer busy even when answers are slow; the pacer, not the thread count, decides the request rate.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


def ordered_map(function, items, workers):
    """[function(item) for item in items], on up to `workers` threads; the first exception is raised."""
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(function, items))
