"""Text and tokens: reading text files safely (`textfile`, `filetype`), tokenizers (`tokenizers`,
`bpe`, `fullvocab`), cached token files (`tokenfile`) and the training corpus (`corpus`).

The lowest package: it imports only the base modules (engine.config, engine.devices,
engine.wording), never the model, storage or training.
"""
