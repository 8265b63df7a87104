"""How the process's allocator keeps freed memory, for training on a CPU.

glibc hands every block over its mmap threshold (128 KiB at first, raised by frees up to 32 MiB)
back to the kernel when it is freed, and a training step allocates and frees the same activation
buffers every step: each step then faults them in again page by page. On one CPU core that was
13 of 83 s of a 250-step run of `make train`'s net spent in the kernel (1 s with the blocks kept).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD_MAX = 32 * 2**20  # glibc's ceiling on 64-bit: larger blocks are mapped still
TRIM_THRESHOLD = 2**31 - 1  # free heap top kept up to 2 GiB (an int: mallopt's argument)


def keep_freed_blocks() -> bool:
    """Blocks up to 32 MiB come from the heap and freed ones stay there for the next step (glibc
    only; elsewhere nothing changes). Returns whether the allocator took the settings."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    return bool(
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX)
        and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
