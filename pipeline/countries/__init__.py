"""The country stage: the one place where an author-affiliation row's country is decided
(`decision`), and what is counted from those decisions."""
