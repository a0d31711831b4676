"""Build the other artists' drawings of the demo's 64 cut-outs, for the new-drawing split and for training.

    python datasets/make_drawings.py --out ~/drawings        # OUT/twemoji/*.png and OUT/openmoji/*.png
    python datasets/make_benchmark.py --sprites ~/drawings/openmoji --out /tmp/bench-openmoji   # a new-drawing split

The demo's cut-outs are Noto Color Emoji. The same 64 emoji drawn by two other artists come from the npm registry:
Twemoji (`emoji-datasource-twitter`, 64 px PNGs, graphics CC-BY 4.0) and OpenMoji (`openmoji`, SVGs, CC BY-SA 4.0),
fetched with `npm pack` into OUT/npm. Each is written as an RGBA PNG cropped to its alpha, under the Noto file's
name (`<category>__<name>.png`), so make_demo.py and make_benchmark.py take any of the three folders as they are.
OpenMoji's SVGs are drawn by CairoSVG (`pip install cairosvg`; it needs the cairo library), which this script alone
uses: it builds development data outside the repo and is not among the product's requirements.
"""
import argparse
import json
import subprocess
import tarfile
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
PACKAGES = {"twemoji": "emoji-datasource-twitter@16.0.0", "openmoji": "openmoji@17.0.0"}
LICENCES = {"twemoji": "Twemoji graphics by Twitter, Inc and other contributors, CC-BY 4.0 "
                       "(https://creativecommons.org/licenses/by/4.0/), from the npm package {package}.",
            "openmoji": "OpenMoji graphics (https://openmoji.org/), CC BY-SA 4.0 "
                        "(https://creativecommons.org/licenses/by-sa/4.0/), from the npm package {package}."}
SIDE = 109  # Pixels of an OpenMoji drawing's canvas, as the Noto glyphs were rendered.


def fetch(package, folder):
    """The npm tarball of `package` in `folder` (downloaded once)."""
    folder.mkdir(parents=True, exist_ok=True)
    name, version = package.rsplit("@", 1)
    tarball = folder / f"{name}-{version}.tgz"
    if not tarball.is_file():
        subprocess.run(["npm", "pack", "--silent", package, "--pack-destination", str(folder)], check=True,
                       stdout=subprocess.DEVNULL)
    return tarfile.open(tarball)


def crop_to_alpha(rgba):
    rows, cols = np.nonzero(rgba[..., 3])
    return rgba[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def codepoints(tar):
    """{the Noto file's name part (`guitar`, `red_apple`): the emoji's code points, as `1F3B8`} from
    emoji-datasource's emoji.json, which names every emoji by its Unicode name and its short names."""
    found = {}
    for entry in json.load(tar.extractfile("package/emoji.json")):
        for name in [entry["name"].lower().replace(" ", "_"), *entry.get("short_names", [])]:
            found.setdefault(name, entry["unified"])
    return found


def twemoji(tar, unified):
    raw = tar.extractfile(f"package/img/twitter/64/{unified.lower()}.png").read()
    return cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_UNCHANGED)


def openmoji(tar, unified):
    import cairosvg  # Only for OpenMoji's SVGs, and only in this script: not among the requirements.

    names = set(tar.getnames())
    for code in (unified, unified.replace("-FE0F", "")):
        if f"package/color/svg/{code}.svg" in names:
            svg = tar.extractfile(f"package/color/svg/{code}.svg").read()
            png = cairosvg.svg2png(bytestring=svg, output_width=SIDE, output_height=SIDE)
            return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    raise SystemExit(f"OpenMoji has no drawing of {unified}")


def build(out, noto):
    names = sorted(p.name for p in noto.glob("*.png"))
    unified = codepoints(fetch(PACKAGES["twemoji"], out / "npm"))
    draw = {"twemoji": twemoji, "openmoji": openmoji}
    for style, package in PACKAGES.items():
        tar = fetch(package, out / "npm")
        (out / style).mkdir(parents=True, exist_ok=True)
        for name in names:
            code = unified[name[:-4].split("__")[1]]
            cv2.imwrite(str(out / style / name), crop_to_alpha(draw[style](tar, code)))
        (out / style / "LICENSE.md").write_text(LICENCES[style].format(package=package) + "\n")
        print(f"{style}: {len(names)} drawings in {out / style}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="where twemoji/, openmoji/ and npm/ go")
    parser.add_argument("--noto", type=Path, default=HERE / "sources" / "sprites",
                        help="the Noto cut-outs whose names are drawn again (default datasets/sources/sprites)")
    args = parser.parse_args(argv)
    build(args.out, args.noto)


if __name__ == "__main__":
    main()
