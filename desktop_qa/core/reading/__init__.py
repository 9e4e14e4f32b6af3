"""Stage 3, reading: a question over ranked passages becomes answers.

``query`` validates a question; ``engine.answer`` is the one door (keyword answers
without a pack, else the reader); ``loop`` is the bounded reading loop; ``reader``
runs the extractive model (onnxruntime) and ``spans`` scores its spans; ``results``
holds what a question produces and ``export`` writes it out; ``pack`` loads model
packs; ``evaluate`` and ``squad`` score a pack on SQuAD 2.0.
"""
