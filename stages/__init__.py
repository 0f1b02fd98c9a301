"""The pipeline's DVC stages, one module each (`python -m stages.<name>`); the library is in `lib`."""
