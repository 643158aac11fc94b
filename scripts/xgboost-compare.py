"""tlens's gradient-boosted trees against XGBoost's hist method (development only, not run in CI).

For each gbt config, tlens writes the data it trains on (`tlens data-export`: the training rows
and the evaluated test rows after the config's transforms) and times its own trees
(`tlens bench gbt`: the learner alone, binning included, and the runner's loop with the full
lens). This script trains `xgboost.train` with tree_method "hist" on that data with the same
hyperparameters, read from the resolved config:

    rounds → num_boost_round     max_depth → max_depth     learning_rate → eta
    lambda_leaf → lambda         min_leaf → min_child_weight (squared loss: hessian = row count)
    subsample → subsample        bins → max_bin            threads → nthread
    base_score = mean(y_train)   (tlens's f_0), depth-wise growth, gamma = alpha = 0

and prints test MSE and training time side by side. XGBoost's time is DMatrix construction
(its quantile sketch) plus training, best of the same number of repetitions as tlens's. With
subsample < 1 the two draw different rows, so XGBoost's MSE is the mean (± sd) over
--xgboost-seeds seeds. XGBoost's OpenMP threads wait passively (OMP_WAIT_POLICY=PASSIVE, set
before it loads): on this shared 2-core machine spinning threads made nthread=2 100x slower.
Goals (docs/lens.md §9, "How tlens implements trees"): test MSE within 5% of XGBoost's,
learner time within 2x.

    pip install xgboost && swift build -c release && python3 scripts/xgboost-compare.py
    python3 scripts/xgboost-compare.py --preset gbt-tabular --set model.subsample=1.0
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import xgboost as xgb  # noqa: E402  (after the OpenMP setting)

DEFAULT_CASES = [
    ("diabetes", "gbt-diabetes", []),
    ("tabular-2000", "gbt-tabular", ["model.subsample=1.0"]),
    ("tabular-2000-s0.8", "gbt-tabular", []),
    ("tabular-10000", "gbt-tabular", ["data.n_train=10000", "data.n_test=2000", "model.subsample=1.0"]),
]


def tlens(binary, *arguments):
    result = subprocess.run([binary, *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"tlens {' '.join(arguments)}: {result.stderr.strip()}")
    return result.stdout


def load(path):
    with open(path) as f:
        header = f.readline().strip().split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32, ndmin=2)
    targets = [i for i, name in enumerate(header) if name.startswith("y")]
    return np.delete(data, targets, axis=1), data[:, targets[0]]


def xgboost_run(model, threads, x, y, xt, yt, repetitions, seeds):
    params = {
        "tree_method": "hist", "objective": "reg:squarederror", "grow_policy": "depthwise",
        "max_depth": model["max_depth"], "eta": model["learning_rate"], "lambda": model["lambda_leaf"],
        "alpha": 0.0, "gamma": 0.0, "min_child_weight": model["min_leaf"], "subsample": model["subsample"],
        "max_bin": model["bins"], "nthread": threads, "base_score": float(np.mean(y, dtype=np.float64)),
        "seed": 0,
    }
    best = float("inf")
    for _ in range(repetitions):
        start = time.perf_counter()
        dtrain = xgb.DMatrix(x, label=y, nthread=threads)
        xgb.train(params, dtrain, num_boost_round=model["rounds"])
        best = min(best, time.perf_counter() - start)
    errors = []
    for seed in range(seeds if model["subsample"] < 1 else 1):
        booster = xgb.train({**params, "seed": seed}, xgb.DMatrix(x, label=y, nthread=threads), num_boost_round=model["rounds"])
        prediction = booster.predict(xgb.DMatrix(xt, nthread=threads)).astype(np.float64)
        errors.append(float(np.mean((prediction - yt) ** 2)))
    return best * 1e3, float(np.mean(errors)), float(np.std(errors, ddof=1)) if len(errors) > 1 else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tlens", default=os.environ.get("TLENS", ".build/release/tlens"))
    parser.add_argument("--preset", action="append", default=[], help="a gbt preset (repeatable)")
    parser.add_argument("--set", action="append", default=[], dest="overrides", help="key.path=value for every case")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--xgboost-seeds", type=int, default=5, help="seeds averaged when subsample < 1")
    parser.add_argument("--json", action="store_true", help="one JSON object per case instead of the table")
    args = parser.parse_args()
    cases = [(p, p, []) for p in args.preset] or DEFAULT_CASES

    rows = []
    for name, preset, extra in cases:
        sets = [a for o in extra + args.overrides for a in ("--set", o)]
        with tempfile.TemporaryDirectory() as folder:
            tlens(args.tlens, "data-export", "--preset", preset, *sets, "--out", folder)
            x, y = load(os.path.join(folder, "train.csv"))
            xt, yt = load(os.path.join(folder, "test.csv"))
            with open(os.path.join(folder, "config.json")) as f:
                config = json.load(f)
        ours = json.loads(tlens(args.tlens, "bench", "gbt", "--preset", preset, *sets, "--format", "json",
                                "--repetitions", str(args.repetitions)))[0]
        xgb_ms, xgb_mse, xgb_sd = xgboost_run(config["model"], config["threads"], x, y, xt, yt, args.repetitions,
                                              args.xgboost_seeds)
        rows.append({
            "dataset": name, "n_train": len(y), "n_test": len(yt), "d": x.shape[1], "rounds": config["model"]["rounds"],
            "subsample": config["model"]["subsample"], "tlens_test_mse": ours["testMSE"], "xgboost_test_mse": xgb_mse,
            "xgboost_test_mse_sd": xgb_sd, "mse_ratio": ours["testMSE"] / xgb_mse,
            "tlens_learner_ms": ours["learnerMilliseconds"], "xgboost_ms": xgb_ms,
            "time_ratio": ours["learnerMilliseconds"] / xgb_ms, "tlens_lens_on_ms": ours["lensMilliseconds"],
            "smoother": ours["smoother"], "xgboost": xgb.__version__,
        })

    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    print(f"XGBoost {xgb.__version__} (hist, nthread as the config's threads) against tlens, same data and hyperparameters")
    print(f"{'dataset':<18} {'n_train':>7} {'n_test':>6} {'d':>3} {'rounds':>6} {'subs':>5}  {'test MSE tlens':>14}"
          f" {'xgboost':>16} {'ratio':>6}  {'time ms tlens':>13} {'xgboost':>8} {'ratio':>6}  {'tlens+lens ms':>13} (smoother)")
    for r in rows:
        spread = f"±{r['xgboost_test_mse_sd']:.4f}" if r["xgboost_test_mse_sd"] else ""
        print(f"{r['dataset']:<18} {r['n_train']:>7} {r['n_test']:>6} {r['d']:>3} {r['rounds']:>6} {r['subsample']:>5}"
              f"  {r['tlens_test_mse']:>14.4f} {r['xgboost_test_mse']:>9.4f}{spread:>7} {r['mse_ratio']:>6.3f}"
              f"  {r['tlens_learner_ms']:>13.1f} {r['xgboost_ms']:>8.1f} {r['time_ratio']:>6.2f}"
              f"  {r['tlens_lens_on_ms']:>13.1f} ({r['smoother']})")


if __name__ == "__main__":
    main()
