"""Pure, batched, device-agnostic tensor functions: resizing, color conversion, quality."""
