"""The Training form's fields, described once: the model's sizes and choices, the architectures
(engine.model.presets), the training settings, and the texts of "continue training". Every
string is marked for translation in the TrainingForm context and translated when shown.
"""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP

from engine.config import ACTIVATIONS, NORMS, POSITIONAL, ModelConfig, TrainConfig

CTX = "TrainingForm"  # the translation context of every string below

# Form fields: (key, label, kind, default, min, max, tooltip). Defaults are the article's.
# d_model and d_ff are the articles' symbols: the same in every language, not translated.
_M, _T = ModelConfig(), TrainConfig()
MODEL_FIELDS = [
    ("d_model", "d_model", int, _M.d_model, 4, 2048,
     QT_TRANSLATE_NOOP("TrainingForm", "width of every token vector")),
    ("n_head", QT_TRANSLATE_NOOP("TrainingForm", "heads"), int, _M.n_head, 1, 64,
     QT_TRANSLATE_NOOP("TrainingForm", "attention heads; d_model must divide by it")),
    ("n_layer", QT_TRANSLATE_NOOP("TrainingForm", "layers"), int, _M.n_layer, 1, 64,
     QT_TRANSLATE_NOOP("TrainingForm", "transformer blocks stacked")),
    ("context_length", QT_TRANSLATE_NOOP("TrainingForm", "context"), int, _M.context_length,
     2, 4096, QT_TRANSLATE_NOOP("TrainingForm", "tokens the model sees (T)")),
    ("d_ff", "d_ff", int, _M.d_ff, 4, 16384,
     QT_TRANSLATE_NOOP("TrainingForm", "hidden width of the feed-forward network")),
    ("dropout", QT_TRANSLATE_NOOP("TrainingForm", "dropout"), float, _M.dropout, 0.0, 0.9,
     QT_TRANSLATE_NOOP("TrainingForm", "dropout while training")),
]
MODEL_CHOICES = [
    ("positional", QT_TRANSLATE_NOOP("TrainingForm", "positional"), POSITIONAL, _M.positional),
    ("norm", QT_TRANSLATE_NOOP("TrainingForm", "norm"), NORMS, _M.norm),
    ("activation", QT_TRANSLATE_NOOP("TrainingForm", "activation"), ACTIVATIONS, _M.activation),
]
# What a choice's value is called in the box (the value itself is the item's data). relu and
# gelu are function names and read the same in every language.
# The architectures (engine.model.presets): what each is called in the box. GPT-2 and Llama are
# names, the same in every language.
ARCH_NAMES = {"gpt": QT_TRANSLATE_NOOP("TrainingForm", "GPT (the articles)"), "gpt2": "GPT-2",
              "llama": "Llama"}
ARCH_TIP = QT_TRANSLATE_NOOP(
    "TrainingForm", "GPT: the articles' model, its parts chosen below. GPT-2: pre-norm, learned "
    "positions, GELU, tied. Llama: RMSNorm, rotary positions, SwiGLU, no biases, grouped K/V "
    "heads")
KV_TIP = QT_TRANSLATE_NOOP(
    "TrainingForm", "key/value heads, each shared by a group of query heads (grouped-query "
    "attention); heads must divide by it")
CHOICE_NAMES = {
    "sinusoidal": QT_TRANSLATE_NOOP("TrainingForm", "sinusoidal"),
    "learned": QT_TRANSLATE_NOOP("TrainingForm", "learned"),
    "pre": QT_TRANSLATE_NOOP("TrainingForm", "pre"),
    "post": QT_TRANSLATE_NOOP("TrainingForm", "post"),
}
TRAIN_FIELDS = [
    ("batch_size", QT_TRANSLATE_NOOP("TrainingForm", "batch"), int, _T.batch_size, 1, 4096,
     QT_TRANSLATE_NOOP("TrainingForm", "windows per step (B)")),
    ("steps", QT_TRANSLATE_NOOP("TrainingForm", "steps"), int, _T.steps, 1, 10_000_000,
     QT_TRANSLATE_NOOP("TrainingForm", "optimizer steps in total")),
    ("lr", QT_TRANSLATE_NOOP("TrainingForm", "learning rate"), float, _T.lr, 1e-6, 1.0,
     QT_TRANSLATE_NOOP("TrainingForm", "peak learning rate (cosine decay to lr/10)")),
    ("warmup_steps", QT_TRANSLATE_NOOP("TrainingForm", "warm-up"), int, _T.warmup_steps, 0,
     1_000_000, QT_TRANSLATE_NOOP("TrainingForm", "linear warm-up steps")),
    ("eval_interval", QT_TRANSLATE_NOOP("TrainingForm", "eval every"), int, _T.eval_interval, 1,
     1_000_000, QT_TRANSLATE_NOOP("TrainingForm", "steps between evaluations and samples")),
    ("seed", QT_TRANSLATE_NOOP("TrainingForm", "seed"), int, _T.seed, 0, 2**31 - 1,
     QT_TRANSLATE_NOOP("TrainingForm", "same seed, same run")),
]
CONTINUE = QT_TRANSLATE_NOOP("TrainingForm",
                             "Continue training the current model (steps = more steps)")
CONTINUE_TIP = QT_TRANSLATE_NOOP(
    "TrainingForm", "Keep training the model shown on the open text: from its saved optimizer "
    "state and step when it has them, otherwise (a nanoGPT or Hugging Face model) fine-tuning its "
    "weights with a new optimizer. Its architecture and tokenizer stay; the training settings "
    "apply from here on.")
NO_CONTINUE_TIP = QT_TRANSLATE_NOOP(
    "TrainingForm", "Available after a training run, or for a model file saved after training "
    "(it holds the optimizer state). A new model, or one saved without that state such as the "
    "bundled model, starts with Start.")
