# SPDX-License-Identifier: BSD-3-Clause
"""Result files: what one unit of work (kernel, suite, shard) leaves behind,
and the scenario x kernel table merged from any number of them.

A result file, RESULTS/<kernel>/<suite>[.<unit>].json, holds one record per
scenario run:

  {"format": "mptcp-fdpass-results 1",
   "suite": "netns", "kernel": {"name": "6.1", "package": ..., "version": ...,
   "release": ...}, "unit": {"shard": "1/2", "run": 1, "attempts": 2,
   "retried_after": "guest crashed", "status": 0, "seconds": 312.4,
   "started": "2026-12-03T13:40:00Z", "accel": "tcg"},
   "records": [{"name", "suite", "verdict", "reason", "seconds", "package",
                "version", "release", "artifacts", "run", "attempt",
                "retried_after"}]}

A JUnit XML file with the same records is written beside it. Verdicts:
VERDICTS below; "fail", "unexpected pass" and "guest crashed" fail a cell.
"""
import json
import os
import re
import sys
import time
from xml.sax.saxutils import escape, quoteattr

FORMAT = "mptcp-fdpass-results 1"
MATRIX_FORMAT = "mptcp-fdpass-matrix 1"

PASS = "pass"
FAIL = "fail"
NOT_APPLICABLE = "not applicable"
EXPECTED_FAILURE = "expected failure"
UNEXPECTED_PASS = "unexpected pass"
GUEST_CRASHED = "guest crashed"
VERDICTS = (PASS, FAIL, NOT_APPLICABLE, EXPECTED_FAILURE, UNEXPECTED_PASS, GUEST_CRASHED)
FAILING = (FAIL, UNEXPECTED_PASS, GUEST_CRASHED)
# what a cell shows for one run
SHORT = {PASS: "pass", FAIL: "FAIL", NOT_APPLICABLE: "n/a", EXPECTED_FAILURE: "xfail",
         UNEXPECTED_PASS: "XPASS", GUEST_CRASHED: "CRASH"}

NA_RE = re.compile(r"not applicable on this kernel: (.*)")
SKIP_RE = re.compile(r"\] SKIP: (.*)")
FAIL_RE = re.compile(r"\] FAIL: (.*)")
ARTIFACTS_RE = re.compile(r"^\[[^]]*\] artifacts: (\S+)", re.M)


# ------------------------------------------------------------ meson's log

def read_testlog(path):
    """The entries of a meson testlog.json (one JSON object a line); []
    when the file is missing or cut short (a guest that died mid-write)."""
    entries = []
    try:
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    break
    except OSError:
        pass
    return entries


def verdict_of(entry):
    """(verdict, reason) of one meson testlog entry."""
    out = entry.get("stdout") or ""
    result = entry.get("result", "ERROR")
    if result == "OK":
        return PASS, ""
    if result == "EXPECTEDFAIL":
        fails = FAIL_RE.findall(out)
        return EXPECTED_FAILURE, fails[0].strip() if fails else ""
    if result == "UNEXPECTEDPASS":
        return UNEXPECTED_PASS, "the open bug did not show: is it fixed on this kernel?"
    if result == "SKIP":
        m = NA_RE.search(out) or SKIP_RE.search(out)
        return NOT_APPLICABLE, m.group(1).strip() if m else "skipped (exit 77) without a reason"
    if result == "TIMEOUT":
        return FAIL, "timed out after %.0f s" % float(entry.get("duration") or 0)
    fails = FAIL_RE.findall(out)
    if fails:
        return FAIL, fails[0].strip()
    return FAIL, "%s, exit status %s" % (result.lower(), entry.get("returncode"))


def scenario_name(entry):
    """"project:suite / name" -> ("suite", "name")"""
    full = entry.get("name", "")
    head, _, name = full.partition(" / ")
    suite = head.rsplit(":", 1)[-1] if name else ""
    return suite, name or full


