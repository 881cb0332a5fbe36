"""The engine: everything the app computes, in pure PyTorch/NumPy; it never imports Qt or gui.

Its packages, each importing only those below it (import-linter holds this; see pyproject):

    engine.cli        the headless command line
    engine.training   the trainer, the run driver, run directories, DDP, the window's job
    engine.storage    checkpoints, imported models (nanoGPT, Hugging Face), exports, output paths
    engine.model      the decoder and its components, the traced forward, the step registry and
                      its float64 checks, the lens, generation
    engine.text       text files, tokenizers, token files, the corpus
    engine.config, engine.devices, engine.wording
                      the configs, the devices, and the words every layer may use
"""
