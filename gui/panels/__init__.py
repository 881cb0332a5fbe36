"""One module per panel; each panel is a QWidget taking the shared `Session` in its constructor."""
