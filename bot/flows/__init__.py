"""Multi-step conversations, one module each; states are strings so stored conversations survive reordering."""
