// A move-only, type-erased `void()` callable with inline storage, the unit of work loops queue.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace loopvisor::detail {

/// Logs a failure of a user callback that has no caller to report to (future_state.cpp).
void report_callback_failure(const char* where, const char* what) noexcept;

/// Holds any move-constructible callable `f` with `f()` valid. Callables of up to
/// `inline_size` bytes (and no stricter than pointer alignment) live inline, larger ones on
/// the heap. Unlike std::function it accepts move-only callables (futures, coroutines).
///
/// Thread safety: distinct objects safe; a shared object is not.
class Callback {
 public:
  static constexpr std::size_t inline_size = 48;

  Callback() noexcept = default;

  template <class F, class D = std::decay_t<F>,
            class = std::enable_if_t<!std::is_same_v<D, Callback> && std::is_invocable_v<D&>>>
  Callback(F&& f) {  // NOLINT(google-explicit-constructor): a callable converts like std::function
    if constexpr (fits_inline<D>()) {
      ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
      ops_ = &inline_ops<D>;
    } else {
      auto* p = new D(std::forward<F>(f));
      ::new (static_cast<void*>(storage_)) D*(p);
      ops_ = &heap_ops<D>;
    }
  }

  Callback(Callback&& other) noexcept : ops_(other.ops_) {
    if (ops_ != nullptr) {
      ops_->relocate(storage_, other.storage_);
      other.ops_ = nullptr;
    }
  }

  Callback& operator=(Callback&& other) noexcept {
    if (this != &other) {
      reset();
      ops_ = other.ops_;
      if (ops_ != nullptr) {
        ops_->relocate(storage_, other.storage_);
        other.ops_ = nullptr;
      }
    }
    return *this;
  }

  Callback(const Callback&) = delete;
  Callback& operator=(const Callback&) = delete;

  ~Callback() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }

  /// Runs the callable. Precondition: not empty.
  void operator()() { ops_->invoke(storage_); }

  /// Runs the callable and destroys it, leaving this empty, whether it returns or throws: one
  /// indirect call where `operator()` then `reset()` make two. Precondition: not empty.
  void consume() {
    const Ops* ops = ops_;
    ops_ = nullptr;
    ops->consume(storage_);
  }

  /// Destroys the held callable, leaving this empty.
  void reset() noexcept {
    if (ops_ != nullptr) {
      ops_->destroy(storage_);
      ops_ = nullptr;
    }
  }

 private:
  struct Ops {
    void (*invoke)(void*);
    void (*consume)(void*);                           // invoke, then destroy (also when invoking throws)
    void (*relocate)(void* dst, void* src) noexcept;  // move into dst, destroy src
    void (*destroy)(void*) noexcept;
  };

  template <class D>
  static constexpr bool fits_inline() {
    return sizeof(D) <= inline_size && alignof(D) <= alignof(void*) &&
           std::is_nothrow_move_constructible_v<D> && std::is_nothrow_destructible_v<D>;
  }

  /// Deletes `d`. A user's callable whose destructor throws (a capture declared
  /// noexcept(false)) must not terminate the loop: the exception is reported and dropped.
  template <class D>
  static void destroy_heap(D* d) noexcept {
    if constexpr (std::is_nothrow_destructible_v<D>) {
      delete d;
    } else {
      try {
        delete d;
      } catch (const std::exception& e) {
        report_callback_failure("destroying a callback", e.what());
      } catch (...) {
        report_callback_failure("destroying a callback", "unknown exception");
      }
    }
  }

  /// Destroys its object when it goes out of scope, by `Destroy`.
  template <class D, void (*Destroy)(D*) noexcept>
  struct DestroyOnExit {
    D* d;
    ~DestroyOnExit() { Destroy(d); }
  };
  template <class D>
  static void destroy_inline(D* d) noexcept {
    d->~D();
  }

  template <class D>
  static constexpr Ops inline_ops{[](void* s) { (*std::launder(static_cast<D*>(s)))(); },
                                  [](void* s) {
                                    D* d = std::launder(static_cast<D*>(s));
                                    const DestroyOnExit<D, &destroy_inline<D>> destroy{d};
                                    (*d)();
                                  },
                                  [](void* dst, void* src) noexcept {
                                    D* from = std::launder(static_cast<D*>(src));
                                    ::new (dst) D(std::move(*from));
                                    from->~D();
                                  },
                                  [](void* s) noexcept { std::launder(static_cast<D*>(s))->~D(); }};

  template <class D>
  static constexpr Ops heap_ops{
      [](void* s) { (**std::launder(static_cast<D**>(s)))(); },
      [](void* s) {
        D* d = *std::launder(static_cast<D**>(s));
        const DestroyOnExit<D, &destroy_heap<D>> destroy{d};
        (*d)();
      },
      [](void* dst, void* src) noexcept { ::new (dst) D*(*std::launder(static_cast<D**>(src))); },
      [](void* s) noexcept { destroy_heap(*std::launder(static_cast<D**>(s))); }};

  alignas(void*) unsigned char storage_[inline_size];
  const Ops* ops_ = nullptr;
};

static_assert(sizeof(Callback) == 56, "a queue cell (sequence + callback) should fill one cache line");

}  // namespace loopvisor::detail
