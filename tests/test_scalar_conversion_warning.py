"""float()/complex() of a tensor with requires_grad=True warn as torch does: only with grad mode
on, once per process (torch's TORCH_WARN_ONCE), pointing at the caller's line; int(), bool(),
.item(), .tolist() and format() never warn.  Each library runs in a fresh process, since the
once-per-process flag cannot be reset in torch."""
import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = r'''
import json, math, sys, warnings
lib = __import__(sys.argv[1])
t = lib.tensor(1.5, requires_grad=True)
steps = [
    ("int", lambda: int(t)), ("bool", lambda: bool(t)), ("item", lambda: t.item()),
    ("tolist", lambda: t.tolist()), ("format", lambda: format(t, ".1f")),
    ("float of detached", lambda: float(t.detach())),
    ("float of no-grad tensor", lambda: float(lib.tensor(2.0))),
    ("float under no_grad", None), ("float", lambda: float(t)),
    ("complex", lambda: complex(t)), ("math.sqrt", lambda: math.sqrt(t * 2)),
    ("float of multi-element", lambda: float(lib.ones(2, requires_grad=True))),
]
out = []
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for name, fn in steps:
        try:
            if fn is None:
                with lib.no_grad():
                    float(t), complex(t)
            else:
                fn()
            error = None
        except Exception as e:
            error = type(e).__name__
        out.append([name, error, [[w.category.__name__, str(w.message).split(" (Triggered")[0],
                                   w.filename == __file__] for w in caught]])
print(json.dumps(out))
'''


def _run(lib, tmp_path):
    script = tmp_path / f"probe_{lib}.py"
    script.write_text(SCRIPT)
    src = str(Path(__file__).resolve().parent.parent / "src")
    env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
    res = subprocess.run([sys.executable, str(script), lib], capture_output=True, text=True, env=env,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_scalar_conversion_warning_matches_torch(tmp_path):
    e, t = _run("ember", tmp_path), _run("torch", tmp_path)
    assert e == t
    warned = [name for name, _, ws in t if ws]
    assert warned[0] == "float"  # nothing before the first float() of a grad-requiring tensor warns
    [[category, message, at_caller]] = t[-1][2]  # one warning in all: torch warns once per process
    assert category == "UserWarning" and at_caller
    assert message.startswith("Converting a tensor with requires_grad=True to a scalar")
