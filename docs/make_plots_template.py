"""Writes .dvc/plots/offline.html, the page `dvc plots show` fills (`.dvc/config`: plots.html_template).

DVC's own page loads Vega, Vega-Lite and Vega-Embed from a CDN, so without a network its curves
and bar charts stay blank. This page carries the three libraries inline instead (Vega-Lite 5,
the major version of DVC's templates), bundled by vl-convert, so every plot renders offline.

usage: pip install vl-convert-python && python docs/make_plots_template.py
       (a one-off for whoever updates the libraries; the page is committed)
"""
from pathlib import Path

import vl_convert

OUT = Path(__file__).resolve().parents[1] / ".dvc" / "plots" / "offline.html"
VEGA_LITE = "5.21"  # DVC's templates are Vega-Lite v5 specs

PAGE = """<!DOCTYPE html>
<html>
<head>
    {refresh_tag}
    <meta charset="utf-8">
    <title>DVC plots: facial keypoints</title>
    <!-- Vega %(vega)s, Vega-Lite %(vega_lite)s and Vega-Embed %(embed)s (BSD-3-Clause, https://vega.github.io),
         bundled by vl-convert %(vl_convert)s (docs/make_plots_template.py): no network needed. -->
    <script>
%(bundle)s
    </script>
    <style>
        body { font-family: sans-serif; }
        table { border-spacing: 15px; }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


def main() -> None:
    bundle = vl_convert.javascript_bundle(vl_version=VEGA_LITE)
    assert "</script" not in bundle.lower() and "{plot_divs}" not in bundle and "{refresh_tag}" not in bundle
    OUT.write_text(PAGE % {"vega": vl_convert.get_vega_version(), "vega_lite": VEGA_LITE,
                           "embed": vl_convert.get_vega_embed_version(), "vl_convert": vl_convert.__version__,
                           "bundle": bundle})
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
