"""Library code of the pipeline: pure functions, no file I/O except in `io`."""
