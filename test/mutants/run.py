#!/usr/bin/env python3
"""make mutants: put each mutant of test/mutants/mutants.txt into its own
temporary copy of the tree, rebuild the ASan workers there, run only that
mutant's tests, and print a table: killed, survived, stale (its search text
no longer occurs exactly once), broken (the mutant does not build), no test
(a test it names does not exist in that tree) or error (its tests could
not run: a crash or a timeout).

  test/mutants/run.py [NAME ...]      all mutants, or the named ones
  test/mutants/run.py --list          the mutants and their tests
  test/mutants/run.py --base REV      the tree of git revision REV instead
                                      of the working tree (e.g. to see which
                                      mutants an older suite let survive)

Environment: MUTANT_JOBS (pytest-xdist workers per mutant, default 2; 0: in
turn), MUTANT_TIMEOUT (seconds per mutant, default 600). A unit test binary that
runs longer than 30 s under a mutant counts as killing it (it hangs).
Exit code 0 when every mutant was killed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import configparser
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIST = Path(__file__).resolve().parent / "mutants.txt"
JOBS = int(os.environ.get("MUTANT_JOBS", "2"))
TIMEOUT = float(os.environ.get("MUTANT_TIMEOUT", "600"))
UNIT_TIMEOUT = 30.0  # seconds for one unit test binary (each takes under 3)


@dataclass
class Mutant:
    name: str
    file: str
    search: str
    replace: str
    unit: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    why: str = ""


def unescape(text: str) -> str:
    """\\n is a line break, \\\\ a backslash; nothing else is special."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in "n\\":
            out.append("\n" if text[i + 1] == "n" else "\\")
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def load(path: Path) -> list[Mutant]:
    parser = configparser.ConfigParser(interpolation=None, comment_prefixes=("#",), inline_comment_prefixes=None)
    parser.optionxform = str
    parser.read(path)
    mutants = []
    for name in parser.sections():
        sec = parser[name]
        missing = [k for k in ("file", "search", "replace") if k not in sec]
        if missing or not (sec.get("unit") or sec.get("tests")):
            sys.exit(f"{path}: [{name}] lacks {', '.join(missing) or 'unit or tests'}")
        mutants.append(Mutant(name, sec["file"], unescape(sec["search"]), unescape(sec["replace"]),
                              sec.get("unit", "").split(), sec.get("tests", "").split(), sec.get("why", "")))
    return mutants


def copy_tree(dest: Path, base: str | None) -> None:
    """The tracked files of the working tree (or of revision base), with
    their modification times, and the working tree's .venv as a link."""
    if base:
        archive = subprocess.run(["git", "-C", ROOT, "archive", base], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", dest], input=archive, check=True)
    else:
        names = subprocess.run(["git", "-C", ROOT, "ls-files", "-z"], check=True,
                               capture_output=True).stdout.decode().split("\0")
        for name in filter(None, names):
            src = ROOT / name
            if src.is_file():
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / name)
    os.symlink(ROOT / ".venv", dest / ".venv")


def apply(tree: Path, m: Mutant) -> bool:
    """Apply the mutant; False when its search text is not there exactly once."""
    path = tree / m.file
    if not path.is_file():
        return False
    text = path.read_text()
    if text.count(m.search) != 1:
        return False
    path.write_text(text.replace(m.search, m.replace))
    return True


def run(cmd: list, cwd: Path, log, timeout: float) -> int:
    log.write(f"$ {' '.join(map(str, cmd))}\n")
    log.flush()
    try:
        return subprocess.run(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        log.write(f"timed out after {timeout:.0f} s\n")
        return -1


def try_mutant(m: Mutant, base: str | None, logdir: Path) -> tuple[str, float]:
    started = time.monotonic()
    deadline = started + TIMEOUT
    with tempfile.TemporaryDirectory(prefix=f"lw-mutant-{m.name}-") as tmp, \
            open(logdir / f"{m.name}.log", "w") as log:
        tree = Path(tmp)
        copy_tree(tree, base)
        if not apply(tree, m):
            return "stale", time.monotonic() - started
        targets = ["build/asan/test-worker", "build/asan/hello-worker"] + [f"build/asan/{u}" for u in m.unit]
        if run(["make", "-j2", "-s"] + targets, tree, log, deadline - time.monotonic()) != 0:
            return "broken", time.monotonic() - started
        for unit in m.unit:
            # a unit test that hangs under the mutant has caught it too
            limit = min(UNIT_TIMEOUT, deadline - time.monotonic())
            if run([tree / "build" / "asan" / unit], tree, log, limit) != 0:
                return "killed", time.monotonic() - started
        if m.tests:
            jobs = ["-n", str(min(JOBS, len(m.tests)))] if JOBS and len(m.tests) > 1 else ["-n", "0"]
            rc = run([tree / ".venv/bin/python", "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *jobs]
                     + [f"test/integration/{t}" for t in m.tests], tree, log, deadline - time.monotonic())
            if rc == 1:
                return "killed", time.monotonic() - started
            if rc in (4, 5):  # a node id that is not there (e.g. an older tree)
                return "no test", time.monotonic() - started
            if rc != 0:
                return "error", time.monotonic() - started
        return "survived", time.monotonic() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="mutants to run (default: all)")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--base", help="a git revision whose tree (code and tests) is mutated")
    args = ap.parse_args()

    mutants = load(LIST)
    if args.names:
        unknown = set(args.names) - {m.name for m in mutants}
        if unknown:
            sys.exit(f"no such mutant: {', '.join(sorted(unknown))}")
        mutants = [m for m in mutants if m.name in args.names]
    if args.list:
        for m in mutants:
            print(f"{m.name:34} {m.file:18} {' '.join(m.unit + m.tests)}")
        return 0
    if not (ROOT / ".venv" / "bin" / "python").exists():
        sys.exit("no .venv: run 'make venv' first")

    logdir = ROOT / "build" / "mutants"
    logdir.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    results = []
    for m in mutants:
        result, seconds = try_mutant(m, args.base, logdir)
        results.append((m, result, seconds))
        print(f"  {m.name}: {result} ({seconds:.0f} s)", flush=True)

    print(f"\n| mutant | file | result | s | its tests |\n|---|---|---|---|---|")
    for m, result, seconds in results:
        print(f"| {m.name} | {m.file} | {result} | {seconds:.0f} | {' '.join(m.unit + m.tests)} |")
    bad = [m.name for m, result, _ in results if result != "killed"]
    total = time.monotonic() - began
    print(f"\n{len(results) - len(bad)} of {len(results)} killed in {total:.0f} s; logs in {logdir}")
    if bad:
        print("not killed: " + ", ".join(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
