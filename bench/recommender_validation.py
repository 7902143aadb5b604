"""The recommender's validation splits: a variant against the default, seed by seed, on two shop-years.

    .venv/bin/python bench/recommender_validation.py --variant '{"dropout": 0.2}' [--variant-code DIR]
        [--seeds 42,7,1,2,3] [--splits 2011-10,2010-10] [--jobs 2] [--second-year FILE] [--keep DIR]

A split is a month held out wholly before the protocol's test period: ``2011-10`` is October 2011 in
the project's UCI file (the lines before 2011-10-01 to train on); ``2010-10`` is October 2010 in the same
shop's 2009-2010 file (``--second-year``; UCI "Online Retail II", not in the project: the split is skipped,
with a note, where the file is missing). One month of one shop does not tell a 0.5% change from the seeds'
own spread; two shop-years narrow that, and a change that helps on one and hurts on the other is not a
change to make.

For every split and seed, ``recommender_quality.py --no-write`` runs twice: with the default
``TrainConfig`` and with ``--variant``'s overrides (or the default config in the checkout
``--variant-code``, to measure a change of code), at most ``--jobs`` at a time, the served lists' weight
chosen as a version's training chooses it (``--auto-weight 1``). Printed per split, the means over the
seeds and on how many seeds the variant is up: the MLP's NDCG@10 and Recall@10 and its never-bought
NDCG@10 (full ranking), and the served lists at the weight each run chose. Nothing runs on the test
period.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECOND_YEAR = (
    ROOT.parent / "shared/datasets/uci_online_retail_ii_2009_2010/online_retail_ii_2009-12_2010-12.parquet"
)


@dataclass(frozen=True)
class Split:
    name: str
    parquet: Path
    cutoff: str
    end: str


def splits_named(names: list[str], second_year: Path) -> list[Split]:
    known = {
        "2011-10": Split(
            "2011-10", ROOT / "data" / "online_retail_2010-12_2011-12.parquet", "2011-10-01", "2011-11-01"
        ),
        "2010-10": Split("2010-10", second_year, "2010-10-01", "2010-11-01"),
    }
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"unknown split(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[name] for name in names]


def summary(record: dict) -> dict[str, float]:
    """The figures compared, from one ``recommender_quality.py --json`` record."""
    metrics = record["metrics"]
    mlp = metrics["mlp"]
    weight = record["auto_weight"]
    served = metrics["mlp_served"]["1" if weight == 1.0 else f"1@{weight:g}"]
    return {
        "ndcg": mlp["ndcg@10"],
        "recall": mlp["recall@10"],
        "new_ndcg": mlp["new_items"]["ndcg@10"],
        "weight": weight,
        "served_ndcg": served["ndcg@10"],
        "served_new_ndcg": served["new_items"]["ndcg@10"],
        "served_new_per_list": served["new_per_list"],
    }


def compare(default: dict[int, dict], variant: dict[int, dict]) -> list[str]:
    """Markdown rows: each figure's mean over the seeds both arms ran, the variant's change, seeds up."""
    seeds = sorted(set(default) & set(variant))
    labels = {
        "ndcg": "MLP NDCG@10 (full ranking)",
        "recall": "MLP Recall@10",
        "new_ndcg": "MLP never-bought NDCG@10",
        "weight": "weight chosen",
        "served_ndcg": "served lists at it: NDCG@10",
        "served_new_ndcg": "served lists at it: never-bought NDCG@10",
        "served_new_per_list": "never-bought products a list",
    }
    rows = [
        f"| figure (mean of seeds {', '.join(map(str, seeds))}) | default | variant | change | seeds up |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, label in labels.items():
        base = sum(default[seed][key] for seed in seeds) / len(seeds)
        other = sum(variant[seed][key] for seed in seeds) / len(seeds)
        up = sum(variant[seed][key] > default[seed][key] for seed in seeds)
        change = f"{other / base - 1:+.1%}" if base else ""
        shown = ".2f" if key in {"weight", "served_new_per_list"} else ".4f"
        rows.append(f"| {label} | {base:{shown}} | {other:{shown}} | {change} | {up} of {len(seeds)} |")
    return rows


def run_one(code: Path, split: Split, seed: int, config: dict, out: Path) -> dict:
    command = [
        str(ROOT / ".venv" / "bin" / "python"),
        str(code / "bench" / "recommender_quality.py"),
        "--no-write",
        "--parquet",
        str(split.parquet),
        "--cutoff",
        split.cutoff,
        "--end",
        split.end,
        "--min-new-items",
        "1",
        "--new-item-weights",
        "1",
        "--auto-weight",
        "1",
        "--config",
        json.dumps({**config, "seed": seed}),
        "--json",
        str(out),
    ]
    log = out.with_suffix(".log")
    with open(log, "w") as handle:
        finished = subprocess.run(command, cwd=code, stdout=handle, stderr=subprocess.STDOUT, check=False)
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({finished.returncode}); see {log}")
    return summary(json.loads(out.read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", type=json.loads, default={}, help="TrainConfig overrides (JSON)")
    parser.add_argument(
        "--variant-code", type=Path, default=None, help="a checkout whose code is the variant"
    )
    parser.add_argument("--seeds", default="42,7,1,2,3")
    parser.add_argument("--splits", default="2011-10,2010-10")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time")
    parser.add_argument("--second-year", type=Path, default=SECOND_YEAR, help="the 2009-2010 file")
    parser.add_argument("--keep", type=Path, default=None, help="keep each run's JSON and log here")
    arguments = parser.parse_args()
    if not arguments.variant and arguments.variant_code is None:
        raise SystemExit("give --variant (TrainConfig overrides) or --variant-code (a checkout), or both")
    seeds = [int(seed) for seed in arguments.seeds.split(",") if seed.strip()]
    splits = []
    for split in splits_named([name for name in arguments.splits.split(",") if name], arguments.second_year):
        if split.parquet.exists():
            splits.append(split)
        else:
            print(f"split {split.name} skipped: {split.parquet} is missing (--second-year)", flush=True)
    if not splits:
        raise SystemExit("no split to run")
    keep = arguments.keep or Path(tempfile.mkdtemp(prefix="recommender-validation-"))
    keep.mkdir(parents=True, exist_ok=True)
    arms = {"default": (ROOT, {}), "variant": (arguments.variant_code or ROOT, arguments.variant)}
    runs = [(split, seed, arm) for split in splits for seed in seeds for arm in arms]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(arguments.jobs, 1)) as pool:
        futures = {
            (split.name, seed, arm): pool.submit(
                run_one, arms[arm][0], split, seed, arms[arm][1], keep / f"{split.name}-{seed}-{arm}.json"
            )
            for split, seed, arm in runs
        }
        results = {key: future.result() for key, future in futures.items()}
    print(f"\n{len(runs)} runs in {time.monotonic() - started:.0f} s; each run's JSON and log in {keep}\n")
    variant_words = json.dumps(arguments.variant) if arguments.variant else ""
    if arguments.variant_code is not None:
        variant_words = f"the code in {arguments.variant_code} {variant_words}".strip()
    for split in splits:
        by_arm = {arm: {seed: results[(split.name, seed, arm)] for seed in seeds} for arm in arms}
        print(
            f"Split {split.name} ({split.parquet.name}, trained before {split.cutoff}, held out to "
            f"{split.end}); variant: {variant_words}\n"
        )
        print("\n".join(compare(by_arm["default"], by_arm["variant"])) + "\n")


if __name__ == "__main__":
    sys.exit(main())
