// max_pool's 2x2, stride-2 windows, eight at a time in AVX2 registers and four in SSE ones
// (float32 only: the training type). GCC does not vectorise the scalar loop (the windows' pairs
// are interleaved in memory and the indices are 64-bit), which left every CNN's pooling at
// about 9 ns a window.
// The comparisons are the scalar loop's, in its order, lane by lane: torch's rule (val > max or
// isnan(val), the last NaN winning), so the values and the indices are the same bits.
#pragma once
#include <cstdint>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace tapegrad::detail {

#if defined(__AVX2__)
/// One output row: the windows ow in [0, n8) with n8 a multiple of 8, over input rows r0 and
/// r1 (= r0 + W); y and idx are the row's outputs; row is r0's flat offset in its plane.
inline void max_pool_2x2_row(const float* r0, const float* r1, std::int64_t n8, std::int64_t row,
                             std::int64_t W, float* y, std::int64_t* idx) {
  // The even and odd columns of 16 floats, in order: shuffle within the 128-bit halves, then
  // put the halves' 64-bit pieces back in order.
  auto split = [](const float* p, __m256& even, __m256& odd) {
    const __m256 lo = _mm256_loadu_ps(p), hi = _mm256_loadu_ps(p + 8);
    even = _mm256_castpd_ps(_mm256_permute4x64_pd(
        _mm256_castps_pd(_mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0))), 0xD8));
    odd = _mm256_castpd_ps(_mm256_permute4x64_pd(
        _mm256_castps_pd(_mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1))), 0xD8));
  };
  // Which of the four each lane holds: 0 (r0, left), 1 (r0, right), 2 (r1, left), 3.
  auto take = [](__m256 v, __m256& m, __m256i& which, int k) {
    const __m256 t =
        _mm256_or_ps(_mm256_cmp_ps(v, m, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    m = _mm256_blendv_ps(m, v, t);
    which = _mm256_castps_si256(
        _mm256_blendv_ps(_mm256_castsi256_ps(which), _mm256_castsi256_ps(_mm256_set1_epi32(k)), t));
  };
  const __m256i one = _mm256_set1_epi64x(1), width = _mm256_set1_epi64x(W);
  // Each lane's left column, 2 ow: lanes 0-3 and 4-7 of the block, 16 further each block.
  __m256i base_lo = _mm256_add_epi64(_mm256_set1_epi64x(row), _mm256_set_epi64x(6, 4, 2, 0));
  __m256i base_hi = _mm256_add_epi64(base_lo, _mm256_set1_epi64x(8));
  const __m256i step = _mm256_set1_epi64x(16);
  for (std::int64_t ow = 0; ow < n8; ow += 8) {
    __m256 a, b, c, d;
    split(r0 + 2 * ow, a, b);
    split(r1 + 2 * ow, c, d);
    __m256 m = a;
    __m256i which = _mm256_setzero_si256();
    take(b, m, which, 1);
    take(c, m, which, 2);
    take(d, m, which, 3);
    _mm256_storeu_ps(y + ow, m);
    // index = base + (which & 1) + (which >> 1) * W, in 64 bits.
    auto index = [&](__m128i w, __m256i base) {
      const __m256i w64 = _mm256_cvtepi32_epi64(w);
      const __m256i right = _mm256_and_si256(w64, one);
      const __m256i lower = _mm256_and_si256(_mm256_cmpgt_epi64(w64, one), width);
      return _mm256_add_epi64(base, _mm256_add_epi64(right, lower));
    };
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(idx + ow),
                        index(_mm256_castsi256_si128(which), base_lo));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(idx + ow + 4),
                        index(_mm256_extracti128_si256(which, 1), base_hi));
    base_lo = _mm256_add_epi64(base_lo, step);
    base_hi = _mm256_add_epi64(base_hi, step);
  }
}

/// Four windows (ow in [0, 4)) with SSE registers, as max_pool_2x2_row does eight: the rows of
/// a small layer's pooling (B4's second, 8 wide) and the last four of a row of 12.
inline void max_pool_2x2_row4(const float* r0, const float* r1, std::int64_t row, std::int64_t W,
                              float* y, std::int64_t* idx) {
  auto split = [](const float* p, __m128& even, __m128& odd) {
    const __m128 lo = _mm_loadu_ps(p), hi = _mm_loadu_ps(p + 4);
    even = _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    odd = _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
  };
  auto take = [](__m128 v, __m128& m, __m128i& which, int k) {
    const __m128 t = _mm_or_ps(_mm_cmpgt_ps(v, m), _mm_cmpunord_ps(v, v));
    m = _mm_blendv_ps(m, v, t);
    which = _mm_castps_si128(
        _mm_blendv_ps(_mm_castsi128_ps(which), _mm_castsi128_ps(_mm_set1_epi32(k)), t));
  };
  __m128 a, b, c, d;
  split(r0, a, b);
  split(r1, c, d);
  __m128 m = a;
  __m128i which = _mm_setzero_si128();
  take(b, m, which, 1);
  take(c, m, which, 2);
  take(d, m, which, 3);
  _mm_storeu_ps(y, m);
  const __m256i w64 = _mm256_cvtepi32_epi64(which), one = _mm256_set1_epi64x(1);
  const __m256i right = _mm256_and_si256(w64, one);
  const __m256i lower = _mm256_and_si256(_mm256_cmpgt_epi64(w64, one), _mm256_set1_epi64x(W));
  const __m256i base = _mm256_add_epi64(_mm256_set1_epi64x(row), _mm256_set_epi64x(6, 4, 2, 0));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(idx),
                      _mm256_add_epi64(base, _mm256_add_epi64(right, lower)));
}
#endif

}  // namespace tapegrad::detail
