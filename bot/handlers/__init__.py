"""One-shot commands and callbacks."""
