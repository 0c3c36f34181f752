"""Policy files (YAML) per city, their schema, and pure evaluation functions (no I/O here
except reading the files in `loader`)."""
