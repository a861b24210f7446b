# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Options both modules share for pacing their API Gateway requests below the account's quota."""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    DOCUMENTATION = r"""
options:
  max_requests_per_second:
    description:
      - Most API Gateway requests this task sends per second, retries included.
      - API Gateway management calls of an account and region share a quota of 10 requests per second with
        a burst of 40, and are answered C(TooManyRequestsException) (HTTP 429) beyond it. The default stays
        just below it; lower it to leave room for other callers of the same account and region (deployment
        pipelines, for instance), raise it only if AWS raised the account's quota.
      - The task may start with a burst of four seconds' worth of requests, as AWS allows.
      - Requests answered 429 anyway are retried with backoff, and the task slows to this rate.
      - Retries have one layer, botocore's own (its C(legacy) mode). Each request is attempted at most 8 times in
        all, on throttling, 5xx answers, dropped connections and C(ConflictException), with exponential backoff.
      - A number greater than 0, or such a number as a string (V("9.5")); a boolean is refused.
    type: raw
    default: 9.5
  concurrency:
    description:
      - How many API Gateway requests may wait for their answer at once (1 to 16).
      - More threads keep the request rate up when answers are slow; O(max_requests_per_second) still
        caps the rate.
    type: int
    default: 4
"""
