"""Views: thin, function-based; objects come through the access helpers."""
