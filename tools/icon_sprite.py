"""Build static/icons/lucide-sprite.svg from an unpacked lucide-static npm package.

Only the icons the templates use are kept. Usage (see static/icons/README.md)::

    python tools/icon_sprite.py /tmp/lucide/package [new-icon-name ...]

The icons already in the sprite are taken again from the package, with any names given
added, so that a refresh keeps the set and only updates its drawings.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"
SPRITE = ICONS / "lucide-sprite.svg"
SYMBOL_ID = re.compile(r'<symbol id="([a-z0-9-]+)"')
BODY = re.compile(r"<svg[^>]*>(.*)</svg>", re.S)


def build(package: Path, extra: list[str]) -> str:
    version = json.loads((package / "package.json").read_text())["version"]
    kept = SYMBOL_ID.findall(SPRITE.read_text()) if SPRITE.exists() else []
    names = sorted(set(kept) | set(extra))
    symbols = []
    for name in names:
        source = (package / "icons" / f"{name}.svg").read_text()
        match = BODY.search(source)
        if match is None:
            raise SystemExit(f"{name}: no <svg> element in the package's file")
        body = " ".join(line.strip() for line in match.group(1).splitlines() if line.strip())
        symbols.append(
            f'<symbol id="{name}" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
            f'stroke-width="2" stroke-linecap="round" stroke-linejoin="round">{body}</symbol>'
        )
    return (
        f"<!-- Lucide icons from lucide-static {version} (ISC licence: LICENSE in this folder);"
        " built by tools/icon_sprite.py -->\n"
        '<svg xmlns="http://www.w3.org/2000/svg">\n' + "\n".join(symbols) + "\n</svg>\n"
    )


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    SPRITE.write_text(build(Path(sys.argv[1]), sys.argv[2:]))
