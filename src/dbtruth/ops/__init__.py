"""dbtruth ops: whether a live server can be operated and recovered, measured."""
