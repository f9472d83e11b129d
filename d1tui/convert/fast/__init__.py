"""Optional accelerators: block-wise converters writing the exact path's bytes, or declining."""
