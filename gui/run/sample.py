"""The text a model writes after the context at each evaluation (run on a helper thread)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Generator

from engine.model.decoder import GPT
from engine.text.tokenizers import Tokenizer

TEMPERATURE, TOP_K = 0.8, 40


@dataclass(frozen=True)
class Sample:
    """What the weights of evaluation `step` wrote, and what each token cost to write."""

    step: int
    text: str
    s_per_token: float


def sample_text(model: GPT, tokenizer: Tokenizer, prompt: str, n: int, seed: int, step: int
                ) -> Generator[None, None, Sample]:
    """Generate `n` tokens after `prompt`; yields after each, so a newer evaluation's sample
    can stop this one there (gui.latest.Latest with supersede)."""
    from engine.model.sample import generate

    t0 = time.perf_counter()
    text = ""
    for sampled in generate(model, tokenizer, prompt, max_new_tokens=n,
                            temperature=TEMPERATURE, top_k=TOP_K, seed=seed, top_n=0):
        text = sampled.text
        yield
    return Sample(step, text, (time.perf_counter() - t0) / max(1, n))
