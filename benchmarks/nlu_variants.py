"""Dev accuracy of `minilm` recipe variants on a split made by `lendline nlu split`.

    PYTHONPATH=src python benchmarks/nlu_variants.py /tmp/b77dev

Embeds train.csv and dev.csv once (the int8 ONNX MiniLM, one utterance at a time, as
`nlu train` does), then prints dev accuracy for the SVM alone at a few embedding weights
and C values, and for the SVM blended with the nearest-neighbour vote over a grid of
K, vote temperature and blend weight. Figures in docs/nlu.md come from this script.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.special import softmax
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC

from lendline.dialogue.nlu import neighbours
from lendline.dialogue.nlu.dataset import load_examples
from lendline.dialogue.nlu.features import MiniLMEmbedder, lexical_features
from lendline.dialogue.nlu.linear import fit_temperature
from lendline.dialogue.nlu.neighbours import NeighbourVote


def main(split_dir: Path) -> None:
    train = load_examples(split_dir / "train.csv")
    dev = load_examples(split_dir / "dev.csv")
    labels = sorted({e.label for e in train})
    index = {lab: i for i, lab in enumerate(labels)}
    y = np.array([index[e.label] for e in train])
    y_dev = np.array([index[e.label] for e in dev])
    lexical = lexical_features()
    lex_train = lexical.fit_transform([e.text for e in train])
    lex_dev = lexical.transform([e.text for e in dev])
    embedder = MiniLMEmbedder().fit([])
    emb_train = embedder.transform([e.text for e in train])
    emb_dev = embedder.transform([e.text for e in dev])

    def stack(lex: object, emb: np.ndarray, weight: float) -> sp.csr_matrix:
        return sp.hstack([lex, sp.csr_matrix(emb * weight)]).tocsr()

    for weight, c in [(0.0, 1.0), (1.5, 1.0), (2.0, 0.5), (2.0, 1.0), (2.0, 2.0), (3.0, 1.0)]:
        clf = LinearSVC(C=c).fit(stack(lex_train, emb_train, weight), y)
        acc = (clf.predict(stack(lex_dev, emb_dev, weight)) == y_dev).mean()
        print(f"svm  embedding weight {weight}  C {c}: dev {acc:.2%}", flush=True)

    x_train, x_dev = stack(lex_train, emb_train, 2.0), stack(lex_dev, emb_dev, 2.0)
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    oof = cross_val_predict(LinearSVC(), x_train, y, cv=folds, method="decision_function")
    t = fit_temperature(oof, y)
    svm_dev = softmax(LinearSVC().fit(x_train, y).decision_function(x_dev) / t, axis=1)
    print(f"temperature {t:.3f}; svm alone: dev {(svm_dev.argmax(1) == y_dev).mean():.2%}")
    for k in (5, 10, 20):
        for temp in (0.05, 0.1):
            neighbours.K, neighbours.TEMPERATURE = k, temp
            vote = NeighbourVote(emb_train, y, len(labels)).probabilities(emb_dev)
            accs = [
                f"w={w}: {(((1 - w) * svm_dev + w * vote).argmax(1) == y_dev).mean():.2%}"
                for w in (0.25, 0.5, 0.75, 1.0)
            ]
            print(f"vote K {k} temperature {temp}: " + "  ".join(accs), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
