"""Explicit (visible or audible) labels: text prompts, image plates, the audio rhythm cue, video overlays."""
