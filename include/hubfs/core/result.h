// Result<T>: a value or a Status, with the surface of std::expected<T, Status> (has_value(),
// value(), error(), operator*, operator->) so moving to C++23 is mechanical.
//
// Thread-safety: like T.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "hubfs/core/status.h"

namespace hubfs {

template <typename T>
class Result {
 public:
  // Implicit on purpose: `return value;` and `return status;` both work.
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Status status) : v_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    assert(!std::get<1>(v_).ok() && "Result built from an OK Status");
  }

  bool has_value() const noexcept { return v_.index() == 0; }
  bool ok() const noexcept { return has_value(); }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T value_or(T fallback) const& { return has_value() ? value() : std::move(fallback); }

  // The error; an OK Status when a value is held.
  Status status() const { return has_value() ? Status() : std::get<1>(v_); }
  const Status& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace hubfs

#define HUBFS_CONCAT_INNER_(a, b) a##b
#define HUBFS_CONCAT_(a, b) HUBFS_CONCAT_INNER_(a, b)
// HUBFS_ASSIGN_OR_RETURN(auto x, Foo()); returns Foo()'s Status from the enclosing function on error.
#define HUBFS_ASSIGN_OR_RETURN(lhs, expr) \
  HUBFS_ASSIGN_OR_RETURN_IMPL_(HUBFS_CONCAT_(hubfs_result_, __LINE__), lhs, expr)
#define HUBFS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.has_value()) return tmp.error();          \
  lhs = std::move(tmp).value()
