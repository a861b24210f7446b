#!/usr/bin/env python
# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Python interpreter stand-in that records the peak memory of what it runs.

`make bench` sets it as ansible_python_interpreter, so every module process Ansible starts runs
under it; it appends {"argv": ..., "peak_rss_kib": ...} to the file named by BENCH_RSS_LOG.
ru_maxrss of the waited-for child is the module process's own peak resident set size.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys


def main():
    completed = subprocess.run([os.environ.get("BENCH_REAL_PYTHON", sys.executable)] + sys.argv[1:], check=False)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    log = os.environ.get("BENCH_RSS_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"argv": sys.argv[1:], "peak_rss_kib": peak_kib}) + "\n")
    sys.exit(completed.returncode)


if __name__ == "__main__":
    main()
