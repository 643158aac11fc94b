"""tlens's boosted trees at 256 and 1,024 bins and with exact splits, against XGBoost's `hist`
at the same bins and XGBoost's `exact` (development only, not run in CI; docs/lens.md §9,
"Against XGBoost").

Per case, tlens exports the data it trains on (`tlens data-export`), times its own learner
(`tlens bench gbt`, the learner alone, binning included, lens smoother off) at
`model.bins` 256 and 1,024 and at `model.split: exact`, and XGBoost trains on the same rows with
the same hyperparameters (as scripts/xgboost-compare.py maps them: depth-wise, eta, lambda,
min_child_weight = min_leaf, base_score = mean(y), no subsampling, gamma = alpha = 0) with
tree_method hist at max_bin 256 and 1,024 and tree_method exact. Test MSE and time for each.

Cases:
  tabular-s{0,1,2}   the heavy-tailed tabular generator (Student-t(3), AR(1), 10% irregular test
                     points), 2,000 rows, three seeds; tabular-10k-s0 the same at 10,000 rows
  discrete-q4/q20    tabular-s0's features rounded to 1/4 (fewer distinct values than 256 bins)
                     and to 1/20 (more, with long runs of ties), as CSV
  digits-3v5         sklearn's digits (pixel levels 0–16, discrete), classes 3 and 5 as ±1
  diabetes           built in (real)
  breast-cancer      the sklearn wheel's bundled breast-cancer table (real, not tuned on),
                     malignant/benign as ±1 targets, 30 features, as CSV

Goals: tlens hist within 5% of XGBoost hist at equal bins; tlens at 1,024 bins or exact close to
XGBoost exact. XGBoost's time is DMatrix construction plus training, best of --repetitions.

    pip install xgboost scikit-learn && swift build -c release && python3 scripts/tree-compare.py
    python3 scripts/tree-compare.py --case diabetes --json
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import xgboost as xgb  # noqa: E402  (after the OpenMP setting)

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("xgboost_compare", os.path.join(here, "xgboost-compare.py"))
compare = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare)

TABULAR = {"source": "tabular", "n_train": 2000, "n_test": 500, "d": 8, "irregular_fraction": 0.1}
# gbt-tabular's model without subsampling; the lens's smoother off (the learner is what is timed).
MODEL = {"kind": "gbt", "rounds": 200, "max_depth": 4, "learning_rate": 0.1, "lambda_leaf": 1.0, "min_leaf": 1,
         "subsample": 1.0, "bins": 256}
TLENS_MODES = [("hist-256", ["model.bins=256"]), ("hist-1024", ["model.bins=1024"]), ("exact", ["model.split=exact"])]
XGBOOST_MODES = [("hist-256", {"tree_method": "hist", "max_bin": 256}), ("hist-1024", {"tree_method": "hist", "max_bin": 1024}),
                 ("exact", {"tree_method": "exact"})]


def write_csv(path, x, y):
    header = ",".join([f"x{j}" for j in range(x.shape[1])] + ["y"])
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header=header, comments="", fmt="%.9g")


def csv_case(folder, name, x, y, xt, yt):
    train, test = os.path.join(folder, f"{name}-train.csv"), os.path.join(folder, f"{name}-test.csv")
    write_csv(train, x, y)
    write_csv(test, xt, yt)
    return {"source": "csv", "train_path": train, "test_path": test, "target_column": "y"}


def config_file(folder, name, data, seed):
    path = os.path.join(folder, f"{name}.json")
    with open(path, "w") as f:
        json.dump({"name": name, "seed": seed, "threads": 1, "data": data, "model": MODEL, "loss": "mse",
                   "lens": {"every": 10, "smoother": "off"}}, f)
    return path


def cases(binary, folder):
    """(name, data section, seed) per case."""
    out = [(f"tabular-s{s}", TABULAR, s) for s in range(3)]
    out.append(("tabular-10k-s0", {**TABULAR, "n_train": 10000, "n_test": 2000}, 0))
    # Discrete features: the tabular rows of seed 0 (as tlens trains on them) rounded.
    x, y, xt, yt, _ = export(binary, config_file(folder, "tabular", TABULAR, 0), [], folder)
    for q in (4, 20):
        out.append((f"discrete-q{q}", {**csv_case(folder, f"q{q}", np.round(x * q) / q, y, np.round(xt * q) / q, yt),
                                       "standardize": False}, 0))
    out.append(("digits-3v5", {"source": "digits", "classes": [3, 5], "target": "pm1"}, 0))
    out.append(("diabetes", {"source": "diabetes"}, 0))
    from sklearn.datasets import load_breast_cancer  # bundled in the wheel: no download
    bc = load_breast_cancer()
    order = np.random.default_rng(0).permutation(len(bc.target))
    cut = int(0.8 * len(order))
    features, target = bc.data.astype(np.float32), np.where(bc.target == 1, 1.0, -1.0)
    out.append(("breast-cancer", csv_case(folder, "bc", features[order[:cut]], target[order[:cut]],
                                          features[order[cut:]], target[order[cut:]]), 0))
    return out


def export(binary, config, sets, folder):
    target = tempfile.mkdtemp(dir=folder)
    compare.tlens(binary, "data-export", "--config", config, *sets, "--out", target)
    x, y = compare.load(os.path.join(target, "train.csv"))
    xt, yt = compare.load(os.path.join(target, "test.csv"))
    with open(os.path.join(target, "config.json")) as f:
        return x, y, xt, yt, json.load(f)


def xgboost_fit(model, extra, x, y, xt, yt, repetitions):
    params = {"objective": "reg:squarederror", "grow_policy": "depthwise", "max_depth": model["max_depth"],
              "eta": model["learning_rate"], "lambda": model["lambda_leaf"], "alpha": 0.0, "gamma": 0.0,
              "min_child_weight": model["min_leaf"], "subsample": 1.0, "nthread": 1,
              "base_score": float(np.mean(y, dtype=np.float64)), "seed": 0, **extra}
    best, booster = float("inf"), None
    for _ in range(repetitions):
        start = time.perf_counter()
        booster = xgb.train(params, xgb.DMatrix(x, label=y, nthread=1), num_boost_round=model["rounds"])
        best = min(best, time.perf_counter() - start)
    prediction = booster.predict(xgb.DMatrix(xt, nthread=1)).astype(np.float64)
    return float(np.mean((prediction - yt) ** 2)), best * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tlens", default=os.environ.get("TLENS", ".build/release/tlens"))
    parser.add_argument("--case", action="append", default=[], help="only these cases (repeatable)")
    parser.add_argument("--repetitions", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="one JSON object per case instead of the table")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, data, seed in cases(args.tlens, folder):
            if args.case and name not in args.case:
                continue
            path = config_file(folder, name, data, seed)
            x, y, xt, yt, config = export(args.tlens, path, [], folder)
            row = {"case": name, "n_train": len(y), "n_test": len(yt), "d": x.shape[1],
                   "distinct_max": int(max(len(np.unique(x[:, j])) for j in range(x.shape[1]))), "xgboost": xgb.__version__}
            for mode, extra in TLENS_MODES:
                sets = [a for s in extra for a in ("--set", s)]
                ours = json.loads(compare.tlens(args.tlens, "bench", "gbt", "--config", path, *sets, "--format", "json",
                                                "--repetitions", str(args.repetitions)))[0]
                row[f"tlens_{mode}_mse"], row[f"tlens_{mode}_ms"] = ours["testMSE"], ours["learnerMilliseconds"]
            for mode, extra in XGBOOST_MODES:
                row[f"xgb_{mode}_mse"], row[f"xgb_{mode}_ms"] = xgboost_fit(config["model"], extra, x, y, xt, yt, args.repetitions)
            for mode in ("hist-256", "hist-1024"):
                row[f"ratio_{mode}"] = row[f"tlens_{mode}_mse"] / row[f"xgb_{mode}_mse"]
            row["ratio_exact"] = row["tlens_exact_mse"] / row["xgb_exact_mse"]
            rows.append(row)
            if args.json:
                print(json.dumps(row), flush=True)
    if args.json:
        return
    print(f"test MSE (time ms, one thread, learner only), XGBoost {xgb.__version__}; ratio = tlens / XGBoost at the same mode")
    modes = [m for m, _ in TLENS_MODES]
    print(f"{'case':<15} {'n':>6} {'d':>3} {'distinct':>8}  " + "  ".join(f"{'tlens ' + m:>22} {'xgb ' + m:>22} {'ratio':>5}" for m in modes))
    for r in rows:
        cells = "  ".join(f"{r[f'tlens_{m}_mse']:>12.4f} ({r[f'tlens_{m}_ms']:>7.0f}) {r[f'xgb_{m}_mse']:>12.4f} ({r[f'xgb_{m}_ms']:>7.0f}) {r[f'ratio_{m}']:>5.3f}"
                          for m in modes)
        print(f"{r['case']:<15} {r['n_train']:>6} {r['d']:>3} {r['distinct_max']:>8}  {cells}")


if __name__ == "__main__":
    main()
