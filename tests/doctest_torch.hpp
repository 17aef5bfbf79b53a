#pragma once
// doctest, after LibTorch's headers (glog's CHECK must not replace doctest's),
// with a printer for tensor shapes. Compare dtypes inside double parentheses:
// c10::toString(ScalarType) returns a const char*, which doctest cannot print.
#include <ATen/ATen.h>

#include <sstream>

#include <doctest/doctest.h>

namespace doctest {
template <>
struct StringMaker<c10::IntArrayRef> {
  static String convert(c10::IntArrayRef sizes) {
    std::ostringstream text;
    text << sizes;
    return text.str().c_str();
  }
};
}  // namespace doctest
