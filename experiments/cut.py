"""Where to cut the network's mask (predict.CUT), chosen on a benchmark's val split.

    python -m experiments.cut --model runs/latest --benchmark /tmp/benchmark --cuts 0.4 0.45 0.5 0.55 0.6
"""
import argparse

import data
import evaluate
import predict


def sweep_cut(run_dir, benchmark, cuts):
    """Pooled colour IoU of a run on the benchmark's splits with the mask cut at each of `cuts`."""
    generator_and_config = predict.load_run(run_dir)
    for cut in cuts:
        scores = evaluate.evaluate(benchmark, model=generator_and_config, cut=cut, log=data.silent)
        print(f"cut {cut:g}: " + ", ".join(f"{split} {summary['pooled_colour_iou']:.3f}"
                                           for split, summary in scores.items()), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="runs/latest", help="a trained run (default runs/latest)")
    parser.add_argument("--benchmark", required=True, help="the benchmark folder (make_benchmark.py)")
    parser.add_argument("--cuts", type=float, nargs="+", default=[0.4, 0.5, 0.6, 0.7], help="where to cut")
    args = parser.parse_args(argv)
    sweep_cut(args.model, args.benchmark, args.cuts)


if __name__ == "__main__":
    main()
