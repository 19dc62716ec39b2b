"""python -m bench: the main job, in its quick form: verify, measure, report."""

import pytest

from bench import launch


@pytest.mark.timeout(200)
def test_quick_main_job_verifies_measures_and_reports(tmp_path):
    done = launch.run(launch.python("bench", "--quick", "--quiet"), timeout=180, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stdout
    assert out.startswith("MPI: ")
    assert "pairs agree" in out and "one-way latency" in out and "squaring N Python ints" in out
    reports = list(tmp_path.glob("results/report-*/report.md"))
    assert len(reports) == 1
    plots = [line.split(None, 1)[1] for line in out.splitlines() if line.startswith("plot:")]
    assert plots, out
    for plot in plots:
        assert (tmp_path / plot).stat().st_size > 1000
    assert len(list(tmp_path.glob("results/latency-*.json"))) == 1
    assert len(list(tmp_path.glob("results/square-*.json"))) == 1