# ------------------------------------------------------------ one unit

def unit_records(suite, kernel, entries, expected, crashed, crash_reason="", artifacts="",
                 run=1, attempt=1, missing=""):
    """The records of one unit: one per meson entry of SUITE, and when the
    guest crashed, a "guest crashed" record for each EXPECTED name that has
    none. A name of EXPECTED that has no entry although the guest did not
    crash is a failure (the unit lost it)."""
    records, seen = [], set()
    for e in entries:
        s, name = scenario_name(e)
        if s and s != suite:
            continue
        verdict, reason = verdict_of(e)
        m = ARTIFACTS_RE.search(e.get("stdout") or "")
        seen.add(name)
        records.append(_record(suite, name, kernel, verdict, reason, float(e.get("duration") or 0.0),
                               m.group(1) if m else None, run, attempt))
    for name in expected:
        if name in seen:
            continue
        if crashed:
            verdict, reason = GUEST_CRASHED, crash_reason or "the guest crashed before it finished"
        else:
            verdict, reason = FAIL, missing or "no result: the unit ended without running it"
        records.append(_record(suite, name, kernel, verdict, reason, 0.0, artifacts or None, run, attempt))
    records.sort(key=lambda r: r["name"])
    return records


def _record(suite, name, kernel, verdict, reason, seconds, artifacts, run, attempt):
    return {"name": name, "suite": suite, "verdict": verdict, "reason": reason,
            "seconds": round(seconds, 2), "kernel": kernel.get("name", ""),
            "package": kernel.get("package", ""), "version": kernel.get("version", ""),
            "release": kernel.get("release", ""), "artifacts": artifacts,
            "run": run, "attempt": attempt, "retried_after": None}


def unit_document(suite, kernel, unit, records):
    return {"format": FORMAT, "suite": suite, "kernel": kernel, "unit": unit, "records": records}


def junit(doc):
    """JUnit XML of one result document: one testsuite, one testcase per
    record; expected failures pass, not applicable is skipped, a crashed
    guest is an error, the rest that fails is a failure."""
    recs = doc["records"]
    kernel = doc["kernel"]
    label = "%s@%s" % (doc["suite"], kernel.get("name", "?"))
    fails = sum(r["verdict"] in (FAIL, UNEXPECTED_PASS) for r in recs)
    errors = sum(r["verdict"] == GUEST_CRASHED for r in recs)
    skipped = sum(r["verdict"] == NOT_APPLICABLE for r in recs)
    total = sum(r["seconds"] for r in recs)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<testsuites name=%s tests="%d" failures="%d" errors="%d" skipped="%d" time="%.2f">'
           % (quoteattr(label), len(recs), fails, errors, skipped, total),
           '  <testsuite name=%s tests="%d" failures="%d" errors="%d" skipped="%d" time="%.2f">'
           % (quoteattr(label), len(recs), fails, errors, skipped, total),
           '    <properties>']
    for key in ("name", "package", "version", "release"):
        out.append('      <property name=%s value=%s/>' % (quoteattr("kernel." + key),
                                                          quoteattr(str(kernel.get(key, "")))))
    for key in ("shard", "run", "attempts", "retried_after"):
        value = doc.get("unit", {}).get(key)
        if value is not None:
            out.append('      <property name=%s value=%s/>' % (quoteattr("unit." + key), quoteattr(str(value))))
    out.append('    </properties>')
    for r in recs:
        name = r["name"] if r.get("run", 1) == 1 else "%s#%d" % (r["name"], r["run"])
        head = '    <testcase classname=%s name=%s time="%.2f"' % (quoteattr(label), quoteattr(name), r["seconds"])
        v, reason = r["verdict"], r["reason"] or r["verdict"]
        notes = []
        if r.get("retried_after"):
            notes.append("retried once after: %s" % r["retried_after"])
        if r.get("artifacts"):
            notes.append("artifacts: %s" % r["artifacts"])
        if v == EXPECTED_FAILURE:
            notes.insert(0, "expected failure: %s" % reason)
        body = []
        if v in (FAIL, UNEXPECTED_PASS):
            body.append('      <failure message=%s type=%s/>' % (quoteattr(reason), quoteattr(v)))
        elif v == GUEST_CRASHED:
            body.append('      <error message=%s type="guest crashed"/>' % quoteattr(reason))
        elif v == NOT_APPLICABLE:
            body.append('      <skipped message=%s/>' % quoteattr("not applicable on this kernel: " + reason))
        if notes:
            body.append('      <system-out>%s</system-out>' % escape("\n".join(notes)))
        out.append(head + (">" if body else "/>"))
        if body:
            out += body + ["    </testcase>"]
    out += ['  </testsuite>', '</testsuites>']
    return "\n".join(out) + "\n"


