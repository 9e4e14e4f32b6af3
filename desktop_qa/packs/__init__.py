"""Building, installing and downloading model packs (not needed to answer questions)."""
