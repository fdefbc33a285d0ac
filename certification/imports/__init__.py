"""CSV imports of candidates, credits and results: parse, preview, then commit all or nothing."""
