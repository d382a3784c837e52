"""The shell examples of the README and docs/*.md, as a reader would copy them: every ```sh block,
its commands (a line continued with a backslash is one command; comment lines are dropped), with
where it stands, so a test can run them and name the one that fails."""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.processes import ROOT

DOCUMENTS = ("README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")))


@dataclass(frozen=True)
class Block:
    where: str  # "README.md:73", the line of the opening fence
    commands: tuple[str, ...]


def sh_blocks(text: str, name: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = lines[i].strip()
        if fence.startswith("```") and fence[3:].strip() in ("sh", "bash", "shell", "console"):
            start = i + 1
            i += 1
            body: list[str] = []
            while i < len(lines) and not lines[i].strip().startswith("```"):
                body.append(lines[i])
                i += 1
            blocks.append(Block(f"{name}:{start}", tuple(commands(body))))
        i += 1
    return blocks


def commands(lines: list[str]) -> list[str]:
    out: list[str] = []
    current = ""
    for line in lines:
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1].rstrip() + " "
            continue
        out.append((current + line.strip()).strip())
        current = ""
    if current:
        out.append(current.strip())
    return out


def all_blocks() -> list[Block]:
    found: list[Block] = []
    for name in DOCUMENTS:
        found.extend(sh_blocks((ROOT / name).read_text(encoding="utf-8"), name))
    return found
