"""Labelled utterances: loading ``text,category`` CSV and ``intent<TAB>text`` TSV files.

The CSV layout is BANKING77's (a header row ``text,category``); the TSV layout has no
header and is what ``data/nlu/`` uses (``#`` starts a comment line). Labels come from
the data, so a lender's own label set works unchanged.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lendline.errors import ValidationError

DATA_DIR = Path(__file__).resolve().parents[4] / "data" / "nlu"


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str


def _read_csv(path: Path) -> list[Example]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = set(reader.fieldnames or ())
        if not {"text", "category"} <= fields:
            raise ValidationError(
                f"{path}: CSV needs columns text,category (found {sorted(fields)})",
                field="data",
                code="invalid_training_data",
            )
        return [
            Example(row["text"].strip(), row["category"].strip())
            for row in reader
            if row["text"] and row["category"]
        ]


def _read_tsv(path: Path) -> list[Example]:
    examples = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        label, sep, text = line.partition("\t")
        if not sep or not label.strip() or not text.strip():
            raise ValidationError(
                f"{path}:{lineno}: expected intent<TAB>text",
                field="data",
                code="invalid_training_data",
            )
        examples.append(Example(text.strip(), label.strip()))
    return examples


def load_examples(path: Path | str) -> list[Example]:
    """Examples from a ``.csv`` (text,category) or ``.tsv`` (intent<TAB>text) file."""
    p = Path(path)
    if not p.is_file():
        raise ValidationError(f"no such file: {p}", field="data", code="invalid_training_data")
    examples = _read_csv(p) if p.suffix.lower() == ".csv" else _read_tsv(p)
    if not examples:
        raise ValidationError(f"{p}: no examples", field="data", code="invalid_training_data")
    return examples


def load_many(paths: Iterable[Path | str]) -> list[Example]:
    return [e for p in paths for e in load_examples(p)]


def builtin_files(lang: str, split: str = "train") -> list[Path]:
    """The bundled data files for ``lang`` (zh|en) and ``split`` (train|heldout)."""
    return sorted((DATA_DIR / lang).glob(f"{split}*.tsv"))


def data_fingerprint(paths: Sequence[Path]) -> str:
    """SHA-256 over the files' names and bytes: the cache key of a model trained on them."""
    digest = hashlib.sha256()
    for p in paths:
        digest.update(p.name.encode())
        digest.update(p.read_bytes())
    return digest.hexdigest()[:16]


def stratified_split(
    examples: Sequence[Example], dev_fraction: float, seed: int = 0
) -> tuple[list[Example], list[Example]]:
    """Deterministic per-label split; every label keeps at least one training example."""
    from sklearn.model_selection import train_test_split

    train, dev = train_test_split(
        list(examples),
        test_size=dev_fraction,
        random_state=seed,
        stratify=[e.label for e in examples],
    )
    return list(train), list(dev)
