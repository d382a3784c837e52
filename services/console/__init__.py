"""The organisers' console's own logic, with no I/O: definition diffs, roster imports, templates."""
