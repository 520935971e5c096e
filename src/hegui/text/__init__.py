"""Text normalisation against evasion, with offsets back to the original text.

``Normalizer(steps).normalize(text)`` → ``NormalizedText`` (``.original``, ``.text``,
``.span_to_original(start, end)``). Knows nothing about risk categories.
"""

from hegui.text.normalize import NormalizedText, Normalizer

__all__ = ["NormalizedText", "Normalizer"]
