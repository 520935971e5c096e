"""Errors a user can act on. The CLI and gateway turn these into one clear line / a 4xx."""


class HeguiError(Exception):
    """Base class: the message is meant for the user, as is."""


class ConfigError(HeguiError):
    """A setting is missing or wrong; the message names the key and what is expected."""


class PolicyError(HeguiError):
    """A policy pack is invalid; one line per bad field."""


class NotFoundError(HeguiError):
    """A named thing (user, lexicon term, case) does not exist."""


class InvalidInputError(HeguiError):
    """Input from a user or operator is malformed; the message says how."""
