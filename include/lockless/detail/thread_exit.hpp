// lockless/detail/thread_exit.hpp: run library code when a thread exits.
//
// Per-thread state of the library (epoch records, node-pool caches) must be handed back
// when its thread ends, also when the thread first used the library from cleanup code:
// a C++ thread_local destructor, or a pthread key destructor. A thread_local object with
// a destructor cannot do that: glibc runs C++ thread_local destructors first and pthread
// key destructors after them, and a thread_local first touched from a key destructor is
// registered but never destroyed (its registration, 32 bytes, leaks too).
//
// So, on POSIX, the hooks hang off one pthread key (per copy of the library: a shared
// library built with hidden visibility has its own). Arming a hook sets the key's value;
// glibc calls the key's destructor at thread exit after every C++ thread_local destructor,
// and repeats its pass (up to PTHREAD_DESTRUCTOR_ITERATIONS times) when a destructor sets
// a value again, so a hook armed from another key's destructor still runs. The hooks
// themselves live in constant-initialized, trivially destructible thread-local storage:
// they can be armed and run at any point of the thread's exit.
//
// Consequences worth knowing:
//   - The main thread's hooks do not run when the process exits (exit() runs no key
//     destructors); its state stays reachable from its thread-local storage.
//   - When this copy of the library is unloaded (dlclose) or the process exits, the key
//     is deleted first, so a thread that exits afterwards runs no hook of the unloaded
//     code (its state is then simply left behind).
//   - Elsewhere (no <pthread.h>) a thread_local object's destructor runs the hooks.
#pragma once

#if __has_include(<pthread.h>) && !defined(LOCKLESS_RELACY)  // Relacy renames POSIX calls
#include <pthread.h>
#define LOCKLESS_DETAIL_PTHREAD_EXIT 1
#endif

#include "config.hpp"
#include "error.hpp"

namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail {

// An intrusive list node: a hook is armed at most once until it has run.
struct thread_exit_hook {
  void (*run)() noexcept;
  thread_exit_hook* next;
  bool armed;
};

inline thread_local constinit thread_exit_hook* tls_exit_hooks = nullptr;

// Runs (and disarms) every armed hook of the calling thread, also those armed while it
// runs.
inline void run_thread_exit_hooks() noexcept {
  while (thread_exit_hook* h = tls_exit_hooks) {
    tls_exit_hooks = h->next;
    h->next = nullptr;
    h->armed = false;
    h->run();
  }
}

#if defined(LOCKLESS_DETAIL_PTHREAD_EXIT)
class thread_exit_key {
 public:
  static thread_exit_key& instance() {
    static thread_exit_key k;  // destroyed at exit or dlclose: deletes the key first
    return k;
  }
  void set() noexcept {
    if (ok_) (void)pthread_setspecific(key_, &tls_exit_hooks);
  }

 private:
  thread_exit_key() noexcept {
    ok_ = pthread_key_create(&key_, [](void*) { run_thread_exit_hooks(); }) == 0;
    if (!ok_) fatal("pthread_key_create failed (PTHREAD_KEYS_MAX keys in use)");
  }
  ~thread_exit_key() {
    if (ok_) (void)pthread_key_delete(key_);
    ok_ = false;
  }
  pthread_key_t key_{};
  bool ok_ = false;
};
#endif

// Arms `h` for the calling thread: h.run() is called once when the thread exits (or,
// for the main thread, never). Cold path: call it once per thread and hook.
inline void arm_thread_exit_hook(thread_exit_hook& h) noexcept {
  if (h.armed) return;
  h.armed = true;
  h.next = tls_exit_hooks;
  tls_exit_hooks = &h;
#if defined(LOCKLESS_DETAIL_PTHREAD_EXIT)
  thread_exit_key::instance().set();
#else
  struct runner {
    ~runner() { run_thread_exit_hooks(); }
  };
  static thread_local runner r;
  (void)r;
#endif
}

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail
