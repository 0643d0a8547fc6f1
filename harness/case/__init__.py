"""Case files: loading, validation and the typed model."""
