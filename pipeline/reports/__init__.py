"""The reports stage: the headline numbers with their intervals (`headlines`), what changed
between runs (`diff`), the venue-year report and its charts, the review sample and verdicts,
one paper explained, and the yearly trend."""
