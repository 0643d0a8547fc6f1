"""The bundled suite as a pytest module (``wireplay run`` and ``pytest`` collect it)."""
