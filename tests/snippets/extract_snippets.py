#!/usr/bin/env python3
"""Writes every ```cpp block of the given Markdown files as a translation unit.

Each block becomes <out>/<file>_<n>.cpp: its #include lines first, then prelude.hpp (the
user-side names the documentation takes for granted), then the rest of the block as the body
of a function, so statements and declarations both compile. The test suite builds these with
-Wall -Wextra -Werror against the umbrella header.
"""
import pathlib
import re
import sys


def blocks(text):
    for match in re.finditer(r"^```cpp\n(.*?)^```", text, re.S | re.M):
        yield match.group(1)


def main():
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in sys.argv[2:]:
        path = pathlib.Path(name)
        for n, block in enumerate(blocks(path.read_text()), start=1):
            lines = block.splitlines()
            includes = [l for l in lines if l.startswith("#include")]
            body = [l for l in lines if not l.startswith("#include")]
            unit = out / f"{path.stem}_{n}.cpp"
            text = "\n".join(
                [f"// From {path.name}, C++ block {n}."]
                + includes
                + ['#include "prelude.hpp"', "", "namespace snippet {", "[[maybe_unused]] void body() {", "LOOPVISOR_SNIPPET_LOCALS"]
                + body
                + ["}", "}  // namespace snippet", ""]
            )
            if not unit.exists() or unit.read_text() != text:
                unit.write_text(text)
            written.append(str(unit))
    print(";".join(written), end="")


if __name__ == "__main__":
    main()