def write_unit(path_base, doc):
    """PATH_BASE.json and PATH_BASE.xml, each written whole then renamed."""
    os.makedirs(os.path.dirname(path_base) or ".", exist_ok=True)
    for ext, text in ((".json", json.dumps(doc, indent=1, sort_keys=True) + "\n"), (".xml", junit(doc))):
        tmp = path_base + ext + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path_base + ext)


def now_utc():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# ------------------------------------------------------------ merge

def find_result_files(dirs):
    """Result documents under DIRS (files or directories, recursively), in a
    stable order; files that are not ours are ignored."""
    paths = []
    for d in dirs:
        if os.path.isfile(d):
            paths.append(d)
            continue
        if not os.path.isdir(d):
            raise FileNotFoundError(d)
        for root, subdirs, files in os.walk(d):
            subdirs.sort()
            paths += [os.path.join(root, f) for f in sorted(files) if f.endswith(".json")]
    docs = []
    for p in paths:
        try:
            with open(p) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and doc.get("format") == FORMAT:
            docs.append(doc)
    return docs


def kernel_key(name):
    """host first, then series and versions in numeric order, then names"""
    if name == "host":
        return (0, [], name)
    nums = re.findall(r"\d+", name)
    return (1 if re.match(r"^\d", name) else 2, [int(n) for n in nums], name)


def merge(docs):
    """The matrix as data: kernels (in order) and, per (suite, scenario),
    per kernel, the runs' verdicts."""
    kernels = {}
    cells = {}
    started = sorted(doc.get("unit", {}).get("started") or "" for doc in docs)
    started = [t for t in started if t]
    for doc in docs:
        k = doc["kernel"]
        info = kernels.setdefault(k["name"], {"name": k["name"], "package": k.get("package", ""),
                                              "version": k.get("version", ""),
                                              "release": k.get("release", "")})
        for key in ("package", "version", "release"):
            if not info[key] and k.get(key):
                info[key] = k[key]
        for r in doc["records"]:
            cell = cells.setdefault((r["suite"], r["name"]), {}).setdefault(k["name"], [])
            cell.append(r)
    order = sorted(kernels, key=kernel_key)
    scenarios = []
    for (suite, name) in sorted(cells):
        row = {"suite": suite, "name": name, "cells": {}}
        for kname in order:
            runs = sorted(cells[(suite, name)].get(kname, []), key=lambda r: (r.get("run", 1), r.get("attempt", 1)))
            if not runs:
                continue
            counts = {}
            for r in runs:
                counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
            good = sum(r["verdict"] in (PASS, EXPECTED_FAILURE) for r in runs)
            failing = sum(r["verdict"] in FAILING for r in runs)
            row["cells"][kname] = {
                "runs": len(runs), "passes": good, "failures": failing, "verdicts": counts,
                "seconds": round(sum(r["seconds"] for r in runs) / len(runs), 2),
                "retried": sum(bool(r.get("retried_after")) for r in runs),
                "retried_after": sorted({r["retried_after"] for r in runs if r.get("retried_after")}),
                "reasons": sorted({r["reason"] for r in runs if r["reason"] and r["verdict"] != PASS}),
            }
        scenarios.append(row)
    return {"format": MATRIX_FORMAT, "kernels": [kernels[k] for k in order], "scenarios": scenarios,
            "units": len(docs), "first_started": started[0] if started else "",
            "last_started": started[-1] if started else ""}


