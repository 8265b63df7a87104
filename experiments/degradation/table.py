"""The degradation study's 3 × 3 table (rows: trained on, columns: evaluated on), from a sweep
whose runs experiments/degradation/run.sh has evaluated; written to table.md and table.csv here.

    .venv/bin/python experiments/degradation/table.py <sweep> [--baseline <dir>]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from srlab.reporting.degradations import gap_table, print_gap_table, write_gap_table
from srlab.reporting.runs import load_runs

HERE = Path(__file__).resolve().parent
EVALUATED_ON = ("bicubic", "bd", "dn")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path, help="the sweep directory (its runs' eval/ inside)")
    parser.add_argument(
        "--baseline", type=Path, help="bicubic interpolation's eval, a <degradation>/ each"
    )
    args = parser.parse_args()
    runs = load_runs([args.sweep])
    table = gap_table(runs, EVALUATED_ON, args.baseline)
    print_gap_table(table)
    title = f"Trained on (rows), evaluated on (columns): {len(runs)} runs of {args.sweep}"
    for path in write_gap_table(table, HERE, title):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
