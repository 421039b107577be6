// Shape: a tensor's sizes, held inline. Every op makes at least one shape and every recorded op
// copies one into its tape entry; as a std::vector each of those was a heap allocation and a
// free, a large part of a small op's cost. Up to kInline dims live in the object itself; more
// spill to the heap, so any rank works. It reads as the std::vector<std::int64_t> it once was
// (the same members, and conversions both ways).
#pragma once
#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <vector>

namespace tapegrad {

/// Sizes of each dimension, outermost first (row-major). A vector of int64 with the first
/// kInline sizes stored inline: copying a shape of rank <= 6 never allocates.
class Shape {
 public:
  /// std::vector's member types.
  ///@{
  using value_type = std::int64_t;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = std::int64_t&;
  using const_reference = const std::int64_t&;
  using pointer = std::int64_t*;
  using const_pointer = const std::int64_t*;
  using iterator = std::int64_t*;
  using const_iterator = const std::int64_t*;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;
  ///@}
  /// Dims stored without a heap allocation (5-D conv inputs and one more).
  static constexpr size_type kInline = 6;

  Shape() noexcept = default;
  /// Shape{2, 3}: these sizes.
  Shape(std::initializer_list<std::int64_t> dims) { assign(dims.begin(), dims.end()); }
  /// n dims, each value (as std::vector's).
  explicit Shape(size_type n, std::int64_t value = 0) { assign(n, value); }
  /// The sizes in [first, last).
  template <std::input_iterator It>
  Shape(It first, It last) {
    assign(first, last);
  }
  /// The sizes of a vector (implicit: code written for std::vector shapes keeps compiling).
  Shape(const std::vector<std::int64_t>& dims) { assign(dims.begin(), dims.end()); }
  /// Copies, moves (a moved-from shape is empty) and assignment, as std::vector's.
  ///@{
  Shape(const Shape& other) { assign(other.begin(), other.end()); }
  Shape(Shape&& other) noexcept { take(other); }
  Shape& operator=(const Shape& other) {
    if (this != &other) assign(other.begin(), other.end());
    return *this;
  }
  Shape& operator=(Shape&& other) noexcept {
    if (this != &other) {
      free_heap();
      take(other);
    }
    return *this;
  }
  Shape& operator=(std::initializer_list<std::int64_t> dims) {
    assign(dims.begin(), dims.end());
    return *this;
  }
  ~Shape() { free_heap(); }
  ///@}

  /// The sizes as a std::vector (implicit, as Shape was one).
  operator std::vector<std::int64_t>() const { return {begin(), end()}; }

  /// Size, storage and iterators, as std::vector's (data() stays valid until the shape grows).
  ///@{
  size_type size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  size_type capacity() const noexcept { return cap_; }
  std::int64_t* data() noexcept { return data_; }
  const std::int64_t* data() const noexcept { return data_; }