def cell_text(cell):
    """One cell: the verdict and seconds of a single run; over repeated runs
    the count of good runs ("pass 19/20" or "FAIL 17/20")."""
    runs, counts = cell["runs"], cell["verdicts"]
    if runs == 1:
        word = SHORT[next(iter(counts))]
        text = word if word in ("n/a", "CRASH") else "%s %.0f s" % (word, cell["seconds"])
    else:
        if cell["failures"]:
            # some runs passed: a flake until shown otherwise
            word = "FLAKY" if cell["passes"] else "FAIL"
        elif counts.get(NOT_APPLICABLE) == runs:
            word = "n/a"
        elif counts.get(EXPECTED_FAILURE):
            word = "xfail"
        else:
            word = "pass"
        text = "%s %d/%d" % (word, cell["passes"], runs) if word != "n/a" else "n/a %d/%d" % (runs, runs)
    if cell["retried"]:
        text += " (retried)"
    return text


def markdown(matrix):
    kernels = matrix["kernels"]
    head = ["scenario"] + ["%s (%s)" % (k["name"], k["release"] or "?") for k in kernels]
    rows, notes = [], []
    for s in matrix["scenarios"]:
        row = ["%s/%s" % (s["suite"], s["name"])]
        for k in kernels:
            cell = s["cells"].get(k["name"])
            if cell is None:
                row.append("not run")
                continue
            text = cell_text(cell)
            details = []
            if cell["reasons"]:
                details.append("; ".join(cell["reasons"]))
            for why in cell.get("retried_after", []):
                details.append("retried once in a fresh guest after %s" % why)
            if (cell["failures"] or cell["retried"] or not text.startswith("pass")) and details:
                notes.append("%s on %s: %s" % (row[0], k["name"], "; ".join(details)))
                text += " [%d]" % len(notes)
            row.append(text)
        rows.append(row)
    totals = ["total"]
    for k in kernels:
        n = {v: 0 for v in VERDICTS}
        for s in matrix["scenarios"]:
            for v, c in s["cells"].get(k["name"], {}).get("verdicts", {}).items():
                n[v] += c
        parts = ["%d pass" % n[PASS], "%d fail" % (n[FAIL] + n[UNEXPECTED_PASS]), "%d n/a" % n[NOT_APPLICABLE]]
        if n[EXPECTED_FAILURE]:
            parts.append("%d xfail" % n[EXPECTED_FAILURE])
        if n[GUEST_CRASHED]:
            parts.append("%d crashed" % n[GUEST_CRASHED])
        totals.append(", ".join(parts))
    rows.append(totals)
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]

    def line(r):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"
    when = matrix.get("first_started", "")
    if when and matrix.get("last_started", "") != when:
        when += " to " + matrix["last_started"]
    text = ["tests/matrix: %d result file(s), units started %s" % (matrix.get("units", 0), when or "?"), ""]
    text += [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows]
    pkgs = ["- %s: %s" % (k["name"], " ".join(x for x in (k["package"], k["version"], k["release"]) if x))
            for k in kernels]
    text += [""] + pkgs
    if notes:
        text += [""] + ["[%d] %s" % (i, n) for i, n in enumerate(notes, 1)]
    return "\n".join(text) + "\n"


def failed(matrix):
    return any(c["failures"] for s in matrix["scenarios"] for c in s["cells"].values())


