"""Run the reliability tier and write its table of figures into README.md.

``python tests/reliability/figures.py`` runs ``pytest tests/reliability`` with a JUnit report,
counts scenarios, inputs, fuzz examples and failures per file, reads the load figures the tests
record, and replaces the table between the markers in ``tests/reliability/README.md``.
``D1TUI_LOAD_SECONDS=60`` before it gives the full load run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
README = HERE / "README.md"
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"
FILES = {
    "test_faults.py": "Fault scenarios (real HTTP, emulator misbehaving)",
    "test_interrupted_cli.py": "Fault scenario: CLI process killed mid-import, run again",
    "test_bad_inputs.py": "Bad inputs (files and CLI pre-flight cases)",
    "test_fuzz.py": "Fuzz tests (HTTP surface, readers)",
    "test_secrets.py": "Secret-handling checks",
    "test_load.py": "Load and request-rate checks",
}


def run(report: Path) -> int:
    """Run the tier; the pytest exit code."""
    command = [sys.executable, "-m", "pytest", "tests/reliability", "-q", "-p", "no:cacheprovider"]
    command += [f"--junitxml={report}", "-o", "junit_family=legacy"]  # legacy keeps properties
    return subprocess.call(command, cwd=ROOT)


def fuzz_examples() -> tuple[int, int]:
    """The bounded example counts declared in test_fuzz.py."""
    text = (HERE / "test_fuzz.py").read_text(encoding="utf-8")
    http = re.search(r"^HTTP_EXAMPLES = (\d+)", text, re.M)
    readers = re.search(r"^READER_EXAMPLES = (\d+)", text, re.M)
    assert http and readers
    return int(http.group(1)), int(readers.group(1))


def table(report: Path) -> str:
    """The Markdown table of figures from a JUnit report."""
    root = ET.parse(report).getroot()
    cases: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    props: dict[str, str] = {}
    seconds = 0.0
    inputs = 0
    for case in root.iter("testcase"):
        name = (case.get("classname") or "").rsplit(".", 1)[-1] + ".py"
        cases[name] += 1
        inputs += (case.get("name") or "").startswith(("test_bad_input[", "test_large_bad_input"))
        seconds += float(case.get("time") or 0)
        if case.find("failure") is not None or case.find("error") is not None:
            failed[name] += 1
        for prop in case.iter("property"):
            props[prop.get("name") or ""] = prop.get("value") or ""
    http, readers = fuzz_examples()
    rows = ["| What | Count | Failures |", "|---|---:|---:|"]
    for file, label in FILES.items():
        rows.append(f"| {label} | {cases[file]} | {failed[file]} |")
    rows.append(f"| Bad-input files tried (one test each, database compared) | {inputs} | "
                f"{failed['test_bad_inputs.py']} |")  # fmt: skip
    rows.append(f"| Fuzz examples per run (HTTP requests + reader inputs) | {http + readers} | "
                f"{failed['test_fuzz.py']} |")  # fmt: skip
    load = {k.removeprefix("load_"): v for k, v in props.items() if k.startswith("load_")}
    if load:
        rows.append(
            f"| Load: {load.get('seconds')} s, 8 clients — requests served | "
            f"{load.get('requests')} | {failed['test_load.py']} |"
        )
        rows.append(
            f"| Load: inserts checked / imports / rows imported | {load.get('inserts')} / "
            f"{load.get('imports')} / {load.get('rows_imported')} | 0 |"
        )
    for hold in ("1", "0"):
        polls = props.get(f"rate_{hold}s_hold_polls_per_5min")
        total = props.get(f"rate_{hold}s_hold_requests_per_5min")
        if polls:
            rows.append(
                f"| Requests per 5 min on a long import, D1 holding {hold} s "
                f"(polls / all; budget 1,200) | {polls} / {total} | 0 |"
            )
    rows.append(f"| **Rows lost** | **{load.get('rows_lost', 0)}** | |")
    total_cases, total_failed = sum(cases.values()), sum(failed.values())
    rows.append(f"| **All reliability tests** ({seconds:.0f} s) | {total_cases} | {total_failed} |")
    return "\n".join(rows)


def main() -> int:
    """Run, then rewrite the README table; the pytest exit code."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "junit.xml"
        code = run(report)
        figures = table(report)
    load = os.environ.get("D1TUI_LOAD_SECONDS", "10")
    stamp = f"_Last run: `D1TUI_LOAD_SECONDS={load} python tests/reliability/figures.py`._"
    text = README.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    README.write_text(text[:start] + f"\n{figures}\n\n{stamp}\n" + text[end:], encoding="utf-8")
    print(figures)
    return code


if __name__ == "__main__":
    sys.exit(main())