  iterator begin() noexcept { return data_; }
  iterator end() noexcept { return data_ + size_; }
  const_iterator begin() const noexcept { return data_; }
  const_iterator end() const noexcept { return data_ + size_; }
  const_iterator cbegin() const noexcept { return begin(); }
  const_iterator cend() const noexcept { return end(); }
  reverse_iterator rbegin() noexcept { return reverse_iterator(end()); }
  reverse_iterator rend() noexcept { return reverse_iterator(begin()); }
  const_reverse_iterator rbegin() const noexcept { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const noexcept { return const_reverse_iterator(begin()); }
  ///@}

  /// The size of dim i (unchecked).
  ///@{
  std::int64_t& operator[](size_type i) noexcept { return data_[i]; }
  const std::int64_t& operator[](size_type i) const noexcept { return data_[i]; }
  ///@}
  /// operator[] with a bounds check (std::out_of_range).
  std::int64_t& at(size_type i) {
    if (i >= size_) throw std::out_of_range("Shape::at: index past the last dim");
    return data_[i];
  }
  /// operator[] with a bounds check (std::out_of_range).
  const std::int64_t& at(size_type i) const { return const_cast<Shape&>(*this).at(i); }
  /// The first and the last dim's size (the shape must not be empty).
  ///@{
  std::int64_t& front() noexcept { return data_[0]; }
  const std::int64_t& front() const noexcept { return data_[0]; }
  std::int64_t& back() noexcept { return data_[size_ - 1]; }
  const std::int64_t& back() const noexcept { return data_[size_ - 1]; }
  ///@}

  /// Growing and shrinking, as std::vector's: new dims from resize are value (0).
  ///@{
  void reserve(size_type n) {
    if (n > cap_) grow(n);
  }
  void clear() noexcept { size_ = 0; }
  void resize(size_type n, std::int64_t value = 0) {
    reserve(n);
    if (n > size_) std::fill(data_ + size_, data_ + n, value);
    size_ = n;
  }
  void assign(size_type n, std::int64_t value) {
    clear();
    resize(n, value);
  }
  template <std::input_iterator It>
  void assign(It first, It last) {
    clear();
    if constexpr (std::forward_iterator<It>) {  // every copy of a shape: one block copy
      const auto n = static_cast<size_type>(std::distance(first, last));
      reserve(n);
      std::copy(first, last, data_);
      size_ = n;
    } else {
      for (; first != last; ++first) push_back(*first);
    }
  }
  void push_back(std::int64_t d) {
    if (size_ == cap_) grow(2 * cap_);
    data_[size_++] = d;
  }
  std::int64_t& emplace_back(std::int64_t d) {
    push_back(d);
    return back();
  }
  void pop_back() noexcept { --size_; }
  ///@}

  /// Inserts value before pos; returns an iterator to it.
  iterator insert(const_iterator pos, std::int64_t value) {
    return insert(pos, size_type{1}, value);
  }
  /// Inserts n copies of value before pos.
  iterator insert(const_iterator pos, size_type n, std::int64_t value) {
    const size_type at = open_gap(pos, n);
    std::fill(data_ + at, data_ + at + n, value);
    return data_ + at;
  }
  /// Inserts [first, last) before pos (a range from another container).
  template <std::forward_iterator It>
  iterator insert(const_iterator pos, It first, It last) {
    const size_type n = static_cast<size_type>(std::distance(first, last));
    const size_type at = open_gap(pos, n);
    std::copy(first, last, data_ + at);
    return data_ + at;
  }
  /// Inserts the listed sizes before pos.
  iterator insert(const_iterator pos, std::initializer_list<std::int64_t> dims) {
    return insert(pos, dims.begin(), dims.end());
  }
  /// Removes the dim at pos; returns the iterator after it.
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }
  /// Removes the dims in [first, last); returns the iterator after them.
  iterator erase(const_iterator first, const_iterator last) {
    const auto at = first - data_, n = last - first;
    std::copy(data_ + at + n, data_ + size_, data_ + at);
    size_ -= static_cast<size_type>(n);
    return data_ + at;
  }

  /// Exchanges the two shapes' sizes.
  void swap(Shape& other) noexcept {
    Shape tmp(std::move(other));
    other = std::move(*this);
    *this = std::move(tmp);
  }

  /// Same rank and sizes.
  friend bool operator==(const Shape& a, const Shape& b) noexcept {
    // A loop, not std::equal: that becomes a call to memcmp, which costs more than the few
    // sizes a shape has (every op compares several).
    if (a.size_ != b.size_) return false;
    for (size_type i = 0; i < a.size_; ++i)
      if (a.data_[i] != b.data_[i]) return false;
    return true;
  }
  /// Lexicographic order of the sizes, as std::vector's.
  friend std::strong_ordering operator<=>(const Shape& a, const Shape& b) noexcept {
    return std::lexicographical_compare_three_way(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  bool on_heap() const noexcept { return data_ != inline_; }
  void free_heap() noexcept {
    if (on_heap()) std::allocator<std::int64_t>().deallocate(data_, cap_);
  }
  // Steals other's heap block, or copies its inline dims; other is left empty.
  void take(Shape& other) noexcept {
    if (other.on_heap()) {
      data_ = other.data_;
      cap_ = other.cap_;
      other.data_ = other.inline_;
      other.cap_ = kInline;
    } else {
      data_ = inline_;
      cap_ = kInline;
      std::copy(other.begin(), other.end(), inline_);
    }
    size_ = other.size_;
    other.size_ = 0;
  }
  void grow(size_type n) {
    n = std::max(n, kInline);
    std::int64_t* block = std::allocator<std::int64_t>().allocate(n);
    std::copy(begin(), end(), block);
    free_heap();
    data_ = block;
    cap_ = n;
  }
  // Moves [pos, end) n places right; returns pos's index.
  size_type open_gap(const_iterator pos, size_type n) {
    const auto at = static_cast<size_type>(pos - data_);
    reserve(size_ + n);
    std::copy_backward(data_ + at, data_ + size_, data_ + size_ + n);
    size_ += n;
    return at;
  }

  std::int64_t* data_ = inline_;
  size_type size_ = 0;
  size_type cap_ = kInline;
  std::int64_t inline_[kInline];
};

/// a.swap(b), found by std::swap-style unqualified calls.
inline void swap(Shape& a, Shape& b) noexcept { a.swap(b); }

/// Removes every dim equal to value (as std::erase on a vector); returns how many.
inline Shape::size_type erase(Shape& s, std::int64_t value) {
  const auto it = std::remove(s.begin(), s.end(), value);
  const auto n = static_cast<Shape::size_type>(s.end() - it);
  s.erase(it, s.end());
  return n;
}

}  // namespace tapegrad