def main_merge(argv, prog="tests/matrix --merge"):
    """--merge [--md FILE] [--json FILE] DIR...: the table on stdout (and in
    FILE), exit 1 when a cell failed, 64 on bad input."""
    md_out = json_out = None
    dirs = []
    args = list(argv)
    while args:
        a = args.pop(0)
        if a in ("--md", "--json"):
            if not args:
                sys.stderr.write("%s: %s needs a file name\n" % (prog, a))
                return 64
            if a == "--md":
                md_out = args.pop(0)
            else:
                json_out = args.pop(0)
        elif a.startswith("-"):
            sys.stderr.write("%s: unknown option '%s'\n" % (prog, a))
            return 64
        else:
            dirs.append(a)
    if not dirs:
        sys.stderr.write("%s: no result directory given\n" % prog)
        return 64
    try:
        docs = find_result_files(dirs)
    except FileNotFoundError as e:
        sys.stderr.write("%s: no such file or directory: %s\n" % (prog, e))
        return 64
    if not docs:
        sys.stderr.write("%s: no result files (%s) under %s\n" % (prog, FORMAT, " ".join(dirs)))
        return 64
    m = merge(docs)
    text = markdown(m)
    sys.stdout.write(text)
    for path, body in ((md_out, text), (json_out, json.dumps(m, indent=1, sort_keys=True) + "\n")):
        if path:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            with open(path, "w") as f:
                f.write(body)
    return 1 if failed(m) else 0


# ------------------------------------------------------------ kernels

def _deb_fields(path):
    """(package, version) from a .deb file name PACKAGE_VERSION_ARCH.deb"""
    base = os.path.basename(path.strip())
    m = re.match(r"^([^_]+)_([^_]+)_[^_]+\.deb$", base)
    if not m:
        return "", ""
    return m.group(1), m.group(2).replace("%3a", ":")


def kernel_info(top, kernel, modules="", run=None):
    """{"name", "package", "version", "release"} of a kernel spec as
    netns/vm --kernel takes it. Asks netns/vm (--print-kernel when it has
    it, else --print-release and the cache entry's source file) for guest
    kernels, dpkg for the host's. RUN(argv) -> (status, stdout)."""
    import subprocess

    def default_run(argv):
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return p.returncode, p.stdout
    run = run or default_run
    info = {"name": kernel, "package": "", "version": "", "release": ""}
    if kernel == "host":
        info["release"] = os.uname().release
        pkg = "linux-image-" + info["release"]
        rc, out = run(["dpkg-query", "-W", "-f=${Status} ${Version}", pkg])
        if rc == 0 and out.startswith("install ok installed"):
            info["package"], info["version"] = pkg, out.split()[-1]
        else:
            m = re.search(r"Debian (\S+)", os.uname().version)
            info["version"] = m.group(1) if m else ""
        return info
    vm = [os.path.join(top, "netns/vm"), "--kernel", kernel] + (["--modules", modules] if modules else [])
    # "PACKAGE VERSION RELEASE", "-" where unknown (an image of one's own)
    rc, out = run(vm + ["--print-kernel"])
    lines = out.strip().splitlines()
    words = lines[-1].split() if lines else []
    if rc == 0 and len(words) == 3:
        info["package"], info["version"], info["release"] = [w if w != "-" else "" for w in words]
        if not info["package"] and os.path.isfile(kernel):
            info["package"] = "image " + os.path.basename(kernel)
        return info
    rc, out = run(vm + ["--print-release"])
    if rc != 0 or not out.strip():
        return None
    info["release"] = out.strip().splitlines()[-1]
    cache = os.environ.get("MFP_KERNEL_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mptcp-fdpass/kernels")
    try:
        with open(os.path.join(cache, info["release"], "source")) as f:
            sources = [line for line in f if line.strip()]
    except OSError:
        sources = []
    for s in sources:
        pkg, ver = _deb_fields(s)
        if pkg.startswith("linux-image"):
            info["package"], info["version"] = pkg, ver
            break
    if not info["package"] and os.path.isfile(kernel) and not kernel.endswith(".deb"):
        info["package"] = "image " + os.path.basename(kernel)
    return info
