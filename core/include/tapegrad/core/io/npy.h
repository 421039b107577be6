// NumPy's .npy and .npz files, for exchanging arrays with Python scripts.
#pragma once
#include <string>

#include "tapegrad/core/io/tensor_dict.h"

namespace tapegrad::io {

/// The array in a .npy file (format versions 1.0 to 3.0), in C or Fortran order, little- or
/// big-endian. float32 and float64 load as themselves; float16 widens to float32; bool, int8,
/// uint8, int16, uint16, int32, uint32 and int64 load as int64 (tapegrad's integer dtype).
/// Every other dtype (uint64, complex, strings, objects, structured) is refused by name, as
/// is a header that is not NumPy's dict literal, a shape whose data the file does not hold,
/// and bytes after the data. Errors are IoError naming the file and what was wrong.
Tensor load_npy(const std::string& path);
/// Writes t as a version 1.0 .npy file (little-endian, C order), atomically.
void save_npy(const Tensor& t, const std::string& path);

/// The arrays in a .npz file (np.savez or np.savez_compressed), named without ".npy", in the
/// archive's order; each entry is read as load_npy reads a file.
TensorDict load_npz(const std::string& path);
/// Writes arrays as a .npz file (each as "<name>.npy"), deflated when compressed, atomically.
/// Names must be non-empty and distinct.
void save_npz(const TensorDict& arrays, const std::string& path, bool compressed = false);

}  // namespace tapegrad::io
