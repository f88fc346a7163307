"""Rules of the product, free of Telegram types; they call storage for persistence."""
