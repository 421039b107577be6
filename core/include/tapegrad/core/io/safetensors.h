// safetensors files (Hugging Face's format: an 8-byte little-endian header size, a JSON header
// naming each tensor's dtype, shape and byte range, then the bytes).
#pragma once
#include <map>
#include <string>

#include "tapegrad/core/io/tensor_dict.h"

namespace tapegrad::io {

/// The tensors of a .safetensors file, in the order of their bytes in the file. F32 and F64
/// load as themselves; F16 and BF16 widen exactly to float32; BOOL, U8, I8, I16, U16, I32,
/// U32 and I64 load as int64 (tapegrad's integer dtype); U64 and other dtypes are refused by
/// name. Checked before anything is read: the header size against the file (and at most
/// 100 MB, as the format requires), each entry's dtype x shape against its byte range, and the
/// ranges themselves (inside the file, in order, without gaps or overlaps). Errors are IoError
/// naming the file and the tensor.
TensorDict load_safetensors(const std::string& path);
/// The header's "__metadata__" (string to string; empty when there is none), checked as above.
std::map<std::string, std::string> load_safetensors_metadata(const std::string& path);
/// Writes tensors (names non-empty and distinct) with optional metadata, atomically, in the
/// layout Hugging Face's writer uses: header padded to 8 bytes, data in the dict's order.
void save_safetensors(const TensorDict& tensors, const std::string& path,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace tapegrad::io
