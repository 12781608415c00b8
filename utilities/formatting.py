def file_size_label(n):
    """A byte count as people read it: “25.3 MB”, “800 KB”, “12 字节”."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} 字节"
