#!/usr/bin/env python
# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs ansible-playbook in this process and records where its CPU time went, for `make bench`.

ansible-playbook's main process prepares every task for every host one after another, then forks a worker per
task and host; the workers run in parallel. Their CPU seconds are written, as {"main": ..., "workers": ...}, to
the file named by BENCH_CPU_SPLIT: the main process's share is what more cores cannot shorten.
"""

from __future__ import annotations

import atexit
import json
import os
import resource
import runpy
import shutil
import sys


def record():
    main = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    path = os.environ.get("BENCH_CPU_SPLIT")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"main": main.ru_utime + main.ru_stime, "workers": workers.ru_utime + workers.ru_stime,
                       "peak_rss_kib": max(main.ru_maxrss, workers.ru_maxrss)}, handle)


def main():
    atexit.register(record)
    sys.argv = ["ansible-playbook"] + sys.argv[1:]
    runpy.run_path(shutil.which("ansible-playbook"), run_name="__main__")


if __name__ == "__main__":
    main()
