"""Steady colour on video, measured on clips with a target for every frame: pooled IoU and flicker, frame by frame
and steady at each hysteresis margin (video.MARGIN was chosen here), and the figure the README shows.

    python -m experiments.video --model runs/latest --strip docs/video_strip.jpg

Run from the repo's root. The 720p speed is bench.py's (`python bench.py video`).
"""
import argparse
import random
import statistics
from pathlib import Path

import numpy as np

import data
import evaluate
import predict
import video
from datasets import make_demo

ROOT = Path(__file__).resolve().parent.parent
EDGE = 2  # Pixels from an edge left out of the "in regions" flicker: about one pixel of the network's 143 px copy
# at the clips' 320 px width.


def flicker(run_dir, clips, margins, strip=None):
    """Clips with known targets (datasets/make_demo.py make_clip: the demo's val and test photos, a panning and
    zooming camera, moving cut-outs) coloured frame by frame, from the exact mask cut at the network's size (what
    a perfect network would score) and steady (video.SteadyMask with each hysteresis `margin`): pooled colour IoU
    over all frames, flicker (evaluate.flicker) and the part of it in regions, more than EDGE pixels from an edge
    (an edge moves with what moves, so flicker counts it even when the decision on the object is steady). Then
    frames/s of predict.py's video path on a 720p H.264 clip, end to end: decoding, the network, full-resolution
    work and encoding. With `strip`, four frames of a test clip before and after (steady) go to that image."""
    colourizer = predict.Colourizer.from_run(*predict.load_run(run_dir))
    sources = ROOT / "datasets" / "sources"
    sprites = make_demo.load_sprites(sources / "sprites")
    rng = random.Random(0)
    print(f"{'split':<6}{'mode':<32}{'pooled IoU':>12}{'flicker':>10}{'in regions':>12}")
    for split, stems in (("val", make_demo.VAL_PHOTOS), ("test", make_demo.TEST_PHOTOS)):
        made = [make_demo.make_clip(data.read_image(sources / "photos" / f"{stem}.jpg")[0], sprites, rng)
                for stem in stems for _ in range(clips)]
        made = [([frame for frame, _ in clip], [mask for _, mask in clip],
                 [data.splash(frame, mask) for frame, mask in clip]) for clip in made]
        for setting in [None, "exact", *margins]:
            counts, flickers, regions = np.zeros(2), [], []
            for frames, masks, targets in made:
                if setting == "exact":  # The floor of the way back to full resolution: a perfect network.
                    side = colourizer.size
                    outputs = [colourizer.apply(frame, colourizer.cut(data.resize(mask, side, side)))
                               for frame, mask in zip(frames, masks)]
                else:
                    steady = None if setting is None else video.SteadyMask(colourizer.threshold, setting)
                    outputs = video.colour_frames(colourizer, frames, steady)
                counts += [sum(x) for x in zip(*map(evaluate.colour_counts, targets, outputs))]
                flickers.append(evaluate.flicker(targets, outputs))
                regions.append(evaluate.flicker(targets, outputs, skip_edges=EDGE))
            mode = ("frame by frame" if setting is None else "exact mask at the network's size"
                    if setting == "exact" else f"steady, margin {setting:g}")
            print(f"{split:<6}{mode:<32}{evaluate.iou(*counts):>12.3f}{statistics.mean(flickers):>10.4f}"
                  f"{statistics.mean(regions):>12.5f}", flush=True)
            if split == "test" and setting == video.MARGIN and strip:  # Last clip: before, after.
                picked = range(0, len(frames), len(frames) // 4)
                data.write_image(strip, np.concatenate([np.concatenate([frames[i] for i in picked], axis=1),
                                                        np.concatenate([outputs[i] for i in picked], axis=1)]),
                                 quality=85)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="runs/latest", help="a trained run (default runs/latest)")
    parser.add_argument("--clips", type=int, default=2, help="clips per photo (default 2)")
    parser.add_argument("--margin", type=float, nargs="+", default=[0.05, 0.1, 0.15, 0.2], help="hysteresis "
                        "margins to compare")
    parser.add_argument("--strip", help="write four frames of a test clip, before and after, to this image")
    args = parser.parse_args(argv)
    flicker(args.model, args.clips, args.margin, args.strip)


if __name__ == "__main__":
    main()
