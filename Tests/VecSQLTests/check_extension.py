#!/usr/bin/env python3
"""Loads libtlensvec into Python's sqlite3 and checks a few functions against Python.

Usage: check_extension.py /path/to/libtlensvec.so
Exit status: 0 all checks passed, 1 a check failed, 77 this Python's sqlite3 module cannot
load extensions (built without enable_load_extension), so the check was skipped.
"""
import math
import sqlite3
import struct
import sys


def blob(values):
    return struct.pack("<%df" % len(values), *values)


def floats(b):
    return list(struct.unpack("<%df" % (len(b) // 4), b))


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    con = sqlite3.connect(":memory:")
    if not hasattr(con, "enable_load_extension"):
        print("SKIP: this Python's sqlite3 has no enable_load_extension", file=sys.stderr)
        return 77
    con.enable_load_extension(True)
    con.load_extension(sys.argv[1])
    con.enable_load_extension(False)

    def one(sql, *args):
        return con.execute(sql, args).fetchone()[0]

    v = [3.0, -4.0, 0.5, 12.25]
    w = [1.0, 2.0, -3.0, 0.0]
    # float32 rounding is applied to the references too, since that is what the blob stores.
    v32, w32 = floats(blob(v)), floats(blob(w))
    checks = [
        ("vec_len", one("SELECT vec_len(?)", blob(v)), 4),
        ("vec_get", one("SELECT vec_get(?, 3)", blob(v)), 12.25),
        ("vec_sum", one("SELECT vec_sum(?)", blob(v)), math.fsum(v32)),
        ("vec_mean", one("SELECT vec_mean(?)", blob(v)), math.fsum(v32) / 4),
        ("vec_min", one("SELECT vec_min(?)", blob(v)), -4.0),
        ("vec_max", one("SELECT vec_max(?)", blob(v)), 12.25),
        ("vec_norm", one("SELECT vec_norm(?)", blob(v)), math.sqrt(math.fsum(x * x for x in v32))),
        ("vec_norm inf", one("SELECT vec_norm(?, 'inf')", blob(v)), 12.25),
        ("vec_dot", one("SELECT vec_dot(?, ?)", blob(v), blob(w)), math.fsum(a * b for a, b in zip(v32, w32))),
        ("vec_dist", one("SELECT vec_dist(?, ?)", blob(v), blob(w)), math.dist(v32, w32)),
        ("vec_mae", one("SELECT vec_mae(?, ?)", blob(v), blob(w)), math.fsum(abs(a - b) for a, b in zip(v32, w32)) / 4),
        ("vec_slice", one("SELECT vec_slice(?, 1, 2)", blob(v)), blob(v[1:3])),
        ("vec_from_json", one("SELECT vec_from_json('[0.1, -2, 1e-3]')"), blob([0.1, -2, 1e-3])),
        ("vec_to_json", one("SELECT vec_to_json(?)", blob([0.1, -2.5, 100])), "[0.1,-2.5,100]"),
        ("vec_each", con.execute("SELECT i, value FROM vec_each(?)", (blob(v),)).fetchall(), list(enumerate(v))),
    ]
    failed = 0
    for name, got, want in checks:
        ok = math.isclose(got, want, rel_tol=1e-12) if isinstance(want, float) else got == want
        if not ok:
            print("FAIL %s: got %r, want %r" % (name, got, want), file=sys.stderr)
            failed += 1
    try:
        one("SELECT vec_get(?, 12)", blob(v))
        print("FAIL vec_get out of range did not raise", file=sys.stderr)
        failed += 1
    except sqlite3.OperationalError as e:
        if str(e) != "vec_get: index 12 out of range for vector of length 4":
            print("FAIL vec_get error message: %s" % e, file=sys.stderr)
            failed += 1
    if failed:
        return 1
    print("OK: %d checks of libtlensvec passed in Python sqlite3 %s" % (len(checks) + 1, sqlite3.sqlite_version))
    return 0


if __name__ == "__main__":
    sys.exit(main())
