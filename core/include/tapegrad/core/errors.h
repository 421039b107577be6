// The exceptions tapegrad throws: one type per kind of user error.
// Messages read "<op>: <what is wrong>: <observed values>[; hint]".
#pragma once
#include <stdexcept>
#include <string>

namespace tapegrad {

/// Base of every tapegrad error, so callers can catch them all at once.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// Shapes that do not fit the op (inner sizes of a matmul, broadcasting, a view).
struct ShapeError : Error {
  using Error::Error;
};
/// A value out of range: a bad argument, a wrong dtype, an index past the end.
struct ValueError : Error {
  using Error::Error;
};
/// An operation not allowed in the current state (backward through a released graph).
struct StateError : Error {
  using Error::Error;
};
/// A NaN or Inf caught by anomaly mode.
struct AnomalyError : Error {
  using Error::Error;
};
/// A file that cannot be read or written, or whose contents are malformed.
struct IoError : Error {
  using Error::Error;
};

}  // namespace tapegrad
