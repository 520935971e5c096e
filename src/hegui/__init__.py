"""hegui (合规): the compliance system a generative-AI provider runs under China's Generative AI Measures."""

__version__ = "0.1.0"
