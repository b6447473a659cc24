"""Rules of the truth family: the data authority map of dbtruth.yaml."""
