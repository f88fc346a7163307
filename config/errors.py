"""The single error type for bad configuration: one line naming the key and the problem."""


class ConfigError(Exception):
    """A configuration problem, worded for the person installing the bot."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem
