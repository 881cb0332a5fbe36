"""Generating text one token at a time, showing the distribution each token was drawn from.

The sampling knobs act in the usual order: temperature scales the logits, top-k keeps the k most
likely tokens, top-p (nucleus) keeps the smallest set whose probability reaches p.
"""
from __future__ import annotations

import codecs
import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from engine.model.decoder import GPT, eval_mode
from engine.text.tokenizers import Tokenizer


@dataclass
class SampleStep:
    token_id: int  # compact id of the chosen token
    piece: str  # its display piece ("·" for a space, <e6 8e> for partial UTF-8)
    prob: float  # its probability in the distribution it was drawn from
    candidates: list[tuple[int, str, float]]  # top_n (id, piece, prob) of that distribution
    text: str  # the generated text so far (prompt excluded); a character split over tokens
    # appears once all its bytes have arrived, so each text extends the previous one


def _check_sampling(temperature: float, top_k: int | None, top_p: float | None) -> None:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not (
        math.isfinite(temperature) and temperature >= 0
    ):
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature!r}")
    if top_k is not None and (
        isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1
    ):
        raise ValueError(f"top_k must be a positive integer or None, got {top_k!r}")
    if top_p is not None and (
        isinstance(top_p, bool) or not isinstance(top_p, (int, float)) or not 0 < top_p <= 1
    ):
        raise ValueError(f"top_p must be in (0, 1] or None, got {top_p!r}")


def next_token_probs(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> torch.Tensor:
    """logits (V,) -> probabilities (V,) after temperature, top-k and top-p; 0 = greedy."""
    _check_sampling(temperature, top_k, top_p)
    if logits.ndim != 1 or logits.numel() == 0:
        raise ValueError(f"logits must have shape (V,), got {tuple(logits.shape)}")
    logits = logits.detach().double()  # (V,) float64: cumulative sums near p stay exact
    if torch.isnan(logits).any() or not torch.isfinite(logits).any():
        raise ValueError("logits contain NaN or are all -inf; the model is broken")
    if temperature == 0:
        probs = torch.zeros_like(logits)
        probs[torch.argmax(logits)] = 1.0  # the first maximum, like argmax everywhere
        return probs.float()
    probs = F.softmax(logits / temperature, dim=-1)  # (V,)
    if top_k is not None and top_k < probs.numel():
        keep = torch.zeros_like(probs, dtype=torch.bool)
        keep[torch.topk(probs, top_k).indices] = True  # exactly k, even with ties
        probs = torch.where(keep, probs, 0.0)
        probs = probs / probs.sum()
    if top_p is not None and top_p < 1:
        sorted_probs, order = torch.sort(probs, descending=True, stable=True)  # (V,), (V,)
        before = torch.cumsum(sorted_probs, dim=0) - sorted_probs  # mass of the tokens ahead
        keep_sorted = before < top_p  # the smallest prefix whose mass reaches p
        keep = torch.zeros_like(keep_sorted)
        keep[order] = keep_sorted
        probs = torch.where(keep, probs, 0.0)
        probs = probs / probs.sum()
    return probs.float()


class _TextSoFar:
    """Decoded continuation; bytes of an unfinished UTF-8 character wait for the next token."""

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer
        self.ids: list[int] = []
        self.text = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def add(self, token_id: int, final: bool) -> str:
        self.ids.append(token_id)
        if self.tokenizer.kind == "char":  # one token is one whole character
            self.text = self.tokenizer.decode(np.array(self.ids, dtype=np.int64))
        elif token_id == self.tokenizer.unk_id:
            # As Tokenizer.decode does: an unknown id ends the byte run and shows as U+FFFD.
            self.text += self._decoder.decode(b"", final=True) + "\ufffd"
            self._decoder.reset()
        else:
            self.text += self._decoder.decode(self.tokenizer.piece_bytes(token_id), final=final)
        if final:
            self.text += self._decoder.decode(b"", final=True)
        return self.text


def start_ids(tokenizer: Tokenizer, prompt: str) -> list[int]:
    """The ids a prompt starts from: as the model's own tokenizer writes a prompt (its BOS, its
    special tokens written as text) where it has one (tokenizer.json), else the plain ids; an
    empty prompt starts from a newline if the vocabulary has one, else []."""
    own = getattr(tokenizer, "encode_prompt", None)
    ids = (own(prompt) if own is not None else tokenizer.encode(prompt)).tolist()
    if not ids or ids == [getattr(tokenizer, "bos_id", None)]:
        newline = tokenizer.encode("\n").tolist()
        if newline and getattr(tokenizer, "unk_id", None) not in newline:
            return ids + newline
    return ids


def end_id(tokenizer: Tokenizer) -> int | None:
    """The model's end-of-text token, where generation stops (None: it runs to its count)."""
    return getattr(tokenizer, "eos_id", None)


def generate(
    model: GPT,
    tokenizer: Tokenizer,
    prompt: str,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    top_n: int = 10,
) -> Iterator[SampleStep]:
    """Sample up to max_new_tokens after `prompt`, one SampleStep per token.

    A private generator draws the tokens, so a fixed seed repeats and the global RNG is
    untouched. An empty prompt starts from a newline if the vocabulary has one.
    """
    _check_sampling(temperature, top_k, top_p)
    if (isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int)
            or max_new_tokens < 0):
        raise ValueError(f"max_new_tokens must be an integer >= 0, got {max_new_tokens!r}")
    if top_n < 0:
        raise ValueError(f"top_n must be >= 0, got {top_n}")
    ids = start_ids(tokenizer, prompt)
    if not ids:
        raise ValueError("prompt is empty")
    generator = torch.Generator()
    if seed is None:
        generator.seed()  # fresh entropy, still without touching the global RNG
    else:
        generator.manual_seed(seed)
    # Validated eagerly above; the loop runs as the caller iterates.
    return _generate(model, tokenizer, ids, max_new_tokens, temperature, top_k, top_p,
                     generator, top_n)


def _generate(
    model: GPT,
    tokenizer: Tokenizer,
    ids: list[int],
    max_new_tokens: int,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
    generator: torch.Generator,
    top_n: int,
) -> Iterator[SampleStep]:
    device = next(model.parameters()).device
    T = model.config.context_length
    text = _TextSoFar(tokenizer)
    stop_at = end_id(tokenizer)
    for i in range(max_new_tokens):
        idx = torch.tensor([ids[-T:]], dtype=torch.long, device=device)  # (1, <=T) cropped
        # Eval mode only for this forward, so the model is never left switched between yields.
        with eval_mode(model), torch.no_grad():
            logits, _ = model(idx)  # (1, t, V)
        # Rows past the tokenizer (a table larger than the vocabulary) are never chosen.
        last = logits[0, -1, : tokenizer.vocab_size].cpu()  # (V,)
        probs = next_token_probs(last, temperature, top_k, top_p)  # (V,)
        token = int(torch.multinomial(probs, 1, generator=generator))
        ids.append(token)
        values, order = torch.topk(probs, min(top_n, probs.numel()))
        candidates = [
            (int(j), tokenizer.piece(int(j)), float(p))
            for p, j in zip(values.tolist(), order.tolist())
            if p > 0
        ]
        yield SampleStep(
            token_id=token,
            piece=tokenizer.piece(token),
            prob=float(probs[token]),
            candidates=candidates,
            text=text.add(token, final=i == max_new_tokens - 1 or token == stop_at),
        )
        if token == stop_at:  # the model ended its text with its own end token
            return
