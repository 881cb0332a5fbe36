"""The text being generated, without widgets: the prompt, every sampled token, the engine
generator that continues it, and the candidates to draw as bars.

One engine generator lives across Step and Run, so a fixed seed gives the same text whether
the tokens were asked for one by one or in a run; it is rebuilt only when the model, the
sampling settings or the seed change.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from engine.model.decoder import GPT
from engine.model.sample import SampleStep, generate, next_token_probs, start_ids
from engine.text.tokenizers import Tokenizer
from gui.panels.generation.job import TOP_N, Logits


def prompt_ids(tokenizer: Tokenizer, prompt: str) -> list[int]:
    """The ids generate() starts from for `prompt`: the model's own BOS where its tokenizer
    adds one, and a newline for an empty prompt."""
    return start_ids(tokenizer, prompt)


def readable(data: bytes) -> str:
    """`data` as text, its bytes that are no UTF-8 character (yet) as "<e5 b9>"."""
    out: list[str] = []
    pending = bytearray()
    # surrogateescape turns each undecodable byte into U+DC80..U+DCFF, so runs regroup.
    for ch in data.decode("utf-8", "surrogateescape"):
        if 0xDC80 <= ord(ch) <= 0xDCFF:
            pending.append(ord(ch) - 0xDC00)
            continue
        if pending:
            out.append("<" + " ".join(f"{b:02x}" for b in pending) + ">")
            pending.clear()
        out.append(ch)
    if pending:
        out.append("<" + " ".join(f"{b:02x}" for b in pending) + ">")
    return "".join(out)


@dataclass(frozen=True)
class Bars:
    """The candidates drawn as bars: probabilities, pieces, the sampled one's index, and
    whether they follow the current controls (`live`) or are as the engine sampled them."""

    values: np.ndarray = field(default_factory=lambda: np.zeros(0))
    labels: list[str] = field(default_factory=list)
    chosen: int | None = None
    live: bool = False


class GeneratedText:
    """Prompt and sampled tokens, the engine generator, and the logits of the shown position."""

    def __init__(self) -> None:
        self.prompt = ""  # the prompt the current text started from
        self.ids: list[int] = []  # the ids the engine holds: prompt then every sampled token
        self.gen_ids: list[int] = []  # the sampled tokens alone
        self.last: SampleStep | None = None  # the newest sampled token
        self.logits: Logits | None = None
        self.steps: Iterator[SampleStep] | None = None  # the engine generator, kept across runs
        self._steps_key: tuple | None = None
        self.ms_per_token: float | None = None

    def reset(self, prompt: str, tokenizer: Tokenizer | None) -> None:
        """Start again from `prompt`: nothing sampled, no generator, no logits."""
        self.prompt = prompt
        self.steps = None
        self._steps_key = None
        self.gen_ids = []
        self.last = None
        self.logits = None
        self.ms_per_token = None
        self.ids = prompt_ids(tokenizer, prompt) if tokenizer is not None else []

    def forget_steps(self) -> None:
        """The next token is drawn by a new generator (new weights, settings or seed)."""
        self.steps = None

    def ensure_steps(self, model: GPT, tokenizer: Tokenizer, sampling: dict, seed: int) -> None:
        """The engine generator for the text so far and these settings (rebuilt when they
        changed); raises ValueError when the engine refuses the settings."""
        key = (id(model), tuple(sorted(sampling.items())), seed)
        if self.steps is not None and key == self._steps_key:
            return
        # Continue from the text so far; the seed is offset by the tokens already drawn so a
        # re-built generator stays deterministic without repeating the first draws.
        text = self.prompt + self.generated_text(tokenizer)
        self.steps = None
        self.steps = generate(model, tokenizer, text, max_new_tokens=10**9,
                              seed=seed + len(self.gen_ids), top_n=TOP_N, **sampling)
        self._steps_key = key
        self.ids = prompt_ids(tokenizer, text)

    def add(self, step: SampleStep) -> None:
        """A token the engine sampled."""
        self.gen_ids.append(step.token_id)
        self.ids.append(step.token_id)
        self.last = step

    def shown_position(self) -> int:
        """Index of the token whose distribution is shown: the newest one, or the next one."""
        return len(self.ids) - 1 if self.gen_ids else len(self.ids)

    def has_logits(self) -> bool:
        """The logits of the shown position are here: the controls re-shape the bars at once."""
        return self.logits is not None and self.logits.n_ids == self.shown_position()

    def generated_text(self, tokenizer: Tokenizer | None) -> str:
        """The sampled continuation as text (prompt excluded)."""
        if tokenizer is None or not self.gen_ids:
            return ""
        return tokenizer.decode(np.array(self.gen_ids, dtype=np.int64))

    def pieces(self, tokenizer: Tokenizer) -> list[str]:
        """The sampled tokens as text, one piece per token; tokens that are parts of one
        character (a byte-level BPE splits 年 into <e5 b9> and <b4>) are held together as one
        piece, and bytes still waiting for the rest of their character are shown as the
        Tokens panel shows them, "<e5 b9>", never as "�"."""
        out: list[str] = []
        pending = b""
        for token in self.gen_ids:
            data = tokenizer.piece_bytes(token)
            if not data:  # the unknown id: as the engine decodes it
                if pending:
                    out.append(readable(pending))
                    pending = b""
                out.append(tokenizer.decode(np.array([token], dtype=np.int64)))
                continue
            pending += data
            try:
                out.append(pending.decode("utf-8"))
            except UnicodeDecodeError as exc:
                if exc.reason == "unexpected end of data":
                    continue  # the next token may complete the character
                out.append(readable(pending))
            pending = b""
        if pending:
            out.append(readable(pending))
        return out

    def bars(self, tokenizer: Tokenizer | None, sampling: dict) -> Bars:
        """The candidates to draw: re-shaped by `sampling` when the logits are here, else as
        the engine sampled them; the sampled token is always among them."""
        if tokenizer is None:
            return Bars()
        last = self.last
        if self.has_logits():
            probs = next_token_probs(self.logits.values, **sampling).numpy()
            order = np.argsort(-probs, kind="stable")[:TOP_N]
            cands = [(int(i), tokenizer.piece(int(i)), float(probs[i])) for i in order
                     if probs[i] > 0]
            if last is not None and last.token_id not in [c[0] for c in cands]:
                j = last.token_id
                cands.append((j, tokenizer.piece(j), float(probs[j])))
            live = True
        elif last is not None:
            cands = list(last.candidates)
            if last.token_id not in [c[0] for c in cands]:
                cands.append((last.token_id, last.piece, last.prob))
            live = False
        else:
            return Bars()
        chosen = None
        if last is not None:
            chosen = next((i for i, c in enumerate(cands) if c[0] == last.token_id), None)
        return Bars(np.array([c[2] for c in cands], dtype=np.float64), [c[1] for c in cands],
                    chosen, live)
