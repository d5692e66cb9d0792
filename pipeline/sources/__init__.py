"""Paper sources: each turns one venue-year into `Paper` records and `IngestError`s."""
