"""Power and false alarms of the span-masker checker's statistical tests, measured.

    python scripts/checker_power.py [--seeds 20]

Runs ``check_span_masker`` with ``seeds`` different seeds (each a new set of texts and new random
streams) on the three correct maskers and on every planted distribution mistake of
``spanbert_edu.exercises.mistakes``, and prints how often each is rejected, and how often with its own hint.
For a correct masker the rejection rate is the false-alarm rate (four tests at alpha 0.001 each);
for a mistake it is the power.
"""
import argparse

from spanbert_edu.exercises import check_span_masker
from spanbert_edu.exercises.mistakes import SPAN_MASKER_CASES

CASES = [(fn, hint) for fn, hint in SPAN_MASKER_CASES
         if hint is None or hint in ("whole-word masking", "UNIFORM", "CLIPPED", "span lengths in words differ",
                                     "never (or almost never", "random tokens", "80/10/10", "SUBWORD tokens",
                                     "first tenth", "once per DRAWN span")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    print(f"| masker | expected verdict | rejected | rejected with its own hint |  ({args.seeds} seeds)")
    print("|---|---|---:|---:|")
    for fn, hint in CASES:
        results = [check_span_masker(fn, seed=seed) for seed in range(args.seeds)]
        rejected = sum(not r for r in results)
        own = sum((not r) and hint is not None and hint in r.message for r in results)
        name = getattr(fn, "__name__", "masker")
        label = f"correct ({name})" if hint is None else f"mistake: '{hint}'"
        print(f"| {label} | {'pass' if hint is None else 'fail'} | {rejected}/{args.seeds} | "
              f"{'-' if hint is None else f'{own}/{args.seeds}'} |")


if __name__ == "__main__":
    main()
