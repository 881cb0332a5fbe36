"""What is read from and written to disk as a model: our checkpoints (`checkpoint`), other
programs' models (`imports`: nanoGPT, Hugging Face; and the Hugging Face export), step exports
(`export`) and the output-path rules that never overwrite a user's file (`outputs`).

May import engine.model, engine.text and the base modules; never engine.training or engine.cli.
"""
