"""Fail when the committed translation catalogues are not complete.

    python .ci/check_messages.py <makemessages options>     (see `make check-messages`)

Runs `makemessages` with the given options on a temporary copy of the work tree (the tree
itself is never written), then, for every committed catalogue locale/<lang>/LC_MESSAGES/<domain>.po:

- every message the sources use must already be in the committed catalogue (else a string
  was added without running `make messages`);
- in every language but English (the language of the msgids) each message must be
  translated and not fuzzy;
- the committed .mo must hold exactly what the committed .po compiles to (else
  `compilemessages` was not run after editing the .po).

Location comments and POT-Creation-Date are ignored, so moving code around never fails CI.
Without any committed catalogue the check says so and passes.
"""

from __future__ import annotations

import ast
import gettext
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_LANGUAGE = "en"


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    fuzzy: bool = False
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values())


def parse_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header excluded. Entries are separated by blank lines, as
    makemessages and msgmerge always write them."""
    entries: list[Entry] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry = Entry()
        field_name: str | None = None
        for raw in block.splitlines():
            line = raw.strip()
            if line.startswith("#~"):
                line = line[2:].strip()
                if line.startswith("|"):
                    continue  # the previous msgid of an obsolete fuzzy entry
                entry.obsolete = True
            elif line.startswith("#,"):
                entry.fuzzy = "fuzzy" in [flag.strip() for flag in line[2:].split(",")]
                continue
            elif line.startswith("#") or not line:
                continue
            if line.startswith('"'):
                if field_name is None:
                    raise ValueError(f"{path}: a continuation line without a field: {raw!r}")
                _append(entry, field_name, ast.literal_eval(line))
                continue
            field_name, _, rest = line.partition(" ")
            _append(entry, field_name, ast.literal_eval(rest.strip()))
        if entry.msgid:
            entries.append(entry)
    return entries


def _append(entry: Entry, field_name: str, value: str) -> None:
    if field_name == "msgctxt":
        entry.msgctxt = (entry.msgctxt or "") + value
    elif field_name == "msgid":
        entry.msgid += value
    elif field_name == "msgid_plural":
        entry.msgid_plural = (entry.msgid_plural or "") + value
    elif field_name == "msgstr":
        entry.msgstr[0] = entry.msgstr.get(0, "") + value
    elif field_name.startswith("msgstr["):
        index = int(field_name[len("msgstr[") : -1])
        entry.msgstr[index] = entry.msgstr.get(index, "") + value
    else:
        raise ValueError(f"unknown field {field_name!r}")


def _mo_catalog(path: Path) -> dict:
    with path.open("rb") as handle:
        catalog = dict(gettext.GNUTranslations(handle)._catalog)
    catalog.pop("", None)  # the header: carries creation dates
    return catalog


def _copy_tree(target: Path) -> None:
    """The tracked and untracked-but-not-ignored files of the work tree (or all of it outside git)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.split(b"\0")
        names = [name.decode() for name in listed if name]
    except (OSError, subprocess.CalledProcessError):
        names = [
            str(path.relative_to(ROOT))
            for path in ROOT.rglob("*")
            if path.is_file() and not ({".venv", ".git", "node_modules"} & set(path.relative_to(ROOT).parts))
        ]
    for name in names:
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def main(makemessages_args: list[str]) -> int:
    # The project's catalogues and those of apps that keep their own (payments/locale …).
    catalogues = sorted([*ROOT.glob("locale/*/LC_MESSAGES/*.po"), *ROOT.glob("*/locale/*/LC_MESSAGES/*.po")])
    if not catalogues:
        print("check-messages: no catalogues under locale/ yet; nothing to check.")
        return 0
    for tool in ("xgettext", "msgmerge", "msgfmt"):
        if shutil.which(tool) is None:
            print(f"check-messages: {tool} not found; install GNU gettext (apt-get install gettext).", file=sys.stderr)
            return 1
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="check-messages-") as tmp:
        copy = Path(tmp) / "tree"
        copy.mkdir()
        _copy_tree(copy)
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="recycling.settings")
        for variable in ("DATABASE_URL", "REDIS_URL"):
            env.pop(variable, None)
        result = subprocess.run(
            [sys.executable, "manage.py", "makemessages", "--verbosity", "0", *makemessages_args],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            print(result.stdout + result.stderr, file=sys.stderr)
            print("check-messages: makemessages failed", file=sys.stderr)
            return 1

        for committed in catalogues:
            relative = committed.relative_to(ROOT)
            language = relative.parts[relative.parts.index("LC_MESSAGES") - 1]
            regenerated = copy / relative
            if not regenerated.exists():
                continue  # a language or domain makemessages was not asked for
            known = {entry.key for entry in parse_po(committed) if not entry.obsolete}
            current = [entry for entry in parse_po(regenerated) if not entry.obsolete]
            missing = [entry for entry in current if entry.key not in known]
            for entry in missing:
                problems.append(f"{relative}: not in the catalogue: {entry.msgid!r}")
            if language != SOURCE_LANGUAGE:
                for entry in current:
                    if entry.key in known and entry.fuzzy:
                        problems.append(f"{relative}: fuzzy translation: {entry.msgid!r}")
                    elif entry.key in known and not entry.translated:
                        problems.append(f"{relative}: untranslated: {entry.msgid!r}")

            compiled_mo = committed.with_suffix(".mo")
            if not compiled_mo.exists():
                problems.append(f"{relative.with_suffix('.mo')}: missing (run make messages)")
                continue
            fresh_mo = Path(tmp) / f"{language}-{committed.stem}.mo"
            msgfmt = subprocess.run(
                ["msgfmt", "--check-format", "-o", str(fresh_mo), str(committed)],
                capture_output=True,
                text=True,
                check=False,
            )
            if msgfmt.returncode != 0:
                problems.append(f"{relative}: msgfmt refuses it:\n{msgfmt.stderr}")
            elif _mo_catalog(fresh_mo) != _mo_catalog(compiled_mo):
                problems.append(f"{relative.with_suffix('.mo')}: out of date with the .po (run make messages)")

    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(
            f"check-messages: {len(problems)} problem(s). Run `make messages`, translate, and commit locale/.",
            file=sys.stderr,
        )
        return 1
    print(f"check-messages: {len(catalogues)} catalogue(s) complete.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
