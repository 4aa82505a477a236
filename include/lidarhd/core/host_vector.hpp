// HostVector<T>: a std::vector whose resize leaves new elements of a trivial type unwritten.
// Large outputs (a 20 M-point tile's feature table is a gigabyte) are then first written by the
// parallel code that fills them: the first write of a page is its page fault and the kernel's
// zeroing, which a serial value-initialisation would otherwise do on one core.
#pragma once

#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace lidarhd {

template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() noexcept = default;
  template <class U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}

  // Default-initialisation where a std::allocator value-initialises (zeroes).
  template <class U>
  void construct(U* p) noexcept(noexcept(U())) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

template <class T, class U>
bool operator==(const DefaultInitAllocator<T>&, const DefaultInitAllocator<U>&) noexcept {
  return true;
}
template <class T, class U>
bool operator!=(const DefaultInitAllocator<T>&, const DefaultInitAllocator<U>&) noexcept {
  return false;
}

template <class T>
using HostVector = std::vector<T, DefaultInitAllocator<T>>;

}  // namespace lidarhd
