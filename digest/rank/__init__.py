"""Ranking: one analyzer, one alert language, one vectorized BM25F scorer, one explainer.

Every surface (email, feeds, web preview, CLI search) calls these; nothing ranks elsewhere.
"""
