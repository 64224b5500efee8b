"""A workflow job's imports stay light: each record-writing script runs in a new process
(thousands in the paper profile), so the modules it imports do not pull in scikit-learn or
scipy.optimize/integrate at import time (measured in benchmarks/bench_job_startup.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("sklearn", "scipy.optimize", "scipy.integrate")


@pytest.mark.parametrize("module", ["mixopt.studies.fois_ch1", "mixopt.studies.fois_ch23",
                                    "mixopt.runner", "mixopt.studies.mssc_benchmark"])
def test_a_jobs_study_module_does_not_import_heavy_libraries(module: str) -> None:
    code = (f"import sys, {module}; "
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == [], f"{module} imports {out} at import time"
